"""Calibration report computed (no cache) for an administrator who sees every account.

Builds, set-based (``bench.db.bulk_load``), N accounts with 30 days of ``HealthScore`` history: every
account scored every day of both calibration windows (the fortnight up to 90 and up to 180 days
ago: 28 days, the steady state of a nightly job) and the last two days; 1 % of the accounts were
not scored on the last day of each window (they fall back to the day before), 0.4 % have no row in
the 180-day window at all. Every row carries all of ``parts`` (11 components x 5 numbers),
component scores continuous between 0 and 100 (clamped, so many ties at 0 and 100), 20 % of the
onboarding and success-plan scores missing. Outcomes: churn and contraction ledger entries, and
lost or downgraded renewals (some closed, some dated by their contract's end), more often for
accounts with low scores.

It times ``health.calibration.compute_calibration_report`` (one SQL statement per horizon that
returns counts and sums) beside the previous implementation, kept here as the baseline: one row per
account per horizon streamed into Python (``DISTINCT ON``), parts unpacked and the AUC ranked in
Python. Both run on the same data in the same process, and their reports are compared.
"""

import os
import time
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from django.db import connection
from django.utils import timezone

from bench.db import bulk_load, ensure_database, vacuum_analyze
from bench.report import Headline, Result

DEFAULT_SCALE = 1_000_000
TARGET_SECONDS = 2.0
# The previous code's one read per horizon is stopped after this long (it sorts the window's rows).
BASELINE_LIMIT_SECONDS = 300
# The report shows the AUC in whole percents.
AUC_TOLERANCE = 1e-3
TODAY = date(2026, 12, 1)
# Rows and bytes (heap, indexes, TOAST) of the history, summed over its month partitions.
HISTORY_SIZE = """SELECT (SELECT count(*) FROM accounts_healthscore),
  (SELECT sum(pg_total_relation_size(relid)) FROM pg_partition_tree('accounts_healthscore'))"""
# The accounts' owners (CSMs), all in the team of one manager.
OWNERS = 200


def history_days() -> list[int]:
    """Days ago with scores: both calibration windows and the last two days (30 in all)."""
    from health import calibration

    days = {0, 1}
    for horizon in calibration.HORIZONS:
        days |= set(range(horizon, horizon + calibration.SNAPSHOT_DAYS))
    return sorted(days)


def _people() -> tuple[Any, list[int]]:
    """OWNERS CSMs and one manager whose team is all of them: a manager of every account."""
    from django.contrib.auth.models import Group, User

    from accounts.models import Team
    from csm import roles

    owners = [User.objects.get_or_create(username=f"bench-csm-{n:03}")[0] for n in range(OWNERS)]
    manager, _ = User.objects.get_or_create(username="bench-calibration-manager")
    manager.groups.add(Group.objects.get_or_create(name=roles.MANAGER)[0])
    team, _ = Team.objects.get_or_create(name="Bench everyone", defaults={"manager": manager})
    team.members.add(*owners)
    return manager, [owner.pk for owner in owners]


