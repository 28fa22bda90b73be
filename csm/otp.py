"""Optional two-factor sign-in (TOTP) for staff, with django-otp.

A user who has confirmed an authenticator app signs in with password, then a six-digit
code; the Django admin refuses staff who have a device but have not given the code.
"""

import base64
import io
from types import MethodType

import qrcode
import qrcode.image.svg
from django.contrib import admin
from django.http import HttpRequest
from django_otp import user_has_device
from django_otp.plugins.otp_totp.models import TOTPDevice

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


def admin_has_permission(site: admin.AdminSite, request: HttpRequest) -> bool:
    allowed = admin.AdminSite.has_permission(site, request)
    if allowed and user_has_device(request.user):
        return request.user.is_verified()  # type: ignore[union-attr]  # added by django_otp's OTPMiddleware
    return allowed


def require_otp_in_admin(site: admin.AdminSite = admin.site) -> None:
    site.has_permission = MethodType(admin_has_permission, site)  # type: ignore[method-assign]  # the documented django-otp pattern
