"""The operations page: what a self-hosting team checks before its customers notice trouble."""

from django.contrib.admin.views.decorators import staff_member_required
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from csm import operations
from renewals.models import RenewalNotice


@staff_member_required
@require_GET
def operations_page(request: HttpRequest) -> HttpResponse:
    """For administrators: broker, worker and beat, scheduled jobs, paused sending, and
    the notices waiting on a person."""
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
