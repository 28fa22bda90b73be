"""The nightly recalculation: chunks of accounts scored in SQL, band changes announced, missed
days caught up.
"""

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Max, Min

from accounts import signals
from accounts.models import (
    Account,
    HealthScore,
)
from csm import freshness

from . import partitions
from .scoring import SURVEY_WINDOW_DAYS, day_bounds, model_specs
from .sql import chunk_sql, clear_sql

CHUNK_SIZE = 50_000


def recalculate_health(
    *, day: date, chunk_size: int = CHUNK_SIZE, notify: bool = True, workers: int | None = None
) -> int:
    """Score every active account as of ``day``; return the number of HealthScore rows written.

    Per chunk of account ids, whatever the chunk holds: one DELETE of the chunk's rows for the day
    and one INSERT ... SELECT. Recalculating a day replaces its rows, so running twice gives the
    same rows once. (Two runs of the same day at the same moment cannot both write: the second
    fails on the unique (account, day) constraint and leaves the first's rows.)
    Each chunk commits on its own: a crash midway leaves whole chunks, and a rerun completes them.
    On PostgreSQL, ``workers`` connections (default ``HEALTH_RECALC_WORKERS``, 2) take chunks in
    parallel; SQLite, or a caller inside a transaction, runs them one after another.
    """
    # The day's month and the next exist before any row is written (PostgreSQL; a no-op on SQLite).
    partitions.ensure_months(day)
    default, by_program = model_specs()
    specs = [default, *{spec.model_id: spec for spec in by_program.values()}.values()]
    sql = chunk_sql(
        specs,
        {
            program: spec.model_id
            for program, spec in by_program.items()
            if program is not None and spec.model_id is not None
        },
    )
    clear = clear_sql()
    window_start, day_end = day_bounds(day)
    ops = connection.ops
    params = {
        "day": ops.adapt_datefield_value(day),
        "window_start": ops.adapt_datetimefield_value(window_start),
        "day_end": ops.adapt_datetimefield_value(day_end),
        "survey_since": ops.adapt_datefield_value(day - timedelta(days=SURVEY_WINDOW_DAYS)),
        "tz": settings.TIME_ZONE,
    }
    if connection.vendor == "sqlite":
        params["conn_tz"] = connection.timezone_name
    # "Since the previous calculation": the last day scored before this one, the same for every account.
    previous_day = HealthScore.objects.last_day(before=day)
    params["previous_day"] = ops.adapt_datefield_value(previous_day or date.min)
    bounds = Account.objects.aggregate(lo=Min("pk"), hi=Max("pk"))
    if bounds["lo"] is None:
        return 0
    starts = list(range(bounds["lo"], bounds["hi"] + 1, chunk_size))
    if workers is None:
        workers = getattr(settings, "HEALTH_RECALC_WORKERS", 2)
    # Other connections cannot see an open transaction's rows (tests), and SQLite has one writer.
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        workers = 1
    workers = max(1, min(workers, len(starts)))

    def run(batch: list[int]) -> int:
        written = 0
        for lo in batch:
            with transaction.atomic(), connection.cursor() as cursor:
                if connection.vendor == "postgresql":
                    # The chunk's sorts and hashes fit in memory instead of spilling to disk; JIT
                    # compilation costs more than it saves on a 50,000-row chunk (measured: about a
                    # quarter more CPU); and the chunk's commit need not wait for its WAL flush, since
                    # a chunk lost in a crash is recomputed by the rerun (the job's own JobRun row is
                    # committed synchronously afterwards, and WAL is flushed in order).
                    cursor.execute(
                        "SELECT set_config('work_mem', '64MB', true), set_config('jit', 'off', true),"
                        " set_config('synchronous_commit', 'off', true)"
                    )
                bounds = {**params, "lo": lo, "hi": lo + chunk_size - 1}
                cursor.execute(clear, bounds)
                cursor.execute(sql, bounds)
                written += max(cursor.rowcount, 0)
        return written

    if workers == 1:
        written = run(starts)
    else:

        def in_thread(batch: list[int]) -> int:
            try:
                return run(batch)
            finally:
                connection.close()  # this thread's own connection

        with ThreadPoolExecutor(max_workers=workers) as pool:
            written = sum(pool.map(in_thread, [starts[i::workers] for i in range(workers)]))
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        # A night's rows make the day's month's statistics stale until autovacuum gets to it; the
        # band-change read below and tomorrow's pages are planned on fresh ones. Only the month
        # written is sampled, so the cost does not grow with the length of history.
        month = f"{partitions.TABLE}_p{day:%Y%m}"
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {month}")
    if notify:
        _send_band_changes(day=day)
    return written


@dataclass(frozen=True)
class BandChange:
    """One account's band change, as the ``health_bands_changed`` signal carries it."""

    account_id: int
    external_id: str | None
    name: str
    old_band: str
    new_band: str
    old_score: int | None
    new_score: int


BAND_CHANGE_BATCH = 2000


def _send_band_changes(*, day: date) -> None:
    """Tell receivers (webhooks) which accounts' band changed, in batches of ``BAND_CHANGE_BATCH``.

    The day's changes are read from the scores alone, and each batch's account names by primary
    key: the scores were just written, so the planner's statistics on them are stale, and a join
    planned on stale counts can loop over every account for every change.
    """
    if not signals.health_bands_changed.has_listeners():
        return
    changed = (
        HealthScore.objects.on(day)
        .exclude(previous_band="")
        .exclude(band=F("previous_band"))
        .order_by("account_id")
        .values_list("account_id", "previous_band", "band", "previous_score", "score")
    )
    batch: list[tuple] = []
    for row in changed.iterator(chunk_size=BAND_CHANGE_BATCH):
        batch.append(row)
        if len(batch) == BAND_CHANGE_BATCH:
            _send_band_change_batch(day, batch)
            batch = []
    if batch:
        _send_band_change_batch(day, batch)


def _send_band_change_batch(day: date, rows: list[tuple]) -> None:
    names = Account.objects.only("external_id", "name").in_bulk([row[0] for row in rows])
    changes = [
        BandChange(account_id, names[account_id].external_id, names[account_id].name, *rest)
        for account_id, *rest in rows
        if account_id in names
    ]
    signals.health_bands_changed.send(sender=HealthScore, day=day, changes=changes)


def _recalculate_for(day: date) -> Callable[[], dict]:
    """The job's work for one day (a closure per day, so a loop cannot rebind it)."""

    def work() -> dict:
        rows = recalculate_health(day=day)
        if rows:
            freshness.bump()  # a night's scores are on every book
        return {"rows": rows}

    return work


def recalculate_due(*, today: date, catch_up_days: int = 7) -> list[date]:
    """Recalculate every day due as of ``today`` (the beat entry point); return the days computed.

    A day is due when no finished run exists for it, back to the last finished run (at most
    ``catch_up_days``): a night the worker was down is filled in the next night.
    """
    from csm.models import JobRun
    from csm.services import run_job_once

    last = (
        JobRun.objects.filter(job="recalculate_health", status=JobRun.Status.DONE, day__lte=today)
        .order_by("-day")
        .values_list("day", flat=True)
        .first()
    )
    start = today if last is None else max(last + timedelta(days=1), today - timedelta(days=catch_up_days - 1))
    done = []
    day = start
    while day <= today:
        run = run_job_once(job="recalculate_health", day=day, work=_recalculate_for(day))
        if run is not None:
            done.append(day)
        day += timedelta(days=1)
    return done
