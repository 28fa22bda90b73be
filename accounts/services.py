"""Changes a success manager makes from the account pages. Each is one transaction; the
signals other apps react to go out only once it has committed."""

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import OuterRef, QuerySet, Subquery
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from csm import roles

from . import signals
from .models import Account, Contact, Program, Touchpoint, book_owner_ids


@transaction.atomic
def log_touchpoint(
    *,
    account: Account,
    kind: str = Touchpoint.Kind.CALL,
    outcome: str = Touchpoint.Outcome.NEUTRAL,
    notes: str = "",
    occurred_at: datetime,
    contact: Contact | None = None,
    by: User | None,
    now: datetime | None = None,
) -> Touchpoint:
    if contact is not None and contact.account_id != account.pk:
        raise ValidationError({"contact": "This contact belongs to another account."})
    check_occurred_at(occurred_at, now=now)
    touchpoint = Touchpoint(account=account, kind=kind, outcome=outcome, notes=notes.strip(), contact=contact, by=by)
    touchpoint.occurred_at = occurred_at
    touchpoint.full_clean()
    touchpoint.save()
    return touchpoint


def check_occurred_at(occurred_at: datetime, *, now: datetime | None) -> None:
    """A touchpoint happened, so it is never in the future (else the account would leave "not
    heard from" until that day): the one rule the page's form and the API both answer with."""
    if now is not None and occurred_at > now:
        raise ValidationError({"occurred_at": "A touchpoint cannot be in the future."})


# --- Accounts ------------------------------------------------------------------------------------

# Django's own words for a blank required field, used by the page's forms and the API alike.
BLANK = "This field cannot be blank."
ACCOUNT_FIELDS = ("name", "external_id", "segment", "program", "lifecycle_stage")


def assignable_owners(by: User | None) -> "QuerySet[User]":
    """The one rule of who ``by`` may make an account's owner (None: the system, e.g. an
    integration's handoff): admins anyone active, managers the active people of their team
    (themselves included), a CSM only themselves, read-only nobody. Pages, the API, imports and
    the handoff all ask this."""
    active = User.objects.filter(is_active=True)
    if by is None or roles.is_admin(by):
        return active
    if not roles.can_write(by):
        return active.none()
    owners = book_owner_ids(by)
    return active if owners is None else active.filter(pk__in=owners)


def check_owner(owner: User | None, *, by: User, current: User | None = None) -> None:
    """Refuse an owner outside ``assignable_owners(by)``; keeping the current owner is always fine,
    and a manager or admin may leave an account unassigned."""
    if owner == current:
        return
    if owner is None and (roles.is_manager(by) or roles.is_admin(by)):
        return
    if owner is not None and assignable_owners(by).filter(pk=owner.pk).exists():
        return
    if roles.is_manager(by):
        raise ValidationError({"owner": "You can only assign accounts to active people in your team."})
    raise ValidationError({"owner": "You can only assign accounts to yourself."})


@transaction.atomic
def create_account(
    *,
    name: str,
    by: User,
    owner: User | None = None,
    external_id: str | None = None,
    segment: str = Account.Segment.SMB,
    program: Program | None = None,
    lifecycle_stage: str = Account.Stage.ONBOARDING,
) -> Account:
    owner = by if owner is None else owner
    check_owner(owner, by=by)
    account = Account(
        name=name.strip(),
        owner=owner,
        external_id=(external_id or "").strip() or None,
        segment=segment,
        program=program,
        lifecycle_stage=lifecycle_stage,
    )
    account.full_clean()
    account.save()
    return account


UNCHANGED = object()


def _check_reassign(account: Account, owner: User | None, *, by: User) -> None:
    if not (roles.is_manager(by) or roles.is_admin(by)):
        raise PermissionDenied("Only managers and admins change an account's owner.")
    check_owner(owner, by=by, current=account.owner)
    if owner is not None and not owner.is_active:
        raise ValidationError({"owner": "This user is not active."})


