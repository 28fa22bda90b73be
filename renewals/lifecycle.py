"""The end of every contract term: renewed, auto-renewed, lost, overdue, or lapsed (docs/domain.md).

The daily job looks at every active contract whose end date has passed ("everything due as
of today", so a missed day is caught up) and moves it on:

- renewal lost → the contract is ``expired`` (its churn is already in the ledger);
- ``auto_renew`` with the renewal still open → renewed on its terms: a term as long as the
  last, the uplift if one is set, the change in the ledger;
- otherwise → *overdue* the day after the end (``Renewal.overdue_on``; the ``renewal_overdue``
  signal opens the CSM's task, once), and after the program's grace period → *lapsed*: the
  renewal is lost with the reason ``lapsed`` and the churn goes into the ledger, effective the
  day after the last paid day, exactly as a loss marked by hand would be.

Every step is a state change on a row the next run no longer selects, so a second run the
same day does nothing.
"""

from datetime import date, timedelta

from django.db import transaction
from django.db.models import Q, QuerySet

from accounts import stages
from accounts.models import Account, Program
from csm import freshness

from . import services, signals
from .models import Contract, ReasonCode, Renewal
from .terms import next_term_end, on_terms_amount

DEFAULT_GRACE_DAYS = 30  # contracts without a program
LAPSED = "lapsed"
BATCH = 2000


def lapsed_reason() -> ReasonCode:
    reason, _ = ReasonCode.objects.get_or_create(
        code=LAPSED, defaults={"label": "Lapsed (no renewal decision)", "applies_to": ReasonCode.Applies.LOSS}
    )
    return reason


def grace_days(contract: Contract) -> int:
    return contract.program.renewal_grace_days if contract.program_id else DEFAULT_GRACE_DAYS  # type: ignore[union-attr]  # program_id is set


def lapses_on(contract: Contract) -> date:
    """The first day the contract counts as lapsed if nothing closes it first."""
    return contract.ends_on + timedelta(days=grace_days(contract) + 1)


def _past_end(today: date) -> QuerySet[Contract]:
    return Contract.objects.active().filter(ends_on__lt=today)


def _past_grace(today: date) -> Q:
    """Contracts whose grace period (their program's, else the default) ended before ``today``."""
    by_grace: dict[int, list[int]] = {}
    for pk, grace in Program.objects.values_list("pk", "renewal_grace_days"):
        by_grace.setdefault(grace, []).append(pk)
    condition = Q(program__isnull=True, ends_on__lt=today - timedelta(days=DEFAULT_GRACE_DAYS))
    for grace, ids in by_grace.items():
        condition |= Q(program_id__in=ids, ends_on__lt=today - timedelta(days=grace))
    return condition


def _ids(queryset: QuerySet, limit: int | None = None) -> list[int]:
    return list(queryset.order_by("ends_on", "pk").values_list("pk", flat=True)[:limit])


@transaction.atomic
def auto_renew_contract(contract: Contract, *, today: date) -> Contract:
    """Renew an auto-renewing contract on its terms: the same length, this amount with its uplift."""
    renewal = Renewal.objects.get(contract=contract)
    amount = on_terms_amount(contract, renewal)
    uplift = renewal.uplift_pct.normalize()
    return services.renew_contract(
        contract,
        ends_on=next_term_end(contract),
        amount=amount,
        by=None,
        today=today,
        notes=f"Auto-renewed on its terms (uplift {uplift:f}%)" if uplift else "Auto-renewed on its terms",
        on_terms=True,
    )


@transaction.atomic
def lapse_contract(contract: Contract, *, today: date) -> Renewal:
    """No outcome by the end of the grace period: the renewal is lost as ``lapsed``, the revenue churns."""
    contract = Contract.objects.select_for_update(of=("self",)).select_related("program").get(pk=contract.pk)
    renewal = Renewal.objects.select_for_update().get(contract=contract)
    if contract.status != Contract.Status.ACTIVE or not renewal.is_open:
        return renewal  # closed meanwhile: nothing lapses
    reason = lapsed_reason()
    old_stage = renewal.stage
    renewal.stage = Renewal.Stage.LOST
    renewal.closed_on = today
    renewal.reason = reason
    renewal.reason_notes = f"No renewal decision {grace_days(contract)} days after the contract ended."
    renewal.probability = 0
    renewal._change_reason = "lapsed"  # type: ignore[attr-defined]  # read by simple_history
    renewal.save()
    services.notify_stage_changed(renewal, old_stage, None)
    services.cancel_pending_notices(contract)
    contract.status = Contract.Status.EXPIRED
    contract._change_reason = "lapsed"  # type: ignore[attr-defined]  # read by simple_history
    contract.save(update_fields=["status"])
    services.record_churn(
        contract,
        reason=reason,
        note=f"Lapsed: no renewal decision by {contract.ends_on + timedelta(days=grace_days(contract)):%d %b %Y}",
    )
    return renewal


