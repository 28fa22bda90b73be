# The build SQL takes every value as a parameter; the report merely names SQL statements.
"""Playbook rule evaluation over a large book: set-based SQL in chunks vs a per-account loop.

Builds (once) ``scale`` accounts with contacts, touchpoints, usage, contracts, renewals and
onboarding items and health scores by ``INSERT ... SELECT generate_series``, then evaluates
seven enabled rules
(every trigger whose data exists) with ``playbooks.services.evaluate_playbook_rules``.
The naive baseline asks each account, rule by rule, through the ORM, on a sample, and is
extrapolated.
"""

import time
from datetime import date, timedelta

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Account, Contact, HealthScore, Program, Touchpoint, UsageSnapshot
from bench.db import QueryCounter, bulk_load, ensure_database, vacuum_analyze
from bench.report import Headline, Result
from playbooks import rules, services
from playbooks.models import OnboardingItem, PlaybookRule, PlaybookRun, Task
from renewals.models import Contract, Renewal

DEFAULT_SCALE = 1_000_000
SAMPLE = 1_000
CSMS = 200
TARGET_S = 30
Trigger = PlaybookRule.Trigger

RULES = (
    ("Silent account", Trigger.NO_TOUCHPOINT, 45),
    ("Renewal not committed", Trigger.RENEWAL_NOT_COMMITTED, 60),
    ("Contact left", Trigger.CONTACT_LEFT, 0),
    ("Onboarding overdue", Trigger.ONBOARDING_OVERDUE, 3),
    ("Usage dropped", Trigger.USAGE_DROPPED, 25),
    ("Health worsened", Trigger.HEALTH_WORSENED, 1),
    ("Health score fell", Trigger.SCORE_DROP, 15),
)


def _execute(sql: str, params: tuple = ()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def build(scale: int, today: date) -> None:
    """The book, built set-based; kept between runs when it already has ``scale`` accounts."""
    if Account.objects.filter(external_id__startswith="bench-").count() == scale:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE accounts_account, accounts_contact, accounts_touchpoint, accounts_usagesnapshot, "
            "renewals_contract, renewals_renewal, playbooks_onboardingitem, playbooks_task, playbooks_playbookrun "
            "RESTART IDENTITY CASCADE"
        )
    program, _ = Program.objects.get_or_create(name="Bench")
    User.objects.bulk_create(
        [User(username=f"bench-csm-{i}") for i in range(CSMS)], ignore_conflicts=True, batch_size=1000
    )
    first_user = User.objects.filter(username__startswith="bench-csm-").order_by("pk").first().pk
    now = timezone.now()
    old = now - timedelta(days=400)
    with bulk_load(Account, Contact, Touchpoint, UsageSnapshot, Contract, Renewal, OnboardingItem):
        # Accounts: owners spread over the CSMs; about 2% churned.
        _execute(
            "INSERT INTO accounts_account (name, external_id, segment, owner_id, program_id, lifecycle_stage, "
            "created_at, updated_at) SELECT 'Bench ' || g, 'bench-' || g, 'mid_market', %s + (g %% %s), %s, "
            "CASE WHEN g %% 50 = 0 THEN 'churned' WHEN g %% 10 = 0 THEN 'onboarding' ELSE 'adoption' END, %s, %s "
            "FROM generate_series(1, %s) g",
            (first_user, CSMS, program.pk, old, old, scale),
        )
        # One primary contact each; 1% of them left without a successor.
        _execute(
            "INSERT INTO accounts_contact (account_id, name, email, title, is_decision_maker, is_renewal, "
            "is_billing, is_champion, is_technical, is_executive_sponsor, is_primary, left_on, email_opt_out, "
            "created_at) SELECT a.id, 'Contact ' || a.id, 'c' || a.id || '@bench.test', 'VP', true, (a.id %% 2 = 0), "
            "false, false, false, false, true, CASE WHEN a.id %% 100 = 7 THEN %s::date END, false, %s "
            "FROM accounts_account a",
            (today - timedelta(days=5), now),
        )
        # One touchpoint each, 0 to 47 days ago: about 4% are older than 45 days.
        _execute(
            "INSERT INTO accounts_touchpoint (account_id, kind, outcome, notes, occurred_at, created_at) "
            "SELECT a.id, 'call', 'positive', '', %s - make_interval(days => ((a.id * 37) %% 48)::int), %s "
            "FROM accounts_account a",
            (now, now),
        )
        # Usage now and 30 days ago; every 50th account lost 40% of its active licenses.
        _execute(
            "INSERT INTO accounts_usagesnapshot (account_id, date, licenses_purchased, licenses_active, "
            "basic_users, advanced_users, open_support_cases, escalations) "
            "SELECT a.id, d.day, 50, CASE WHEN d.back = 0 AND a.id %% 50 = 3 THEN 24 ELSE 40 END, 30, 10, 0, 0 "
            "FROM accounts_account a CROSS JOIN (VALUES (%s::date, 0), (%s::date, 30)) AS d(day, back)",
            (today - timedelta(days=1), today - timedelta(days=30)),
        )
        # One contract each, ending over the next two years; a renewal row for most.
        _execute(
            "INSERT INTO renewals_contract (account_id, program_id, starts_on, ends_on, recurring_amount, currency, "
            "auto_renew, status, created_at) SELECT a.id, %s, %s::date + (a.id %% 730)::int - 730, "
            "%s::date + (a.id %% 730)::int, 12000, 'USD', false, 'active', %s FROM accounts_account a",
            (program.pk, today, today, now),
        )
        _execute(
            "INSERT INTO renewals_renewal (contract_id, stage, uplift_pct, probability, reason_notes, updated_at) "
            "SELECT c.id, CASE WHEN c.id %% 3 = 0 THEN 'committed' ELSE 'upcoming' END, 0, 50, '', %s "
            "FROM renewals_contract c WHERE c.id %% 4 <> 0",
            (now,),
        )
        # Onboarding accounts have three steps; some are late.
        _execute(
            "INSERT INTO playbooks_onboardingitem (account_id, title, owner_id, owner_role, position, due_on, "
            "completed_on) SELECT a.id, 'Step ' || s, a.owner_id, 'csm', s, "
            "%s::date + ((a.id %% 40) - 30 + s * 5)::int, "
            "CASE WHEN a.id %% 3 = 0 THEN %s::date END FROM accounts_account a CROSS JOIN generate_series(1, 3) s "
            "WHERE a.lifecycle_stage = 'onboarding'",
            (today, today),
        )
    vacuum_analyze()


