"""The CSM's side of recipients' answers: confirm a contact a recipient named."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.views.decorators.http import require_POST

from csm import roles

from . import answers
from .models import Renewal, RenewalAnswer


@login_required
@require_POST
def answer_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    answer = get_object_or_404(
        RenewalAnswer.objects.filter(renewal__in=Renewal.objects.visible_to(request.user)), pk=pk
    )
    if not roles.can_write(request.user):
        raise PermissionDenied("Read-only users change nothing.")
    try:
        contact = answers.confirm_named_contact(answer, now=timezone.now())
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"{contact.name} is a renewal contact; the notice goes to {contact.email}.")
    return redirect("renewals:renewal-detail", pk=answer.renewal_id)
