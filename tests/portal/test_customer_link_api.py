"""Customer-page links through the API: created and revoked by the portal service, the caller's book only."""

import re

import pytest
from django.test import Client

from portal.models import CustomerLink

pytestmark = pytest.mark.django_db


def test_a_csm_creates_a_link_that_opens_the_page_then_revokes_it(api, alice, acme) -> None:
    dana = acme.contacts.get(email="buyer@acme.test")
    response = api(alice).post("/api/customer-links/", {"contact": dana.pk, "days": 14}, format="json")
    assert response.status_code == 201, response.content
    link = response.json()
    assert (link["account"], link["contact"], link["created_by"], link["view_count"]) == (acme.pk, dana.pk, "alice", 0)
    page = re.sub(r"^https?://[^/]+", "", link["url"])
    assert Client().get(page).status_code == 200
    listed = api(alice).get("/api/customer-links/", {"account": acme.pk}).json()["results"]
    assert [(row["id"], row["view_count"]) for row in listed] == [(link["id"], 1)]

    revoked = api(alice).post(f"/api/customer-links/{link['id']}/revoke/", format="json")
    assert revoked.status_code == 200
    assert (revoked.json()["revoked_by"], revoked.json()["url"]) == ("alice", "")
    assert Client().get(page).status_code == 403
    assert api(alice).post(f"/api/customer-links/{link['id']}/revoke/", format="json").status_code == 200


def test_another_book_and_bad_input_are_refused_with_field_errors(api, alice, bob, rita, acme, globex) -> None:
    dana = acme.contacts.get(email="buyer@acme.test")
    response = api(bob).post("/api/customer-links/", {"contact": dana.pk}, format="json")
    assert response.status_code == 400
    assert "contact" in response.json()
    response = api(alice).post("/api/customer-links/", {"contact": dana.pk, "days": 0}, format="json")
    assert response.status_code == 400
    assert "days" in response.json()
    response = api(alice).post("/api/customer-links/", {"contact": "dana"}, format="json")
    assert response.status_code == 400
    assert "contact" in response.json()
    assert api(rita).post("/api/customer-links/", {"contact": dana.pk}, format="json").status_code == 403
    assert not CustomerLink.objects.exists()

    link = api(alice).post("/api/customer-links/", {"contact": dana.pk}, format="json").json()
    assert api(bob).get(f"/api/customer-links/{link['id']}/").status_code == 404
    assert api(bob).post(f"/api/customer-links/{link['id']}/revoke/", format="json").status_code == 404
    assert api(bob).get("/api/customer-links/").json()["results"] == []
    assert CustomerLink.objects.get().revoked_at is None


def test_a_contact_who_left_gets_no_link(api, alice, acme) -> None:
    from datetime import date

    dana = acme.contacts.get(email="buyer@acme.test")
    dana.left_on = date(2020, 1, 1)
    dana.save()
    response = api(alice).post("/api/customer-links/", {"contact": dana.pk}, format="json")
    assert response.status_code == 400
    assert "contact" in response.json()
