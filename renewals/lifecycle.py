"""The end of every contract term: renewed, auto-renewed, lost, overdue, or lapsed (docs/domain.md).

The daily job looks at every active contract whose end date has passed ("everything due as
of today", so a missed day is caught up) and moves it on:

- renewal lost → the contract is ``expired`` (its churn is already in the ledger);
- ``auto_renew`` with the renewal still open → renewed on its terms: a term as long as the
  last, the uplift if one is set, the change in the ledger;
- otherwise → *overdue* the day after the end (``Renewal.overdue_on``; the ``renewals_overdue``
  signal opens the CSM's task, once), and after the program's grace period → *lapsed*: the
  renewal is lost with the reason ``lapsed`` and the churn goes into the ledger, effective the
  day after the last paid day, exactly as a loss marked by hand would be.

Every step is a state change on a row the next run no longer selects, so a second run the
same day does nothing.
"""

from datetime import date, timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from accounts import stages
from accounts.models import Account, Program, StageChange
from csm import freshness

from . import services, signals
from .models import Contract, ReasonCode, Renewal, RevenueEntry
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


def _stages_changed(changes: list[tuple[Renewal, str, str]]) -> None:
    """The other apps hear of the chunk's closed renewals once it commits (renewals/signals.py)."""
    if changes:
        transaction.on_commit(lambda: signals.renewal_stages_changed.send(sender=Renewal, changes=changes, by=None))


def _history(model: type[Contract] | type[Renewal], rows: list, reason: str) -> None:
    """The audit rows ``save()`` would have written for rows changed in bulk."""
    for row in rows:
        row._change_reason = reason
    model.history.bulk_history_create(rows, batch_size=BATCH, update=True)


def _set_status(contracts: list[Contract], status: str, reason: str) -> None:
    Contract.objects.filter(pk__in=[contract.pk for contract in contracts]).update(status=status)
    for contract in contracts:
        contract.status = status
    _history(Contract, contracts, reason)


def _open_renewals(contract_ids: list[int]) -> list[Renewal]:
    """The open renewals of these still active contracts, locked with their contracts."""
    return list(
        Renewal.objects.select_for_update(of=("self", "contract"))
        .filter(contract_id__in=contract_ids, contract__status=Contract.Status.ACTIVE, stage__in=Renewal.OPEN_STAGES)
        .select_related("contract__account", "contract__program")
        .order_by("contract_id")
    )


