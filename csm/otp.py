"""Optional two-factor sign-in (TOTP) for staff, with django-otp.

A user who has confirmed an authenticator app signs in with password, then a six-digit
code; the Django admin refuses staff who have a device but have not given the code. A session
made by single sign-on is the exception: the identity provider asks for its own second factor
(csm/sso.py).
"""

import base64
import io
from collections.abc import Callable
from types import MethodType
from typing import Any

import qrcode
import qrcode.image.svg
from django.contrib import admin
from django.contrib.auth import logout
from django.contrib.auth.models import User
from django.core.cache import cache
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponseBase
from django_otp import user_has_device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from .sso import signed_in_by_sso

PENDING_USER = "otp_pending_user_id"


def qr_data_uri(text: str) -> str:
    """The QR code of ``text`` as an SVG data: URI (the CSP allows data: images, not inline code)."""
    buffer = io.BytesIO()
    qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage).save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def unconfirmed_device(user: object) -> TOTPDevice:
    """The device being enrolled: created once, replaced only after it is confirmed."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    return device or TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)


def static_device(user: object) -> StaticDevice:
    device = StaticDevice.objects.filter(user=user).order_by("pk").first()
    return device or StaticDevice.objects.create(user=user, name="Backup codes", confirmed=True)


def new_backup_codes(user: object, *, count: int = 10) -> list[str]:
    """Replace the user's backup codes with ``count`` new one-time codes (shown once)."""
    device = static_device(user)
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(count)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def remove_second_factor(user: object) -> None:
    """Remove every authenticator and the backup codes: the password alone signs in again."""
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()


def manual_secret(device: TOTPDevice) -> str:
    """The TOTP key in base32, in groups of four, for apps that cannot scan the QR code."""
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


DEVICE_CACHE_SECONDS = 300


def _device_key(user_id: int) -> str:
    return f"otp-has-device:{user_id}"


def has_second_factor(user: User) -> bool:
    """``user_has_device``, cached (the check runs on every request, and a cached page reads
    nothing but the session); adding or removing a device clears it."""
    key = _device_key(user.pk)
    cached = cache.get(key)
    if cached is None:
        cached = user_has_device(user)
        cache.set(key, cached, DEVICE_CACHE_SECONDS)
    return cached


@receiver([post_save, post_delete], sender=TOTPDevice)
@receiver([post_save, post_delete], sender=StaticDevice)
def _forget_device_check(sender: type, instance: TOTPDevice | StaticDevice, **kwargs: Any) -> None:
    cache.delete(_device_key(instance.user_id))


class RequireSecondFactorMiddleware:
    """One policy for every way in: a session of a user who has a device but has not given its
    code (e.g. a session made by another sign-in path) is ended before any view, page or API."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        user = request.user
        if (
            user.is_authenticated
            and not user.is_verified()  # type: ignore[attr-defined]  # added by django_otp's OTPMiddleware
            and not signed_in_by_sso(request)  # the identity provider asked for its own factors
            and has_second_factor(user)
        ):
            logout(request)
        return self.get_response(request)


def admin_has_permission(site: admin.AdminSite, request: HttpRequest) -> bool:
    allowed = admin.AdminSite.has_permission(site, request)
    if allowed and not signed_in_by_sso(request) and user_has_device(request.user):
        return request.user.is_verified()  # type: ignore[union-attr]  # added by django_otp's OTPMiddleware
    return allowed


def require_otp_in_admin(site: admin.AdminSite = admin.site) -> None:
    site.has_permission = MethodType(admin_has_permission, site)  # type: ignore[method-assign]  # the documented django-otp pattern
