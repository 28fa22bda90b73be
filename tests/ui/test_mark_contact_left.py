from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts import services, signals
from accounts.models import Contact
from tests.factories import AccountFactory, ContactFactory

pytestmark = pytest.mark.django_db
LEFT = date(2026, 2, 1)


def test_the_successor_takes_over_the_roles_of_who_left(alice, acme, django_capture_on_commit_callbacks) -> None:
    dana = Contact.objects.get(email="buyer@acme.test")
    chad = Contact.objects.get(email="champ@acme.test")
    heard = []
    signals.contact_left.connect(lambda **kw: heard.append(kw), weak=False, dispatch_uid="left1")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            services.mark_contact_left(dana, left_on=LEFT, successor=chad, by=alice)
    finally:
        signals.contact_left.disconnect(dispatch_uid="left1")
    dana.refresh_from_db()
    chad.refresh_from_db()
    assert dana.left_on == LEFT
    assert dana.successor == chad
    assert not dana.is_primary
    assert chad.is_decision_maker
    assert chad.is_primary
    assert chad.is_champion
    assert heard[0]["contact"].pk == dana.pk
    assert heard[0]["today"] == LEFT
    assert heard[0]["by"] == alice


def test_a_successor_from_another_account_is_refused(alice, acme) -> None:
    dana = Contact.objects.get(email="buyer@acme.test")
    with pytest.raises(ValidationError):
        services.mark_contact_left(dana, left_on=LEFT, successor=ContactFactory(account=AccountFactory()), by=alice)
    dana.refresh_from_db()
    assert dana.left_on is None


def test_marking_left_through_the_page_keeps_others_out(client, alice, bob, acme) -> None:
    dana = Contact.objects.get(email="buyer@acme.test")
    rene = Contact.objects.get(email="renewal@acme.test")
    url = reverse("accounts:contact-left", args=[dana.pk])
    client.force_login(bob)
    assert client.post(url, {"left_on": "2026-02-01"}).status_code == 404
    client.force_login(alice)
    response = client.post(url, {"left_on": "2026-02-01", "successor": rene.pk})
    assert response.status_code == 302
    dana.refresh_from_db()
    assert dana.successor == rene
