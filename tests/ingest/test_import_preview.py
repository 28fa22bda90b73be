"""The import page previews the first rows as the import reads them: through the mapping, dates in
ISO, amounts plain and each owner with the person it names, before anything is saved."""

import pytest

from accounts.models import Account
from imports import services as imports
from imports.models import ImportJob

pytestmark = pytest.mark.django_db


def test_the_preview_shows_rows_through_the_mapping_with_owners_resolved(client, carol, alice, bob) -> None:
    alice.last_name = "Anderson"
    alice.save()
    text = (
        "Record ID;Company name;Company owner;Annual Revenue\n"
        "501;Umbrella Corp;alice@csm.test;$12,000.00\n"
        "502;Wayne Enterprises;Bob;$240,500.00\n"
        "503;Stark Industries;nobody@elsewhere.example;$1.00\n"
    )
    job = imports.dry_run_import(kind="accounts", file_name="hubspot.csv", content=text, user=carol)
    preview = imports.preview_rows(job, limit=2)
    assert preview is not None
    assert preview.total == 3
    assert preview.columns == [("external_id", "Record ID"), ("name", "Company name"), ("owner", "Company owner")]
    assert preview.rows == [
        ["501", "Umbrella Corp", "alice@csm.test → Alice Anderson"],
        ["502", "Wayne Enterprises", "Bob → Bob"],
    ]
    assert imports.preview_rows(job).rows[2][2] == "nobody@elsewhere.example → ?"

    client.force_login(carol)
    page = client.get(f"/imports/{job.pk}/").content.decode()
    assert "Preview: the first 3 of 3 rows" in page
    assert "alice@csm.test → Alice Anderson" in page
    assert not Account.objects.exists()  # a preview saves nothing


def test_contract_amounts_and_us_dates_preview_as_they_will_be_saved(alice, acme) -> None:
    text = 'Account ID,Contract Start Date,Contract End Date,Annual Revenue\nACME,3/1/2026,2/28/2027,"$12,000.00"\n'
    job = imports.dry_run_import(kind="contracts", file_name="deals.csv", content=text, user=alice)
    preview = imports.preview_rows(job)
    assert preview is not None
    assert dict(zip([field for field, _ in preview.columns], preview.rows[0], strict=True)) == {
        "account_external_id": "ACME",
        "starts_on": "2026-03-01",
        "ends_on": "2027-02-28",
        "recurring_amount": "12000.00",
        "currency": "USD",
    }


def test_a_file_missing_a_required_column_has_no_preview_and_the_page_still_answers(client, alice) -> None:
    job = imports.dry_run_import(kind="accounts", file_name="x.csv", content="Website\nexample.test\n", user=alice)
    assert job.status == ImportJob.Status.INVALID
    assert imports.preview_rows(job) is None
    client.force_login(alice)
    response = client.get(f"/imports/{job.pk}/")
    assert response.status_code == 200
    assert b"Preview:" not in response.content