def build_health(today: date) -> None:
    """Tonight's health score for every account: 1% fell a band, another 1% lost 20 points."""
    if HealthScore.objects.filter(day=today).exists():
        return
    with bulk_load(HealthScore):
        _execute(
            "INSERT INTO accounts_healthscore (account_id, day, score, band, previous_score, previous_band, "
            "score_drop, band_worsened, flagged, check_overdue) "
            "SELECT a.id, %s, s.score, CASE WHEN s.score < 40 THEN 'red' WHEN s.score < 70 THEN 'yellow' "
            "ELSE 'green' END, s.prev, CASE WHEN s.prev < 40 THEN 'red' WHEN s.prev < 70 THEN 'yellow' ELSE 'green' "
            "END, s.prev - s.score, (a.id %% 100 = 11), (a.id %% 100 IN (11, 12)), false "
            "FROM accounts_account a CROSS JOIN LATERAL (SELECT CASE WHEN a.id %% 100 = 11 THEN 35 "
            "WHEN a.id %% 100 = 12 THEN 72 ELSE 80 END AS score, CASE WHEN a.id %% 100 = 11 THEN 50 "
            "WHEN a.id %% 100 = 12 THEN 92 ELSE 81 END AS prev) s",
            (today,),
        )
    _execute("ANALYZE accounts_healthscore")


def make_rules() -> list[PlaybookRule]:
    PlaybookRule.objects.all().delete()
    return [
        PlaybookRule.objects.create(
            name=name,
            trigger=trigger,
            parameter=n,
            task_title=name,
            due_in_days=3,
            retrigger_delay_days=30,
            enabled=True,
        )
        for name, trigger, n in RULES
    ]


def reset_runs() -> None:
    _execute("TRUNCATE playbooks_task, playbooks_playbookrun RESTART IDENTITY")


def naive(rule_list: list[PlaybookRule], *, today: date, account_ids: list[int]) -> int:
    """The obvious per-account loop: one ORM question per account and rule, then create."""
    created = 0
    for account in Account.objects.filter(pk__in=account_ids).exclude(lifecycle_stage="churned"):
        for rule in rule_list:
            n = rule.parameter
            if rule.trigger == Trigger.NO_TOUCHPOINT:
                since = timezone.now() - timedelta(days=n)
                hit = not Touchpoint.objects.filter(account=account, occurred_at__gte=since).exists()
            elif rule.trigger == Trigger.RENEWAL_NOT_COMMITTED:
                hit = (
                    Contract.objects.filter(
                        account=account, status="active", ends_on__gte=today, ends_on__lte=today + timedelta(days=n)
                    )
                    .exclude(renewal__stage__in=["committed", "renewed", "expanded", "downgraded", "lost"])
                    .exists()
                )
            elif rule.trigger == Trigger.CONTACT_LEFT:
                hit = Contact.objects.filter(
                    account=account, left_on__lte=today, successor__isnull=True, is_primary=True
                ).exists()
            elif rule.trigger == Trigger.ONBOARDING_OVERDUE:
                hit = OnboardingItem.objects.filter(
                    account=account, completed_on__isnull=True, due_on__lt=today - timedelta(days=n)
                ).exists()
            elif rule.trigger == Trigger.HEALTH_WORSENED:
                hit = HealthScore.objects.filter(account=account, day=today, band_worsened=True).exists()
            elif rule.trigger == Trigger.SCORE_DROP:
                hit = HealthScore.objects.filter(account=account, day=today, score_drop__gte=n).exists()
            else:
                snaps = list(UsageSnapshot.objects.filter(account=account).order_by("-date")[:2])
                hit = (
                    len(snaps) == 2
                    and snaps[1].licenses_active > 0
                    and snaps[0].licenses_active * 100 <= snaps[1].licenses_active * (100 - n)
                )
            if not hit or PlaybookRun.objects.filter(rule=rule, account=account, status="open").exists():
                continue
            with transaction.atomic():
                task, _ = services.open_task(account=account, title=rule.task_title, due_on=today, key=rule.task_key)
                PlaybookRun.objects.create(rule=rule, account=account, fired_on=today)
                del task
            created += 1
    return created


