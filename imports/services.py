"""CSV import of accounts, contacts, contracts and usage: a dry run first, then all or nothing.

The dry run validates every row and reports each bad one (its row number, counting the header
as row 1, the column and what is wrong) and saves no data. The import validates again inside
one transaction and writes every row or none: a bad row never half-imports.
"""

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import transaction
from django.db.models import Choices, QuerySet
from django.utils import timezone
from simple_history.utils import bulk_update_with_history

from accounts import ingest
from accounts import services as account_services
from accounts.models import Account, Contact, Program, validate_time_zone
from csm import roles
from renewals import services as renewal_services
from renewals.models import Contract

from .models import ImportJob

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5000
FIRST_DATA_ROW = 2  # the header is row 1

CONTACT_FLAGS = {**Contact.ROLE_FLAGS, "email_opt_out": "email_opt_out"}
COLUMNS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    ImportJob.Kind.ACCOUNTS: (("external_id", "name"), ("segment", "owner", "program", "lifecycle_stage", "time_zone")),
    ImportJob.Kind.CONTACTS: (("account_external_id", "name"), ("email", "title", "left_on", *CONTACT_FLAGS)),
    ImportJob.Kind.CONTRACTS: (
        ("account_external_id", "starts_on", "ends_on", "recurring_amount"),
        ("currency", "auto_renew", "program", "status"),
    ),
    ImportJob.Kind.USAGE: (
        ingest.REQUIRED_FIELDS,
        tuple(name for name in ingest.UPDATE_FIELDS if name not in ingest.REQUIRED_FIELDS),
    ),
}
TRUE, FALSE = {"1", "true", "yes", "y", "x"}, {"", "0", "false", "no", "n"}


@dataclass
class Validation:
    total: int = 0
    errors: list[dict] = field(default_factory=list)
    creates: list = field(default_factory=list)
    updates: list = field(default_factory=list)
    usage_rows: list = field(default_factory=list)

    def add(self, row: int, column: str, error: str) -> None:
        self.errors.append({"row": row, "field": column, "error": error})


def read_rows(content: str, kind: str) -> list[dict]:
    """The CSV's rows as dicts keyed by lower-case header; a missing required column is an error."""
    if len(content.encode()) > MAX_BYTES:
        raise ValidationError(f"The file is over {MAX_BYTES // (1024 * 1024)} MB; split it.")
    reader = csv.DictReader(io.StringIO(content.lstrip("\ufeff")))
    if not reader.fieldnames:
        raise ValidationError("The file is empty: it needs a header row and at least one row.")
    reader.fieldnames = [name.strip().lower() for name in reader.fieldnames]
    required, optional = COLUMNS[kind]
    missing = [name for name in required if name not in reader.fieldnames]
    if missing:
        raise ValidationError(f"Missing column(s): {', '.join(missing)}. Expected: {', '.join(required + optional)}.")
    rows = []
    for row in reader:
        rows.append({key: (value or "").strip() for key, value in row.items() if key is not None})
        if len(rows) > MAX_ROWS:
            raise ValidationError(f"At most {MAX_ROWS:,} rows per file; split it.")
    if not rows:
        raise ValidationError("The file has a header but no rows.")
    return rows


def parse_flag(value: str) -> bool:
    if value.lower() in TRUE:
        return True
    if value.lower() in FALSE:
        return False
    raise ValueError


def parse_choice(value: str, choices: type[Choices]) -> str:
    for choice_value, label in choices.choices:
        if value.lower() in (choice_value, label.lower()):
            return choice_value
    raise ValueError


def choice_names(choices: type[Choices]) -> str:
    return ", ".join(choices.values)


