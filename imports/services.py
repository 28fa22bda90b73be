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
from django.contrib.auth.models import AnonymousUser
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
from playbooks import services as playbook_services
from renewals import services as renewal_services
from renewals.models import Contract

from . import mapping
from .models import ColumnMapping, ImportJob

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


@dataclass
class Reading:
    """How a file is read: its delimiter, header → field mapping and date format."""

    delimiter: str
    headers: list[str]
    mapping: dict[str, str]
    date_format: str
    date_format_guessed: bool
    to_review: bool  # recognised columns, not the user's own (saved) mapping: worth a look


def fields_of(kind: str) -> tuple[str, ...]:
    return mapping.fields_of(kind, *COLUMNS[kind])


def saved_mapping(*, kind: str, headers: list[str], user: roles.User) -> ColumnMapping | None:
    if not user.is_authenticated:
        return None
    key = mapping.header_key(kind, headers)
    return ColumnMapping.objects.filter(user=user, kind=kind, header_key=key).first()


def plan_reading(
    *, kind: str, content: str, user: roles.User, columns: dict[str, str] | None = None, date_format: str = ""
) -> Reading:
    """The delimiter (sniffed), the mapping (``columns`` given, else the user's saved one for these
    headers, else the recognised headers) and the date format (given, saved, else guessed)."""
    if len(content.encode()) > MAX_BYTES:
        raise ValidationError(f"The file is over {MAX_BYTES // (1024 * 1024)} MB; split it.")
    delimiter = mapping.sniff_delimiter(content)
    headers = mapping.read_header(content, delimiter)
    if not any(headers):
        raise ValidationError("The file is empty: it needs a header row and at least one row.")
    fields = fields_of(kind)
    to_review = False
    if columns is None:
        saved = saved_mapping(kind=kind, headers=headers, user=user)
        if saved is not None:
            columns, date_format = saved.mapping, date_format or saved.date_format
        else:
            columns = mapping.recognise(kind, headers, fields)
            to_review = not mapping.is_identity(columns)
    columns = {header: (columns.get(header) or mapping.IGNORE) for header in headers}
    unknown = sorted({target for target in columns.values() if target and target not in fields})
    if unknown:
        raise ValidationError({"mapping": f"Unknown field(s): {', '.join(unknown)}."})
    taken: dict[str, str] = {}
    for header, target in columns.items():
        if target and target in taken:
            raise ValidationError({"mapping": f"“{taken[target]}” and “{header}” are both mapped to {target}."})
        taken[target] = header
    guessed = date_format in ("", mapping.AUTO)
    if guessed:
        dated = [h for h, f in columns.items() if f in mapping.DATE_FIELDS]
        values = [row.get(h, "").strip() for row in _dict_rows(content, delimiter, headers) for h in dated][:2000]
        date_format = mapping.guess_date_format([v for v in values if v])
    elif date_format not in mapping.DATE_FORMATS:
        raise ValidationError({"date_format": f"must be one of {', '.join(mapping.DATE_FORMATS)}"})
    return Reading(delimiter, headers, columns, date_format, guessed, to_review)


def _dict_rows(content: str, delimiter: str, headers: list[str]) -> csv.DictReader:
    reader = csv.DictReader(io.StringIO(content.lstrip("\ufeff")), delimiter=delimiter)
    reader.fieldnames = headers
    next(reader, None)  # the header row
    return reader


def read_rows(content: str, kind: str, reading: Reading | None = None) -> list[dict]:
    """The CSV's rows as dicts keyed by field (through the mapping), dates in ISO and amounts
    plain; a required field that no column maps to is an error."""
    if reading is None:
        reading = plan_reading(kind=kind, content=content, user=AnonymousUser())
    required, optional = COLUMNS[kind]
    mapped = set(reading.mapping.values())
    missing = [
        name
        for name in required
        if name not in mapped and not (name == "name" and mapped & {p for p, f in mapping.PARTS.items() if f == name})
    ]
    if missing:
        raise ValidationError(
            f"Missing column(s): {', '.join(missing)}. Expected: {', '.join(required + optional)}. "
            "Map a column of the file to each on the mapping page."
        )
    rows = []
    for raw in _dict_rows(content, reading.delimiter, reading.headers):
        row: dict[str, str] = {}
        for header, target in reading.mapping.items():
            if target:
                row[target] = (raw.get(header) or "").strip()
        for part, whole in mapping.PARTS.items():
            if part in row and not row.get(whole):
                row[whole] = " ".join(row[p] for p in mapping.PARTS if mapping.PARTS[p] == whole and row.get(p))
        for target in mapping.DATE_FIELDS:
            if row.get(target):
                row[target] = mapping.to_iso(row[target], reading.date_format)
        for target in mapping.MONEY_FIELDS:
            if row.get(target):
                row[target], currency = mapping.parse_money(row[target])
                if currency and not row.get("currency"):
                    row["currency"] = currency
        rows.append(row)
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


