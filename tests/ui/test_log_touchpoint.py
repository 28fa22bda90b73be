from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts import services
from accounts.models import Touchpoint
from tests.factories import AccountFactory, ContactFactory

pytestmark = pytest.mark.django_db


def test_logging_a_touchpoint_saves_it(alice, acme):
    touchpoint = services.log_touchpoint(
        account=acme, kind="call", outcome="positive", notes=" Renewal looks good ",
        occurred_at=timezone.now(), contact=acme.contacts.first(), by=alice,
    )  # fmt: skip
    assert Touchpoint.objects.get() == touchpoint
    assert touchpoint.notes == "Renewal looks good"


def test_a_touchpoint_with_another_accounts_contact_is_refused(alice, acme) -> None:
    stranger = ContactFactory(account=AccountFactory(owner=alice))
    with pytest.raises(ValidationError):
        services.log_touchpoint(account=acme, kind="call", outcome="neutral", occurred_at=timezone.now(),
                                contact=stranger, by=alice)  # fmt: skip
    assert not Touchpoint.objects.exists()


def test_a_touchpoint_in_the_future_is_refused(alice, acme) -> None:
    now = timezone.now()
    with pytest.raises(ValidationError):
        services.log_touchpoint(account=acme, kind="call", outcome="neutral", occurred_at=now + timedelta(days=1),
                                by=alice, now=now)  # fmt: skip


def test_htmx_logging_returns_the_form_and_the_new_timeline_without_a_reload(client, alice, acme) -> None:
    client.force_login(alice)
    response = client.post(
        reverse("front:touchpoint-log", args=[acme.pk]),
        {"kind": "meeting", "outcome": "positive", "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
         "notes": "Kickoff went well"},
        headers={"HX-Request": "true"},
    )  # fmt: skip
    assert response.status_code == 200
    body = response.content.decode()
    assert "Touchpoint logged." in body
    assert 'id="timeline"' in body
    assert 'hx-swap-oob="true"' in body
    assert "Kickoff went well" in body
    assert Touchpoint.objects.get(account=acme).by == alice


def test_an_invalid_touchpoint_comes_back_with_its_errors(client, alice, acme) -> None:
    client.force_login(alice)
    response = client.post(reverse("front:touchpoint-log", args=[acme.pk]), {"kind": "call"},
                           headers={"HX-Request": "true"})  # fmt: skip
    assert response.status_code == 200
    assert "This field is required" in response.content.decode()
    assert not Touchpoint.objects.exists()


def test_another_csm_cannot_log_on_my_account_and_read_only_cannot_log_at_all(client, bob, rita, acme) -> None:
    data = {"kind": "call", "outcome": "neutral", "occurred_at": "2026-01-05T10:00"}
    client.force_login(bob)
    assert client.post(reverse("front:touchpoint-log", args=[acme.pk]), data).status_code == 404
    client.force_login(rita)
    assert client.post(reverse("front:touchpoint-log", args=[acme.pk]), data).status_code == 403
    assert not Touchpoint.objects.exists()
