"""Self-service passwords (change, reset by email), validators, idle timeout with an absolute cap,
one's sessions listed, and sign out everywhere (issue 14, hole 5)."""

import re
import time

import pytest
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.core import mail
from django.test import Client
from django.urls import reverse

from csm import sessions
from csm.models import UserSession

pytestmark = pytest.mark.django_db

PASSWORD = "s3cret-pass-word"
NEW = "Another-long-phrase-42"


def _sign_in(client, username: str) -> None:
    assert client.post(reverse("login"), {"username": username, "password": PASSWORD}).status_code == 302


def test_the_password_validators_are_djangos(settings) -> None:
    names = [v["NAME"].rsplit(".", 1)[1] for v in settings.AUTH_PASSWORD_VALIDATORS]
    assert names == [
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    ]


def test_changing_the_password_refuses_a_weak_one_and_signs_out_other_sessions(client, alice) -> None:
    other = Client()
    _sign_in(other, "alice")
    _sign_in(client, "alice")
    weak = client.post(
        reverse("password_change"), {"old_password": PASSWORD, "new_password1": "password", "new_password2": "password"}
    )
    assert weak.status_code == 200
    assert "too common" in weak.content.decode()
    done = client.post(
        reverse("password_change"), {"old_password": PASSWORD, "new_password1": NEW, "new_password2": NEW}
    )
    assert done.url == reverse("password_change_done")
    assert client.get("/").status_code == 200  # this session stays
    assert other.get("/").status_code == 302  # the others end
    alice.refresh_from_db()
    assert alice.check_password(NEW)


def test_a_password_reset_by_email_sets_a_new_password_once(client, alice, settings) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert client.post(reverse("password_reset"), {"email": "alice@csm.test"}).url == reverse("password_reset_done")
    assert client.post(reverse("password_reset"), {"email": "nobody@csm.test"}).url == reverse("password_reset_done")
    assert len(mail.outbox) == 1
    link = re.search(r"https?://[^/]+(/password/reset/\S+/)", mail.outbox[0].body).group(1)
    form = client.get(link, follow=True)
    assert form.status_code == 200
    set_url = form.redirect_chain[-1][0]
    assert client.post(set_url, {"new_password1": NEW, "new_password2": NEW}).url == reverse("password_reset_complete")
    assert User.objects.get(pk=alice.pk).check_password(NEW)
    assert "not valid any more" in client.get(link, follow=True).content.decode()


def test_an_idle_session_ends_and_an_active_one_moves_its_expiry(client, alice, settings) -> None:
    assert settings.SESSION_COOKIE_AGE == 3600
    client.force_login(alice)
    session = client.session
    session[sessions.SEEN_AT] = time.time() - 120
    session.save()
    before = Session.objects.get().expire_date
    assert client.get("/").status_code == 200
    assert Session.objects.get().expire_date > before  # activity moved the idle expiry on
    Session.objects.update(expire_date=before.replace(year=2000))
    assert client.get("/").status_code == 302  # idle past the timeout: signed out


def test_a_session_ends_at_the_absolute_cap_however_active(client, alice, settings) -> None:
    client.force_login(alice)
    session = client.session
    session[sessions.SIGNED_IN_AT] = time.time() - settings.SESSION_ABSOLUTE_SECONDS - 1
    session.save()
    assert client.get("/").status_code == 302


def test_sign_out_everywhere_ends_every_session_of_the_user_only(client, alice, bob) -> None:
    phone, laptop, bobs = Client(), Client(), Client()
    _sign_in(phone, "alice")
    _sign_in(laptop, "alice")
    _sign_in(bobs, "bob")
    page = laptop.get(reverse("sessions"))
    assert page.status_code == 200
    assert len(page.context["sessions"]) == 2
    assert laptop.post(reverse("sessions")).url == reverse("login")
    assert phone.get("/").status_code == 302
    assert laptop.get("/").status_code == 302
    assert bobs.get("/").status_code == 200
    assert not UserSession.objects.filter(user=alice).exists()
