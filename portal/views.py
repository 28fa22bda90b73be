"""The customer page (no sign-in, one signed link) and the CSM's actions on its links."""

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from accounts.models import Account, Contact
from csm import roles
from csm.requests import SignedInHttpRequest

from . import services
from .models import CustomerLink, CustomerLinkView


def _client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def _open(request: HttpRequest, token: str, *, what: str) -> CustomerLink | HttpResponse:
    now = timezone.now()
    try:
        link = services.open_link(token, now=now)
    except ValidationError as exc:
        return render(request, "portal/invalid.html", {"error": exc.messages[0]}, status=403)
    services.record_view(
        link=link, what=what, ip=_client_ip(request), user_agent=request.META.get("HTTP_USER_AGENT", ""), now=now
    )
    return link


@login_not_required
@require_safe
def page(request: HttpRequest, token: str) -> HttpResponse:
    link = _open(request, token, what=CustomerLinkView.What.PAGE)
    if isinstance(link, HttpResponse):
        return link
    view = services.customer_view(link, today=timezone.localdate())
    response = render(request, "portal/page.html", {"view": view, "token": token})
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response


@login_not_required
@require_safe
def statement_pdf(request: HttpRequest, token: str) -> HttpResponse:
    link = _open(request, token, what=CustomerLinkView.What.PDF)
    if isinstance(link, HttpResponse):
        return link
    view = services.customer_view(link, today=timezone.localdate())
    response = HttpResponse(services.statement_pdf(view), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="service-usage-{view.year_start:%Y-%m-%d}.pdf"'
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


# --- The CSM's side (signed in) ---------------------------------------------------------------


def _require_write(request: HttpRequest) -> None:
    if not roles.can_write(request.user):
        raise PermissionDenied("Read-only users change nothing.")


@require_POST
def link_create(request: SignedInHttpRequest, account_pk: int) -> HttpResponse:
    _require_write(request)
    account = get_object_or_404(Account.objects.visible_to(request.user), pk=account_pk)
    contact = Contact.objects.filter(account=account, pk=request.POST.get("contact") or 0).first()
    try:
        days = int(request.POST.get("days") or services.DEFAULT_DAYS)
    except ValueError:
        days = 0
    try:
        if contact is None:
            raise ValidationError({"contact": "Choose one of the account's contacts."})
        link = services.create_link(contact=contact, by=request.user, days=days, now=timezone.now())
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        url = services.url_for(link)
        messages.success(request, f"Customer page link for {contact.name} (valid {days} days): {url}")
    return redirect(f"/accounts/{account.pk}/#customer-links")


@require_POST
def link_revoke(request: SignedInHttpRequest, pk: int) -> HttpResponse:
    _require_write(request)
    link = get_object_or_404(CustomerLink.objects.visible_to(request.user), pk=pk)
    services.revoke_link(link=link, by=request.user, now=timezone.now())
    messages.success(request, f"The link of {link.contact.name} is withdrawn; it opens nothing from now on.")
    return redirect(f"/accounts/{link.account_id}/#customer-links")