def validate_accounts(rows: list[dict], *, user: roles.AuthUser, out: Validation) -> None:
    users = {u.username.lower(): u for u in get_user_model().objects.filter(is_active=True)}
    programs = {p.name.lower(): p for p in Program.objects.all()}
    existing = {a.external_id: a for a in Account.objects.filter(external_id__in=[r["external_id"] for r in rows])}
    editable = set(
        Account.objects.editable_by(user).filter(pk__in=[a.pk for a in existing.values()]).values_list("pk", flat=True)
    )
    seen: dict[str, int] = {}
    for number, row in enumerate(rows, start=FIRST_DATA_ROW):
        errors_before = len(out.errors)
        external_id, name = row["external_id"], row["name"]
        if not external_id:
            out.add(number, "external_id", "is required")
        elif len(external_id) > 100:
            out.add(number, "external_id", "is longer than 100 characters")
        elif external_id in seen:
            out.add(number, "external_id", f"repeats row {seen[external_id]}")
        seen.setdefault(external_id, number)
        if not name:
            out.add(number, "name", "is required")
        elif len(name) > 200:
            out.add(number, "name", "is longer than 200 characters")
        values: dict = {"name": name}
        if row.get("segment"):
            try:
                values["segment"] = parse_choice(row["segment"], Account.Segment)
            except ValueError:
                out.add(number, "segment", f"must be one of {choice_names(Account.Segment)}")
        if row.get("lifecycle_stage"):
            try:
                values["lifecycle_stage"] = parse_choice(row["lifecycle_stage"], Account.Stage)
            except ValueError:
                out.add(number, "lifecycle_stage", f"must be one of {choice_names(Account.Stage)}")
        if row.get("time_zone"):
            try:
                validate_time_zone(row["time_zone"])
            except ValidationError as exc:
                out.add(number, "time_zone", " ".join(exc.messages))
            else:
                values["time_zone"] = row["time_zone"]
        if row.get("program"):
            values["program"] = programs.get(row["program"].lower())
            if values["program"] is None:
                out.add(number, "program", f"no program named {row['program']!r}")
        if row.get("owner"):
            values["owner"] = users.get(row["owner"].lower())
            if values["owner"] is None:
                out.add(number, "owner", f"no active user {row['owner']!r}")
        account = existing.get(external_id)
        if values.get("owner") is not None:
            try:  # the same rule as the account page and the API
                account_services.check_owner(values["owner"], by=user, current=account.owner if account else None)
            except ValidationError as exc:
                out.add(number, "owner", " ".join(exc.messages))
        if account is not None and account.pk not in editable:
            out.add(number, "external_id", "is already used by an account you cannot change")
        if len(out.errors) > errors_before:
            continue
        if account is None:
            values.setdefault("owner", user)
            out.creates.append(Account(external_id=external_id, **values))
        else:
            for key, value in values.items():
                setattr(account, key, value)
            out.updates.append(account)


def editable_accounts_by_external_id(rows: list[dict], user: roles.User) -> dict[str, Account]:
    ids = {row.get("account_external_id", "") for row in rows}
    return {a.external_id: a for a in Account.objects.editable_by(user).filter(external_id__in=ids)}


def parse_day(value: str, number: int, column: str, out: Validation) -> date | None:
    try:
        return date.fromisoformat(value)
    except ValueError:
        out.add(number, column, "must be a date, YYYY-MM-DD")
        return None


def validate_contacts(rows: list[dict], *, user: roles.User, out: Validation) -> None:
    accounts = editable_accounts_by_external_id(rows, user)
    existing = {
        (c.account_id, c.email.lower()): c
        for c in Contact.objects.filter(account__in=accounts.values()).exclude(email="")
    }
    validate_email = EmailValidator()
    seen: dict[tuple, int] = {}
    for number, row in enumerate(rows, start=FIRST_DATA_ROW):
        errors_before = len(out.errors)
        account = accounts.get(row["account_external_id"])
        if account is None:
            out.add(number, "account_external_id", f"no account {row['account_external_id']!r} in your book")
        if not row["name"]:
            out.add(number, "name", "is required")
        values: dict = {"name": row["name"][:200], "title": row.get("title", "")[:200], "email": row.get("email", "")}
        if values["email"]:
            try:
                validate_email(values["email"])
            except ValidationError:
                out.add(number, "email", "is not a valid email address")
        if row.get("left_on"):
            values["left_on"] = parse_day(row["left_on"], number, "left_on", out)
        for column, model_field in CONTACT_FLAGS.items():
            try:
                values[model_field] = parse_flag(row.get(column, ""))
            except ValueError:
                out.add(number, column, "must be yes or no")
        if len(out.errors) > errors_before or account is None:  # an unknown account is an error above
            continue
        key = (account.pk, values["email"].lower())
        if values["email"] and key in seen:
            out.add(number, "email", f"repeats row {seen[key]} for this account")
            continue
        seen[key] = number
        contact = existing.get(key) if values["email"] else None
        if contact is None:
            out.creates.append(Contact(account=account, **values))
        else:
            for name, value in values.items():
                setattr(contact, name, value)
            out.updates.append(contact)


