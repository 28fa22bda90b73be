from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views import defaults
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


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """The friendly 404 page, or for a URL under /api/ that names no endpoint (``/api/accounts/0.5/``)
    the API's own JSON answer, as its schema documents."""
    if request.path_info.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)