@transaction.atomic
def mark_renewals_overdue(renewal_ids: list[int], *, today: date) -> int:
    """Flag renewals whose contract ended with no outcome; each is flagged (and its task opened) once.

    The signal is sent inside the transaction and its receiver lets errors through: a task
    that cannot be opened fails the run, which the next tick retries, instead of being lost.
    """
    renewals = list(
        Renewal.objects.select_for_update(of=("self",))
        .filter(pk__in=renewal_ids, overdue_on__isnull=True, stage__in=Renewal.OPEN_STAGES)
        .select_related("contract__account", "contract__program", "owner")
    )
    for renewal in renewals:
        renewal.overdue_on = today
        renewal._change_reason = "contract ended without a renewal decision"  # type: ignore[attr-defined]  # read by simple_history
        renewal.save(update_fields=["overdue_on", "updated_at"])
        signals.renewal_overdue.send(
            sender=Renewal, renewal=renewal, today=today, lapses_on=lapses_on(renewal.contract)
        )
    return len(renewals)


def run_contract_lifecycle(*, today: date) -> dict:
    """Move on every active contract past its end as of ``today``; safe to run twice.

    Replaces the page-cache stamps of the books it moved something in: the owners of the contracts
    past their end (when any was moved on) and of the accounts whose stage moved."""
    past = _past_end(today)
    past_owners = set(past.values_list("account__owner_id", flat=True).distinct())
    # Contracts that never had a renewal (imported, say) get one, so they are decided like the rest.
    Renewal.objects.bulk_create(
        [
            Renewal(contract_id=pk, owner_id=owner, forecast_amount=amount, close_date=ends_on)
            for pk, owner, amount, ends_on in past.filter(renewal__isnull=True).values_list(
                "pk", "account__owner_id", "recurring_amount", "ends_on"
            )
        ],
        batch_size=BATCH,
    )
    expired = past.filter(renewal__stage__in=Renewal.CLOSED_STAGES).update(status=Contract.Status.EXPIRED)

    auto_renewed = 0
    # A term renewed on a day long after its end can itself be past its end: repeat until none is.
    while ids := _ids(past.filter(auto_renew=True, renewal__stage__in=Renewal.OPEN_STAGES), BATCH):
        for contract in Contract.objects.filter(pk__in=ids).select_related("account"):
            auto_renew_contract(contract, today=today)
            auto_renewed += 1

    open_past = past.filter(auto_renew=False, renewal__stage__in=Renewal.OPEN_STAGES)
    lapsed = 0
    for start_ids in _chunks(_ids(open_past.filter(_past_grace(today)))):
        for contract in Contract.objects.filter(pk__in=start_ids).select_related("account", "program"):
            lapse_contract(contract, today=today)
            lapsed += 1

    overdue = 0
    renewal_ids = list(
        Renewal.objects.filter(contract__in=open_past, overdue_on__isnull=True).values_list("pk", flat=True)
    )
    for chunk in _chunks(renewal_ids):
        overdue += mark_renewals_overdue(chunk, today=today)
    churned, in_renewal, moved_owners = move_stages(today=today)
    changed = moved_owners | (past_owners if expired or auto_renewed or overdue or lapsed else set())
    freshness.bump_changed(changed)  # not atomic: each step above has committed
    return {
        "expired": expired,
        "auto_renewed": auto_renewed,
        "overdue": overdue,
        "lapsed": lapsed,
        "churned": churned,
        "renewal_stage": in_renewal,
    }


def move_stages(*, today: date) -> tuple[int, int, set[int | None]]:
    """Accounts whose last contract was lost or lapsed churn; accounts in a notice window enter renewal.
    Returns how many of each, and the owners of the accounts moved."""
    owners: set[int | None] = set()
    in_force = Contract.objects.active()
    lost = Account.objects.exclude(lifecycle_stage=Account.Stage.CHURNED).filter(
        contracts__renewal__stage=Renewal.Stage.LOST, contracts__ends_on__lt=today
    )
    churned = 0
    for account in lost.exclude(pk__in=in_force.values("account_id")).distinct():
        moved = stages.move_stage(account, to=Account.Stage.CHURNED, on=today, reason="Last contract lost or lapsed")
        churned += moved
        if moved:
            owners.add(account.owner_id)
    window = in_force.filter(renewal__stage__in=Renewal.OPEN_STAGES).filter(_in_notice_window(today))
    in_renewal = 0
    movable = (Account.Stage.ONBOARDING, Account.Stage.ADOPTION, Account.Stage.MATURE)
    for account in Account.objects.filter(lifecycle_stage__in=movable, pk__in=window.values("account_id")):
        moved = stages.move_stage(
            account, to=Account.Stage.RENEWAL, on=today, reason="Contract inside its renewal-notice window"
        )
        in_renewal += moved
        if moved:
            owners.add(account.owner_id)
    return churned, in_renewal, owners


def _in_notice_window(today: date) -> Q:
    condition = Q(program__isnull=True, ends_on__lte=today + timedelta(days=services.DEFAULT_LEAD_DAYS))
    for pk, lead in Program.objects.values_list("pk", "renewal_notice_lead_days"):
        condition |= Q(program_id=pk, ends_on__lte=today + timedelta(days=lead))
    return condition


def _chunks(ids: list[int]) -> list[list[int]]:
    return [ids[start : start + BATCH] for start in range(0, len(ids), BATCH)]
