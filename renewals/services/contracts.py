"""Contracts, the renewal pipeline and the revenue ledger: every change to them goes through here."""

from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum

from accounts import stages
from accounts.models import Account, Program

from .. import signals
from ..models import Contract, ReasonCode, Renewal, RenewalNotice, RevenueEntry


def _revenue_of(account: Account, *, on: date) -> Decimal:
    total = RevenueEntry.objects.filter(account=account, effective_on__lte=on).aggregate(total=Sum("amount"))["total"]
    return total or Decimal("0")


def notify_stage_changed(renewal: Renewal, old_stage: str, by: User | None) -> None:
    if old_stage != renewal.stage:
        transaction.on_commit(
            lambda: signals.renewal_stage_changed.send(
                sender=Renewal, renewal=renewal, old_stage=old_stage, new_stage=renewal.stage, by=by
            )
        )


def _require_reason(reason: ReasonCode | None, *, applies: str) -> None:
    if reason is None:
        raise ValidationError({"reason": "Choose a reason: why is the customer not renewing in full?"})
    if not reason.is_active or reason.applies_to not in (applies, ReasonCode.Applies.BOTH):
        raise ValidationError({"reason": f"“{reason.label}” is not a reason for this outcome."})


@transaction.atomic
def create_contract(
    *,
    account: Account,
    starts_on: date,
    ends_on: date,
    amount: Decimal,
    by: User | None,
    program: Program | None = None,
    currency: str = "USD",
    auto_renew: bool = False,
) -> Contract:
    """Record a new contract term with its renewal and its revenue: a new logo, or an expansion."""
    if ends_on <= starts_on:
        raise ValidationError({"ends_on": "The contract must end after it starts."})
    if amount < 0:
        raise ValidationError({"amount": "The recurring amount cannot be negative."})
    already_paying = _revenue_of(account, on=starts_on) > 0
    contract = Contract.objects.create(
        account=account,
        program=program if program is not None else account.program,
        starts_on=starts_on,
        ends_on=ends_on,
        recurring_amount=amount,
        currency=currency,
        auto_renew=auto_renew,
    )
    Renewal.objects.create(contract=contract, owner=account.owner, forecast_amount=amount, close_date=ends_on)
    stages.move_stage(
        account,
        to=Account.Stage.ONBOARDING,
        on=starts_on,
        reason="New contract after churn",
        by=by,
        only_from=(Account.Stage.CHURNED,),
    )
    if amount > 0:
        RevenueEntry.objects.create(
            account=account,
            contract=contract,
            kind=RevenueEntry.Kind.EXPANSION if already_paying else RevenueEntry.Kind.NEW,
            amount=amount,
            currency=currency,
            effective_on=starts_on,
            note="Additional contract" if already_paying else "New customer",
        )
    return contract


@transaction.atomic
def change_contract_amount(
    contract: Contract,
    *,
    amount: Decimal,
    effective_on: date,
    by: User | None,
    reason: ReasonCode | None = None,
    note: str = "",
) -> RevenueEntry | None:
    """Change a running term's recurring amount mid-term: an expansion or a contraction."""
    contract = Contract.objects.select_for_update().get(pk=contract.pk)
    if contract.status != Contract.Status.ACTIVE:
        raise ValidationError("Only an active contract can change its amount.")
    if amount < 0:
        raise ValidationError({"amount": "The recurring amount cannot be negative."})
    if not contract.starts_on <= effective_on <= contract.ends_on:
        # A ledger entry outside the term would count in periods the contract never covered.
        raise ValidationError(
            {"effective_on": f"The change must fall within the term, {contract.starts_on} to {contract.ends_on}."}
        )
    delta = amount - contract.recurring_amount
    if delta == 0:
        return None
    if delta < 0:
        _require_reason(reason, applies=ReasonCode.Applies.DOWNGRADE)
    contract.recurring_amount = amount
    contract._change_reason = note[:100] or "amount changed"  # type: ignore[attr-defined]  # read by simple_history
    contract.save(update_fields=["recurring_amount"])
    return RevenueEntry.objects.create(
        account=contract.account,
        contract=contract,
        kind=RevenueEntry.Kind.EXPANSION if delta > 0 else RevenueEntry.Kind.CONTRACTION,
        amount=delta,
        currency=contract.currency,
        effective_on=effective_on,
        reason=reason,
        note=note[:300],
    )


@transaction.atomic
def advance_renewal(renewal: Renewal, *, stage: str, by: User | None) -> Renewal:
    """Move an open renewal between open stages; closing goes through renew/lose."""
    renewal = Renewal.objects.select_for_update().get(pk=renewal.pk)
    if not renewal.is_open:
        raise ValidationError("This renewal is closed; it cannot change stage.")
    if stage not in Renewal.OPEN_STAGES:
        raise ValidationError({"stage": "Close a renewal by renewing the contract or marking it lost."})
    old_stage = renewal.stage
    renewal.stage = stage
    renewal.save(update_fields=["stage", "updated_at"])
    notify_stage_changed(renewal, old_stage, by)
    return renewal