@transaction.atomic
def update_account(account: Account, *, by: User, owner: Any = UNCHANGED, **changes: Any) -> Account:
    """Change the account's name, external id, segment, program or stage; a new ``owner`` only
    from a manager or an admin (``check_owner``)."""
    unknown = set(changes) - set(ACCOUNT_FIELDS)
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "This field cannot be changed here."))
    account = Account.objects.select_for_update().get(pk=account.pk)
    if owner is not UNCHANGED and owner != account.owner:
        _check_reassign(account, owner, by=by)
        account.owner = owner
    for name, value in changes.items():
        if name == "name":
            value = str(value).strip()
        elif name == "external_id":
            value = (value or "").strip() or None
        setattr(account, name, value)
    account.full_clean()
    account.save()
    return account


@transaction.atomic
def assign_owner(account: Account, *, owner: User | None, by: User) -> Account:
    """Give the account to another success manager (managers and admins only)."""
    account = Account.objects.select_for_update().get(pk=account.pk)
    _check_reassign(account, owner, by=by)
    account.owner = owner
    account.save(update_fields=["owner", "updated_at"])
    return account


# --- Contacts ------------------------------------------------------------------------------------

CONTACT_FIELDS = (
    "name",
    "email",
    "phone",
    "title",
    *(f for f, _ in Contact.ROLE_FIELDS),
    "is_primary",
    "email_opt_out",
)


def _contacts_changed(contact: Contact, *, today: date, by: User | None) -> None:
    # Sent inside the transaction: a task the change finishes closes with it (playbooks/receivers.py).
    signals.contacts_changed.send(sender=Contact, account_id=contact.account_id, today=today, by=by)


def _save_contact(contact: Contact, *, today: date, by: User | None) -> Contact:
    contact.name, contact.email = contact.name.strip(), contact.email.strip()
    if contact.is_primary and contact.has_left(today):
        raise ValidationError({"is_primary": "A contact who has left cannot be the primary contact."})
    contact.full_clean()
    contact.save()
    if contact.is_primary:
        # One primary contact per account: naming a new one demotes the previous one.
        Contact.objects.filter(account_id=contact.account_id, is_primary=True).exclude(pk=contact.pk).update(
            is_primary=False
        )
    _contacts_changed(contact, today=today, by=by)
    return contact


@transaction.atomic
def add_contact(
    *,
    account: Account,
    name: str,
    today: date,
    by: User | None,
    succeeds: Contact | None = None,
    **fields: object,
) -> Contact:
    """Add a contact with their roles (DOMAIN §8: several people should receive renewal notices);
    ``succeeds``, a contact who left, hands them that contact's roles."""
    unknown = set(fields) - set(CONTACT_FIELDS)
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "This field cannot be set here."))
    contact = _save_contact(Contact(account=account, name=name, **fields), today=today, by=by)
    if succeeds is not None:
        if succeeds.account_id != account.pk:
            raise ValidationError({"succeeds": "That contact is at another account."})
        _succeed(succeeds, contact, today=today, by=by)
        contact.refresh_from_db()
    return contact


@transaction.atomic
def update_contact(contact: Contact, *, today: date, by: User | None, **changes: object) -> Contact:
    """Change a contact's details or roles; leaving is ``mark_contact_left``, never an edit."""
    unknown = set(changes) - set(CONTACT_FIELDS)
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "This field cannot be changed here."))
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    for field, value in changes.items():
        setattr(contact, field, value)
    return _save_contact(contact, today=today, by=by)


def _hand_over(contact: Contact, successor: Contact, *, today: date) -> None:
    """The successor inherits the roles so renewal notices still reach someone (DOMAIN §8)."""
    if successor.pk == contact.pk:
        raise ValidationError({"successor": "A contact cannot succeed themselves."})
    if successor.account_id != contact.account_id:
        raise ValidationError({"successor": "The successor must be a contact of the same account."})
    if successor.has_left(today):
        raise ValidationError({"successor": "The successor has left too."})
    inherited = [field for field, _ in Contact.ROLE_FIELDS if getattr(contact, field)]
    for field in inherited:
        setattr(successor, field, True)
    if contact.is_primary or contact.was_primary:
        successor.is_primary = True
        Contact.objects.filter(account_id=contact.account_id, is_primary=True).exclude(pk=successor.pk).update(
            is_primary=False
        )
    successor.save(update_fields=[*inherited, "is_primary"])