def validate_contracts(rows: list[dict], *, user: roles.User, out: Validation) -> None:
    accounts = editable_accounts_by_external_id(rows, user)
    programs = {p.name.lower(): p for p in Program.objects.all()}
    existing = {(c.account_id, c.starts_on): c for c in Contract.objects.filter(account__in=accounts.values())}
    seen: dict[tuple, int] = {}
    for number, row in enumerate(rows, start=FIRST_DATA_ROW):
        errors_before = len(out.errors)
        account = accounts.get(row["account_external_id"])
        if account is None:
            out.add(number, "account_external_id", f"no account {row['account_external_id']!r} in your book")
        starts_on = parse_day(row["starts_on"], number, "starts_on", out)
        ends_on = parse_day(row["ends_on"], number, "ends_on", out)
        if starts_on and ends_on and ends_on <= starts_on:
            out.add(number, "ends_on", "must be after starts_on")
        values: dict = {"starts_on": starts_on, "ends_on": ends_on}
        try:
            amount = Decimal(row["recurring_amount"].replace(",", ""))
            if not amount.is_finite() or amount < 0 or amount >= Decimal("1e12"):
                raise InvalidOperation
            values["recurring_amount"] = amount.quantize(Decimal("0.01"))
        except InvalidOperation:
            out.add(number, "recurring_amount", "must be an amount ≥ 0, e.g. 24000.00")
        currency = row.get("currency", "").upper() or "USD"
        if len(currency) != 3 or not currency.isalpha():
            out.add(number, "currency", "must be a 3-letter code such as USD")
        values["currency"] = currency
        try:
            values["auto_renew"] = parse_flag(row.get("auto_renew", ""))
        except ValueError:
            out.add(number, "auto_renew", "must be yes or no")
        if row.get("status"):
            try:
                values["status"] = parse_choice(row["status"], Contract.Status)
            except ValueError:
                out.add(number, "status", f"must be one of {choice_names(Contract.Status)}")
        if row.get("program"):
            values["program"] = programs.get(row["program"].lower())
            if values["program"] is None:
                out.add(number, "program", f"no program named {row['program']!r}")
        elif account is not None:
            values["program"] = account.program
        if len(out.errors) > errors_before or account is None or starts_on is None:  # both errors above
            continue
        key = (account.pk, starts_on)
        if key in seen:
            out.add(number, "starts_on", f"repeats row {seen[key]} for this account")
            continue
        seen[key] = number
        contract = existing.get(key)
        if contract is None:
            out.creates.append(Contract(account=account, **values))
        elif contract.recurring_amount != values["recurring_amount"]:
            # Amount changes are revenue events (expansion/contraction with a reason): they go
            # through the contract's page or API so the revenue ledger records them.
            out.add(number, "recurring_amount", f"differs from the recorded {contract.recurring_amount} for this "
                    "term; change amounts on the contract so the revenue ledger records it")  # fmt: skip
        else:
            for name, value in values.items():
                setattr(contract, name, value)
            out.updates.append(contract)


def validate_usage(rows: list[dict], *, user: roles.User, out: Validation) -> None:
    clean, errors = ingest.clean_usage_rows(rows, accounts=Account.objects.editable_by(user), first_row=FIRST_DATA_ROW)
    out.errors.extend(errors)
    if errors:
        return
    before = ingest.existing_keys(clean) if clean else set()
    out.usage_rows = rows
    for row in clean:
        (out.updates if (row["account_id"], row["date"]) in before else out.creates).append(row)


VALIDATORS: dict[str, Callable[..., None]] = {
    ImportJob.Kind.ACCOUNTS: validate_accounts,
    ImportJob.Kind.CONTACTS: validate_contacts,
    ImportJob.Kind.CONTRACTS: validate_contracts,
    ImportJob.Kind.USAGE: validate_usage,
}


def validate(*, kind: str, content: str, user: roles.User) -> Validation:
    """Check every row without saving anything."""
    out = Validation()
    try:
        rows = read_rows(content, kind)
    except ValidationError as exc:
        out.add(1, "file", " ".join(exc.messages))
        return out
    out.total = len(rows)
    VALIDATORS[kind](rows, user=user, out=out)
    return out


