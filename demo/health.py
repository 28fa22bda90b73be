"""Demo health data: models, health checks, older usage, and 40 weeks of scores computed by the real
nightly recalculation, so the trend chart and the calibration report have something to show.

Runs after the renewals and playbooks demo data (see ``seed_demo.EXTENSIONS``), whose outcomes
(lost and downgraded renewals, churn in the revenue ledger) the calibration report reads. The
history replays those outcomes in order: an account that churned was scored every week until its
last term ended, as the nightly job would have done, so the report can see how it looked before.
"""

import random
from datetime import date, datetime, time, timedelta

from django.db import connection
from django.utils import timezone

from accounts import services
from accounts.models import Account, HealthCheck, HealthComponent, HealthModel, Program, Touchpoint, UsageSnapshot
from health import nightly, scoring
from renewals.models import RevenueEntry

BATCH = 5000
# Longer than the calibration report's 180-day horizon, so its oldest snapshot has weeks to spare.
HISTORY_WEEKS = 40
# Enterprise customers are judged more on the relationship than on raw license counts.
ENTERPRISE_WEIGHTS = {
    HealthComponent.Kind.ADOPTION: 15,
    HealthComponent.Kind.FEATURE_DEPTH: 10,
    HealthComponent.Kind.ONBOARDING: 5,
    HealthComponent.Kind.SUCCESS_PLAN: 15,
    HealthComponent.Kind.ENGAGEMENT_RECENCY: 10,
    HealthComponent.Kind.ENGAGEMENT_QUALITY: 10,
    HealthComponent.Kind.SUPPORT: 10,
    HealthComponent.Kind.AVAILABILITY: 5,
    HealthComponent.Kind.SENTIMENT: 15,
    HealthComponent.Kind.COMMERCIAL: 5,
}


def _models() -> None:
    HealthModel.objects.default()
    program = Program.objects.filter(name="Enterprise").first()
    if program is None or HealthModel.objects.filter(program=program).exists():
        return
    model = HealthModel.objects.create(
        name="Enterprise", program=program, green_min=75, yellow_min=45, drop_alert_points=10
    )
    HealthComponent.objects.bulk_create(
        HealthComponent(model=model, kind=kind, weight=ENTERPRISE_WEIGHTS[kind], worst=worst, best=best)
        for kind, _, worst, best in HealthComponent.DEFAULTS
    )