def build(scale: int) -> dict:
    from django.contrib.auth.models import User

    from accounts.models import PART_FIELDS, PART_KINDS, Account, HealthScore
    from health import calibration
    from renewals.models import Contract, Renewal, RevenueEntry

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE accounts_account, accounts_healthmodel RESTART IDENTITY CASCADE")
    admin, _ = User.objects.get_or_create(
        username="bench-calibration-admin", defaults={"is_superuser": True, "is_staff": True}
    )
    manager, owners = _people()
    days = history_days()
    window_ends = list(calibration.HORIZONS)  # the last day of each window, in days ago
    width = len(PART_FIELDS)
    sparse = [PART_KINDS.index(k) for k in ("onboarding", "success_plan")]
    params: dict[str, Any] = {"n": scale, "today": TODAY, "owners": owners, "days": days, "ends": window_ends}
    statements = [
        "SELECT setseed(0.19)",
        """INSERT INTO accounts_account (name, external_id, segment, owner_id, lifecycle_stage, created_at, updated_at)
           SELECT 'Bench ' || g, 'B-' || g, 'smb', (%(owners)s::int[])[1 + mod(g, cardinality(%(owners)s::int[]))],
                  'mature', now() - interval '400 days', now()
           FROM generate_series(1, %(n)s) g""",
        # A latent health per account drives its scores and its chance of being lost.
        """CREATE TEMP TABLE bench_latent AS SELECT id AS account_id, random() AS e FROM accounts_account""",
        f"""CREATE TEMP TABLE bench_parts AS
           SELECT b.account_id, b.e,
                  ARRAY(SELECT CASE f
                                 WHEN 0 THEN round((100 * random())::numeric, 1)::float8
                                 WHEN 1 THEN CASE WHEN k IN ({sparse[0]}, {sparse[1]}) AND random() < 0.2 THEN NULL
                                                  ELSE greatest(0, least(100, 100 * b.e + 60 * (random() - 0.5))) END
                                 WHEN 2 THEN 10.0
                                 ELSE floor(random() * 8)::float8 END
                        FROM generate_series(0, {len(PART_KINDS) - 1}) k, generate_series(0, {width - 1}) f
                        ORDER BY k, f) AS parts
           FROM bench_latent b""",  # noqa: S608 (constants)
        """INSERT INTO accounts_healthscore (account_id, day, score, band, previous_band, band_worsened, flagged,
                                             check_overdue, parts)
           SELECT p.account_id, %(today)s::date - d, s.score,
                  CASE WHEN s.score >= 70 THEN 'green' WHEN s.score >= 40 THEN 'yellow' ELSE 'red' END,
                  '', false, false, false, p.parts
           FROM bench_parts p CROSS JOIN unnest(%(days)s::int[]) d
           CROSS JOIN LATERAL (SELECT greatest(0, least(100, round(100 * p.e + 10 * sin(p.account_id + d))))::int
                               AS score) s
           WHERE NOT (mod(p.account_id, 100) = 7 AND d = ANY(%(ends)s::int[]))
             AND NOT (mod(p.account_id, 250) = 1 AND d >= 180)
           ORDER BY d DESC, p.account_id""",  # day by day, as the nightly job writes them
        # Outcomes after the snapshots, more often for low latent health.
        """INSERT INTO renewals_revenueentry (account_id, kind, amount, currency, effective_on, note, created_at)
           SELECT b.account_id, CASE WHEN random() < 0.6 THEN 'churn' ELSE 'contraction' END, -100, 'USD',
                  %(today)s::date - floor(random() * 200)::int, '', now()
           FROM bench_latent b WHERE random() < 0.25 * (1 - b.e)""",
        """INSERT INTO renewals_contract (account_id, starts_on, ends_on, recurring_amount, currency, auto_renew,
                                          status, created_at)
           SELECT b.account_id, %(today)s::date - 500, %(today)s::date - floor(random() * 200)::int, 1000, 'USD',
                  false, 'expired', now()
           FROM bench_latent b WHERE mod(b.account_id, 10) = 3""",
        """INSERT INTO renewals_renewal (contract_id, stage, uplift_pct, probability, reason_notes, contact_coverage,
                                         closed_on, updated_at)
           SELECT c.id, CASE WHEN random() < 0.3 * (1 - b.e) THEN 'lost'
                             WHEN random() < 0.1 THEN 'downgraded' ELSE 'renewed' END,
                  0, 50, '', '', CASE WHEN random() < 0.5 THEN c.ends_on - 10 END, now()
           FROM renewals_contract c JOIN bench_latent b ON b.account_id = c.account_id""",
        "DROP TABLE bench_parts",
        "DROP TABLE bench_latent",
    ]
    started = time.perf_counter()
    with bulk_load(Account, HealthScore, RevenueEntry, Contract, Renewal), connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql, params)
    built = time.perf_counter() - started
    vacuum_analyze()
    with connection.cursor() as cursor:
        cursor.execute(HISTORY_SIZE)
        rows, table_bytes = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM renewals_revenueentry")
        (entries,) = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM renewals_renewal WHERE stage IN ('lost', 'downgraded')")
        (renewals,) = cursor.fetchone()
    return {
        "user": admin,
        "manager": manager,
        "build_s": built,
        "rows": rows,
        "table_gib": table_bytes / 2**30,
        "entries": entries,
        "renewals": renewals,
        "days": len(days),
    }


# The previous implementation (until this module's branch), kept as the baseline.