@transaction.atomic
def auto_renew_contracts(contract_ids: list[int], *, today: date) -> int:
    """Renew auto-renewing contracts on their terms (the same length, this amount with its uplift),
    as ``services.renew_contract(on_terms=True)`` would one by one, in a fixed number of statements:
    the next terms and their renewals (with their audit rows), the closed renewals, the ledger's
    differences, the notices left unsent, the accounts back from "renewal"."""
    renewals = _open_renewals(contract_ids)
    if not renewals:
        return 0
    now = timezone.now()
    next_terms, amounts = [], []
    for renewal in renewals:
        contract = renewal.contract
        amount = on_terms_amount(contract, renewal)
        amounts.append(amount)
        next_terms.append(
            Contract(
                account_id=contract.account_id,
                program_id=contract.program_id,
                starts_on=contract.ends_on + timedelta(days=1),
                ends_on=next_term_end(contract),
                recurring_amount=amount,
                currency=contract.currency,
                auto_renew=contract.auto_renew,
                previous_id=contract.pk,
            )
        )
    next_terms = bulk_create_with_history(next_terms, Contract, batch_size=BATCH)
    bulk_create_with_history(
        [
            Renewal(
                contract_id=term.pk,
                owner_id=renewal.owner_id or renewal.contract.account.owner_id,
                forecast_amount=term.recurring_amount,
                close_date=term.ends_on,
            )
            for renewal, term in zip(renewals, next_terms, strict=True)
        ],
        Renewal,
        batch_size=BATCH,
    )
    _set_status([renewal.contract for renewal in renewals], Contract.Status.RENEWED, "auto-renewed")

    changes: list[tuple[Renewal, str, str]] = []
    entries = []
    for renewal, term, amount in zip(renewals, next_terms, amounts, strict=True):
        contract = renewal.contract
        delta = amount - contract.recurring_amount
        uplift = renewal.uplift_pct.normalize()
        old_stage = renewal.stage
        renewal.stage = services.renewed_stage(delta)
        renewal.closed_on = today
        renewal.reason = None
        renewal.reason_notes = (
            f"Auto-renewed on its terms (uplift {uplift:f}%)" if uplift else "Auto-renewed on its terms"
        )
        renewal.forecast_amount = amount
        renewal.probability = 100
        renewal.updated_at = now
        changes.append((renewal, old_stage, renewal.stage))
        if delta:
            entries.append(
                RevenueEntry(
                    account_id=contract.account_id,
                    contract_id=term.pk,
                    kind=RevenueEntry.Kind.EXPANSION if delta > 0 else RevenueEntry.Kind.CONTRACTION,
                    amount=delta,
                    currency=contract.currency,
                    effective_on=term.starts_on,
                    note=renewal.reason_notes[:300],
                )
            )
    Renewal.objects.bulk_update(
        renewals,
        ["stage", "closed_on", "reason", "reason_notes", "forecast_amount", "probability", "updated_at"],
        batch_size=BATCH,
    )
    _history(Renewal, renewals, "auto-renewed")
    _stages_changed(changes)
    services.cancel_pending_notices_of([renewal.contract_id for renewal in renewals])
    stages.move_stages(
        {renewal.contract.account_id for renewal in renewals},
        to=Account.Stage.ADOPTION,
        on=today,
        reason="Renewed",
        only_from=(Account.Stage.RENEWAL, Account.Stage.CHURNED),
    )
    RevenueEntry.objects.bulk_create(entries, batch_size=BATCH)
    return len(renewals)


@transaction.atomic
def lapse_contracts(contract_ids: list[int], *, today: date) -> int:
    """No outcome by the end of the grace period: each renewal is lost as ``lapsed``, the contract
    expires and its revenue churns into the ledger, effective the day after its last paid day, as a
    loss marked by hand would be; a renewal closed meanwhile is left alone. A fixed number of
    statements for the whole list."""
    renewals = _open_renewals(contract_ids)
    if not renewals:
        return 0
    reason = lapsed_reason()
    now = timezone.now()
    changes: list[tuple[Renewal, str, str]] = []
    churn = []
    for renewal in renewals:
        contract = renewal.contract
        grace = grace_days(contract)
        old_stage = renewal.stage
        renewal.stage = Renewal.Stage.LOST
        renewal.closed_on = today
        renewal.reason = reason
        renewal.reason_notes = f"No renewal decision {grace} days after the contract ended."
        renewal.probability = 0
        renewal.updated_at = now
        changes.append((renewal, old_stage, renewal.stage))
        entry = services.churn_entry(
            contract,
            reason=reason,
            note=f"Lapsed: no renewal decision by {contract.ends_on + timedelta(days=grace):%d %b %Y}",
        )
        if entry is not None:
            churn.append(entry)
    # The same values for every renewal but the note, which follows the grace: one update per note.
    by_note: dict[str, list[int]] = {}
    for renewal in renewals:
        by_note.setdefault(renewal.reason_notes, []).append(renewal.pk)
    for note, pks in by_note.items():
        Renewal.objects.filter(pk__in=pks).update(
            stage=Renewal.Stage.LOST, closed_on=today, reason=reason, reason_notes=note, probability=0, updated_at=now
        )
    _history(Renewal, renewals, LAPSED)
    _stages_changed(changes)
    services.cancel_pending_notices_of([renewal.contract_id for renewal in renewals])
    _set_status([renewal.contract for renewal in renewals], Contract.Status.EXPIRED, LAPSED)
    RevenueEntry.objects.bulk_create(churn, batch_size=BATCH)
    return len(renewals)


