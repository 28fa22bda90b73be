"""Pages a notice's recipient opens from the email: no sign-in, one signed token each."""

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from . import answers
from . import unsubscribe as unsubscribing
from .models import RenewalAnswer


# A mail client's one-click POST carries no CSRF token (RFC 8058); the signed token is the check.
@login_not_required
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    try:
        notice = unsubscribing.notice_for_token(token)
    except ValidationError as exc:
        return render(request, "renewals/public/invalid.html", {"error": exc.messages[0]}, status=400)
    if request.method == "GET":
        # A link scanner only GETs: nothing changes until the person (or the mail client) POSTs.
        return render(request, "renewals/public/unsubscribe.html", {"notice": notice, "done": False})
    one_click = request.POST.get("List-Unsubscribe") == "One-Click"
    unsubscribing.opt_out_contact(
        notice=notice, source="one-click" if one_click else "unsubscribe link", now=timezone.now()
    )
    return render(request, "renewals/public/unsubscribe.html", {"notice": notice, "done": True})


@login_not_required
@require_http_methods(["GET", "POST"])
def answer(request: HttpRequest, token: str) -> HttpResponse:
    try:
        notice, kind = answers.open_link(token)
    except ValidationError as exc:
        return render(request, "renewals/public/invalid.html", {"error": exc.messages[0]}, status=400)
    context = {"notice": notice, "kind": kind, "label": RenewalAnswer.Kind(kind).label, "roles": RenewalAnswer.Role}
    if request.method == "POST":
        data = {key: request.POST.get(key, "") for key in ("name", "email", "role")}
        try:
            answers.record_answer(notice=notice, kind=kind, now=timezone.now(), **data)
        except ValidationError as exc:
            return render(
                request,
                "renewals/public/answer.html",
                {**context, "errors": exc.message_dict, "data": data},
                status=400,
            )
        return render(request, "renewals/public/answer.html", {**context, "done": True})
    return render(request, "renewals/public/answer.html", context)
