"""The page a survey's recipient opens by clicking a score in the email: no sign-in, one signed token.

The first click records the answer (the link stands for that one answer of that one invite);
any later click on any of the invite's links shows the answer already recorded and changes
nothing. The optional comment is a POST from that page.
"""

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from . import services


@login_not_required
@require_http_methods(["GET", "POST"])
def answer(request: HttpRequest, token: str) -> HttpResponse:
    try:
        invite, value = services.open_link(token)
        response, created = services.record_response(invite=invite, answer=value, now=timezone.now())
    except ValidationError as exc:
        return render(request, "surveys/public/invalid.html", {"error": exc.messages[0]}, status=400)
    context = {"invite": invite, "survey": invite.survey, "response": response, "created": created}
    if request.method == "POST":
        try:
            response = services.add_comment(response=response, comment=request.POST.get("comment", ""))
        except ValidationError as exc:
            errors = exc.message_dict
            return render(request, "surveys/public/answer.html", {**context, "errors": errors}, status=400)
        return render(request, "surveys/public/answer.html", {**context, "response": response, "commented": True})
    return render(request, "surveys/public/answer.html", context)
