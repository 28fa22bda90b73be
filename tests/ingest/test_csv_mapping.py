"""CSV import of the files people have: CRM export headers mapped (and remembered), delimiters,
date formats, money strings, owners by name or email; new onboarding accounts get their checklist."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.models import Account
from imports import mapping
from imports import services as imports
from imports.models import ColumnMapping, ImportJob
from playbooks.models import ChecklistTemplateItem, OnboardingItem
from renewals.models import Contract

pytestmark = pytest.mark.django_db

HUBSPOT_COMPANIES = (
    '"Record ID","Company name","Company Domain Name","Company owner","Create Date","Tier Code","Program"\n'
    '"9001","Umbrella Corp","umbrella.test","Alice Anderson","2026-01-05","smb","Professional"\n'
    '"9002","Wayne Enterprises","wayne.test","bob@csm.test","2026-01-06","enterprise","Professional"\n'
)
SALESFORCE_CONTRACTS = (
    "Account ID;Contract Start Date;Contract End Date;Annual Revenue\n"
    "ACME;01.02.2026;31.01.2027;12.000,00 €\n"
    "ACME;01.02.2027;31.01.2028;13.500,50 €\n"
)


def upload(client, kind: str, text: str, name: str = "export.csv"):
    return client.post("/imports/", {"kind": kind, "file": SimpleUploadedFile(name, text.encode(), "text/csv")})


@pytest.fixture
def checklist(program):
    ChecklistTemplateItem.objects.create(program=program, title="Access set up", due_offset_days=7, position=0)
    ChecklistTemplateItem.objects.create(program=program, title="First value", due_offset_days=30, position=1)
    return program


def test_a_hubspot_export_is_mapped_checked_imported_and_its_mapping_remembered(client, carol, alice, bob, checklist):
    alice.last_name = "Anderson"
    alice.save()
    client.force_login(carol)
    response = upload(client, "accounts", HUBSPOT_COMPANIES)
    job = ImportJob.objects.get()
    # Recognised headers need a look: the upload goes to the mapping step, already filled in.
    assert response.status_code == 302
    assert response["Location"] == f"/imports/{job.pk}/mapping/"
    assert job.mapping == {
        "Record ID": "external_id",
        "Company name": "name",
        "Company Domain Name": "",
        "Company owner": "owner",
        "Create Date": "",
        "Tier Code": "",
        "Program": "program",
    }
    page = client.get(response["Location"]).content.decode()
    assert page.count("not recognised") == 1  # "Tier Code"; the domain and create date are known and ignored
    assert '<option value="external_id" selected>external_id (required)</option>' in page

    # The user maps the unrecognised column; the file is checked again with it.
    headers = HUBSPOT_COMPANIES.splitlines()[0].replace('"', "").split(",")  # the form lists them in file order
    columns = {f"column_{i}": job.mapping[header] for i, header in enumerate(headers)}
    columns["column_5"] = "segment"
    response = client.post(f"/imports/{job.pk}/mapping/", {**columns, "date_format": "auto"})
    assert response["Location"] == f"/imports/{job.pk}/"
    job.refresh_from_db()
    assert (job.status, job.will_create, job.errors) == (ImportJob.Status.VALIDATED, 2, [])
    detail = client.get(f"/imports/{job.pk}/").content.decode()
    assert "Dry run passed" in detail
    assert "<code>Tier Code</code> → segment" in detail

    client.post(f"/imports/{job.pk}/run/")
    umbrella, wayne = Account.objects.filter(external_id__in=["9001", "9002"]).order_by("external_id")
    assert (umbrella.name, umbrella.owner, umbrella.segment) == ("Umbrella Corp", alice, "smb")
    assert (wayne.owner, wayne.segment, wayne.program) == (bob, "enterprise", checklist)
    # Imported in stage onboarding: the program's checklist, as after a handoff.
    assert umbrella.lifecycle_stage == Account.Stage.ONBOARDING
    assert list(OnboardingItem.objects.filter(account=wayne).values_list("title", flat=True)) == [
        "Access set up",
        "First value",
    ]

    # The next export with the same columns (in another order) reuses the saved mapping.
    assert ColumnMapping.objects.filter(user=carol, kind="accounts").count() == 1
    reordered = "\n".join(",".join(reversed(line.split(","))) for line in HUBSPOT_COMPANIES.splitlines()) + "\n"
    response = upload(client, "accounts", reordered)
    again = ImportJob.objects.exclude(pk=job.pk).get()
    assert response["Location"] == f"/imports/{again.pk}/"
    assert (again.mapping["Tier Code"], again.status, again.will_update) == ("segment", "validated", 2)


def test_a_salesforce_export_with_semicolons_european_dates_and_euro_amounts(alice, acme) -> None:
    job = imports.dry_run_import(kind="contracts", file_name="sf.csv", content=SALESFORCE_CONTRACTS, user=alice)
    assert (job.delimiter, job.date_format, job.date_format_guessed) == (";", "eu", True)
    assert job.status == ImportJob.Status.VALIDATED, job.errors
    imports.run_import(job, user=alice, now=timezone.now())
    assert list(
        Contract.objects.filter(account=acme)
        .order_by("starts_on")
        .values_list("starts_on", "ends_on", "recurring_amount", "currency")
    ) == [
        (date(2026, 2, 1), date(2027, 1, 31), Decimal("12000.00"), "EUR"),
        (date(2027, 2, 1), date(2028, 1, 31), Decimal("13500.50"), "EUR"),
    ]


def test_a_salesforce_accounts_export_by_tab_with_owner_emails(carol, alice, bob) -> None:
    text = (
        "Account ID\tAccount Name\tAccount Owner\tAnnual Revenue\tType\n"
        "001A\tInitech\talice@csm.test\t$1,200,000\tCustomer\n"
        "001B\tHooli\tBOB\t$90,000.00\tCustomer\n"
    )
    job = imports.dry_run_import(kind="accounts", file_name="sf.tsv", content=text, user=carol)
    assert job.delimiter == "\t"
    assert job.status == ImportJob.Status.VALIDATED, job.errors
    imports.run_import(job, user=carol, now=timezone.now())
    assert dict(Account.objects.filter(external_id__startswith="001").values_list("name", "owner__username")) == {
        "Initech": "alice",
        "Hooli": "bob",
    }


def test_us_dates_and_dollar_amounts_and_what_was_assumed_is_said(client, alice, acme) -> None:
    text = 'account_external_id,starts_on,ends_on,recurring_amount\nACME,3/1/2026,2/28/2027,"$12,000.00"\n'
    client.force_login(alice)
    response = upload(client, "contracts", text)
    job = ImportJob.objects.get()
    assert response["Location"] == f"/imports/{job.pk}/"  # our own headers: no mapping step
    assert job.date_format == "us"
    page = client.get(response["Location"]).content.decode()
    assert "dates read as <strong>month/day/year (US, 3/31/2026)</strong> (assumed from the file's dates)" in page
    imports.run_import(job, user=alice, now=timezone.now())
    contract = Contract.objects.get(account=acme)
    assert (contract.starts_on, contract.recurring_amount, contract.currency) == (
        date(2026, 3, 1),
        Decimal("12000.00"),
        "USD",
    )


def test_a_date_that_does_not_fit_the_format_is_a_row_error_naming_the_files_column(alice, acme) -> None:
    text = "Account ID;Start Date;End Date;ARR\nACME;31.01.2026;31.01.2027;100\nACME;2/30/2027;31.01.2028;100\n"
    job = imports.dry_run_import(kind="contracts", file_name="c.csv", content=text, user=alice)
    assert job.status == ImportJob.Status.INVALID
    assert [(e["row"], e["field"]) for e in job.errors] == [(3, "Start Date")]
    assert "D.M.YYYY (European)" in job.errors[0]["error"]


def test_an_owner_name_shared_by_two_users_is_a_row_error(carol, alice, bob) -> None:
    for user in (alice, bob):
        user.first_name, user.last_name = "Sam", "Lee"
        user.save()
    text = "external_id,name,owner\nN-1,One,Sam Lee\n"
    job = imports.dry_run_import(kind="accounts", file_name="a.csv", content=text, user=carol)
    assert job.errors == [
        {"row": 2, "field": "owner", "error": "'Sam Lee' names several users; use the username or email"}
    ]


def test_a_mapping_that_fills_one_field_twice_is_a_400_and_changes_nothing(client, alice, acme) -> None:
    client.force_login(alice)
    text = "Company ID,First Name,Last Name,Email,Work Email\nACME,Ann,Lee,ann@acme.test,a@b.test\n"
    upload(client, "contacts", text)
    job = ImportJob.objects.get()
    assert job.mapping["Work Email"] == ""
    response = client.post(
        f"/imports/{job.pk}/mapping/",
        {"column_0": "account_external_id", "column_1": "first_name", "column_2": "last_name", "column_3": "email",
         "column_4": "email", "date_format": "auto"},
    )  # fmt: skip
    assert response.status_code == 400
    assert "are both mapped to email" in response.content.decode()
    assert not ColumnMapping.objects.exists()
    job.refresh_from_db()
    assert job.status == ImportJob.Status.VALIDATED
    imports.run_import(job, user=alice, now=timezone.now())
    assert acme.contacts.filter(name="Ann Lee", email="ann@acme.test").exists()


@pytest.mark.parametrize(
    ("text", "number", "currency"),
    [
        ("$12,000.00", "12000.00", "USD"),
        ("12.000,00 €", "12000.00", "EUR"),
        ("EUR 12 000", "12000", "EUR"),
        ("£1,234.5", "1234.5", "GBP"),
        ("1.234.567", "1234567", ""),
        ("12,5", "12.5", ""),
        ("twelve", "twelve", ""),
    ],
)
def test_money_strings(text, number, currency) -> None:
    assert mapping.parse_money(text) == (number, currency)