@transaction.atomic
def mark_contact_left(
    contact: Contact, *, left_on: date, successor: Contact | None, by: User | None, today: date | None = None
) -> Contact:
    """Record that a contact left; the successor inherits their roles so renewal notices still
    reach someone (docs/domain.md §8: if the primary person leaves, find who takes over).

    A primary contact keeps ``was_primary``: the "primary contact left" rule reads it, since
    ``is_primary`` moves to the successor (or to nobody yet).
    """
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    if contact.left_on is not None:
        raise ValidationError({"left_on": "This contact is already marked as having left."})
    if successor is not None:
        _hand_over(contact, successor, today=max(left_on, today or left_on))
    contact.left_on = left_on
    contact.successor = successor
    contact.was_primary = contact.was_primary or contact.is_primary
    contact.is_primary = False
    contact.save(update_fields=["left_on", "successor", "is_primary", "was_primary"])
    _contacts_changed(contact, today=today or left_on, by=by)
    transaction.on_commit(lambda: signals.contact_left.send(sender=Contact, contact=contact, today=left_on, by=by))
    return contact


def _succeed(contact: Contact, successor: Contact, *, today: date, by: User | None) -> Contact:
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    if contact.left_on is None:
        raise ValidationError({"successor": "Mark the contact as left first."})
    if contact.successor_id is not None:
        raise ValidationError({"successor": "This contact already has a successor."})
    _hand_over(contact, successor, today=today)
    contact.successor = successor
    contact.save(update_fields=["successor"])
    _contacts_changed(contact, today=today, by=by)
    return contact


@transaction.atomic
def name_successor(contact: Contact, *, successor: Contact, today: date, by: User | None) -> Contact:
    """Say who took over from a contact who already left: they inherit the roles."""
    return _succeed(contact, successor, today=today, by=by)


# --- CSV import (csm/imports.py validates every row first) ------------------------------------------


@transaction.atomic
def import_accounts(*, creates: list[Account], updates: list[Account], fields: list[str], by: User) -> None:
    """Write validated accounts in bulk, each change in the audit history (owners were checked
    row by row with ``check_owner``)."""
    bulk_create_with_history(creates, Account, batch_size=1000, default_user=by)
    if updates:
        bulk_update_with_history(updates, Account, fields, batch_size=1000, default_user=by)


@transaction.atomic
def import_contacts(
    *, creates: list[Contact], updates: list[Contact], fields: list[str], today: date, by: User
) -> None:
    """Write validated contacts in bulk; a contact the file says has left goes through
    ``mark_contact_left`` as on the page (``was_primary``, the "primary contact left" rule)."""
    left_before = dict(Contact.objects.filter(pk__in=[c.pk for c in updates]).values_list("pk", "left_on"))
    leaving = []
    for contact in [*creates, *updates]:
        if contact.left_on is not None and left_before.get(contact.pk) is None:
            leaving.append((contact, contact.left_on))
            contact.left_on = None
    bulk_create_with_history(creates, Contact, batch_size=1000, default_user=by)
    if updates:
        bulk_update_with_history(updates, Contact, fields, batch_size=1000, default_user=by)
    for contact, left_on in leaving:
        mark_contact_left(contact, left_on=left_on, successor=None, by=by, today=today)
    for account_id in {c.account_id for c in [*creates, *updates]} - {c.account_id for c, _ in leaving}:
        signals.contacts_changed.send(sender=Contact, account_id=account_id, today=today, by=by)


def refresh_last_touch(*, account_ids: Iterable[int] | None = None) -> int:
    """Set ``Account.last_touch_at`` from the touchpoints, for these accounts or (None) all.

    Touchpoint saves and deletes call it for their account (accounts/receivers.py); bulk loads
    that bypass them (demo data, benchmarks) call it once at the end. Returns the rows updated.
    """
    latest = Touchpoint.objects.filter(account=OuterRef("pk")).order_by("-occurred_at").values("occurred_at")[:1]
    accounts = Account.objects.all() if account_ids is None else Account.objects.filter(pk__in=list(account_ids))
    return accounts.update(last_touch_at=Subquery(latest))
