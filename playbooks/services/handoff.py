"""The sales-to-service handoff: a deal becomes an account with contacts, a contract, an
onboarding checklist and a success plan, idempotent by deal id.
"""

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from accounts import services as account_services
from accounts.models import Account, Contact
from renewals.models import Contract, Renewal

from ..models import (
    Handoff,
    Program,
    Task,
)
from .onboarding import start_onboarding
from .plans import draft_success_plan
from .tasks import open_task

CONTACT_ROLES = Contact.ROLE_FLAGS


def _upsert_contacts(account: Account, stakeholders: list[dict]) -> None:
    existing = list(account.contacts.all())
    for person in stakeholders:
        email = (person.get("email") or "").strip().lower()
        match = next(
            (c for c in existing if (email and c.email.lower() == email) or (not email and c.name == person["name"])),
            None,
        )
        contact = match or Contact(account=account)
        contact.name = person["name"]
        contact.email = email or contact.email
        contact.title = person.get("title") or contact.title
        for role in person.get("roles", []):
            setattr(contact, CONTACT_ROLES[role], True)
        contact.save()
        if match is None:
            existing.append(contact)


# Who may hand off what (docs/security.md, "Handoff"): admins (and an integration's token, which
# belongs to an admin user) assign anyone; a manager assigns within their team; a CSM only
# themselves. A body id (deal id, external id) that names an account the caller may not change
# gets the same answer whether the id is taken in another book or not visible at all, and says
# nothing about that account.
UNAVAILABLE = "This id cannot be used for this handoff."
NOT_ASSIGNABLE = "Choose a success manager you may assign."


def assignable_csms(user: User | None) -> "QuerySet[User]":
    """The users ``user`` may make an account's owner through a handoff (None: the system):
    the accounts rule, ``accounts.services.assignable_owners``."""
    return account_services.assignable_owners(user)


def _record_handoff_contract(
    account: Account,
    contract: Contract | None,
    *,
    starts_on: date,
    ends_on: date,
    amount: Decimal,
    by: User | None,
    today: date,
) -> Contract:
    """The deal's contract: created with its renewal and ``new`` ledger entry the first time;
    a re-sent deal at another amount is a mid-term change (one expansion or contraction entry)."""
    # renewals.services imports this module (open_task), so import it when first needed.
    from renewals import services as contracts

    if contract is None:
        return contracts.create_contract(
            account=account, starts_on=starts_on, ends_on=ends_on, amount=amount, by=by, program=account.program
        )
    if (contract.starts_on, contract.ends_on) != (starts_on, ends_on):
        if ends_on <= starts_on:
            raise ValidationError({"contract_ends_on": "The contract must end after it starts."})
        contract.starts_on, contract.ends_on = starts_on, ends_on
        contract.save(update_fields=["starts_on", "ends_on"])
        Renewal.objects.filter(contract=contract).update(close_date=ends_on)
    effective_on = min(max(today, contract.starts_on), contract.ends_on)
    contracts.change_contract_amount(contract, amount=amount, effective_on=effective_on, by=by)
    contract.refresh_from_db()
    return contract


def record_handoff(**kwargs: Any) -> tuple[Handoff, bool]:
    """Turn a closed-won deal into an account in onboarding, once per deal id (see ``_record_handoff``)."""
    try:
        return _record_handoff(**kwargs)
    except IntegrityError:
        # Another delivery of the same deal committed first: everything it made rolled back
        # here, and this second pass updates the handoff it created.
        return _record_handoff(**kwargs)


@transaction.atomic
def _record_handoff(
    *,
    deal_id: str,
    account_name: str,
    what_sold: str,
    today: date,
    by: User | None,
    external_id: str = "",
    program: Program | None = None,
    csm: User | None = None,
    segment: str = "",
    contract_starts_on: date | None = None,
    contract_ends_on: date | None = None,
    recurring_amount: Decimal | None = None,
    outcomes: list[dict] | tuple = (),
    stakeholders: list[dict] | tuple = (),
    expectations: str = "",
    payload: dict | None = None,
) -> tuple[Handoff, bool]:
    """Creates or updates the account, its contacts and contract, assigns the CSM, starts
    onboarding from the program's checklist and drafts the success plan from the outcomes.
    Posting the same deal again updates what it captured and never duplicates anything.
    Returns (handoff, created).
    """
    if not deal_id.strip():
        raise ValidationError({"deal_id": "The CRM deal id is required."})
    if contract_starts_on and contract_ends_on and contract_ends_on <= contract_starts_on:
        raise ValidationError({"contract_ends_on": "The contract must end after it starts."})
    for person in stakeholders:
        unknown = set(person.get("roles", [])) - set(CONTACT_ROLES)
        if unknown:
            raise ValidationError({"stakeholders": f"Unknown role(s): {', '.join(sorted(unknown))}."})
    may_change = Account.objects.all() if by is None else Account.objects.editable_by(by)
    if csm is not None and not assignable_csms(by).filter(pk=csm.pk).exists():
        raise ValidationError({"csm": NOT_ASSIGNABLE})
    # Lock the deal's row: two deliveries of the same webhook wait for each other.
    handoff = Handoff.objects.select_for_update().filter(deal_id=deal_id).select_related("account").first()
    if handoff is not None and not may_change.filter(pk=handoff.account_id).exists():
        raise ValidationError({"deal_id": UNAVAILABLE})
    created = handoff is None
    account: Account | None
    if handoff:
        account = handoff.account
    else:
        account = Account.objects.filter(external_id=external_id).first() if external_id else None
        if account is not None and not may_change.filter(pk=account.pk).exists():
            raise ValidationError({"external_id": UNAVAILABLE})
        if account is None:
            account = Account(name=account_name, external_id=external_id or None)
            account.lifecycle_stage = Account.Stage.ONBOARDING
    account.name = account_name or account.name
    if program is not None:
        account.program = program
    if segment:
        account.segment = segment
    account.owner = csm or account.owner or by
    account.save()

    contract = handoff.contract if handoff else None
    if contract_starts_on and contract_ends_on and recurring_amount is not None:
        contract = _record_handoff_contract(
            account,
            contract,
            starts_on=contract_starts_on,
            ends_on=contract_ends_on,
            amount=recurring_amount,
            by=by,
            today=today,
        )

    handoff = handoff or Handoff(deal_id=deal_id)
    handoff.account, handoff.contract, handoff.by = account, contract, by
    handoff.what_sold, handoff.expectations = what_sold, expectations
    handoff.outcomes = [_jsonable(o) for o in outcomes]
    handoff.stakeholders = list(stakeholders)
    handoff.payload = payload or {}
    handoff.save()

    _upsert_contacts(account, list(stakeholders))
    starts_on = contract_starts_on or (contract.starts_on if contract else today)
    start_onboarding(account, starts_on=starts_on)
    draft_success_plan(account, starts_on=starts_on, outcomes=list(outcomes))
    open_task(
        account=account,
        title="Kick-off call: confirm the outcomes and expectations from the handoff",
        due_on=max(today, starts_on) + timedelta(days=3),
        key=f"handoff:{deal_id}"[:200],
        description=f"What was sold: {what_sold}\n\nExpectations set in the sale: {expectations or '—'}",
        reason=f"Handoff of deal {deal_id}",
        source=Task.Source.HANDOFF,
    )
    return handoff, created


def _jsonable(outcome: dict) -> dict:
    return {k: (str(v) if isinstance(v, Decimal | date) else v) for k, v in outcome.items()}
