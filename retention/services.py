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
from health.calibration import CALIBRATION_READS_DAYS

from . import policies


def _in_batches(qs: QuerySet, act: Callable[[QuerySet], object], *, batch: int, max_batches: int) -> int:
    """Apply ``act`` to at most ``max_batches`` pk chunks of ``qs``; returns the rows acted on."""
    done = statements = last = 0
    while statements < max_batches:
        # Keyset: each chunk starts after the last one, so a run never re-reads rows it passed
        # (an UPDATE leaves them matching the day filter).
        pks = list(qs.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:batch])
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
    """Empty ``parts`` (the explanation) of health rows older than ``HEALTH_PARTS_DAYS`` (and
    older than what calibration reads).

    Score, band and flags stay, so history, trends and calibration still read them; only the
    per-component breakdown of an old day is gone (docs/benchmarks.md: the array is most of a row).
    """
    # Calibration's component separation reads parts of rows up to CALIBRATION_READS_DAYS old.
    keep_from = today - timedelta(days=max(settings.HEALTH_PARTS_DAYS, CALIBRATION_READS_DAYS))
    # Only the last HEALTH_PARTS_CATCHUP_DAYS before that: rows thinned on earlier nights are not
    # read again each night (the (day, account) index bounds the scan). A first run on a longer
    # history raises the setting once.
    since = keep_from - timedelta(days=settings.HEALTH_PARTS_CATCHUP_DAYS)
    qs = HealthScore.objects.filter(day__lt=keep_from, day__gte=since).exclude(parts=[])
    return _in_batches(qs, lambda chunk: chunk.update(parts=[]), batch=batch, max_batches=max_batches)


def prune(*, today: date, now: datetime) -> dict:
    """Delete what every table keeps no longer; returns rows deleted per table (and parts thinned)."""
    batch, max_batches = settings.RETENTION_BATCH_SIZE, settings.RETENTION_MAX_BATCHES
    out: dict[str, int] = {}
    for name in policies.names():
        days = settings.RETENTION_DAYS[name]
        total = 0
        for qs in policies.querysets(name=name, today=today, moment=now, days=days):
            total += _in_batches(qs, lambda chunk: chunk.delete(), batch=batch, max_batches=max_batches)
        out[name] = total
    out["health_parts_thinned"] = thin_health_parts(today=today, batch=batch, max_batches=max_batches)
    return out
