"""The one page action about a contact: marking that they left (the account page is in front/)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.views.decorators.http import require_POST

from csm import roles
from csm.requests import SignedInHttpRequest

from . import services
from .forms import ContactLeftForm
from .models import Contact


def _require_write(request: HttpRequest) -> None:
    if not roles.can_write(request.user):
        raise PermissionDenied("Read-only users change nothing.")


@require_POST
def mark_contact_left(request: SignedInHttpRequest, pk: int) -> HttpResponse:
    contact = get_object_or_404(Contact.objects.visible_to(request.user).select_related("account"), pk=pk)
    _require_write(request)
    day = timezone.localdate()
    form = ContactLeftForm(request.POST, contact=contact, today=day)
    if form.is_valid():
        try:
            services.mark_contact_left(contact, by=request.user, today=day, **form.cleaned_data)
            successor = form.cleaned_data["successor"]
            messages.success(
                request,
                f"{contact.name} marked as left"
                + (f"; {successor.name} takes over their roles." if successor else ". Choose who takes over."),
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    else:
        messages.error(request, "Give the day the contact left.")
    return redirect("front:account-detail", pk=contact.account_id)
