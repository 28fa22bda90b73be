"""Contracts, the renewal pipeline, the revenue ledger and renewal notices.

One package, four modules: `contracts` (contracts, renewals, the ledger), `planning` (which
notices are due, planned into the RenewalNotice outbox), `publishing` (batch tasks to the
workers, fed by queue depth) and `sending` (claim, send, retry, sweep, resolve). Callers use
`from renewals import services` and the names below.
"""

from .contracts import (
    advance_renewal,
    cancel_pending_notices,
    cancel_pending_notices_of,
    change_contract_amount,
    churn_entry,
    contract_line,
    correct_contract_currency,
    create_contract,
    lapse_to_reverse,
    mark_renewal_lost,
    notify_stage_changed,
    record_churn,
    renew_contract,
    renewed_stage,
    update_renewal,
)
from .planning import (
    DEFAULT_FOLLOW_UPS,
    DEFAULT_LEAD_DAYS,
    ELIGIBLE_CONTACT_SQL,
    ENQUEUE_LIMIT,
    PLAN_CHUNK,
    ScheduleGroup,
    Window,
    address_taken,
    plan_renewal_notices,
    schedule_groups,
)
from .publishing import feed_send_queue, publish_after_commit
from .sending import (
    OUTAGE,
    PAUSED,
    STUCK_AFTER,
    Resolution,
    feed_after_batch,
    mark_notice_bounced,
    probe_paused_sending,
    resend_failed_notices,
    resolve_notice,
    send_renewal_notice,
    send_renewal_notices,
    sweep_renewal_notices,
)

__all__ = [
    "DEFAULT_FOLLOW_UPS",
    "DEFAULT_LEAD_DAYS",
    "ELIGIBLE_CONTACT_SQL",
    "ENQUEUE_LIMIT",
    "OUTAGE",
    "PAUSED",
    "PLAN_CHUNK",
    "STUCK_AFTER",
    "Resolution",
    "ScheduleGroup",
    "Window",
    "address_taken",
    "advance_renewal",
    "cancel_pending_notices",
    "cancel_pending_notices_of",
    "change_contract_amount",
    "churn_entry",
    "contract_line",
    "correct_contract_currency",
    "create_contract",
    "feed_after_batch",
    "feed_send_queue",
    "lapse_to_reverse",
    "mark_notice_bounced",
    "mark_renewal_lost",
    "notify_stage_changed",
    "plan_renewal_notices",
    "probe_paused_sending",
    "publish_after_commit",
    "record_churn",
    "renew_contract",
    "renewed_stage",
    "resend_failed_notices",
    "resolve_notice",
    "schedule_groups",
    "send_renewal_notice",
    "send_renewal_notices",
    "sweep_renewal_notices",
    "update_renewal",
]
