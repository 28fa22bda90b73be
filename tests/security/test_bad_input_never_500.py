"""Bad input is a 400 (or a form error) and saves nothing, never a 500 (issue 14, hole 8)."""

import io
import zipfile
from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Account, UsageSnapshot
from imports.models import ImportJob
from playbooks.models import Handoff, Task
from renewals.models import RevenueEntry
from tests.factories import ContractFactory

pytestmark = pytest.mark.django_db

DEAL = {"deal_id": "D-1", "account_name": "Initech", "what_sold": "Plan"}


@pytest.fixture
def api(alice) -> APIClient:
    client = APIClient()
    client.force_authenticate(alice)
    return client


def test_json_nested_a_thousand_levels_is_a_400(api) -> None:
    body = "[" * 1000 + "]" * 1000
    response = api.generic("POST", "/api/handoffs/", body, content_type="application/json")
    assert response.status_code == 400
    nested = '{"deal_id": "D-1", "account_name": "X", "what_sold": "x", "extra": ' + body + "}"
    response = api.generic("POST", "/api/handoffs/", nested, content_type="application/json")
    assert response.status_code == 400
    assert not Handoff.objects.exists()


def test_a_nul_byte_in_the_handoff_payload_is_a_400(api) -> None:
    response = api.post("/api/handoffs/", {**DEAL, "extra": {"note": "a\x00b"}}, format="json")
    assert response.status_code == 400
    assert "payload" in response.json()
    assert not Handoff.objects.exists()


@pytest.mark.parametrize("field", ["csm", "program", "deal_id", "account_name"])
def test_a_nul_byte_in_a_handoff_field_is_a_400(api, field) -> None:
    response = api.post("/api/handoffs/", {**DEAL, field: "al\x00ice"}, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Account.objects.exists()


def test_a_nul_byte_in_an_owner_name_is_a_400(api) -> None:
    response = api.post("/api/accounts/", {"name": "X", "owner": "al\x00ice"}, format="json")
    assert response.status_code == 400
    assert "owner" in response.json()
    assert not Account.objects.exists()


def test_a_nul_byte_in_the_new_owner_of_an_account_is_a_400(carol, acme) -> None:
    """Found by `schemathesis run --checks all`: the name reached PostgreSQL, which refused it (a 500)."""
    client = APIClient()
    client.force_authenticate(carol)
    response = client.post(f"/api/accounts/{acme.pk}/assign-owner/", {"owner": "b\x00ob"}, format="json")
    assert response.status_code == 400
    assert "owner" in response.json()
    acme.refresh_from_db()
    assert acme.owner.username == "alice"


def test_a_checkpoint_filter_of_half_a_day_is_a_400(api) -> None:
    """The schema says a whole number of days; 0.5 used to be read as a decimal and answered 200."""
    response = api.get("/api/checkpoints/", {"days_before": "0.5"})
    assert response.status_code == 400
    assert "days_before" in response.json()
    assert api.get("/api/checkpoints/", {"days_before": "90"}).status_code == 200


def test_a_nul_byte_in_a_reason_code_is_a_400(api, alice_contract) -> None:
    body = {"amount": "1000", "effective_on": "2025-09-01", "reason": "pri\x00ce"}
    response = api.post(f"/api/contracts/{alice_contract.pk}/change-amount/", body, format="json")
    assert response.status_code == 400
    assert "reason" in response.json()
    assert not RevenueEntry.objects.exists()


def test_a_nul_byte_in_a_bulk_usage_account_id_is_a_400(api, acme) -> None:
    row = {"date": "2025-09-01", "licenses_purchased": 10, "licenses_active": 5}
    rows = [{**row, "account_external_id": acme.external_id}, {**row, "account_external_id": "AC\x00ME"}]
    response = api.post("/api/usage/bulk/", {"rows": rows}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"row": 2, "field": "account_external_id", "error": "must not contain a NUL character"}
    ]
    assert not UsageSnapshot.objects.exists()


def test_a_nul_byte_in_the_handoff_form_is_a_form_error(client, alice) -> None:
    client.force_login(alice)
    response = client.post("/playbooks/handoff/", {**DEAL, "csm": "1\x002", "account_name": "a\x00b"})
    assert response.status_code == 200
    assert "Null characters are not allowed." in response.content.decode()
    assert not Account.objects.exists()


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("nul.csv", b"name,external_id\nAc\x00me,A-1\n"),
        ("zip.csv", None),
    ],
)
def test_a_csv_import_with_a_nul_byte_or_a_zip_is_a_form_error(client, alice, name, content) -> None:
    if content is None:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("accounts.csv", "name,external_id\nAcme,A-1\n" * 50)
        content = buffer.getvalue()
    client.force_login(alice)
    upload = SimpleUploadedFile(name, content, content_type="text/csv")
    response = client.post("/imports/", {"kind": "accounts", "file": upload})
    assert response.status_code == 400
    assert "not UTF-8 text" in response.content.decode() or "Null characters" in response.content.decode()
    assert not ImportJob.objects.exists()


@pytest.mark.parametrize("offset", ["+16:00", "-23:59", "+99:00"])
def test_a_date_filter_with_an_impossible_offset_is_a_400(api, offset) -> None:
    response = api.get("/api/touchpoints/", {"occurred_after": f"2026-01-01T00:00:00{offset}"})
    assert response.status_code == 400
    assert "occurred_after" in response.json()


def test_snoozing_for_99999999_days_is_a_400(client, alice, acme) -> None:
    task = Task.objects.create(account=acme, assignee=alice, title="Call", due_on=timezone.localdate())
    client.force_login(alice)
    response = client.post(f"/playbooks/tasks/{task.pk}/snooze/", {"days": "99999999"})
    assert response.status_code == 400
    task.refresh_from_db()
    assert task.status == Task.Status.OPEN


@pytest.mark.parametrize("effective_on", ["1900-01-01", "2026-05-01", "2025-04-30"])
def test_an_amount_change_outside_the_term_is_a_400(api, acme, effective_on) -> None:
    contract = ContractFactory(account=acme, starts_on=date(2025, 5, 1), ends_on=date(2026, 4, 30))
    body = {"amount": "30000", "effective_on": effective_on}
    response = api.post(f"/api/contracts/{contract.pk}/change-amount/", body, format="json")
    assert response.status_code == 400
    assert "effective_on" in response.json()
    contract.refresh_from_db()
    assert contract.recurring_amount == Decimal("12000.00")
    assert not RevenueEntry.objects.exists()


def test_an_amount_change_inside_the_term_still_works(api, acme) -> None:
    contract = ContractFactory(account=acme, starts_on=date(2025, 5, 1), ends_on=date(2026, 4, 30))
    body = {"amount": "30000", "effective_on": "2026-04-30"}
    assert api.post(f"/api/contracts/{contract.pk}/change-amount/", body, format="json").status_code == 200
    assert RevenueEntry.objects.get().amount == Decimal("18000.00")


@pytest.mark.parametrize("parameter", ["program", "csm"])
def test_an_id_filter_too_large_for_the_database_is_a_400(api, parameter) -> None:
    """Found by the fuzzer: ?program=32913003434979236782282110926848 overflowed SQLite's INTEGER."""
    response = api.get(f"/api/metrics/?{parameter}={2**105}")
    assert response.status_code == 400
    assert parameter in response.json()
