"""Demo renewals: a pipeline in every stage, closed renewals with reasons, ~18 months of
revenue history, and notices already sent. Bulk inserts only, so 100,000 accounts seed fast.

Adoption drives outcomes: accounts using few of their licenses churn and contract more
often, as in life (the health calibration report relies on churners looking unhealthy). The
same latent engagement that set their usage sets the odds, with noise for what no score sees
(budget cuts, acquisitions, a champion leaving), so the gradient is real but imperfect.
"""

import math
import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Account, Program, UsageSnapshot
from renewals import services
from renewals.models import Contract, ExchangeRate, ReasonCode, Renewal, RenewalNotice, RevenueEntry

BATCH = 5000
REASONS = (
    ("price", "Price", ReasonCode.Applies.BOTH),
    ("no-adoption", "No adoption", ReasonCode.Applies.BOTH),
    ("champion-left", "Champion left", ReasonCode.Applies.BOTH),
    ("budget-cut", "Budget cut", ReasonCode.Applies.BOTH),
    ("acquired", "Acquired", ReasonCode.Applies.LOSS),
    ("switched-to-competitor", "Switched to competitor", ReasonCode.Applies.LOSS),
    ("fewer-seats", "Fewer seats needed", ReasonCode.Applies.DOWNGRADE),
    ("more-seats", "More seats", ReasonCode.Applies.EXPANSION),
    ("upgrade", "Upgraded program", ReasonCode.Applies.EXPANSION),
    ("price-uplift", "Price uplift", ReasonCode.Applies.EXPANSION),
)
GAIN_REASONS = ("more-seats", "more-seats", "upgrade", "price-uplift")


def seed_reason_codes() -> dict[str, ReasonCode]:
    for code, label, applies_to in REASONS:
        ReasonCode.objects.get_or_create(code=code, defaults={"label": label, "applies_to": applies_to})
    return {reason.code: reason for reason in ReasonCode.objects.all()}


def latest_utilization(account_ids: list[int]) -> dict[int, float]:
    """Licenses active / purchased in each account's latest snapshot (0.5 when unknown)."""
    result: dict[int, float] = {}
    for start in range(0, len(account_ids), BATCH):
        rows = (
            UsageSnapshot.objects.filter(account_id__in=account_ids[start : start + BATCH])
            .order_by("account_id", "-date")
            .values_list("account_id", "licenses_active", "licenses_purchased")
        )
        for account_id, active, purchased in rows:
            if account_id not in result:
                result[account_id] = active / purchased if purchased else 0.5
    return result


def _money(value: float) -> Decimal:
    return Decimal(max(500, round(value / 500) * 500))


# Odds of losing at a renewal, on the logit scale: a lost renewal is rarer than a downgrade.
CHURN_CUT = 2.5
DOWNGRADE_CUT = 2.1


def _propensity(rng: random.Random, utilization: float) -> float:
    """How inclined the account is to leave or shrink: low usage raises it, noise blurs it."""
    return 6.0 * (0.55 - utilization) + rng.gauss(0, 1.0)


def _chance(propensity: float, cut: float) -> float:
    return 1.0 / (1.0 + math.exp(cut - propensity))


def _loss_reason(rng: random.Random, utilization: float) -> str:
    if utilization < 0.4:
        return rng.choice(["no-adoption", "no-adoption", "champion-left", "switched-to-competitor", "price"])
    return rng.choice(["price", "budget-cut", "acquired", "switched-to-competitor"])


# The rate table for totals in USD: a rate a year ago and a newer one (1 unit = rate USD).
EXCHANGE_RATES = {"EUR": ("1.0850", "1.1020"), "GBP": ("1.2650", "1.2710")}


def seed_exchange_rates(today: date) -> None:
    for currency, (old, new) in EXCHANGE_RATES.items():
        for effective_from, rate in ((today - timedelta(days=730), old), (today - timedelta(days=60), new)):
            ExchangeRate.objects.get_or_create(
                currency=currency, effective_from=effective_from, defaults={"rate": Decimal(rate)}
            )