@transaction.atomic
def update_renewal(
    renewal: Renewal,
    *,
    by: User | None,
    forecast_amount: Decimal | None,
    uplift_pct: Decimal,
    probability: int,
    close_date: date | None,
    owner: User | None,
) -> Renewal:
    renewal = Renewal.objects.select_for_update().select_related("contract").get(pk=renewal.pk)
    if not renewal.is_open:
        raise ValidationError("This renewal is closed.")
    if not 0 <= probability <= 100:
        raise ValidationError({"probability": "Probability is a percentage from 0 to 100."})
    if forecast_amount is not None and forecast_amount < 0:
        raise ValidationError({"forecast_amount": "The forecast cannot be negative."})
    if uplift_pct <= -100:
        raise ValidationError({"uplift_pct": "An uplift of -100 % or less is a loss, not a renewal."})
    # Without an explicit forecast, the current amount with its uplift is the forecast.
    if forecast_amount is None:
        forecast_amount = (renewal.contract.recurring_amount * (1 + uplift_pct / 100)).quantize(Decimal("0.01"))
    renewal.forecast_amount = forecast_amount
    renewal.uplift_pct = uplift_pct
    renewal.probability = probability
    renewal.close_date = close_date
    renewal.owner = owner
    renewal.save()
    return renewal


def cancel_pending_notices(contract: Contract) -> None:
    cancel_pending_notices_of([contract.pk])


def cancel_pending_notices_of(contract_ids: list[int]) -> None:
    """Notices not yet sent for these contracts' renewals, which just closed, are skipped."""
    RenewalNotice.objects.filter(contract_id__in=contract_ids, status__in=RenewalNotice.NOT_YET_SENT).update(
        status=RenewalNotice.Status.SKIPPED, last_error="renewal closed before sending"
    )


def renewed_stage(delta: Decimal) -> str:
    """How a renewal closes by the change in amount of its next term."""
    if delta < 0:
        return Renewal.Stage.DOWNGRADED
    return Renewal.Stage.EXPANDED if delta > 0 else Renewal.Stage.RENEWED


@transaction.atomic
def renew_contract(
    contract: Contract,
    *,
    ends_on: date,
    amount: Decimal,
    by: User | None,
    today: date,
    reason: ReasonCode | None = None,
    notes: str = "",
    starts_on: date | None = None,
    on_terms: bool = False,
) -> Contract:
    """Close the renewal as renewed, expanded or downgraded and create the next term.

    A lower amount is a downgrade and needs a reason, unless the contract renews ``on_terms``
    (an auto-renewal with a negative uplift agreed before); the revenue ledger records the
    difference on the day the new term starts. A contract that lapsed can still be renewed
    (a late close): its lapse churn is reversed, so the term continues in the ledger.
    """
    contract = Contract.objects.select_for_update().select_related("account").get(pk=contract.pk)
    renewal, _ = Renewal.objects.select_for_update().get_or_create(
        contract=contract, defaults={"owner": contract.account.owner, "forecast_amount": contract.recurring_amount}
    )
    lapse = lapse_to_reverse(contract, renewal)
    if lapse is None and (contract.status != Contract.Status.ACTIVE or not renewal.is_open):
        raise ValidationError("This contract has already been renewed or closed.")
    if amount <= 0:
        raise ValidationError({"amount": "A renewal has a positive amount; mark the renewal lost instead."})
    starts_on = starts_on or contract.ends_on + timedelta(days=1)
    if ends_on <= starts_on:
        raise ValidationError({"ends_on": "The new term must end after it starts."})
    delta = amount - contract.recurring_amount
    if delta < 0 and not on_terms:
        _require_reason(reason, applies=ReasonCode.Applies.DOWNGRADE)
    stage = renewed_stage(delta)

    next_term = Contract.objects.create(
        account=contract.account,
        program=contract.program,
        starts_on=starts_on,
        ends_on=ends_on,
        recurring_amount=amount,
        currency=contract.currency,
        auto_renew=contract.auto_renew,
        previous=contract,
    )
    Renewal.objects.create(
        contract=next_term, owner=renewal.owner or contract.account.owner, forecast_amount=amount, close_date=ends_on
    )
    contract.status = Contract.Status.RENEWED
    contract.save(update_fields=["status"])

    old_stage = renewal.stage
    renewal.stage = stage
    renewal.closed_on = today
    renewal.reason = reason if delta < 0 else None
    renewal.reason_notes = notes
    renewal.forecast_amount = amount
    renewal.probability = 100
    renewal.save()
    notify_stage_changed(renewal, old_stage, by)
    cancel_pending_notices(contract)
    stages.move_stage(
        contract.account,
        to=Account.Stage.ADOPTION,
        on=today,
        reason="Renewed late" if lapse is not None else "Renewed",
        by=by,
        only_from=(Account.Stage.RENEWAL, Account.Stage.CHURNED),
    )
    if lapse is not None and lapse.pk:
        RevenueEntry.objects.create(
            account=contract.account,
            contract=contract,
            kind=lapse.kind,
            amount=-lapse.amount,
            currency=lapse.currency,
            effective_on=lapse.effective_on,
            reason=lapse.reason,
            reverses=lapse,
            note=f"Lapse reversed: renewed late on {today:%d %b %Y}",
        )

    if delta:
        RevenueEntry.objects.create(
            account=contract.account,
            contract=next_term,
            kind=RevenueEntry.Kind.EXPANSION if delta > 0 else RevenueEntry.Kind.CONTRACTION,
            amount=delta,
            currency=contract.currency,
            effective_on=starts_on,
            reason=renewal.reason,
            note=notes[:300],
        )
    return next_term


