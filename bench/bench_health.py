"""Nightly health recalculation at scale: 1,000,000 accounts with their inputs on PostgreSQL.

Builds the inputs set-based (``generate_series``), then times ``recalculate_health`` for two
consecutive days (the second reads the first as its previous score, so flags are computed) and
a rerun of the same day, counting statements on every connection. The naive baseline (a per-account ORM loop: read
the inputs, score in Python, look up the previous score, ``update_or_create``) runs on a sample
in the same process and is extrapolated.
"""

from datetime import date, timedelta

from django.db import connection

from bench.db import AllConnectionsCounter, QueryCounter, bulk_load, ensure_database, timed, vacuum_analyze
from bench.report import Headline, Result

DEFAULT_SCALE = 1_000_000
NAIVE_SAMPLE = 500
TARGET_SECONDS = 60


def build(scale: int, day: date) -> dict:
    """Accounts and every input the score reads, in a handful of INSERT ... SELECT statements."""
    from django.contrib.auth.models import User

    from accounts.models import Account, HealthCheck, HealthComponent, HealthModel, Program, Touchpoint, UsageSnapshot
    from playbooks.models import Milestone, Objective, OnboardingItem, SuccessPlan
    from renewals.models import Contract, Renewal

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE accounts_account, accounts_healthmodel RESTART IDENTITY CASCADE")
    owner, _ = User.objects.get_or_create(username="bench-owner")
    programs = [
        Program.objects.get_or_create(name=name, defaults={"health_check_cadence_days": cadence})[0].pk
        for name, cadence in (("Bench Essentials", 180), ("Bench Professional", 90), ("Bench Enterprise", 60))
    ]
    HealthModel.objects.default()
    own = HealthModel.objects.create(name="Bench Enterprise", program_id=programs[2], green_min=75, yellow_min=45)
    HealthComponent.objects.bulk_create(
        HealthComponent(model=own, kind=kind, weight=weight + 5, worst=worst, best=best)
        for kind, weight, worst, best in HealthComponent.DEFAULTS
    )
    params = {"n": scale, "day": day, "owner": owner.pk, "p0": programs[0], "p1": programs[1], "p2": programs[2]}
    statements = [
        "SELECT setseed(0.2026)",
        """INSERT INTO accounts_account (name, external_id, segment, owner_id, program_id, lifecycle_stage,
                                         created_at, updated_at)
           SELECT 'Bench ' || g, 'B-' || g, 'smb', %(owner)s,
                  CASE mod(g, 3) WHEN 0 THEN %(p0)s WHEN 1 THEN %(p1)s ELSE %(p2)s END,
                  'mature', now() - interval '400 days', now()
           FROM generate_series(1, %(n)s) g""",
        # Two usage snapshots per account; a latent engagement level drives the rest.
        """CREATE TEMP TABLE bench_engagement AS
           SELECT id AS account_id, random() AS e, 5 + floor(random() * 200)::int AS purchased
           FROM accounts_account""",
        """INSERT INTO accounts_usagesnapshot (account_id, date, licenses_purchased, licenses_active, basic_users,
                                               advanced_users, availability_pct, open_support_cases, escalations)
           SELECT b.account_id, %(day)s::date - w * 7, b.purchased,
                  mod(floor(b.purchased * b.e * (0.9 + w * 0.05))::int, b.purchased + 1),
                  floor(b.purchased * b.e * 0.5)::int, floor(b.purchased * b.e * 0.3)::int,
                  CASE WHEN random() < 0.05 THEN NULL ELSE round((95 + random() * 5)::numeric, 2) END,
                  floor(random() * 8 * (1 - b.e))::int, CASE WHEN random() < 0.05 THEN 1 ELSE 0 END
           FROM bench_engagement b CROSS JOIN generate_series(0, 1) w""",
        """INSERT INTO accounts_touchpoint (account_id, kind, outcome, notes, occurred_at, created_at)
           SELECT b.account_id, 'call',
                  CASE WHEN random() < b.e THEN 'positive' WHEN random() < 0.7 THEN 'neutral' ELSE 'negative' END,
                  '', %(day)s::date - (floor(random() * 150)::int) + time '10:00', now()
           FROM bench_engagement b CROSS JOIN generate_series(1, 3) k""",
        """INSERT INTO playbooks_onboardingitem (account_id, title, owner_role, position, due_on, completed_on)
           SELECT b.account_id, 'Step ' || k, 'csm', k, %(day)s::date - 30,
                  CASE WHEN random() < b.e THEN %(day)s::date - 40 END
           FROM bench_engagement b CROSS JOIN generate_series(1, 4) k WHERE mod(b.account_id, 4) = 0""",
        """INSERT INTO playbooks_successplan (account_id, title, created_at)
           SELECT account_id, 'Plan', now() FROM bench_engagement WHERE mod(account_id, 5) = 0""",
        """INSERT INTO playbooks_objective (plan_id, title, description, position)
           SELECT id, 'Objective', '', 0 FROM playbooks_successplan""",
        """INSERT INTO playbooks_milestone (objective_id, title, metric, due_on, status, reached_on)
           SELECT o.id, 'Milestone ' || k, '', %(day)s::date,
                  CASE WHEN random() < 0.5 THEN 'reached' ELSE 'in_progress' END, NULL
           FROM playbooks_objective o CROSS JOIN generate_series(1, 3) k""",
        """INSERT INTO accounts_healthcheck (account_id, kind, held_on, sentiment, notes, created_at)
           SELECT b.account_id, 'health_check', %(day)s::date - floor(random() * 200)::int,
                  greatest(1, least(5, round(1 + 4 * b.e + random() - 0.5)))::int, '', now()
           FROM bench_engagement b WHERE random() < 0.8""",
        """INSERT INTO renewals_contract (account_id, program_id, starts_on, ends_on, recurring_amount, currency,
                                          auto_renew, status, created_at)
           SELECT a.id, a.program_id, %(day)s::date - 200, %(day)s::date + 165,
                  round((1000 + random() * 50000)::numeric, 2), 'USD', false, 'active', now()
           FROM accounts_account a""",
        """INSERT INTO renewals_renewal (contract_id, stage, uplift_pct, probability, reason_notes, contact_coverage,
                                         updated_at)
           SELECT id, (ARRAY['upcoming','notified','in_discussion','committed'])[1 + mod(id, 4)::int], 0, 50, '', '',
                  now()
           FROM renewals_contract WHERE mod(id, 2) = 0""",
        "DROP TABLE bench_engagement",
    ]
    timings = {}
    loaded = (Account, UsageSnapshot, Touchpoint, OnboardingItem, SuccessPlan, Objective, Milestone, HealthCheck)
    with timed(timings, "build"), bulk_load(*loaded, Contract, Renewal), connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql, params)
    with timed(timings, "analyze"):
        vacuum_analyze()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) FROM accounts_usagesnapshot), (SELECT count(*) FROM accounts_touchpoint),"
            " (SELECT count(*) FROM playbooks_onboardingitem), (SELECT count(*) FROM playbooks_milestone),"
            " (SELECT count(*) FROM accounts_healthcheck), (SELECT count(*) FROM renewals_contract)"
        )
        usage, touch, items, milestones, checks, contracts = cursor.fetchone()
    return {
        **timings,
        "rows": f"{usage:,} usage snapshots, {touch:,} touchpoints, {items:,} onboarding items, "
        f"{milestones:,} milestones, {checks:,} health checks, {contracts:,} contracts",
    }