@transaction.atomic
def extend(*, rng: random.Random, today: date, account_ids: list[int]) -> None:
    reasons = seed_reason_codes()
    seed_exchange_rates(today)
    utilization = latest_utilization(account_ids)
    owners = dict(Account.objects.filter(pk__in=account_ids).values_list("pk", "owner_id"))
    leads = dict(Program.objects.values_list("pk", "renewal_notice_lead_days"))
    contracts = list(Contract.objects.filter(account_id__in=account_ids, previous__isnull=True).order_by("pk"))
    history_start = today - timedelta(days=540)

    previous_terms: list[Contract] = []
    previous_for: dict[int, Contract] = {}
    renewals: list[Renewal] = []
    entries: list[RevenueEntry] = []
    changed: list[Contract] = []
    churned_accounts: list[int] = []

    for contract in contracts:
        used = utilization.get(contract.account_id, 0.5)
        owner_id = owners.get(contract.account_id)
        lead = leads.get(contract.program_id, services.DEFAULT_LEAD_DAYS)
        risky = used < 0.45
        propensity = _propensity(rng, used)

        # Some customers already left: their last term ended in the past 18 months, lost.
        if rng.random() < _chance(propensity, CHURN_CUT):
            contract.ends_on = today - timedelta(days=rng.randint(1, 500))
            contract.starts_on = contract.ends_on - timedelta(days=365)
            contract.status = Contract.Status.EXPIRED
            changed.append(contract)
            reason = reasons[_loss_reason(rng, used)]
            renewals.append(
                Renewal(
                    contract=contract,
                    owner_id=owner_id,
                    stage=Renewal.Stage.LOST,
                    forecast_amount=contract.recurring_amount,
                    probability=0,
                    close_date=contract.ends_on,
                    closed_on=contract.ends_on - timedelta(days=rng.randint(0, 45)),
                    reason=reason,
                    reason_notes=rng.choice(["", "Told us on the QBR call.", "Budget moved to another tool."]),
                    contact_coverage=Renewal.Coverage.OK,
                )
            )
            entry = services.churn_entry(contract, reason=reason, note="")
            if entry is not None:
                entries.append(entry)
            churned_accounts.append(contract.account_id)
        else:
            days_left = contract.days_left(today)
            if contract.status != Contract.Status.ACTIVE:
                # Ended days ago without a decision yet: the CSM is chasing it.
                stage, probability = Renewal.Stage.IN_DISCUSSION, 40
                contract.status = Contract.Status.ACTIVE
                contract.ends_on = today + timedelta(days=rng.randint(3, 25))
                contract.starts_on = contract.ends_on - timedelta(days=365)
                changed.append(contract)
            elif days_left > lead:
                stage, probability = Renewal.Stage.UPCOMING, 50
            else:
                roll = rng.random()
                stage = (
                    Renewal.Stage.COMMITTED
                    if roll < (0.05 if risky else 0.3)
                    else Renewal.Stage.IN_DISCUSSION
                    if roll < 0.6
                    else Renewal.Stage.NOTIFIED
                )
                probability = 90 if stage == Renewal.Stage.COMMITTED else round(20 + 70 * min(used, 1.0))
            uplift = Decimal(rng.choice([0, 0, 3, 5, 7])) if not risky else Decimal(0)
            renewals.append(
                Renewal(
                    contract=contract,
                    owner_id=owner_id,
                    stage=stage,
                    uplift_pct=uplift,
                    forecast_amount=(contract.recurring_amount * (1 + uplift / 100)).quantize(Decimal("0.01")),
                    probability=probability,
                    close_date=contract.ends_on - timedelta(days=rng.randint(0, 20)),
                )
            )

        # The term before: renewed, expanded or downgraded, when it falls in the last 18 months.
        if contract.starts_on > history_start + timedelta(days=30) and rng.random() < 0.75:
            roll = rng.random()
            downgrade = _chance(propensity, DOWNGRADE_CUT)
            if roll < downgrade:
                outcome, factor, reason = (
                    Renewal.Stage.DOWNGRADED,
                    rng.uniform(1.1, 1.5),
                    rng.choice(["fewer-seats", "budget-cut", "price", "no-adoption"]),
                )
            elif roll < downgrade + 0.45 * _chance(-propensity, 0.0):
                outcome, factor, reason = Renewal.Stage.EXPANDED, rng.uniform(0.6, 0.92), None
            else:
                outcome, factor, reason = Renewal.Stage.RENEWED, 1.0, None
            previous = Contract(
                account_id=contract.account_id,
                program_id=contract.program_id,
                starts_on=contract.starts_on - timedelta(days=365),
                ends_on=contract.starts_on - timedelta(days=1),
                recurring_amount=_money(float(contract.recurring_amount) * factor),
                currency=contract.currency,
                status=Contract.Status.RENEWED,
            )
            if outcome == Renewal.Stage.RENEWED:
                previous.recurring_amount = contract.recurring_amount
            previous_terms.append(previous)
            previous_for[contract.pk] = previous
            renewals.append(
                Renewal(
                    contract=previous,
                    owner_id=owner_id,
                    stage=outcome,
                    forecast_amount=contract.recurring_amount,
                    probability=100,
                    close_date=previous.ends_on,
                    # A next term that starts later was agreed already.
                    closed_on=min(today, previous.ends_on - timedelta(days=rng.randint(5, 50))),
                    reason=reasons[reason] if reason else None,
                    reason_notes="Fewer active users than planned." if reason else "",
                    contact_coverage=Renewal.Coverage.OK,
                )
            )
            entries.append(
                RevenueEntry(
                    account_id=contract.account_id,
                    contract=previous,
                    kind=RevenueEntry.Kind.NEW,
                    amount=previous.recurring_amount,
                    currency=contract.currency,
                    effective_on=previous.starts_on,
                    note="New customer",
                )
            )
            delta = contract.recurring_amount - previous.recurring_amount
            if delta:
                entries.append(
                    RevenueEntry(
                        account_id=contract.account_id,
                        contract=contract,
                        kind=RevenueEntry.Kind.EXPANSION if delta > 0 else RevenueEntry.Kind.CONTRACTION,
                        amount=delta,
                        currency=contract.currency,
                        effective_on=contract.starts_on,
                        # Gains carry a reason too (the metrics page breaks them down); chosen by
                        # contract id so the random stream of the rest of the demo is unchanged.
                        reason=reasons[reason] if reason else reasons[GAIN_REASONS[contract.pk % len(GAIN_REASONS)]],
                    )
                )
        else:
            entries.append(
                RevenueEntry(
                    account_id=contract.account_id,
                    contract=contract,
                    kind=RevenueEntry.Kind.NEW,
                    amount=contract.recurring_amount,
                    currency=contract.currency,
                    effective_on=contract.starts_on,
                    note="New customer",
                )
            )

    Contract.objects.bulk_create(previous_terms, batch_size=BATCH)
    _save_changes(changed, previous_for)
    Renewal.objects.bulk_create(renewals, batch_size=BATCH)
    RevenueEntry.objects.bulk_create(entries, batch_size=BATCH)
    for start in range(0, len(churned_accounts), BATCH):
        Account.objects.filter(pk__in=churned_accounts[start : start + BATCH]).update(
            lifecycle_stage=Account.Stage.CHURNED
        )
    _notices_already_sent(rng=rng, today=today)


