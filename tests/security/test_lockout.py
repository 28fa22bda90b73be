"""Brute force: five failed sign-ins lock the name out for an hour, then it cools off."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.urls import reverse

pytestmark = pytest.mark.django_db

PASSWORD = "s3cret-pass-word"


def sign_in(client, password: str):
    return client.post(reverse("login"), {"username": "alice", "password": password})


def test_lockout_is_configured_for_five_failures_and_a_one_hour_cool_off() -> None:
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_COOLOFF_TIME == 1


def test_five_wrong_passwords_lock_out_even_the_right_one(client, alice) -> None:
    for _ in range(4):
        assert sign_in(client, "wrong").status_code == 200
    locked = sign_in(client, "wrong")
    assert locked.status_code == 429
    assert b"Too many failed sign-ins" in locked.content
    response = sign_in(client, PASSWORD)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_four_wrong_passwords_still_let_the_right_one_in(client, alice) -> None:
    for _ in range(4):
        sign_in(client, "wrong")
    assert sign_in(client, PASSWORD).status_code == 302
    assert client.session["_auth_user_id"] == str(alice.pk)


def test_after_the_cool_off_hour_the_right_password_works_again(client, alice) -> None:
    for _ in range(5):
        sign_in(client, "wrong")
    assert sign_in(client, PASSWORD).status_code == 429
    # An hour passes: age the failure record rather than sleep.
    AccessAttempt.objects.update(attempt_time=AccessAttempt.objects.get().attempt_time - timedelta(hours=1, minutes=1))
    response = sign_in(client, PASSWORD)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(alice.pk)


def test_spraying_many_names_from_one_address_is_limited_by_the_address(client, alice) -> None:
    """30 names, one wrong password each, from one address: after five the address is locked,
    so even alice's right password from there is refused."""
    answers = [
        client.post(reverse("login"), {"username": f"user{n}", "password": "Summer2026!"}).status_code
        for n in range(30)
    ]
    assert answers[:4] == [200] * 4
    assert set(answers[5:]) == {429}
    assert sign_in(client, PASSWORD).status_code == 429
    other_address = client.post(reverse("login"), {"username": "alice", "password": PASSWORD}, REMOTE_ADDR="10.9.8.7")
    assert other_address.status_code == 302