@transaction.atomic
def mark_renewals_overdue(renewal_ids: list[int], *, today: date) -> int:
    """Flag renewals whose contract ended with no outcome; each is flagged (and its task opened) once.

    The signal is sent inside the transaction and its receiver lets errors through: a task
    that cannot be opened fails the run, which the next tick retries, instead of being lost.
    """
    renewals = list(
        Renewal.objects.select_for_update(of=("self",))
        .filter(pk__in=renewal_ids, overdue_on__isnull=True, stage__in=Renewal.OPEN_STAGES)
        .select_related("contract__account", "contract__program")
        .order_by("pk")
    )
    if not renewals:
        return 0
    now = timezone.now()
    Renewal.objects.filter(pk__in=[renewal.pk for renewal in renewals]).update(overdue_on=today, updated_at=now)
    for renewal in renewals:
        renewal.overdue_on, renewal.updated_at = today, now
    _history(Renewal, renewals, "contract ended without a renewal decision")
    signals.renewals_overdue.send(
        sender=Renewal, overdue=[(renewal, lapses_on(renewal.contract)) for renewal in renewals], today=today
    )
    return len(renewals)


def run_contract_lifecycle(*, today: date) -> dict:
    """Move on every active contract past its end as of ``today``; safe to run twice.

    Replaces the page-cache stamps of the books it moved something in: the owners of the contracts
    past their end (when any was moved on) and of the accounts whose stage moved.

    Each step works on chunks of ``BATCH`` contracts with a fixed number of statements per chunk,
    so a night costs a few statements per 2,000 contracts that end, not per contract.
    """
    past = _past_end(today)
    # The owners of the contracts past their end as the night found them, read once, just before
    # the first step that takes a contract out of that set (a night with nothing to do reads none).
    past_owners: set[int | None] = set()
    owners_read = False

    def before_moving_on() -> None:
        nonlocal owners_read
        if not owners_read:
            past_owners.update(_owners_past_end(today))
            owners_read = True

    # One read of the contracts past their end with their renewals (a left join driven by the
    # contracts' index) tells which have none, which closed, which wait for their overdue flag;
    # only those come back, not the many in their grace period already flagged.
    actionable = (
        Q(renewal__isnull=True)
        | Q(renewal__stage__in=Renewal.CLOSED_STAGES)
        | Q(auto_renew=False, renewal__overdue_on__isnull=True, renewal__stage__in=Renewal.OPEN_STAGES)
    )
    rows = list(
        past.filter(actionable)
        .order_by("pk")
        .values_list("pk", "auto_renew", "renewal__pk", "renewal__stage", "renewal__overdue_on")
    )
    # Contracts that never had a renewal (imported, say) get one, so they are decided like the rest.
    missing = [pk for pk, _, renewal, _, _ in rows if renewal is None]
    created = {
        renewal.contract_id: renewal.pk
        for chunk in _chunks(missing)
        for renewal in Renewal.objects.bulk_create(
            [
                Renewal(contract_id=pk, owner_id=owner, forecast_amount=amount, close_date=ends_on)
                for pk, owner, amount, ends_on in Contract.objects.filter(pk__in=chunk).values_list(
                    "pk", "account__owner_id", "recurring_amount", "ends_on"
                )
            ]
        )
    }
    closed = [pk for pk, _, _, stage, _ in rows if stage in Renewal.CLOSED_STAGES]
    if closed:
        before_moving_on()
    expired = sum(
        Contract.objects.filter(pk__in=chunk, status=Contract.Status.ACTIVE).update(status=Contract.Status.EXPIRED)
        for chunk in _chunks(closed)
    )
    # Flagged after the lapses below, which take the renewals they close out of this list.
    to_flag = [
        renewal or created[pk]
        for pk, auto_renew, renewal, stage, overdue_on in rows
        if not auto_renew and overdue_on is None and (stage in Renewal.OPEN_STAGES or renewal is None)
    ]

    # Every contract still active past its end has an open renewal now (closed ones just expired),
    # so the contracts' index alone picks them; each step re-checks its renewals under lock.
    auto_renewed = 0
    # A term renewed on a day long after its end can itself be past its end: repeat until none is.
    while ids := _ids(past.filter(auto_renew=True), BATCH):
        before_moving_on()
        renewed = auto_renew_contracts(ids, today=today)
        if not renewed:
            break
        auto_renewed += renewed

    lapsed = 0
    for chunk in _chunks(_ids(past.filter(_past_grace(today), auto_renew=False))):
        before_moving_on()
        lapsed += lapse_contracts(chunk, today=today)

    overdue = 0
    renewal_ids = sorted(to_flag)
    for chunk in _chunks(renewal_ids):
        before_moving_on()  # flags keep contracts active: read now, it is the set the night found
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


