"""The tasks a renewal problem opens for the CSM: a renewal whose notices reach one person or
nobody, and a notice that could not be delivered. renewals only reports these (renewals/signals.py);
playbooks/receivers.py calls this module.
"""

from datetime import date, timedelta

from renewals.models import Renewal, RenewalNotice

from .models import Task
from .services import open_task

CHUNK = 5000

COVERAGE_TASKS: dict[str, tuple[str, str, str, int]] = {
    Renewal.Coverage.SINGLE_CONTACT: (
        "renewal:single-contact",
        "Add a second renewal contact",
        "Renewal notices reach only one person (single point of contact); add the decision maker, "
        "renewal or billing contact so the renewal does not hang on one person.",
        7,
    ),
    Renewal.Coverage.NO_CONTACT: (
        "renewal:no-contact",
        "Find who is responsible for the renewal",
        "No current decision maker, renewal or billing contact with an email: no renewal notice was sent. "
        "Find who takes over and add them as contacts.",
        0,
    ),
}


def open_coverage_tasks(changed: list[tuple[int, str]], *, today: date) -> int:
    """One task for the CSM per renewal that just became single-contact or contact-less."""
    flagged = {renewal_id: value for renewal_id, value in changed if value in COVERAGE_TASKS}
    tasks = []
    ids = list(flagged)
    for start in range(0, len(ids), CHUNK):
        rows = Renewal.objects.filter(pk__in=ids[start : start + CHUNK]).values_list(
            "pk", "contract__account_id", "owner_id", "contract__account__owner_id"
        )
        for renewal_id, account_id, owner_id, account_owner_id in rows:
            key, title, description, due_in = COVERAGE_TASKS[flagged[renewal_id]]
            tasks.append(
                Task(
                    account_id=account_id,
                    assignee_id=owner_id or account_owner_id,
                    title=title,
                    description=description,
                    reason=f"Renewal coverage: {Renewal.Coverage(flagged[renewal_id]).label.lower()}",
                    key=f"{key}:{renewal_id}",
                    due_on=today + timedelta(days=due_in),
                )
            )
    # The partial unique index on open (account, key) tasks is what playbooks.open_task relies
    # on; a bulk insert that ignores conflicts keeps the same once-only rule for thousands of rows.
    Task.objects.bulk_create(tasks, batch_size=2000, ignore_conflicts=True)
    return len(tasks)


def open_notice_failed_task(notice: RenewalNotice, *, error: str, today: date) -> None:
    account = notice.contract.account
    # An unclear send had, in every observed case, reached the server: sending again on the
    # word "not delivered" sent a second copy (docs/operations.md).
    what = (
        "may already have been delivered — check before sending again"
        if notice.status == RenewalNotice.Status.NEEDS_REVIEW
        else "was not delivered"
    )
    open_task(
        account=account,
        title=f"Renewal notice to {notice.email} {what}",
        due_on=today,
        key=f"renewal:notice-problem:{notice.pk}",
        assignee=notice.renewal.owner or account.owner,
        description=f"{notice.cycle_label} for the contract ending {notice.contract.ends_on:%d %b %Y}: {error}",
        reason="Renewal notice failed",
    )