def _batch_inputs(*, rng: random.Random, today: date, ids: list[int], cadences: dict[int, int]) -> None:
    oldest = today - timedelta(weeks=12)
    snapshots = {
        s.account_id: s for s in UsageSnapshot.objects.filter(account_id__in=ids, date=oldest).order_by("account_id")
    }
    usage, touchpoints, checks = [], [], []
    tz = timezone.get_current_timezone()
    for account_id in ids:
        base = snapshots.get(account_id)
        utilization = base.license_utilization if base and base.license_utilization is not None else 0.5
        if base is not None:
            # Older usage, so the early weeks of the history have adoption inputs too.
            for weeks_ago in range(13, HISTORY_WEEKS + 2):
                drift = 1 + 0.015 * (weeks_ago - 12) * (utilization - 0.45) + rng.uniform(-0.04, 0.04)
                active = max(0, min(base.licenses_purchased, round(base.licenses_active * drift)))
                advanced = min(active, round(base.advanced_users * drift))
                usage.append(
                    UsageSnapshot(
                        account_id=account_id,
                        date=today - timedelta(weeks=weeks_ago),
                        licenses_purchased=base.licenses_purchased,
                        licenses_active=active,
                        basic_users=active - advanced,
                        advanced_users=advanced,
                        availability_pct=base.availability_pct,
                        open_support_cases=max(0, base.open_support_cases + rng.randint(-1, 1)),
                        escalations=base.escalations,
                    )
                )
        for _ in range(round(utilization * 5)):
            when = today - timedelta(days=rng.randint(150, HISTORY_WEEKS * 7 + 30))
            touchpoints.append(
                Touchpoint(
                    account_id=account_id,
                    kind=rng.choice(list(Touchpoint.Kind.values)),
                    outcome=Touchpoint.Outcome.POSITIVE if rng.random() < utilization else Touchpoint.Outcome.NEUTRAL,
                    occurred_at=timezone.make_aware(datetime.combine(when, time(hour=rng.randint(8, 17))), tz),
                )
            )
        # Health checks on the program's cadence; the CSM's sentiment follows how the account uses
        # the product, with noise, and some books have fallen behind (overdue checks).
        cadence = cadences.get(account_id, scoring.DEFAULT_CHECK_CADENCE_DAYS)
        held_on = today - timedelta(days=rng.randint(0, cadence) + (cadence if rng.random() < 0.15 else 0))
        kinds = [HealthCheck.Kind.HEALTH_CHECK, HealthCheck.Kind.BUSINESS_REVIEW, HealthCheck.Kind.ACCOUNT_REVIEW]
        while held_on > today - timedelta(days=400):
            sentiment = max(1, min(5, round(1 + 4 * utilization + rng.gauss(0, 0.8))))
            checks.append(
                HealthCheck(
                    account_id=account_id,
                    held_on=held_on,
                    kind=rng.choice(kinds),
                    sentiment=sentiment,
                    notes=rng.choice(["", "", "Champion engaged.", "Budget pressure mentioned.", "Asked about API."]),
                )
            )
            held_on -= timedelta(days=cadence + rng.randint(-10, 10))
    UsageSnapshot.objects.bulk_create(usage, batch_size=BATCH, ignore_conflicts=True)
    Touchpoint.objects.bulk_create(touchpoints, batch_size=BATCH)
    services.refresh_last_touch(account_ids=ids)  # bulk_create sends no save signals
    HealthCheck.objects.bulk_create(checks, batch_size=BATCH)


def extend(*, rng: random.Random, today: date, account_ids: list[int]) -> None:
    _models()
    for start in range(0, len(account_ids), BATCH):
        ids = account_ids[start : start + BATCH]
        cadences = dict(
            Account.objects.filter(pk__in=ids, program__isnull=False).values_list(
                "pk", "program__health_check_cadence_days"
            )
        )
        _batch_inputs(rng=rng, today=today, ids=ids, cadences=cadences)
    if connection.vendor == "postgresql":
        # Fresh statistics after the bulk inserts: without them the planner picks nested loops and
        # each day of history takes seconds instead of a fraction of one.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    _replay_history(today=today, account_ids=account_ids)


def _replay_history(*, today: date, account_ids: list[int]) -> None:
    """Score the past week by week through the same set-based recalculation the nightly job runs.

    The nightly job skips churned accounts, so each churned account counts as a customer until the
    day its churn took effect in the revenue ledger. Past weeks send no band-change signals:
    playbooks should act on today, not on history.
    """
    churned_on: dict[int, date] = {}
    for start in range(0, len(account_ids), BATCH):
        rows = RevenueEntry.objects.filter(
            kind=RevenueEntry.Kind.CHURN,
            account_id__in=account_ids[start : start + BATCH],
            account__lifecycle_stage=Account.Stage.CHURNED,
        ).values_list("account_id", "effective_on")
        for account_id, effective_on in rows:
            churned_on[account_id] = max(effective_on, churned_on.get(account_id, effective_on))
    _set_stage(list(churned_on), Account.Stage.MATURE)
    days = [today - timedelta(weeks=weeks_ago) for weeks_ago in range(HISTORY_WEEKS, 0, -1)]
    for day in days:
        _set_stage([pk for pk, on in churned_on.items() if on <= day], Account.Stage.CHURNED)
        nightly.recalculate_health(day=day, notify=False)
    _set_stage(list(churned_on), Account.Stage.CHURNED)
    nightly.recalculate_health(day=today)


def _set_stage(account_ids: list[int], stage: str) -> None:
    for start in range(0, len(account_ids), BATCH):
        Account.objects.filter(pk__in=account_ids[start : start + BATCH]).exclude(lifecycle_stage=stage).update(
            lifecycle_stage=stage
        )
