"""Changes a success manager makes from the account pages. Each is one transaction; the
signals other apps react to go out only once it has committed."""

from collections.abc import Iterable
from datetime import date, datetime

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import OuterRef, Subquery

from . import signals
from .models import Account, Contact, Touchpoint


@transaction.atomic
def log_touchpoint(
    *,
    account: Account,
    kind: str,
    outcome: str,
    notes: str = "",
    occurred_at: datetime,
    contact: Contact | None = None,
    by: User | None,
    now: datetime | None = None,
) -> Touchpoint:
    if contact is not None and contact.account_id != account.pk:
        raise ValidationError({"contact": "This contact belongs to another account."})
    if now is not None and occurred_at > now:
        raise ValidationError({"occurred_at": "A touchpoint cannot be in the future."})
    touchpoint = Touchpoint(account=account, kind=kind, outcome=outcome, notes=notes.strip(), contact=contact, by=by)
    touchpoint.occurred_at = occurred_at
    touchpoint.full_clean()
    touchpoint.save()
    return touchpoint


@transaction.atomic
def mark_contact_left(contact: Contact, *, left_on: date, successor: Contact | None, by: User | None) -> Contact:
    """Record that a contact left; the successor inherits their roles so renewal notices still
    reach someone (docs/domain.md §8: if the primary person leaves, find who takes over)."""
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    if contact.left_on is not None:
        raise ValidationError("This contact is already marked as having left.")
    if successor is not None:
        if successor.pk == contact.pk:
            raise ValidationError({"successor": "A contact cannot succeed themselves."})
        if successor.account_id != contact.account_id:
            raise ValidationError({"successor": "The successor must be a contact of the same account."})
        if successor.has_left(left_on):
            raise ValidationError({"successor": "The successor has left too."})
        inherited = [field for field, _ in Contact.ROLE_FIELDS if getattr(contact, field)]
        for field in inherited:
            setattr(successor, field, True)
        if contact.is_primary:
            successor.is_primary = True
        successor.save(update_fields=[*inherited, "is_primary"])
    contact.left_on = left_on
    contact.successor = successor
    contact.is_primary = False
    contact.save(update_fields=["left_on", "successor", "is_primary"])
    transaction.on_commit(lambda: signals.contact_left.send(sender=Contact, contact=contact, today=left_on, by=by))
    return contact


def refresh_last_touch(*, account_ids: Iterable[int] | None = None) -> int:
    """Set ``Account.last_touch_at`` from the touchpoints, for these accounts or (None) all.

    Touchpoint saves and deletes call it for their account (accounts/receivers.py); bulk loads
    that bypass them (demo data, benchmarks) call it once at the end. Returns the rows updated.
    """
    latest = Touchpoint.objects.filter(account=OuterRef("pk")).order_by("-occurred_at").values("occurred_at")[:1]
    accounts = Account.objects.all() if account_ids is None else Account.objects.filter(pk__in=list(account_ids))
    return accounts.update(last_touch_at=Subquery(latest))