def _owners_past_end(today: date) -> set[int | None]:
    """The owners of the accounts with an active contract past its end: one semi-join from the
    accounts, no ordering (the contracts' default ordering would put ``ends_on`` in the distinct)."""
    contracts = _past_end(today).filter(account_id=OuterRef("pk"))
    return set(Account.objects.filter(Exists(contracts)).order_by().values_list("owner_id", flat=True).distinct())


def move_stages(*, today: date) -> tuple[int, int, set[int | None]]:
    """Accounts whose last contract was lost or lapsed churn; accounts in a notice window enter renewal.
    Returns how many of each, and the owners of the accounts moved."""
    owners: set[int | None] = set()
    last_change = freshness.last_id(StageChange.objects.all())
    in_force = Contract.objects.active()
    # From the lost renewals (an index on the stage), not from every account.
    lost = (
        Renewal.objects.filter(stage=Renewal.Stage.LOST, contract__ends_on__lt=today)
        .exclude(contract__account__lifecycle_stage=Account.Stage.CHURNED)
        .filter(~Exists(in_force.filter(account_id=OuterRef("contract__account_id"))))
        .order_by("contract__account_id")
        .values_list("contract__account_id", flat=True)
        .distinct()
    )
    churned = 0
    for chunk in _chunks(list(lost)):
        churned += stages.move_stages(chunk, to=Account.Stage.CHURNED, on=today, reason="Last contract lost or lapsed")
    movable = (Account.Stage.ONBOARDING, Account.Stage.ADOPTION, Account.Stage.MATURE)
    # Accounts that may move with a contract in a window (the contracts' covering index alone),
    # then, among those few, the ones whose renewal in the window is still open.
    window = in_force.filter(_in_notice_window(today))
    candidates = _account_ids(Account.objects.filter(lifecycle_stage__in=movable, pk__in=window.values("account_id")))
    in_renewal = 0
    for chunk in _chunks(candidates):
        open_window = window.filter(account_id__in=chunk, renewal__stage__in=Renewal.OPEN_STAGES)
        in_renewal += stages.move_stages(
            open_window.values_list("account_id", flat=True),
            to=Account.Stage.RENEWAL,
            on=today,
            reason="Contract inside its renewal-notice window",
            only_from=movable,
        )
    if churned or in_renewal:
        moved = StageChange.objects.filter(pk__gt=last_change, on=today)
        owners = set(moved.values_list("account__owner_id", flat=True).distinct())
    return churned, in_renewal, owners


def _account_ids(accounts: QuerySet[Account]) -> list[int]:
    return list(accounts.order_by("pk").values_list("pk", flat=True).distinct())


def _in_notice_window(today: date) -> Q:
    """Contracts inside their renewal-notice window (their program's lead, else the default), with
    the widest window as one bound first, so the contracts' (status, ends_on) index is read as a
    range and the program is checked from its included columns."""
    leads = dict(Program.objects.values_list("pk", "renewal_notice_lead_days"))
    widest = max([services.DEFAULT_LEAD_DAYS, *leads.values()])
    condition = Q(program__isnull=True, ends_on__lte=today + timedelta(days=services.DEFAULT_LEAD_DAYS))
    for pk, lead in leads.items():
        condition |= Q(program_id=pk, ends_on__lte=today + timedelta(days=lead))
    return Q(ends_on__lte=today + timedelta(days=widest)) & condition


def _chunks(ids: list[int]) -> list[list[int]]:
    return [ids[start : start + BATCH] for start in range(0, len(ids), BATCH)]
