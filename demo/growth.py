"""Demo growth data: suggestions raised by the real daily job, opportunities in every stage (wins
recorded in the ledger through the contract service), today's renewal checkpoints with CSM calls,
and past checkpoints of closed renewals so the forecast-accuracy report has figures.

Runs after the renewals, playbooks and health demo data (``seed_demo.EXTENSIONS``): the signals
read their usage, entitlements and milestones, and the checkpoints their health scores.
"""

import contextlib
import random
from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import Account
from growth import services
from growth.models import Checkpoint, Opportunity, Suggestion
from renewals.models import Contract, Renewal
from surveys.models import SurveyResponse

TITLES: dict[str, str] = {
    Opportunity.Kind.SEATS: "More seats for the {team} team",
    Opportunity.Kind.UPSELL: "Upgrade to the analytics tier",
    Opportunity.Kind.CROSS_SELL: "Add the forecasting module",
    Opportunity.Kind.SERVICES: "Onboarding workshop for new hires",
}
TEAMS = ["finance", "sales", "support", "operations", "marketing"]
NOTES: dict[str, list[str]] = {
    Checkpoint.Call.LIKELY: ["Sponsor confirmed budget on the last call.", "Usage is up; they plan to expand."],
    Checkpoint.Call.AT_RISK: ["New CFO reviewing every vendor.", "Champion left; rebuilding the relationship."],
    Checkpoint.Call.WILL_CHURN: ["They are moving to an in-house tool.", "Told us they will not renew."],
}
CALLS = list(Checkpoint.Call.values)


def _amount(rng: random.Random, contract: Contract) -> Decimal:
    share = Decimal(rng.choice([5, 8, 10, 15, 20])) / 100
    return max(Decimal("500"), (contract.recurring_amount * share).quantize(Decimal("100")))


def _noisy(rng: random.Random, right: str, hit: float) -> str:
    return right if rng.random() < hit else rng.choice([c for c in CALLS if c != right])


def extend(*, rng: random.Random, today: date, account_ids: list[int]) -> None:
    owners = {u.pk: u for u in User.objects.filter(owned_accounts__pk__in=account_ids).distinct()}
    services.raise_suggestions(today=today)
    # The demo's promoters (NPS 9-10), as the surveys hook raises them after each answer commits
    # (the same key per answer, so a hook that already ran adds nothing).
    for response in (
        SurveyResponse.objects.nps().filter(account_id__in=account_ids, score__gte=9).select_related("account")
    ):
        services.suggest_for_promoter(
            account=response.account,
            score=response.score,
            answered_on=response.answered_on,
            answer_key=str(response.pk),
        )
    for suggestion in Suggestion.objects.filter(account_id__in=account_ids).pending().select_related("account"):
        by = owners.get(suggestion.account.owner_id)
        contract = services.contract_for_expansion(suggestion.account, on=today)
        roll = rng.random()
        if roll < 0.35 and contract is not None:
            services.accept_suggestion(
                suggestion, by=by, today=today, amount=_amount(rng, contract),
                close_date=today + timedelta(days=rng.randint(10, 150)), probability=rng.choice([30, 50, 70]),
            )  # fmt: skip
        elif roll < 0.5:
            services.dismiss_suggestion(suggestion, by=by, today=today, note="Not before the renewal.")

    running = list(
        Contract.objects.active()
        .filter(account_id__in=account_ids, starts_on__lte=today - timedelta(days=100))
        .filter(ends_on__gt=today + timedelta(days=30))
        .select_related("account")
        .order_by("pk")
    )
    for i, contract in enumerate(rng.sample(running, min(len(running), max(8, len(account_ids) // 8)))):
        by = owners.get(contract.account.owner_id)
        kind = rng.choice(Opportunity.Kind.values)
        opportunity = services.create_opportunity(
            account=contract.account, kind=kind, title=TITLES[kind].format(team=rng.choice(TEAMS)),
            amount=_amount(rng, contract), close_date=today + timedelta(days=rng.randint(-10, 200)),
            probability=rng.choice([20, 40, 60, 80, 90]), by=by, currency=contract.currency,
            reason=rng.choice(["Asked for it on the QBR", "Expansion plan agreed with the sponsor", ""]),
        )  # fmt: skip
        # Of every seven: two won, one lost, four still open.
        outcome = i % 7
        day = today - timedelta(days=rng.randint(0, 80))
        if outcome < 2:
            with contextlib.suppress(ValidationError):  # a term that changed currency: left open
                services.win_opportunity(opportunity, by=by, today=day, effective_on=day)
        elif outcome == 2:
            services.lose_opportunity(opportunity, by=by, today=day, reason="No budget this year")

    # Today's checkpoints, recorded by the real job; the CSM has called about two thirds of them.
    services.record_checkpoints(today=today)
    now = timezone.now()
    for checkpoint in Checkpoint.objects.filter(account_id__in=account_ids, csm_call="").select_related("asked_of"):
        if rng.random() < 0.65 and checkpoint.asked_of is not None:
            call = _noisy(rng, checkpoint.auto_call, 0.7)
            services.record_csm_call(
                checkpoint, call=call, note=rng.choice(NOTES[call]), by=checkpoint.asked_of, today=today, now=now
            )

    # Checkpoints of renewals that closed in the last year, as the job and the CSMs made them then.
    past = []
    closed = (
        Renewal.objects.closed()
        .filter(contract__account_id__in=account_ids, closed_on__gte=today - timedelta(days=365))
        .select_related("contract__account")
    )
    for renewal in closed:
        right = Checkpoint.RIGHT_CALL[renewal.stage]
        account: Account = renewal.contract.account
        for point in (180, 90):
            recorded = renewal.contract.ends_on - timedelta(days=point)
            if recorded >= (renewal.closed_on or today):
                continue
            auto = _noisy(rng, right, 0.55 if point == 180 else 0.65)
            csm = _noisy(rng, right, 0.6 if point == 180 else 0.75) if rng.random() < 0.85 else ""
            past.append(
                Checkpoint(
                    renewal=renewal,
                    account=account,
                    days_before=point,
                    recorded_on=recorded,
                    auto_call=auto,
                    auto_reason="Recorded by the daily job (demo history).",
                    csm_call=csm,
                    csm_note=rng.choice(NOTES[csm]) if csm else "",
                    called_by_id=account.owner_id if csm else None,
                    called_on=recorded + timedelta(days=3) if csm else None,
                    asked_of_id=account.owner_id,
                )
            )
    Checkpoint.objects.bulk_create(past, batch_size=2000, ignore_conflicts=True)