@transaction.atomic
def dry_run_import(*, kind: str, file_name: str, content: str, user: roles.AuthUser) -> ImportJob:
    """Validate the file and keep it with its row errors, so the user can read them and then import."""
    if kind not in ImportJob.Kind.values:
        raise ValidationError({"kind": f"must be one of {', '.join(ImportJob.Kind.values)}"})
    checked = validate(kind=kind, content=content, user=user)
    return ImportJob.objects.create(
        kind=kind,
        created_by=user,
        file_name=file_name[:200],
        content=content,
        status=ImportJob.Status.INVALID if checked.errors else ImportJob.Status.VALIDATED,
        total_rows=checked.total,
        errors=checked.errors,
        will_create=len(checked.creates),
        will_update=len(checked.updates),
    )


UPDATE_FIELDS: dict[str, list[str]] = {
    ImportJob.Kind.ACCOUNTS: ["name", "segment", "owner", "program", "lifecycle_stage", "time_zone"],
    ImportJob.Kind.CONTACTS: ["name", "title", "email", "left_on", *CONTACT_FLAGS.values()],
    ImportJob.Kind.CONTRACTS: [
        "starts_on",
        "ends_on",
        "recurring_amount",
        "currency",
        "auto_renew",
        "program",
        "status",
    ],
}
MODELS: dict[str, type[Account | Contact | Contract]] = {
    ImportJob.Kind.ACCOUNTS: Account,
    ImportJob.Kind.CONTACTS: Contact,
    ImportJob.Kind.CONTRACTS: Contract,
}


def import_contracts(checked: Validation, *, user: roles.AuthUser) -> None:
    """New terms go through ``create_contract`` (renewal row, new/expansion ledger entry), one by one."""
    for contract in checked.creates:
        created = renewal_services.create_contract(
            account=contract.account,
            starts_on=contract.starts_on,
            ends_on=contract.ends_on,
            amount=contract.recurring_amount,
            program=contract.program,
            currency=contract.currency,
            auto_renew=contract.auto_renew,
            by=user,
        )
        if contract.status != created.status:
            Contract.objects.filter(pk=created.pk).update(status=contract.status)
    if checked.updates:
        # Same amounts (checked above): dates, currency, auto-renew, program and status only.
        bulk_update_with_history(checked.updates, Contract, UPDATE_FIELDS[ImportJob.Kind.CONTRACTS], batch_size=1000)


@transaction.atomic
def run_import(job: ImportJob, *, user: roles.AuthUser, now: datetime) -> ImportJob:
    """Import a validated file: every row or, when any row is now bad, none."""
    # Lock the job: a double click or a second tab waits here, then finds it imported.
    job = ImportJob.objects.select_for_update().get(pk=job.pk, created_by=user)
    if job.status != ImportJob.Status.VALIDATED:
        raise ValidationError("This file is not ready to import: upload it again and fix the errors shown.")
    checked = validate(kind=job.kind, content=job.content, user=user)
    if checked.errors:
        # The data changed since the dry run; nothing is written, the new errors are shown.
        job.status, job.errors = ImportJob.Status.INVALID, checked.errors
        job.save(update_fields=["status", "errors"])
        return job
    if job.kind == ImportJob.Kind.USAGE:
        result = ingest.upsert_usage(
            rows=checked.usage_rows, accounts=Account.objects.editable_by(user), first_row=FIRST_DATA_ROW
        )
        created, updated = result.created, result.updated
    else:
        model = MODELS[job.kind]
        if model is Contract:
            import_contracts(checked, user=user)
        elif model is Account:
            account_services.import_accounts(
                creates=checked.creates, updates=checked.updates, fields=UPDATE_FIELDS[job.kind], by=user
            )
        else:
            account_services.import_contacts(
                creates=checked.creates,
                updates=checked.updates,
                fields=UPDATE_FIELDS[job.kind],
                today=timezone.localtime(now).date(),
                by=user,
            )
        created, updated = len(checked.creates), len(checked.updates)
    job.status, job.created_count, job.updated_count, job.imported_at = ImportJob.Status.IMPORTED, created, updated, now
    job.save(update_fields=["status", "created_count", "updated_count", "imported_at"])
    return job


def jobs_of(user: roles.AuthUser) -> QuerySet[ImportJob]:
    return ImportJob.objects.filter(created_by=user)