def naive(account_ids: list[int], day: date) -> None:
    """The baseline: one account at a time through the ORM."""
    from accounts.models import Account, HealthScore
    from health import scoring

    default, by_program = scoring.model_specs()
    for account in Account.objects.filter(pk__in=account_ids).select_related("program"):
        spec = by_program.get(account.program_id, default)
        inputs = scoring.gather_inputs(account, day=day)
        result = scoring.score_inputs(inputs.values, spec)
        if result.score is None:
            continue
        band = spec.band(result.score)
        previous = HealthScore.objects.filter(account=account, day__lt=day).order_by("-day").first()
        worsened = bool(previous) and scoring.BAND_RANK[band] > scoring.BAND_RANK[previous.band]
        drop = previous.score - result.score if previous else None
        components = {k: {**v, **inputs.details.get(k, {})} for k, v in result.components.items()}
        HealthScore.objects.update_or_create(
            account=account,
            day=day,
            defaults={
                "model_id": spec.model_id,
                "score": result.score,
                "band": band,
                "previous_score": previous.score if previous else None,
                "previous_band": previous.band if previous else "",
                "score_drop": drop,
                "band_worsened": worsened,
                "flagged": worsened or (drop is not None and drop > spec.drop_alert),
                "check_overdue": inputs.check_overdue,
                "components": components,
            },
        )


