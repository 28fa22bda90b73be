"""Reading the files people have: delimiters, CRM export headers, dates and money as written.

- **Delimiter**: ``csv.Sniffer`` over the first lines, among ``,`` ``;`` and tab.
- **Headers**: each column maps to one of the kind's fields or is ignored. Common HubSpot and
  Salesforce export headers ("Company name", "Record ID", "Account Name", "Account Owner",
  "Contact Email", "Annual Revenue", …) are recognised; the user maps the rest on the mapping
  page, and the mapping is remembered per user and header set (``ColumnMapping``).
- **Dates**: ISO (2026-03-31), US (3/31/2026) or European (31.03.2026). The file's format is
  guessed from its date values (or chosen by the user) and the import says which it assumed.
- **Money**: "$12,000.00", "12.000,00 €", "EUR 12 000" read as 12000.00, the symbol giving the
  currency when the file has no currency column.
"""

import csv
import hashlib
import io
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

IGNORE = ""
DELIMITERS = ",;\t"
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}


def normalize(header: str) -> str:
    """ "Company Domain Name" → "company domain name"; "external_id" → "external id"."""
    return " ".join(re.sub(r"[^0-9a-z]+", " ", header.lower()).split())


# Per kind: field → the headers that mean it (normalized), besides the field's own name.
# HubSpot exports say "Record ID", "Company name", "Company owner"; Salesforce "Account ID",
# "Account Name", "Account Owner". Columns recognised as carrying nothing we keep are ignored.
SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    "accounts": {
        "external_id": ("record id", "company id", "account id", "hubspot id", "salesforce id", "id", "crm id"),
        "name": ("company name", "company", "account name", "account", "organization", "organisation"),
        "owner": ("company owner", "account owner", "owner", "hubspot owner", "owner email", "owner name", "csm"),
        "segment": ("account segment", "customer segment", "segment"),
        "program": ("service tier", "tier", "plan", "program"),
        "lifecycle_stage": ("lifecycle stage", "stage", "account stage"),
    },
    "contacts": {
        "account_external_id": (
            "associated company id",
            "company id",
            "account id",
            "account external id",
            "company record id",
        ),
        "name": ("full name", "contact name", "name"),
        "first_name": ("first name", "firstname", "given name"),
        "last_name": ("last name", "lastname", "surname", "family name"),
        "email": ("contact email", "email", "email address", "e mail"),
        "title": ("job title", "title", "position"),
        "left_on": ("left on", "left the company on", "end date"),
    },
    "contracts": {
        "account_external_id": ("account id", "company id", "record id", "associated company id"),
        "starts_on": ("contract start date", "start date", "starts on", "start"),
        "ends_on": ("contract end date", "end date", "ends on", "end", "renewal date"),
        "recurring_amount": ("annual revenue", "arr", "annual recurring revenue", "amount", "contract value"),
        "currency": ("currency", "currency code", "deal currency code", "currency iso code"),
        "auto_renew": ("auto renew", "auto renewal", "evergreen"),
    },
    "usage": {"account_external_id": ("account id", "company id", "record id")},
}
# Recognised, and deliberately not imported.
KNOWN_IGNORED = (
    "company domain name",
    "website url",
    "website",
    "industry",
    "phone number",
    "phone",
    "city",
    "country",
    "country region",
    "billing country",
    "create date",
    "created date",
    "last activity date",
    "number of employees",
    "employees",
    "annual revenue",
    "type",
    "lead status",
    "associated company",
)
# Fields that combine into another one: contacts' first and last names into ``name``.
PARTS = {"first_name": "name", "last_name": "name"}
DATE_FIELDS = ("starts_on", "ends_on", "left_on", "date")
MONEY_FIELDS = ("recurring_amount",)
PSEUDO_FIELDS = {"contacts": ("first_name", "last_name")}


def fields_of(kind: str, required: tuple[str, ...], optional: tuple[str, ...]) -> tuple[str, ...]:
    return (*required, *optional, *PSEUDO_FIELDS.get(kind, ()))


def sniff_delimiter(content: str) -> str:
    """The file's delimiter among comma, semicolon and tab (comma when unsure)."""
    sample = "\n".join(content.lstrip("\ufeff").splitlines()[:20])
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        return ","


def read_header(content: str, delimiter: str) -> list[str]:
    reader = csv.reader(io.StringIO(content.lstrip("\ufeff")), delimiter=delimiter)
    return [name.strip() for name in next(reader, [])]