def lapse_to_reverse(contract: Contract, renewal: Renewal) -> RevenueEntry | None:
    """The churn a lapse recorded for ``contract``, while no late renewal has reversed it."""
    if contract.status != Contract.Status.EXPIRED or renewal.stage != Renewal.Stage.LOST:
        return None
    # "lapsed" is renewals.lifecycle.LAPSED, the reason only the lifecycle job gives.
    if renewal.reason is None or renewal.reason.code != "lapsed" or hasattr(contract, "next_term"):
        return None
    return RevenueEntry.objects.filter(
        contract=contract, kind=RevenueEntry.Kind.CHURN, reverses__isnull=True, reversal__isnull=True
    ).first() or RevenueEntry(account=contract.account, kind=RevenueEntry.Kind.CHURN, amount=Decimal("0"))


@transaction.atomic
def mark_renewal_lost(
    renewal: Renewal, *, reason: ReasonCode | None, notes: str, by: User | None, today: date
) -> Renewal:
    """The customer will not renew: close the renewal with its reason and record the churn."""
    renewal = Renewal.objects.select_for_update().select_related("contract__account").get(pk=renewal.pk)
    if not renewal.is_open:
        raise ValidationError("This renewal is already closed.")
    _require_reason(reason, applies=ReasonCode.Applies.LOSS)
    contract = renewal.contract
    old_stage = renewal.stage
    renewal.stage = Renewal.Stage.LOST
    renewal.closed_on = today
    renewal.reason = reason
    renewal.reason_notes = notes
    renewal.probability = 0
    renewal.save()
    notify_stage_changed(renewal, old_stage, by)
    cancel_pending_notices(contract)
    record_churn(contract, reason=reason, note=notes[:300])
    return renewal


def record_churn(contract: Contract, *, reason: ReasonCode | None, note: str) -> None:
    """The ledger's churn entry for a contract that ends without a renewal (lost or lapsed)."""
    entry = churn_entry(contract, reason=reason, note=note)
    if entry is not None:
        entry.save()


def churn_entry(contract: Contract, *, reason: ReasonCode | None, note: str) -> RevenueEntry | None:
    """``record_churn``'s entry, unsaved (None for a contract worth nothing)."""
    if contract.recurring_amount <= 0:
        return None
    return RevenueEntry(
        account_id=contract.account_id,
        contract=contract,
        kind=RevenueEntry.Kind.CHURN,
        amount=-contract.recurring_amount,
        currency=contract.currency,
        # Revenue stops the day after the last paid day.
        effective_on=contract.ends_on + timedelta(days=1),
        reason=reason,
        note=note,
    )


def contract_line(contract: Contract) -> list[int]:
    """The ids of ``contract`` and every term before and after it (``previous`` / ``next_term``)."""
    ids, term = [contract.pk], contract
    while term.previous_id is not None and term.previous_id not in ids:
        ids.append(term.previous_id)
        term = Contract.objects.only("pk", "previous_id").get(pk=term.previous_id)
    following = Contract.objects.filter(previous_id=contract.pk).values_list("pk", flat=True).first()
    while following is not None and following not in ids:
        ids.append(following)
        following = Contract.objects.filter(previous_id=following).values_list("pk", flat=True).first()
    return ids


@transaction.atomic
def correct_contract_currency(contract: Contract, *, currency: str, by: User | None) -> Contract:
    """The contract's currency was recorded wrong: every term of its line and their ledger entries
    move to ``currency``. The amounts are unchanged (the figure was right, its currency was not),
    so the ledger still reconciles with the contracts in force, on every day."""
    currency = (currency or "").strip().upper()
    if len(currency) != 3 or not currency.isalpha():
        raise ValidationError({"currency": "Use a three-letter ISO 4217 code, e.g. EUR."})
    ids = contract_line(contract)
    for term in Contract.objects.select_for_update().filter(pk__in=ids):
        if term.currency != currency:
            term.currency = currency
            term._change_reason = "currency corrected"  # type: ignore[attr-defined]  # read by simple_history
            term._history_user = by  # type: ignore[attr-defined]  # read by simple_history
            term.save(update_fields=["currency"])
    RevenueEntry.objects.filter(contract_id__in=ids).exclude(currency=currency).update(currency=currency)
    contract.refresh_from_db()
    return contract
