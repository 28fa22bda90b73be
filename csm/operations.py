"""What an administrator needs to see before customers notice: scheduled jobs that did not
finish, the worker and beat heartbeats, paused sending and notices waiting on a person."""

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.utils import timezone

from .models import JobRun

logger = logging.getLogger(__name__)

# Jobs that must finish once a day (their beat entries tick hourly and catch up).
DAILY_JOBS = {
    "renewals.plan_notices": "Plan renewal notices",
    "recalculate_health": "Recalculate health scores",
    "playbook-rules": "Evaluate playbook rules",
}
LOOK_BACK_DAYS = 7


@dataclass(frozen=True)
class JobState:
    job: str
    label: str
    last: JobRun | None
    missed: list[date]  # recent days without a finished run (today only once it is late)


def job_states(*, today: date, now: datetime, since: date | None = None) -> list[JobState]:
    """The last run of every daily job and the recent days it did not finish.

    Today counts as missed only after 07:00 (the first ticks run from 00:05): a day the
    planner was killed mid-run and nobody took it over shows here instead of passing silently.
    ``since`` (e.g. the first day the system ran) keeps days before it out.
    """
    start = max(today - timedelta(days=LOOK_BACK_DAYS), since) if since else today - timedelta(days=LOOK_BACK_DAYS)
    runs = JobRun.objects.filter(job__in=DAILY_JOBS, day__gte=start, day__lte=today)
    done = {(run.job, run.day) for run in runs if run.status == JobRun.Status.DONE}
    states = []
    for job, label in DAILY_JOBS.items():
        last = JobRun.objects.filter(job=job).order_by("-day").first()
        days = [start + timedelta(days=n) for n in range((today - start).days + 1)]
        if timezone.localtime(now).hour < 7:
            days = days[:-1]
        first_run = JobRun.objects.filter(job=job).order_by("day").values_list("day", flat=True).first()
        missed = [day for day in days if (job, day) not in done and first_run is not None and day >= first_run]
        states.append(JobState(job, label, last, missed))
    return states


def open_alert(*, key: str, title: str, detail: str, now: datetime) -> bool:
    """Open the alert ``key`` unless it is open already; True when this call opened it.

    The partial unique index on open keys makes two workers racing here open it once.
    """
    from django.db import IntegrityError, transaction

    from .models import OpsAlert

    if OpsAlert.objects.filter(key=key, resolved_at__isnull=True).exists():
        return False
    try:
        with transaction.atomic():
            OpsAlert.objects.create(key=key, title=title[:200], detail=detail, opened_at=now)
    except IntegrityError:
        return False
    logger.error("Operations alert: %s (%s)", title, detail)
    return True


def resolve_alert(*, key: str, now: datetime) -> int:
    from .models import OpsAlert

    return OpsAlert.objects.filter(key=key, resolved_at__isnull=True).update(resolved_at=now)


def is_open(key: str) -> bool:
    from .models import OpsAlert

    return OpsAlert.objects.filter(key=key, resolved_at__isnull=True).exists()


# A heartbeat older than this means the process stopped: beat writes one at every tick (at most
# every 15 s), the worker one per heartbeat task, which beat publishes every minute.
STALE_AFTER = {"beat": timedelta(minutes=3), "worker": timedelta(minutes=3)}


def beat(key: str, *, now: datetime, detail: dict | None = None) -> None:
    from .models import Heartbeat

    Heartbeat.objects.update_or_create(key=key, defaults={"at": now, "detail": detail or {}})


@dataclass(frozen=True)
class Liveness:
    key: str
    at: datetime | None
    alive: bool
    detail: dict

    def as_json(self) -> dict:
        return {"alive": self.alive, "last_heartbeat": self.at.isoformat() if self.at else None, **self.detail}


def liveness(*, now: datetime) -> dict[str, Liveness]:
    from .models import Heartbeat

    rows = {row.key: row for row in Heartbeat.objects.filter(key__in=STALE_AFTER)}
    result = {}
    for key, stale in STALE_AFTER.items():
        row = rows.get(key)
        at = row.at if row else None
        result[key] = Liveness(key, at, bool(at and now - at < stale), row.detail if row else {})
    return result


def open_alerts() -> list:
    from .models import OpsAlert

    return list(OpsAlert.objects.filter(resolved_at__isnull=True))


def ping_workers(timeout: float = 1.0) -> list[str] | None:
    """Names of the workers that answer a broker ping, or None when the broker cannot be reached."""
    from .celery import app

    try:
        replies = app.control.inspect(timeout=timeout).ping() or {}
    except Exception:  # broker away: reported as such, never raised into the page
        return None
    return sorted(replies)


def needs_attention(*, today: date, now: datetime) -> list[str]:
    """One line per problem, for the admin banner on Today."""
    lines = [alert.title for alert in open_alerts()]
    for key, state in liveness(now=now).items():
        if not state.alive:
            lines.append(f"No {key} heartbeat since {state.at:%d %b %H:%M}" if state.at else f"No {key} heartbeat yet")
    for job in job_states(today=today, now=now):
        if job.missed:
            days = ", ".join(f"{day:%d %b}" for day in job.missed)
            lines.append(f"{job.label}: no finished run on {days}")
    return lines


def queue_depth(queue: str | None = None) -> int | None:
    """Messages waiting in a broker queue (the default one), or None when the broker cannot be reached.

    One round trip over a pooled broker connection (Redis: LLEN; the filesystem broker: its files).
    Publishers that feed a queue by its depth read it (renewals.services.publishing).
    """
    from .celery import app

    name = queue or app.conf.task_default_queue
    try:
        with app.pool.acquire(block=True, timeout=5) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0.5, interval_max=0.5)
            return int(conn.default_channel.queue_declare(queue=name, passive=False).message_count)
    except Exception:  # broker away: the caller publishes nothing now, the rows wait as outbox rows
        logger.warning("queue depth of %s not readable", name, exc_info=True)
        return None
