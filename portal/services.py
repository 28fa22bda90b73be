"""The customer page: its links (create, revoke, open, log) and what it shows.

The page shows one account's success plan, its service usage statement for the contract year
(``playbooks.services.service_usage_statement``, the staff statement's own computation) and its
onboarding progress; nothing else of csm.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.contrib.auth.models import User
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account, Contact
from playbooks import services as playbook_services
from playbooks.models import OnboardingItem, SuccessPlan
from renewals.unsubscribe import absolute

from .models import CustomerLink, CustomerLinkView

SALT = "portal.link"
DEFAULT_DAYS = 30
MAX_DAYS = 365


def token_for(link: CustomerLink) -> str:
    return signing.Signer(salt=SALT).sign_object({"l": link.pk})


def url_for(link: CustomerLink) -> str:
    return absolute(reverse("portal-public:page", args=[token_for(link)]))


@transaction.atomic
def create_link(*, contact: Contact, by: User | None, days: int, now: datetime) -> CustomerLink:
    """A new link to the customer page for a current contact of the account, valid ``days`` days."""
    today = timezone.localtime(now).date()
    if contact.has_left(today):
        raise ValidationError({"contact": "This contact has left the customer."})
    if not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise ValidationError({"days": f"Choose between 1 and {MAX_DAYS} days."})
    return CustomerLink.objects.create(
        account_id=contact.account_id,
        contact=contact,
        created_by=by,
        created_at=now,
        expires_at=now + timedelta(days=days),
    )


@transaction.atomic
def revoke_link(*, link: CustomerLink, by: User | None, now: datetime) -> CustomerLink:
    """Withdraw the link: it opens nothing from now on. Revoking twice changes nothing."""
    link = CustomerLink.objects.select_for_update().get(pk=link.pk)
    if link.revoked_at is None:
        link.revoked_at, link.revoked_by = now, by
        link.save(update_fields=["revoked_at", "revoked_by"])
    return link


def open_link(token: str, *, now: datetime) -> CustomerLink:
    """The live link a token stands for; ValidationError when tampered with, expired or revoked."""
    try:
        payload = signing.Signer(salt=SALT).unsign_object(token)
    except signing.BadSignature as exc:
        raise ValidationError("This link is not valid.") from exc
    link_id = payload.get("l") if isinstance(payload, dict) else None
    link = (
        CustomerLink.objects.select_related("account__program", "contact").filter(pk=link_id).first()
        if isinstance(link_id, int)
        else None
    )
    if link is None:
        raise ValidationError("This link is not valid.")
    refusal = link.refusal(now=now)
    if refusal:
        raise ValidationError(refusal)
    return link


@transaction.atomic
def record_view(*, link: CustomerLink, what: str, ip: str | None, user_agent: str, now: datetime) -> CustomerLinkView:
    return CustomerLinkView.objects.create(link=link, what=what, viewed_at=now, ip=ip, user_agent=user_agent[:300])


# --- What the page shows -------------------------------------------------------------------------


# The contract year is the staff statement's own (playbooks), so both count the same period.
contract_year = playbook_services.contract_year


@dataclass
class CustomerView:
    account: Account
    contact: Contact
    plan: SuccessPlan | None
    objectives: list
    realization: float | None
    statement: playbook_services.Statement
    year_start: date
    year_end: date
    is_contract_year: bool  # False: no active contract, the last 12 months instead
    onboarding: playbook_services.OnboardingProgress
    onboarding_items: list[OnboardingItem]
    today: date


def customer_view(link: CustomerLink, *, today: date) -> CustomerView:
    account = link.account
    plan = SuccessPlan.objects.filter(account=account).first()
    start, end, is_contract_year = contract_year(account, today=today)
    return CustomerView(
        account=account,
        contact=link.contact,
        plan=plan,
        objectives=list(plan.objectives.prefetch_related("milestones")) if plan else [],
        realization=plan.realization() if plan else None,
        statement=playbook_services.service_usage_statement(account, start=start, end=min(end, today)),
        year_start=start,
        year_end=end,
        is_contract_year=is_contract_year,
        onboarding=playbook_services.onboarding_progress(account, today=today),
        onboarding_items=list(account.onboarding_items.order_by("position", "due_on", "pk")),
        today=today,
    )


def statement_pdf(view: CustomerView) -> bytes:
    """The statement as a PDF, rendered by WeasyPrint from templates/portal/statement_pdf.html."""
    from django.contrib.staticfiles import finders
    from weasyprint import CSS, HTML

    html = render_to_string("portal/statement_pdf.html", {"view": view})
    # A static file, not a <style> block: no template carries inline styles (the CSP test).
    stylesheet = CSS(filename=finders.find("css/statement_pdf.css"))
    return HTML(string=html).write_pdf(stylesheets=[stylesheet])