def _previous_outcome_dates(account_ids: Iterable[int] | None, since: date) -> dict[int, list[date]]:
    from health.calibration import OUTCOME_KINDS, OUTCOME_STAGES
    from renewals.models import Renewal, RevenueEntry

    events: dict[int, set[date]] = defaultdict(set)
    entries = RevenueEntry.objects.filter(kind__in=OUTCOME_KINDS, effective_on__gt=since)
    renewals = Renewal.objects.filter(stage__in=OUTCOME_STAGES).select_related("contract")
    if account_ids is not None:
        entries = entries.filter(account_id__in=account_ids)
        renewals = renewals.filter(contract__account_id__in=account_ids)
    for account_id, day in entries.values_list("account_id", "effective_on"):
        events[account_id].add(day)
    for account_id, closed_on, ends_on in renewals.values_list(
        "contract__account_id", "closed_on", "contract__ends_on"
    ):
        day = closed_on or ends_on
        if day > since:
            events[account_id].add(day)
    return {account_id: sorted(days) for account_id, days in events.items()}


def _previous_snapshots(accounts: Any, as_of: date) -> dict:
    from accounts.models import HealthScore
    from health.calibration import SNAPSHOT_DAYS

    rows = (
        HealthScore.objects.filter(account__in=accounts, day__lte=as_of, day__gt=as_of - timedelta(days=SNAPSHOT_DAYS))
        .only("account_id", "day", "band", "score", "parts")
        .order_by("account_id", "-day")
        .distinct("account_id")
    )
    return {row.account_id: row for row in rows.iterator(chunk_size=5000)}


def previous_report(*, user: Any, today: date) -> list[dict]:
    """Bands and components per horizon as the previous code computed them (the same keys)."""
    from accounts.models import Account, HealthScore
    from health.calibration import FEW_ACCOUNTS, HORIZONS, _auc
    from health.scoring import KINDS

    accounts = Account.objects.visible_to(user).values("pk")
    report = []
    for horizon in HORIZONS:
        as_of = today - timedelta(days=horizon)
        snapshots = _previous_snapshots(accounts, as_of)
        outcomes = _previous_outcome_dates(
            list(snapshots) if len(snapshots) < 5000 else None, as_of - timedelta(days=14)
        )
        bands: dict[str, dict[str, Any]] = {band: {"band": band, "n": 0, "lost": 0} for band in HealthScore.Band}
        by_component: dict[str, tuple[list[float], list[float]]] = {kind: ([], []) for kind in KINDS}
        for account_id, row in snapshots.items():
            lost = any(row.day < event <= row.day + timedelta(days=horizon) for event in outcomes.get(account_id, ()))
            cell = bands[row.band]
            cell["n"] += 1
            cell["lost"] += lost
            components = row.components
            for kind in KINDS:
                part = components.get(kind) or {}
                if part.get("score") is not None and part.get("base"):
                    by_component[kind][0 if lost else 1].append(part["score"])
        for cell in bands.values():
            cell["rate"] = 100.0 * cell["lost"] / cell["n"] if cell["n"] else None
            cell["few"] = 0 < cell["n"] < FEW_ACCOUNTS
        components_out = {
            kind: {
                "lost_n": len(lost_scores),
                "kept_n": len(kept_scores),
                "lost_mean": sum(lost_scores) / len(lost_scores) if lost_scores else None,
                "kept_mean": sum(kept_scores) / len(kept_scores) if kept_scores else None,
                "auc": _auc(lost_scores, kept_scores),
            }
            for kind, (lost_scores, kept_scores) in by_component.items()
        }
        report.append({"horizon": horizon, "bands": bands, "components": components_out})
    return report


def differences(new: list[dict], old: list[dict]) -> tuple[list[str], float]:
    """Where the two reports disagree (counts exactly, means to 1e-9, AUC to AUC_TOLERANCE: the new
    code compares scores in steps of ``calibration.SCORE_STEP``), and the largest AUC difference."""
    found, largest = [], 0.0
    for horizon_new, horizon_old in zip(new, old, strict=True):
        h = horizon_new["horizon"]
        for cell in horizon_new["bands"]:
            before = horizon_old["bands"][cell["band"]]
            if (cell["n"], cell["lost"]) != (before["n"], before["lost"]):
                found.append(f"{h} days, {cell['band']}: {cell['n']}/{cell['lost']} vs {before['n']}/{before['lost']}")
        for component in horizon_new["components"]:
            before = horizon_old["components"][component["kind"]]
            for key in ("lost_n", "kept_n", "lost_mean", "kept_mean", "auc"):
                a, b = component[key], before[key]
                if a is not None and b is not None and key == "auc":
                    largest = max(largest, abs(a - b))
                tolerance = AUC_TOLERANCE if key == "auc" else 1e-9
                if (a is None) != (b is None) or (a is not None and abs(a - b) > tolerance):
                    found.append(f"{h} days, {component['kind']} {key}: {a} vs {b}")
    return found, largest


