"""CSV import: a dry run with row-level errors first, then all rows or none."""

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.models import Account, Contact, UsageSnapshot
from imports import services as imports
from imports.models import ImportJob
from renewals.models import Contract

pytestmark = pytest.mark.django_db

GOOD_ACCOUNTS = "external_id,name,segment,program\nNEW-1,Umbrella,smb,Professional\nNEW-2,Wayne,Enterprise,\n"


def upload(client, kind: str, text: str):
    return client.post(
        "/imports/", {"kind": kind, "file": SimpleUploadedFile(f"{kind}.csv", text.encode(), "text/csv")}, follow=True
    )


def test_a_malformed_csv_reports_each_bad_row_and_saves_nothing(client, alice, acme) -> None:
    client.force_login(alice)
    text = (
        "account_external_id,name,email,decision_maker,left_on\n"
        "ACME,Good Person,good@acme.test,yes,\n"
        "ACME,,no-at-sign,maybe,\n"
        "GLOBEX,Someone,,no,\n"
        "ACME,Late Leaver,late@acme.test,no,13/01/2026\n"
    )
    before = Contact.objects.count()
    response = upload(client, "contacts", text)
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.INVALID
    assert [(e["row"], e["field"]) for e in job.errors] == [
        (3, "name"), (3, "email"), (3, "decision_maker"), (4, "account_external_id"), (5, "left_on"),
    ]  # fmt: skip
    html = response.content.decode()
    assert "5 problems found — nothing was saved" in html
    assert "must be yes or no" in html
    assert Contact.objects.count() == before
    # Importing a file with errors is refused and still saves nothing.
    client.post(f"/imports/{job.pk}/run/")
    assert Contact.objects.count() == before


def test_a_dry_run_saves_nothing_and_the_import_saves_every_row(client, alice, acme) -> None:
    client.force_login(alice)
    response = upload(client, "accounts", GOOD_ACCOUNTS)
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.VALIDATED
    assert (job.will_create, job.will_update) == (2, 0)
    assert "Dry run passed" in response.content.decode()
    assert not Account.objects.filter(external_id__startswith="NEW-").exists()

    result = client.post(f"/imports/{job.pk}/run/", HTTP_HX_REQUEST="true")
    assert "All 2 rows saved in one transaction: 2 created, 0 updated" in result.content.decode()
    assert set(Account.objects.filter(owner=alice).values_list("external_id", flat=True)) == {"ACME", "NEW-1", "NEW-2"}
    assert Account.objects.get(external_id="NEW-2").segment == "enterprise"


def test_importing_the_same_file_twice_updates_instead_of_duplicating(alice, acme) -> None:
    counts = []
    for _ in range(2):
        job = imports.dry_run_import(kind="accounts", file_name="a.csv", content=GOOD_ACCOUNTS, user=alice)
        job = imports.run_import(job, user=alice, now=timezone.now())
        counts.append((job.created_count, job.updated_count))
    assert counts == [(2, 0), (0, 2)]
    assert Account.objects.filter(external_id__startswith="NEW-").count() == 2


def test_a_row_that_goes_bad_after_the_dry_run_stops_the_whole_import(alice, bob, acme, globex) -> None:
    text = (
        "account_external_id,starts_on,ends_on,recurring_amount\n"
        "ACME,2026-01-01,2026-12-31,1000\n"
        "ACME,2027-01-01,2027-12-31,1100\n"
    )
    job = imports.dry_run_import(kind="contracts", file_name="c.csv", content=text, user=alice)
    assert job.status == ImportJob.Status.VALIDATED
    Account.objects.filter(pk=acme.pk).update(owner=bob)  # the account left alice's book meanwhile
    job = imports.run_import(job, user=alice, now=timezone.now())
    assert job.status == ImportJob.Status.INVALID
    assert {e["row"] for e in job.errors} == {2, 3}
    assert not Contract.objects.filter(account=acme).exists()


def test_a_database_failure_mid_import_rolls_back_every_row(alice, acme, monkeypatch) -> None:
    text = "external_id,name\nNEW-1,One\nNEW-2,Two\n"
    job = imports.dry_run_import(kind="accounts", file_name="a.csv", content=text, user=alice)

    def explode(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(ImportJob, "save", explode)  # fails after the rows were written
    with pytest.raises(RuntimeError):
        imports.run_import(job, user=alice, now=timezone.now())
    assert not Account.objects.filter(external_id__startswith="NEW-").exists()


def test_usage_rows_import_through_the_same_upsert(alice, acme) -> None:
    text = "account_external_id,date,licenses_purchased,licenses_active,availability_pct\nACME,2026-02-01,10,7,99.9\n"
    for _ in range(2):
        job = imports.dry_run_import(kind="usage", file_name="u.csv", content=text, user=alice)
        imports.run_import(job, user=alice, now=timezone.now())
    assert list(UsageSnapshot.objects.values_list("date", "licenses_active")) == [(date(2026, 2, 1), 7)]


def test_a_file_without_the_required_columns_is_one_clear_error(alice) -> None:
    job = imports.dry_run_import(kind="contracts", file_name="c.csv", content="name\nx\n", user=alice)
    assert job.status == ImportJob.Status.INVALID
    assert job.errors[0]["field"] == "file"
    assert "Missing column(s): account_external_id, starts_on, ends_on, recurring_amount" in job.errors[0]["error"]


def test_someone_elses_import_is_a_404_and_read_only_cannot_upload(client, alice, bob, rita, acme) -> None:
    job = imports.dry_run_import(kind="accounts", file_name="a.csv", content=GOOD_ACCOUNTS, user=alice)
    client.force_login(bob)
    assert client.get(f"/imports/{job.pk}/").status_code == 404
    assert client.post(f"/imports/{job.pk}/run/").status_code == 404
    client.force_login(rita)
    assert upload(client, "accounts", GOOD_ACCOUNTS).status_code == 403
    assert not Account.objects.filter(external_id__startswith="NEW-").exists()


def test_imported_contracts_record_their_revenue_and_renewal(alice, acme) -> None:
    from renewals.models import RevenueEntry

    text = "account_external_id,starts_on,ends_on,recurring_amount\nACME,2026-01-01,2026-12-31,24000\n"
    job = imports.dry_run_import(kind="contracts", file_name="c.csv", content=text, user=alice)
    imports.run_import(job, user=alice, now=timezone.now())
    contract = Contract.objects.get(account=acme)
    assert contract.renewal.stage == "upcoming"
    assert list(RevenueEntry.objects.values_list("kind", "amount", "effective_on")) == [
        ("new", 24000, date(2026, 1, 1))
    ]
    # Re-importing the same term with another amount is refused: amounts change on the contract.
    again = imports.dry_run_import(kind="contracts", file_name="c.csv", content=text.replace("24000", "30000"),
                                   user=alice)  # fmt: skip
    assert [(e["row"], e["field"]) for e in again.errors] == [(2, "recurring_amount")]