def header_key(kind: str, headers: list[str]) -> str:
    """What identifies a header set, whatever its columns' order."""
    text = kind + "\n" + "\n".join(sorted(normalize(h) for h in headers))
    return hashlib.sha256(text.encode()).hexdigest()


def recognise(kind: str, headers: list[str], fields: tuple[str, ...]) -> dict[str, str]:
    """Header → field for the headers recognised (the field's own name first), others ignored.

    A field goes to the first column that claims it: two "Company ID" columns do not both map.
    """
    by_name: dict[str, str] = {}
    for field in fields:
        by_name.setdefault(normalize(field), field)
    for field, names in SYNONYMS.get(kind, {}).items():
        if field in fields:
            for name in names:
                by_name.setdefault(name, field)
    mapping, taken = {}, set()
    for header in headers:
        field = by_name.get(normalize(header), IGNORE)
        if field in taken:
            field = IGNORE
        if field:
            taken.add(field)
        mapping[header] = field
    return mapping


def is_identity(mapping: dict[str, str]) -> bool:
    """The file already uses our column names (as the templates do): nothing to review."""
    return all(field == header.strip().lower() for header, field in mapping.items() if field) and all(
        field for field in mapping.values()
    )


# --- Dates -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DateFormat:
    code: str
    label: str
    pattern: str  # strptime
    shape: re.Pattern


DATE_FORMATS = {
    "iso": DateFormat("iso", "year-month-day (ISO, 2026-03-31)", "%Y-%m-%d", re.compile(r"^\d{4}-\d{1,2}-\d{1,2}$")),
    "us": DateFormat("us", "month/day/year (US, 3/31/2026)", "%m/%d/%Y", re.compile(r"^\d{1,2}/\d{1,2}/\d{4}$")),
    "eu": DateFormat(
        "eu", "day.month.year (European, 31.03.2026)", "%d.%m.%Y", re.compile(r"^\d{1,2}\.\d{1,2}\.\d{4}$")
    ),
}
AUTO = "auto"


def guess_date_format(values: list[str]) -> str:
    """The format most of the file's date values are written in (ISO when there are none)."""
    counts = {code: sum(1 for v in values if fmt.shape.match(v)) for code, fmt in DATE_FORMATS.items()}
    best = max(counts, key=lambda code: (counts[code], code == "iso"))
    return best if counts[best] else "iso"


def to_iso(value: str, code: str) -> str:
    """The date in ISO, read in ``code`` (ISO is always accepted); unreadable values unchanged,
    so that the row reports them."""
    value = value.strip()
    for fmt in (DATE_FORMATS[code], DATE_FORMATS["iso"]):
        if fmt.shape.match(value):
            try:
                return datetime.strptime(value, fmt.pattern).date().isoformat()  # noqa: DTZ007 - a date
            except ValueError:
                return value
    return value


def parse_iso_day(value: str) -> date:
    return date.fromisoformat(value)


# --- Money -------------------------------------------------------------------------------------

SYMBOLS = {"$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR", "CHF": "CHF"}
_CODE = re.compile(r"\b([A-Z]{3})\b")


def parse_money(value: str) -> tuple[str, str]:
    """("12000.00", "USD") from "$12,000.00"; ("12000.00", "EUR") from "12.000,00 €".

    The last of "," and "." followed by one or two digits is the decimal mark; the other
    separators (and spaces) group thousands. Unreadable text comes back unchanged.
    """
    text, currency = value.strip(), ""
    for symbol, code in SYMBOLS.items():
        if symbol in text:
            currency, text = code, text.replace(symbol, "")
    found = _CODE.search(text.upper())
    if found:
        currency, text = found.group(1), _CODE.sub("", text.upper())
    text = text.replace(" ", "").replace("\u00a0", "").replace("'", "")
    negative = text.startswith("-")
    digits = text.lstrip("-")
    if not re.fullmatch(r"[0-9.,]+", digits or "x"):
        return value.strip(), currency
    decimal_mark = ""
    last = max(digits.rfind(","), digits.rfind("."))
    if last >= 0 and 1 <= len(digits) - last - 1 <= 2:
        decimal_mark = digits[last]
    whole, _, cents = digits.rpartition(decimal_mark) if decimal_mark else (digits, "", "")
    whole = whole.replace(",", "").replace(".", "")
    number = f"{'-' if negative else ''}{whole or '0'}{'.' + cents if cents else ''}"
    try:
        Decimal(number)
    except InvalidOperation:
        return value.strip(), currency
    return number, currency