def run(*, scale: int) -> Result:
    from django.conf import settings

    from accounts import signals
    from accounts.models import HealthScore
    from health import nightly

    ensure_database()
    day = date(2026, 11, 23)
    built = build(scale, day)
    t: dict[str, float] = {}
    with timed(t, "first"):
        first_rows = nightly.recalculate_health(day=day - timedelta(days=1), notify=False)
    # Statements are counted on every connection, the workers' too.
    counter = AllConnectionsCounter()
    with counter.counting(), timed(t, "nightly"):
        rows = nightly.recalculate_health(day=day)
    rerun = AllConnectionsCounter()
    with rerun.counting(), timed(t, "rerun"):
        rerun_rows = nightly.recalculate_health(day=day)
    per_day = HealthScore.objects.filter(day=day).count()
    flagged = HealthScore.objects.filter(day=day, flagged=True).count()
    chunks = -(-scale // nightly.CHUNK_SIZE)

    sample = list(range(1, min(NAIVE_SAMPLE, scale) + 1))
    naive_counter = QueryCounter()
    with naive_counter.counting(), timed(t, "naive"):
        naive(sample, day)
    per_account = t["naive"] / len(sample)
    naive_total = per_account * scale
    ratio = naive_total / t["nightly"]
    naive_n = naive_counter.count
    naive_extrapolated = naive_n / len(sample) * scale
    workers = min(getattr(settings, "HEALTH_RECALC_WORKERS", 2), chunks)
    receivers = len(signals.health_bands_changed.receivers)
    n = counter.count
    ok = "met" if t["nightly"] < TARGET_SECONDS else "NOT met"
    headline = Headline(
        module="health",
        measure="nightly recalculation",
        scale=scale,
        value=t["nightly"],
        unit="s",
        naive=naive_total,
        target=f"< {TARGET_SECONDS} s",
        met=t["nightly"] < TARGET_SECONDS,
    )
    markdown = f"""## Health: nightly recalculation of {scale:,} accounts

`health.nightly.recalculate_health(day=...)`: per chunk of {nightly.CHUNK_SIZE:,} account ids, a `DELETE` of the
chunk's rows for the day (none on a first run) and one `INSERT ... SELECT`, reading the latest usage snapshot, touchpoints (recency and 90-day
positive share), onboarding items, success-plan milestones, the latest health check, the current contract with its
renewal and previous term, and the previous day's score; writing one `HealthScore` row per account with the score,
band, flags and every component's input, normalized score and weight (a packed number array; the effective
weight and contribution are derived from them when read).

Inputs, built set-based in {built["build"]:.0f} s (`bench.db.bulk_load`: indexes rebuilt once at the end)
+ {built["analyze"]:.0f} s `VACUUM ANALYZE`: {scale:,} accounts,
{built["rows"]}.

| run | time | rows written | statements |
|---|---|---|---|
| first night (no previous scores) | {t["first"]:.1f} s | {first_rows:,} | |
| **next night (previous scores read, flags set), {workers} connection(s)** | **{t["nightly"]:.1f} s** | {rows:,} | {n:,} |
| same night again (idempotent rerun), {workers} connection(s) | {t["rerun"]:.1f} s | {rerun_rows:,} | {rerun.count:,} |
| naive per-account ORM loop, {len(sample):,}-account sample | {t["naive"]:.1f} s | {len(sample):,} | {naive_n:,} |
| naive loop extrapolated to {scale:,} accounts | ~{naive_total / 60:.0f} min | | ~{naive_extrapolated:,.0f} |

- Target: whole recalculation plus history write under {TARGET_SECONDS} s: **{ok}** ({t["nightly"]:.1f} s).
- Set-based vs naive: **{ratio:,.0f}x** faster ({per_account * 1000:.1f} ms per account naive, measured on
  {len(sample):,} accounts in the same run and extrapolated linearly).
- Statements (counted on every connection, the workers' too): {counter.count:,} for {chunks} chunk(s). The
  recalculation itself sends per chunk one `set_config` (work_mem, JIT off, asynchronous commit), the DELETE
  and the INSERT, plus a few lookups (health models, previous day, id bounds) and an `ANALYZE` of the scores;
  then the band changes are read from the scores in one streamed query and sent in batches of
  {nightly.BAND_CHANGE_BATCH:,}, each batch's account names read by primary key (the webhook receiver answers
  each batch with one endpoint query, and bulk inserts when an endpoint wants the event). The naive loop
  sends ~{naive_counter.count / len(sample):.0f} per account.
- After the rerun: {per_day:,} rows for the day (one per account), {flagged:,} flagged for playbooks.
- Band-change signals: {receivers} receiver(s) connected to `health_bands_changed` during the runs, no
  webhook endpoint configured (their statements are included in the counts and times above).
"""  # noqa: E501 (Markdown, not SQL)
    return Result(markdown, [headline])