def same_report(a: list[dict], b: list[dict]) -> list[str]:
    """Where two reports of the current code disagree (counts exactly, means and AUC to 1e-9)."""
    found = []

    def bands(h: dict) -> list[tuple]:
        return [(c["band"], c["n"], c["lost"]) for c in h["bands"]]

    for ha, hb in zip(a, b, strict=True):
        if bands(ha) != bands(hb):
            found.append(f"{ha['horizon']} days: bands")
        by_kind = {c["kind"]: c for c in hb["components"]}
        for component in ha["components"]:
            other = by_kind[component["kind"]]
            for key in ("lost_n", "kept_n", "lost_mean", "kept_mean", "auc"):
                x, y = component[key], other[key]
                if (x is None) != (y is None) or (x is not None and abs(x - y) > 1e-9):
                    found.append(f"{ha['horizon']} days, {component['kind']} {key}: {x} vs {y}")
    return found


def _plan(user: Any) -> str:
    """EXPLAIN (ANALYZE) of the 90-day statement, for the section."""
    from health import calibration

    sql, params = calibration.horizon_statement(user=user, today=TODAY, horizon=calibration.HORIZONS[0])
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, TIMING OFF, SUMMARY ON) " + sql, params)
        lines = [row[0] for row in cursor.fetchall()]
    return "\n".join(lines)


def _reuse(scale: int) -> dict | None:
    """``BENCH_REUSE=1``: keep the data a previous run of this module built at this scale (building a
    million accounts' history takes most of the run); the figures are those of that build."""
    from django.contrib.auth.models import User

    from accounts.models import Account

    if os.environ.get("BENCH_REUSE") != "1" or Account.objects.count() != scale:
        return None
    user = User.objects.filter(username="bench-calibration-admin").first()
    manager = User.objects.filter(username="bench-calibration-manager").first()
    if user is None or manager is None:
        return None
    with connection.cursor() as cursor:
        cursor.execute(HISTORY_SIZE)
        rows, table_bytes = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM renewals_revenueentry")
        (entries,) = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM renewals_renewal WHERE stage IN ('lost', 'downgraded')")
        (renewals,) = cursor.fetchone()
    return {
        "user": user,
        "manager": manager,
        "build_s": None,
        "rows": rows,
        "table_gib": table_bytes / 2**30,
        "entries": entries,
        "renewals": renewals,
        "days": len(history_days()),
    }


def _timed_previous(user: Any) -> tuple[float, list[dict] | None]:
    """The previous implementation, stopped after BASELINE_LIMIT_SECONDS per statement."""
    from django.db import OperationalError, transaction

    started = time.perf_counter()
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL statement_timeout = '{BASELINE_LIMIT_SECONDS}s'")
            old = previous_report(user=user, today=TODAY)
    except OperationalError:
        return time.perf_counter() - started, None
    return time.perf_counter() - started, old


