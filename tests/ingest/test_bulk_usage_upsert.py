"""POST /api/usage/bulk/: upsert keyed by account external id + date; replaying a batch creates nothing."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from accounts import ingest
from accounts.models import UsageSnapshot

pytestmark = pytest.mark.django_db


def batch(external_id: str, days: int, active: int = 10) -> list[dict]:
    start = date(2026, 1, 1)
    return [
        {"account_external_id": external_id, "date": (start + timedelta(days=n)).isoformat(),
         "licenses_purchased": 20, "licenses_active": active, "availability_pct": "99.5"}
        for n in range(days)
    ]  # fmt: skip


def test_a_replayed_batch_creates_zero_rows(api, alice, acme) -> None:
    rows = batch("ACME", 30)
    first = api(alice).post("/api/usage/bulk/", {"rows": rows}, format="json")
    count_after_first = UsageSnapshot.objects.count()
    replay = api(alice).post("/api/usage/bulk/", {"rows": rows}, format="json")
    assert first.json() == {"received": 30, "created": 30, "updated": 0}
    assert replay.json() == {"received": 30, "created": 0, "updated": 30}
    assert UsageSnapshot.objects.count() == count_after_first == 30


def test_a_changed_replay_updates_the_same_rows(alice, acme) -> None:
    from accounts.models import Account

    ingest.upsert_usage(rows=batch("ACME", 3, active=10), accounts=Account.objects.editable_by(alice))
    result = ingest.upsert_usage(rows=batch("ACME", 3, active=15), accounts=Account.objects.editable_by(alice))
    assert (result.created, result.updated) == (0, 3)
    assert set(UsageSnapshot.objects.values_list("licenses_active", flat=True)) == {15}
    assert UsageSnapshot.objects.first().availability_pct == Decimal("99.50")


def test_a_batch_with_bad_rows_saves_nothing_and_names_each_row(api, alice, acme) -> None:
    rows = batch("ACME", 3)
    rows[1]["date"] = "31/01/2026"
    rows[2]["licenses_active"] = -4
    rows.append({"account_external_id": "NOPE", "date": "2026-01-09", "licenses_purchased": 1, "licenses_active": 1})
    response = api(alice).post("/api/usage/bulk/", {"rows": rows}, format="json")
    assert response.status_code == 400
    assert [(e["row"], e["field"]) for e in response.json()["errors"]] == [
        (2, "date"), (3, "licenses_active"), (4, "account_external_id"),
    ]  # fmt: skip
    assert not UsageSnapshot.objects.exists()


def test_another_books_account_reads_as_unknown(api, bob, acme, globex) -> None:
    response = api(bob).post("/api/usage/bulk/", {"rows": batch("ACME", 1)}, format="json")
    assert response.status_code == 409
    assert response.json()["errors"][0] == {"row": 1, "field": "account_external_id", "error": "no account 'ACME'"}
    assert not UsageSnapshot.objects.exists()


def test_the_same_account_and_date_twice_in_a_batch_is_refused(api, alice, acme) -> None:
    rows = batch("ACME", 1) * 2
    response = api(alice).post("/api/usage/bulk/", {"rows": rows}, format="json")
    assert response.status_code == 409
    assert response.json()["errors"] == [{"row": 2, "field": "date", "error": "same account and date as row 1"}]


def test_too_many_rows_is_a_413(api, alice, acme) -> None:
    rows = [{"account_external_id": "ACME"}] * (ingest.MAX_ROWS + 1)
    response = api(alice).post("/api/usage/bulk/", {"rows": rows}, format="json")
    assert response.status_code == 413
    assert not UsageSnapshot.objects.exists()


def test_a_body_that_is_not_a_list_of_rows_is_a_400(api, alice, acme) -> None:
    response = api(alice).post("/api/usage/bulk/", {"rows": "everything"}, format="json")
    assert response.status_code == 400
    assert "rows" in response.json()


def test_a_body_over_5_mb_is_a_413(api, alice, acme) -> None:
    body = '{"rows": [], "padding": "' + "x" * (5 * 1024 * 1024) + '"}'
    response = api(alice).post("/api/usage/bulk/", body, content_type="application/json")
    assert response.status_code == 413
