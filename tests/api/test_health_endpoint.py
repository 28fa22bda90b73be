from datetime import date

import pytest

from tests.factories import HealthScoreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def scores(acme, globex):
    return {
        "acme_old": HealthScoreFactory(account=acme, day=date(2026, 3, 1), score=80, band="green"),
        "acme_new": HealthScoreFactory(account=acme, day=date(2026, 3, 2), score=35, band="red"),
        "globex": HealthScoreFactory(account=globex, day=date(2026, 3, 2), score=70, band="yellow"),
    }


def test_a_csm_reads_only_its_books_health(api, alice, scores) -> None:
    rows = api(alice).get("/api/health/").json()["results"]
    assert {row["id"] for row in rows} == {_key(scores["acme_old"]), _key(scores["acme_new"])}
    assert api(alice).get(f"/api/health/{_key(scores['acme_new'])}/").json()["score"] == 35
    assert api(alice).get(f"/api/health/{_key(scores['globex'])}/").status_code == 404
    assert api(alice).get(f"/api/health/{scores['acme_new'].account_id}:2026-02-30/").status_code == 404


def _key(score) -> str:
    return f"{score.account_id}:{score.day.isoformat()}"


def test_latest_keeps_each_accounts_newest_score(api, carol, scores) -> None:
    rows = api(carol).get("/api/health/", {"latest": "true"}).json()["results"]
    assert sorted((row["account_external_id"], row["band"]) for row in rows) == [("ACME", "red"), ("GLOBEX", "yellow")]


def test_health_is_read_only(api, alice, scores) -> None:
    assert api(alice).post("/api/health/", {"account": 1, "day": "2026-03-03", "score": 99}).status_code == 405
