"""Pruning: every growing table loses its rows past the window, a bounded amount per run.

Rows go by primary-key chunks (``RETENTION_BATCH_SIZE`` per DELETE, at most
``RETENTION_MAX_BATCHES`` DELETEs per table per run), so one run never holds a long lock nor
writes an unbounded amount of WAL; a backlog (the first run on a year of history) is worked off
over the following days. Running twice deletes nothing more than running once.
"""

from collections.abc import Callable
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db.models import QuerySet

from accounts.models import HealthScore
from health import partitions

from . import policies


def _in_batches(qs: QuerySet, act: Callable[[QuerySet], object], *, batch: int, max_batches: int) -> int:
    """Apply ``act`` to at most ``max_batches`` pk chunks of ``qs``; returns the rows acted on."""
    done = statements = 0
    last: object = None
    while statements < max_batches:
        # Keyset: each chunk starts after the last one, so a run never re-reads rows it passed.
        # (A key may be a tuple: health scores are keyed by (account, day).)
        after = qs if last is None else qs.filter(pk__gt=last)
        pks = list(after.order_by("pk").values_list("pk", flat=True)[:batch])
        if not pks:
            break
        last = pks[-1]
        # The base manager: a chunk is chosen by pk, whatever a default manager hides.
        act(qs.model._base_manager.filter(pk__in=pks))
        done += len(pks)
        statements += 1
        if len(pks) < batch:
            break
    return done


def thin_health_parts(*, today: date, batch: int, max_batches: int) -> int:
    """Keep only score, band and flags on health rows older than ``HEALTH_PARTS_DAYS``.

    ``parts`` (the explanation), the model, the previous score and band and the drop are emptied
    (nulls cost one bit each); history, trends and the band calibration still read what stays.
    A day is thinned in account-id chunks of ``batch`` rows, at most ``max_batches`` UPDATEs a run.
    Then, on PostgreSQL, every month whose rows are all thinned is rewritten once, densely
    (``health.partitions.compact``): the UPDATEs' dead versions are gone and the month's key index
    is rebuilt full, so an old month costs what its narrow rows cost (docs/benchmarks/history.md).
    """
    keep_from = today - timedelta(days=settings.HEALTH_PARTS_DAYS)
    # Only the last HEALTH_PARTS_CATCHUP_DAYS before that: days thinned on earlier nights are not
    # looked at again (a first run on a longer history raises the setting once).
    day = keep_from - timedelta(days=settings.HEALTH_PARTS_CATCHUP_DAYS)
    done = statements = 0
    while day < keep_from and statements < max_batches:
        rows = HealthScore.objects.filter(day=day).exclude(parts=None)
        last = 0
        while statements < max_batches:
            upper = rows.filter(account_id__gt=last).order_by("account_id").values_list("account_id", flat=True)
            top = upper[batch - 1 : batch].first() or upper.last()
            if top is None:
                break
            done += rows.filter(account_id__gt=last, account_id__lte=top).update(
                parts=None, model=None, previous_score=None, previous_band="", score_drop=None
            )
            statements += 1
            last = top
        day += timedelta(days=1)
    if partitions.partitioned():
        for month in partitions.months():
            if month.after > keep_from or month.compacted:
                continue
            if not HealthScore.objects.filter(day__gte=month.first, day__lt=month.after).exclude(parts=None).exists():
                partitions.compact(month)
    return done


def drop_health_months(*, today: date) -> list[str]:
    """Detach and drop the months of health history wholly past ``RETENTION_DAYS["health_scores"]``."""
    return partitions.drop_before(today - timedelta(days=settings.RETENTION_DAYS["health_scores"]))


def prune(*, today: date, now: datetime) -> dict:
    """Delete what every table keeps no longer; returns rows deleted per table (and parts thinned)."""
    batch, max_batches = settings.RETENTION_BATCH_SIZE, settings.RETENTION_MAX_BATCHES
    out: dict[str, int] = {}
    # Whole months first (PostgreSQL): what is left for the DELETEs below is at most part of a month.
    out["health_months_dropped"] = len(drop_health_months(today=today))
    for name in policies.names():
        days = settings.RETENTION_DAYS[name]
        total = 0
        for qs in policies.querysets(name=name, today=today, moment=now, days=days):
            total += _in_batches(qs, lambda chunk: chunk.delete(), batch=batch, max_batches=max_batches)
        out[name] = total
    out["health_parts_thinned"] = thin_health_parts(today=today, batch=batch, max_batches=max_batches)
    return out
