from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from . import operations


@login_not_required
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness for load balancers and monitoring, without touching the broker.

    200 while this process answers and the database is reachable; the worker's and beat's
    heartbeats and paused sending are reported for monitoring. ``?strict=1`` answers 503
    when any of them is not well, for a monitor that only reads status codes.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    now = timezone.now()
    processes = operations.liveness(now=now)
    paused = operations.is_open("smtp:paused")
    body = {
        "ok": True,
        "database": "ok",
        **{key: state.as_json() for key, state in processes.items()},
        "sending_paused": paused,
    }
    healthy = all(state.alive for state in processes.values()) and not paused
    status = 503 if request.GET.get("strict") and not healthy else 200
    return JsonResponse(body, status=status)


@staff_member_required
@require_GET
def operations_page(request: HttpRequest) -> HttpResponse:
    """For administrators: broker, worker and beat, scheduled jobs, paused sending, and
    the notices waiting on a person."""
    from renewals.models import RenewalNotice

    day, now = timezone.localdate(), timezone.now()
    workers = operations.ping_workers()
    alerts = operations.open_alerts()
    problems = RenewalNotice.objects.problems()
    return render(
        request,
        "csm/operations.html",
        {
            "broker_ok": workers is not None,
            "workers": workers or [],
            "liveness": operations.liveness(now=now),
            "jobs": operations.job_states(today=day, now=now),
            "alerts": alerts,
            "paused": next((alert for alert in alerts if alert.key == "smtp:paused"), None),
            "waiting": problems.select_related("contract__account").order_by("-updated_at")[:50],
            "waiting_by_status": dict(
                problems.values_list("status").annotate(n=Count("pk")).values_list("status", "n")
            ),
            "delayed": RenewalNotice.objects.filter(
                status=RenewalNotice.Status.PENDING, failing_since__isnull=False
            ).count(),
        },
    )
