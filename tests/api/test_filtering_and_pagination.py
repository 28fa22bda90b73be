import pytest

from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


def test_accounts_filter_by_segment_and_search(api, alice, acme) -> None:
    AccountFactory(name="Tiny Co", external_id="TINY", owner=alice, segment="smb", program=acme.program)
    client = api(alice)
    smb = client.get("/api/accounts/", {"segment": "smb"}).json()["results"]
    found = client.get("/api/accounts/", {"search": "tiny"}).json()["results"]
    assert [row["external_id"] for row in smb] == ["TINY"]
    assert [row["name"] for row in found] == ["Tiny Co"]


def test_pages_hold_page_size_rows_and_link_to_the_next(api, alice, acme) -> None:
    for n in range(3):
        AccountFactory(name=f"Z{n}", owner=alice, program=acme.program)
    first = api(alice).get("/api/accounts/", {"page_size": 2}).json()
    assert first["count"] == 4
    assert len(first["results"]) == 2
    assert "page=2" in first["next"]


def test_a_bad_filter_value_is_a_400(api, alice, acme) -> None:
    response = api(alice).get("/api/metrics/", {"period": "fortnight"})
    assert response.status_code == 400
    assert "period" in response.json()
