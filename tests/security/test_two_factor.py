"""Optional TOTP two-factor sign-in: enrol with a QR code, then a code after the password."""

import pytest
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

pytestmark = pytest.mark.django_db

PASSWORD = "s3cret-pass-word"


@pytest.fixture(autouse=True)
def no_retry_delay(settings) -> None:
    """django-otp makes a retry after a wrong code wait (1 s, doubling); these tests retry at once."""
    settings.OTP_TOTP_THROTTLE_FACTOR = 0


def code_for(device: TOTPDevice, drift: int = 0) -> str:
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, drift):06d}"


def enrolled(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


def test_enrolling_shows_a_qr_code_and_a_right_code_turns_it_on(client, admin_user) -> None:
    client.force_login(admin_user)
    page = client.get(reverse("otp-setup")).content.decode()
    assert 'src="data:image/svg+xml;base64,' in page
    device = TOTPDevice.objects.get(user=admin_user, confirmed=False)
    assert client.post(reverse("otp-setup"), {"token": "000000" if code_for(device) != "000000" else "111111"})
    device.refresh_from_db()
    assert device.confirmed is False
    client.post(reverse("otp-setup"), {"token": code_for(device)})
    device.refresh_from_db()
    assert device.confirmed is True


def test_without_a_device_the_password_alone_signs_in(client, admin_user) -> None:
    response = client.post(reverse("login"), {"username": "admin", "password": PASSWORD})
    assert response.status_code == 302
    assert response.url == "/"
    assert client.session["_auth_user_id"] == str(admin_user.pk)


def test_with_a_device_the_password_leads_to_the_code_step_not_in(client, admin_user) -> None:
    enrolled(admin_user)
    response = client.post(reverse("login"), {"username": "admin", "password": PASSWORD})
    assert response.url == reverse("otp-verify")
    assert "_auth_user_id" not in client.session
    assert client.get("/").status_code == 302


def test_a_wrong_code_keeps_the_user_out_and_the_right_one_lets_them_in(client, admin_user) -> None:
    device = enrolled(admin_user)
    client.post(reverse("login"), {"username": "admin", "password": PASSWORD})
    wrong = "000000" if code_for(device) != "000000" else "111111"
    assert client.post(reverse("otp-verify"), {"token": wrong}).status_code == 200
    assert "_auth_user_id" not in client.session
    response = client.post(reverse("otp-verify"), {"token": code_for(device)})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(admin_user.pk)
    assert client.get(reverse("admin:index")).status_code == 200


def test_the_code_step_needs_the_password_step_first(client, admin_user) -> None:
    enrolled(admin_user)
    assert client.get(reverse("otp-verify")).url == reverse("login")


def test_the_admin_refuses_staff_with_a_device_who_skipped_the_code(client, admin_user) -> None:
    enrolled(admin_user)
    client.force_login(admin_user)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


def test_staff_without_a_device_use_the_admin_as_before(client, admin_user) -> None:
    client.force_login(admin_user)
    assert client.get(reverse("admin:index")).status_code == 200


# --- One policy on every path (issue 14, hole 3) ----------------------------------------


def test_admin_login_goes_through_the_app_sign_in(client, admin_user) -> None:
    enrolled(admin_user)
    response = client.get("/admin/login/?next=/admin/")
    assert (response.status_code, response.url) == (302, "/login/?next=%2Fadmin%2F")
    posted = client.post("/admin/login/", {"username": "admin", "password": PASSWORD})
    assert posted.status_code == 302
    assert "_auth_user_id" not in client.session
    assert client.get("/").status_code == 302


def test_a_session_without_the_code_reaches_nothing(client, admin_user, acme) -> None:
    """However the session was made (here: force_login), a user with a device who has not given
    the code is signed out before any page or the session API answers."""
    enrolled(admin_user)
    client.force_login(admin_user)
    assert client.get("/api/accounts/").status_code in (401, 403)
    assert client.get("/accounts/").status_code == 302
    assert client.get("/").url.startswith(reverse("login"))


def test_a_verified_session_reaches_the_pages_and_the_api(client, admin_user, acme) -> None:
    device = enrolled(admin_user)
    client.post(reverse("login"), {"username": "admin", "password": PASSWORD})
    client.post(reverse("otp-verify"), {"token": code_for(device)})
    assert client.get("/accounts/").status_code == 200
    assert client.get("/api/accounts/").status_code == 200


def test_the_setup_page_shows_the_key_for_manual_entry(client, alice) -> None:
    import base64

    client.force_login(alice)
    page = client.get(reverse("otp-setup")).content.decode()
    device = TOTPDevice.objects.get(user=alice)
    assert base64.b32encode(device.bin_key).decode().rstrip("=")[:4] in page.split('id="otp-secret">')[1][:10]


def _signed_in_with_code(client, user, device) -> None:
    client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    client.post(reverse("otp-verify"), {"token": code_for(device)})


def test_a_backup_code_signs_in_once(client, alice) -> None:
    device = enrolled(alice)
    _signed_in_with_code(client, alice, device)
    page = client.post(reverse("otp-setup"), {"action": "backup-codes", "token": code_for(device, drift=1)})
    codes = [line.split("<code>")[1].split("</code>")[0] for line in page.content.decode().split("<li>")[1:]]
    assert len(codes) == 10
    client.logout()
    client.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    assert client.post(reverse("otp-verify"), {"token": codes[0]}).url == "/"
    client.logout()
    client.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    client.post(reverse("otp-verify"), {"token": codes[0]})
    assert "_auth_user_id" not in client.session  # used once, then gone


def test_removing_the_second_factor_needs_a_code_and_then_the_password_suffices(client, alice) -> None:
    device = enrolled(alice)
    _signed_in_with_code(client, alice, device)
    client.post(reverse("otp-setup"), {"action": "remove", "token": "nope"})
    assert TOTPDevice.objects.filter(user=alice).exists()
    client.post(reverse("otp-setup"), {"action": "remove", "token": code_for(device, drift=1)})
    assert not TOTPDevice.objects.filter(user=alice, confirmed=True).exists()
    client.logout()
    assert client.post(reverse("login"), {"username": "alice", "password": PASSWORD}).url == "/"
