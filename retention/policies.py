"""What each growing table keeps: one policy per table, its age column and its window.

The windows are settings (``settings.RETENTION_DAYS``, each overridable by ``RETENTION_DAYS_<NAME>``);
the README lists them. A policy only chooses rows: ``retention.services`` deletes them in batches.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.apps import apps
from django.db.models import Model, QuerySet


@dataclass(frozen=True)
class Policy:
    name: str
    # Rows past the window: called with the first day (and its midnight) that is kept.
    expired: Callable[[date, datetime], QuerySet]


def _model(label: str) -> type[Model]:
    return apps.get_model(label)


def _usage(day: date, moment: datetime) -> QuerySet:
    return _model("accounts.UsageSnapshot").objects.filter(date__lt=day)


def _health_scores(day: date, moment: datetime) -> QuerySet:
    return _model("accounts.HealthScore").objects.filter(day__lt=day)


def _renewal_notices(day: date, moment: datetime) -> QuerySet:
    # Old, finished cycles only: the contract term ended before the window (planning never looks
    # at it again, so nothing is planned twice) and the notice needs nobody (not waiting, not failed).
    notice = _model("renewals.RenewalNotice")
    waiting = (*notice.NOT_YET_SENT, notice.Status.SENDING, *notice.NEEDS_A_PERSON)
    return notice.objects.filter(scheduled_on__lt=day, contract__ends_on__lt=day).exclude(status__in=waiting)


def _webhook_deliveries(day: date, moment: datetime) -> QuerySet:
    delivery = _model("webhooks.WebhookDelivery")
    return delivery.objects.filter(created_at__lt=moment).exclude(
        status__in=(delivery.Status.PENDING, delivery.Status.SENDING)
    )


def _job_runs(day: date, moment: datetime) -> QuerySet:
    job_run = _model("csm.JobRun")
    return job_run.objects.filter(day__lt=day).exclude(status=job_run.Status.RUNNING)


def _ops_alerts(day: date, moment: datetime) -> QuerySet:
    # Open alerts stay whatever their age: only those resolved long ago go.
    return _model("csm.OpsAlert").objects.filter(resolved_at__lt=moment)


def _sessions(day: date, moment: datetime) -> QuerySet:
    # What ``clearsessions`` deletes, in batches: sessions expired more than the window ago.
    return _model("sessions.Session").objects.filter(expire_date__lt=moment)


def _axes(label: str) -> Callable[[date, datetime], QuerySet]:
    return lambda day, moment: _model(label).objects.filter(attempt_time__lt=moment)


def _notifications(day: date, moment: datetime) -> QuerySet:
    # Read ones only: an unread notification still waits for its user, whatever its age.
    return _model("notifications.Notification").objects.filter(created_at__lt=moment, read_at__isnull=False)


def _digests_sent(day: date, moment: datetime) -> QuerySet:
    # The once-per-day claim: a row older than the window can never be claimed again anyway.
    return _model("notifications.DigestSent").objects.filter(day__lt=day)


def history_models() -> list[type[Model]]:
    """Every django-simple-history table (``Historical…``): each row is one saved version."""
    return sorted(
        (m for m in apps.get_models() if any(f.name == "history_date" for f in m._meta.fields)),
        key=lambda m: m._meta.label,
    )


def _history(day: date, moment: datetime) -> list[QuerySet]:
    return [model.objects.filter(history_date__lt=moment) for model in history_models()]


POLICIES: tuple[Policy, ...] = (
    Policy("usage_snapshots", _usage),
    Policy("health_scores", _health_scores),
    Policy("renewal_notices", _renewal_notices),
    Policy("webhook_deliveries", _webhook_deliveries),
    Policy("job_runs", _job_runs),
    Policy("ops_alerts", _ops_alerts),
    Policy("sessions", _sessions),
    Policy("axes_access_attempts", _axes("axes.AccessAttempt")),
    Policy("axes_access_logs", _axes("axes.AccessLog")),
    Policy("axes_access_failure_logs", _axes("axes.AccessFailureLog")),
    Policy("notifications", _notifications),
    Policy("digests_sent", _digests_sent),
)
# The history tables share one window, and are pruned one table after another.
HISTORY = "history"


def querysets(*, name: str, today: date, moment: datetime, days: int) -> list[QuerySet]:
    keep_from = today - timedelta(days=days)
    keep_since = moment - timedelta(days=days)
    if name == HISTORY:
        return _history(keep_from, keep_since)
    return [next(p for p in POLICIES if p.name == name).expired(keep_from, keep_since)]


def names() -> list[str]:
    return [p.name for p in POLICIES] + [HISTORY]