def read_choice(values: dict, row: dict, column: str, choices: type[Choices], *, number: int, out: Validation) -> None:
    """``values[column]`` from a choice's value or label, when the row has one."""
    if row.get(column):
        try:
            values[column] = parse_choice(row[column], choices)
        except ValueError:
            out.add(number, column, f"must be one of {choice_names(choices)}")


def read_program(values: dict, row: dict, programs: dict, *, number: int, out: Validation) -> bool:
    """``values["program"]`` by name, when the row names one; False when it names none."""
    if not row.get("program"):
        return False
    values["program"] = programs.get(row["program"].lower())
    if values["program"] is None:
        out.add(number, "program", f"no program named {row['program']!r}")
    return True


def users_by_name() -> Callable[[str], tuple[roles.AuthUser | None, str]]:
    """Find an active user by username, email or full name (case-insensitive): (user, error)."""
    found: dict[str, set] = {}
    people = {}
    for person in get_user_model().objects.filter(is_active=True):
        people[person.pk] = person
        for name in (person.username, person.email, person.get_full_name()):
            if name:
                found.setdefault(name.strip().lower(), set()).add(person.pk)

    def lookup(text: str) -> tuple[roles.AuthUser | None, str]:
        by_username = get_user_model().USERNAME_FIELD
        matches = found.get(text.strip().lower(), set())
        exact = [pk for pk in matches if getattr(people[pk], by_username).lower() == text.strip().lower()]
        if exact:
            return people[exact[0]], ""
        if len(matches) == 1:
            return people[next(iter(matches))], ""
        if matches:
            return None, f"{text!r} names several users; use the username or email"
        return None, f"no active user {text!r} (username, email or full name)"

    return lookup


def validate_accounts(rows: list[dict], *, user: roles.AuthUser, out: Validation) -> None:
    find_user = users_by_name()
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
        read_choice(values, row, "segment", Account.Segment, number=number, out=out)
        read_choice(values, row, "lifecycle_stage", Account.Stage, number=number, out=out)
        if row.get("time_zone"):
            try:
                validate_time_zone(row["time_zone"])
            except ValidationError as exc:
                out.add(number, "time_zone", " ".join(exc.messages))
            else:
                values["time_zone"] = row["time_zone"]
        read_program(values, row, programs, number=number, out=out)
        if row.get("owner"):
            values["owner"], problem = find_user(row["owner"])
            if problem:
                out.add(number, "owner", problem)
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
        out.add(number, column, "must be a date: YYYY-MM-DD, M/D/YYYY (US) or D.M.YYYY (European)")
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
        read_choice(values, row, "status", Contract.Status, number=number, out=out)
        if not read_program(values, row, programs, number=number, out=out) and account is not None:
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


def validate(*, kind: str, content: str, user: roles.User, reading: Reading | None = None) -> Validation:
    """Check every row without saving anything; errors name the file's own column."""
    out = Validation()
    try:
        reading = reading or plan_reading(kind=kind, content=content, user=user)
        rows = read_rows(content, kind, reading)
    except ValidationError as exc:
        out.add(1, "file", " ".join(exc.messages))
        return out
    out.total = len(rows)
    VALIDATORS[kind](rows, user=user, out=out)
    column_of = {field: header for header, field in reading.mapping.items() if field}
    for error in out.errors:
        header = column_of.get(error["field"])
        if header and header != error["field"]:
            error["field"] = header
    return out


def _checked_job(job: ImportJob, reading: Reading, *, user: roles.User) -> ImportJob:
    checked = validate(kind=job.kind, content=job.content, user=user, reading=reading)
    job.status = ImportJob.Status.INVALID if checked.errors else ImportJob.Status.VALIDATED
    job.total_rows, job.errors = checked.total, checked.errors
    job.will_create, job.will_update = len(checked.creates), len(checked.updates)
    job.delimiter, job.mapping = reading.delimiter, reading.mapping
    job.date_format, job.date_format_guessed = reading.date_format, reading.date_format_guessed
    job.mapping_to_review = reading.to_review
    job.save()
    return job