def run(*, scale: int) -> Result:
    from health import calibration

    ensure_database()
    built = _reuse(scale) or build(scale)
    user = built["user"]
    t: dict[str, float] = {}
    runs = []
    for _ in range(3):
        started = time.perf_counter()
        report = calibration.compute_calibration_report(user=user, today=TODAY, stored=False)
        runs.append(time.perf_counter() - started)
    t["sql"] = min(runs)
    started = time.perf_counter()
    snapshot = calibration.take_snapshot(today=TODAY, now=timezone.now())
    t["snapshot"] = time.perf_counter() - started
    stored_runs: dict[str, list[float]] = {"everyone": [], "team": []}
    stored_diffs: list[str] = []
    for viewer, key in ((user, "everyone"), (built["manager"], "team")):
        for _ in range(3):
            started = time.perf_counter()
            stored = calibration.compute_calibration_report(user=viewer, today=TODAY)
            stored_runs[key].append(time.perf_counter() - started)
        stored_diffs += [f"{key}: {d}" for d in same_report(stored, report)]
    t["everyone"], t["team"] = min(stored_runs["everyone"]), min(stored_runs["team"])
    t["previous"], old = _timed_previous(user)
    diffs, largest = differences(report, old) if old is not None else ([], 0.0)
    plan = _plan(user)
    n = [h["n"] for h in report]
    lost = [h["lost"] for h in report]
    met = t["team"] < TARGET_SECONDS
    headlines = [
        Headline(
            module="calibration",
            measure="calibration report, manager of every account (day's counts)",
            scale=scale,
            value=t["team"],
            unit="s",
            naive=t["previous"] if old is not None else None,
            target=f"< {TARGET_SECONDS:.0f} s",
            met=met,
        ),
        Headline(
            module="calibration",
            measure="calibration report computed live (one statement per horizon)",
            scale=scale,
            value=t["sql"],
            unit="s",
            naive=t["previous"] if old is not None else None,
            target="",
            met=None,
        ),
    ]
    horizons = ", ".join(
        f"{h} days: {count:,} accounts, {lo:,} lost" for h, count, lo in zip(calibration.HORIZONS, n, lost, strict=True)
    )
    if old is None:
        agreement = f"not compared: the previous code was stopped after {BASELINE_LIMIT_SECONDS} s in one statement"
    elif not diffs:
        agreement = (
            "the same: band counts and component counts exactly, means to 1e-9, AUC to "
            f"{largest:.1e} at most (scores compared in steps of {calibration.SCORE_STEP} point)"
        )
    else:
        agreement = "DIFFERENT: " + "; ".join(diffs[:6])
    previous = f"{t['previous']:.1f} s" if old is not None else f"> {t['previous']:.0f} s (stopped)"
    built_in = f"built set-based in {built['build_s']:.0f} s" if built["build_s"] else "built by an earlier run"
    markdown = f"""## Calibration: the report computed for {scale:,} accounts

`health.calibration.compute_calibration_report` for an administrator (every account visible), no cache.
History, {built_in}: {built["rows"]:,} `HealthScore` rows
({built["days"]} days: both calibration windows scored every night, and the last two days;
{built["table_gib"]:.1f} GiB with indexes), {built["entries"]:,} churn/contraction entries,
{built["renewals"]:,} lost or downgraded renewals. Reported: {horizons}.

| implementation | time | statements reading history |
|---|---|---|
| **the day's counts (`take_snapshot`), a manager whose team owns every account, best of 3** | **{t["team"]:.3f} s** (runs: {", ".join(f"{r:.3f}" for r in stored_runs["team"])}) | 0 |
| the day's counts, an administrator (everyone), best of 3 | {t["everyone"]:.3f} s | 0 |
| live SQL aggregation (one statement per horizon; CSMs' own books, or no counts yet today), best of 3 | {t["sql"]:.2f} s (runs: {", ".join(f"{r:.2f}" for r in runs)}) | {len(calibration.HORIZONS)} |
| previous: one row per account per horizon into Python, parts unpacked, AUC ranked in Python | {previous} | {len(calibration.HORIZONS)} (streamed) |
| the nightly `take_snapshot` itself (everyone and {snapshot["managers"]} manager, {snapshot["cells"]:,} cells) | {t["snapshot"]:.1f} s | {len(calibration.HORIZONS)} |

- Target < {TARGET_SECONDS:.0f} s for a manager of every account: **{"met" if met else "NOT met"}** ({t["team"]:.3f} s from the
  day's counts; {t["sql"]:.2f} s computed live, {"more than " if old is None else ""}{t["previous"] / t["sql"]:.0f}x faster
  than the previous code on the same data).
- The reports from the day's counts against the live one: {"the same (counts exactly, means and AUC to 1e-9)" if not stored_diffs else "DIFFERENT: " + "; ".join(stored_diffs[:6])}.
- The live report against the previous code: {agreement}.
- The day's counts: the live statement run once a night over every account, kept per owner, and added
  up for everyone and for each manager's owners (their teams' and their own) in the same `INSERT`;
  {OWNERS} CSMs own the accounts here, all in the one manager's team. The page adds up one
  viewer's cells per horizon (the component's steps of {calibration.SCORE_STEP} point, the bands) with
  the live statement's last step: the Mann-Whitney count from the running sum over them, in SQL.
- What the statement does: the latest scored day in the window (`MAX(day)` on the (day, account)
  index), that day's rows, and for accounts without a row that day their latest row in the window
  (one probe of the (account, day) index each); outcomes of the window joined as a small set;
  per component the accounts lost and kept at each distinct score, and the Mann-Whitney count from a
  running sum over the distinct scores (exact: no binning). Its cost follows the accounts in one
  window day, not the history: rows outside the windows are never read
  (`tests/health/test_calibration_reads.py`).

<details><summary>Plan of the 90-day statement (EXPLAIN ANALYZE)</summary>

```text
{plan}
```

</details>
"""  # noqa: E501 (Markdown)
    return Result(markdown, headlines)