def run(*, scale: int) -> Result:
    ensure_database()
    today = timezone.localdate()
    started = time.perf_counter()
    build(scale, today)
    build_health(today)
    built = time.perf_counter() - started
    rule_list = make_rules()
    reset_runs()

    counter = QueryCounter()
    with counter.counting():
        started = time.perf_counter()
        first = services.evaluate_playbook_rules(today=today)
        first_s = time.perf_counter() - started
    first_statements = counter.count
    counter = QueryCounter()
    with counter.counting():
        started = time.perf_counter()
        again = services.evaluate_playbook_rules(today=today)
        again_s = time.perf_counter() - started
    duplicates = (
        PlaybookRun.objects.filter(status="open").values("rule", "account").count()
        - PlaybookRun.objects.filter(status="open").values("rule", "account").distinct().count()
    )
    tasks = Task.objects.count()

    reset_runs()
    sample = list(Account.objects.order_by("pk").values_list("pk", flat=True)[:SAMPLE])
    naive_counter = QueryCounter()
    with naive_counter.counting():
        started = time.perf_counter()
        naive_created = naive(rule_list, today=today, account_ids=sample)
        naive_s = time.perf_counter() - started
    factor = scale / len(sample)

    rows = "\n".join(f"| {name} | {count:,} |" for name, count in first["created"].items())
    first_cell = f"{first_s:.1f} s, {first_statements:,} statements"
    again_cell = f"**{again_s:.1f} s**, {counter.count:,} statements, {again['total']} created"
    naive_cell = f"{naive_s:.1f} s, {naive_counter.count:,} statements, {naive_created:,} created"
    extrapolated = f"~{naive_s * factor / 60:.0f} min, ~{naive_counter.count * factor:,.0f} statements"
    headlines = [
        Headline(
            module="rules",
            measure="nightly re-evaluation",
            scale=scale,
            value=again_s,
            unit="s",
            target=f"< {TARGET_S} s",
            met=again_s < TARGET_S,
        ),
        Headline(
            module="rules",
            measure="first evaluation (whole backlog)",
            scale=scale,
            value=first_s,
            unit="s",
            naive=naive_s * factor,
        ),
    ]
    markdown = f"""## Playbook rules: evaluation over {scale:,} accounts

Seven enabled rules (no touchpoint for 45 days, renewal within 60 days not committed, primary
contact left, onboarding item overdue, active licenses down 25%, health band worsened, health
score down 15+ points) over {scale:,} accounts with
contacts, touchpoints, two usage snapshots, a contract, renewal and health score each (built in {built:.0f} s
with `bench.db.bulk_load`, then `VACUUM ANALYZE`; or reused). Evaluation is set-based SQL in chunks of
{rules.CHUNK:,} accounts: per rule and chunk, one `INSERT … SELECT … ON CONFLICT DO NOTHING` for runs and
one for their tasks (the chunk is pushed into every subquery). The naive loop opens the tasks it finds,
like the first evaluation, so it is compared with that; it is timed on a {len(sample):,}-account sample
and extrapolated.

Target: the nightly evaluation (the rules already ran; the book is scanned and nothing is duplicated)
under {TARGET_S} s: **{"met" if again_s < TARGET_S else "NOT met"}** ({again_s:.1f} s). The very
first evaluation here opens a backlog of one task for about 20% of the book at once; its time is dominated by
writing those rows (a run and a task each, with their foreign-key checks at commit), not by the scan.

| measure | figure | target |
|---|---|---|
| first evaluation (opens the whole backlog) | {first_cell} | |
| nightly re-evaluation (scans all, creates nothing new) | {again_cell} | < {TARGET_S} s |
| tasks created | {tasks:,} | one per account and rule |
| duplicate open runs | {duplicates} | 0 (partial unique index) |
| naive per-account ORM loop, {len(sample):,}-account sample | {naive_cell} | baseline |
| naive loop extrapolated to {scale:,} accounts | {extrapolated} | |

Tasks per rule (first evaluation):

| rule | created |
|---|---|
{rows}
"""
    return Result(markdown, headlines)