@transaction.atomic
def dry_run_import(
    *,
    kind: str,
    file_name: str,
    content: str,
    user: roles.AuthUser,
    columns: dict[str, str] | None = None,
    date_format: str = "",
) -> ImportJob:
    """Validate the file and keep it with its row errors, so the user can read them and then import.

    The columns map through ``columns`` when given, else the user's saved mapping for these
    headers, else the recognised headers (``mapping_to_review``: the page asks to check them).
    """
    if kind not in ImportJob.Kind.values:
        raise ValidationError({"kind": f"must be one of {', '.join(ImportJob.Kind.values)}"})
    job = ImportJob(kind=kind, created_by=user, file_name=file_name[:200], content=content)
    try:
        reading = plan_reading(kind=kind, content=content, user=user, columns=columns, date_format=date_format)
    except ValidationError as exc:
        job.status = ImportJob.Status.INVALID
        job.errors = [{"row": 1, "field": "file", "error": " ".join(exc.messages)}]
        job.save()
        return job
    return _checked_job(job, reading, user=user)


@transaction.atomic
def remap_import(job: ImportJob, *, columns: dict[str, str], date_format: str, user: roles.AuthUser) -> ImportJob:
    """The user's mapping of the file's columns (and date format): remembered for the next file
    with the same headers, and the file checked again with it."""
    job = ImportJob.objects.select_for_update().get(pk=job.pk, created_by=user)
    if job.status == ImportJob.Status.IMPORTED:
        raise ValidationError("This file is already imported: upload it again to import it differently.")
    reading = plan_reading(kind=job.kind, content=job.content, user=user, columns=columns, date_format=date_format)
    ColumnMapping.objects.update_or_create(
        user=user,
        kind=job.kind,
        header_key=mapping.header_key(job.kind, reading.headers),
        defaults={"mapping": reading.mapping, "date_format": "" if reading.date_format_guessed else date_format},
    )
    return _checked_job(job, reading, user=user)


def reading_of(job: ImportJob) -> Reading:
    """How the job's file was read at its dry run (the same again at import)."""
    headers = mapping.read_header(job.content, job.delimiter)
    columns = job.mapping or mapping.recognise(job.kind, headers, fields_of(job.kind))  # jobs from before mappings
    return Reading(job.delimiter, headers, columns, job.date_format, job.date_format_guessed, False)


PREVIEW_ROWS = 5


@dataclass
class Preview:
    """The file's first rows as the import reads them, for the page to show before importing."""

    columns: list[tuple[str, str]]  # (field, the file's column that fills it, "" when combined)
    rows: list[list[str]]
    total: int


def preview_rows(job: ImportJob, *, limit: int = PREVIEW_ROWS) -> Preview | None:
    """The first ``limit`` rows through the job's mapping: dates in ISO, amounts plain, each owner
    with the person it names (or "?" when none). None when the file cannot be read that way (its
    errors say why)."""
    reading = reading_of(job)
    try:
        rows = read_rows(job.content, job.kind, reading)
    except ValidationError:
        return None
    header_of = {target: header for header, target in reading.mapping.items() if target}
    fields = list(dict.fromkeys(name for row in rows[:limit] for name in row))
    find_user = users_by_name() if "owner" in fields else None
    shown = []
    for row in rows[:limit]:
        values = [row.get(name, "") for name in fields]
        if find_user is not None and row.get("owner"):
            person, _ = find_user(row["owner"])
            named = (person.get_full_name() or person.get_username()) if person else "?"
            values[fields.index("owner")] = f"{row['owner']} → {named}"
        shown.append(values)
    return Preview([(name, header_of.get(name, "")) for name in fields], shown, len(rows))


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


def import_accounts(checked: Validation, *, user: roles.AuthUser, today: date) -> None:
    """Write the accounts; those that start (or move into) onboarding get the program's checklist
    through ``start_onboarding``, as a handoff starts it."""
    before = dict(Account.objects.filter(pk__in=[a.pk for a in checked.updates]).values_list("pk", "lifecycle_stage"))
    account_services.import_accounts(
        creates=checked.creates, updates=checked.updates, fields=UPDATE_FIELDS[ImportJob.Kind.ACCOUNTS], by=user
    )
    onboarding = Account.Stage.ONBOARDING
    for account in [*checked.creates, *checked.updates]:
        if account.lifecycle_stage == onboarding and before.get(account.pk) != onboarding:
            playbook_services.start_onboarding(account, starts_on=today)


@transaction.atomic
def run_import(job: ImportJob, *, user: roles.AuthUser, now: datetime) -> ImportJob:
    """Import a validated file: every row or, when any row is now bad, none."""
    # Lock the job: a double click or a second tab waits here, then finds it imported.
    job = ImportJob.objects.select_for_update().get(pk=job.pk, created_by=user)
    if job.status != ImportJob.Status.VALIDATED:
        raise ValidationError("This file is not ready to import: upload it again and fix the errors shown.")
    checked = validate(kind=job.kind, content=job.content, user=user, reading=reading_of(job))
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
            import_accounts(checked, user=user, today=timezone.localtime(now).date())
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