def _save_changes(changed: list[Contract], previous_for: dict[int, Contract]) -> None:
    """Write moved terms and links to previous terms in few statements (bulk_update's CASE is slow)."""
    by_term: dict[tuple, list[int]] = {}
    for contract in changed:
        by_term.setdefault((contract.starts_on, contract.ends_on, contract.status), []).append(contract.pk)
    for (starts_on, ends_on, status), ids in by_term.items():
        Contract.objects.filter(pk__in=ids).update(starts_on=starts_on, ends_on=ends_on, status=status)
    pairs = [(contract_id, previous.pk) for contract_id, previous in previous_for.items()]
    with connection.cursor() as cursor:
        for start in range(0, len(pairs), 1000):
            chunk = pairs[start : start + 1000]
            values = ", ".join(["(%s, %s)"] * len(chunk))
            sql = f"UPDATE renewals_contract SET previous_id = links.column2 FROM (VALUES {values}) AS links "  # noqa: S608 - placeholders only
            cursor.execute(sql + "WHERE renewals_contract.id = links.column1", [v for pair in chunk for v in pair])


# Backends that keep the mail on this machine (var/mail, memory, the console): the demo's
# notices may go through the real sender. Through SMTP or a provider they would reach the
# demo's made-up addresses, so they are skipped instead, saying why.
LOCAL_MAIL_BACKENDS = {
    "django.core.mail.backends.filebased.EmailBackend",
    "django.core.mail.backends.locmem.EmailBackend",
    "django.core.mail.backends.console.EmailBackend",
}


def _notices_already_sent(*, rng: random.Random, today: date) -> None:
    """Plan today's notices as the daily job would, then send them through the real sender
    (``send_renewal_notice``: var/mail/ holds each one); a few then bounce, through the same
    service a provider's bounce report calls."""
    now = timezone.make_aware(datetime.combine(today, time(6, 5)))
    services.plan_renewal_notices(today=today, now=now, publish=False)
    pending = list(
        RenewalNotice.objects.filter(status=RenewalNotice.Status.PENDING).order_by("pk").values_list("pk", flat=True)
    )
    if settings.EMAIL_BACKEND not in LOCAL_MAIL_BACKENDS:
        RenewalNotice.objects.filter(pk__in=pending).update(
            status=RenewalNotice.Status.SKIPPED, last_error="Demo data: not sent, the mail backend is not local."
        )
        return
    for notice_id in pending:
        services.send_renewal_notice(notice_id=notice_id, now=now)
    sent = list(RenewalNotice.objects.filter(status=RenewalNotice.Status.SENT).order_by("pk"))
    for notice in rng.sample(sent, k=min(len(sent), max(1, len(sent) // 80))):
        services.mark_notice_bounced(notice, error="550 5.1.1 mailbox unknown (demo bounce)", now=now)
    Renewal.objects.filter(stage=Renewal.Stage.UPCOMING, notices__status=RenewalNotice.Status.SENT).update(
        stage=Renewal.Stage.NOTIFIED
    )
