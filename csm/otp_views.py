import logging

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp import match_token, user_has_device

from .otp import PENDING_USER, manual_secret, new_backup_codes, qr_data_uri, remove_second_factor, unconfirmed_device
from .security_log import log_event


class LoginView(auth_views.LoginView):
    """Password first; a user with a confirmed authenticator then gives its code."""

    redirect_authenticated_user = True

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        user = form.get_user()
        if not user_has_device(user):
            return super().form_valid(form)
        self.request.session[PENDING_USER] = user.pk
        self.request.session["otp_next"] = self.get_success_url()
        self.request.session["otp_backend"] = user.backend
        log_event("signin.second_factor_asked", request=self.request, user=user)
        return redirect("otp-verify")


@login_not_required
@require_http_methods(["GET", "HEAD", "POST"])
def otp_verify(request: HttpRequest) -> HttpResponse:
    user_id = request.session.get(PENDING_USER)
    if user_id is None:
        return redirect("login")
    user = get_user_model().objects.get(pk=user_id)
    if request.method == "POST":
        device = match_token(user, request.POST.get("token", "").strip())
        if device is not None:
            log_event("2fa.passed", request=request, user=user, device=type(device).__name__)
            following = request.session.get("otp_next") or "/"
            auth_login(request, user, backend=request.session.get("otp_backend"))
            otp_login(request, device)
            if not url_has_allowed_host_and_scheme(following, allowed_hosts={request.get_host()}):
                following = "/"
            return redirect(following)
        log_event("2fa.failed", request=request, user=user, level=logging.WARNING)
        messages.error(request, "That code did not match. Codes change every 30 seconds; try the current one.")
    return render(request, "registration/otp_verify.html", {"pending_user": user})


@login_not_required
def admin_login(request: HttpRequest) -> HttpResponse:
    """The admin signs in through the app's sign-in, so the same second-factor policy applies."""
    following = request.GET.get("next", "/admin/")
    if not url_has_allowed_host_and_scheme(following, allowed_hosts={request.get_host()}):
        following = "/admin/"
    return redirect(f"{reverse('login')}?{urlencode({'next': following})}")


@require_http_methods(["GET", "HEAD", "POST"])
def otp_setup(request: HttpRequest) -> HttpResponse:
    """Enrol an authenticator app: scan the code, then confirm with one code from the app.

    With a device on, the page also makes backup codes and removes the second factor (both
    need a current code, so a session left open cannot turn it off).
    """
    action = request.POST.get("action", "")
    if action in ("backup-codes", "remove"):
        if match_token(request.user, request.POST.get("token", "").strip()) is None:
            messages.error(request, "That code did not match: give a current code (or a backup code).")
            return redirect("otp-setup")
        if action == "remove":
            remove_second_factor(request.user)
            log_event("2fa.removed", request=request)
            messages.success(request, "Two-factor sign-in is off: your password alone signs you in.")
            return redirect("otp-setup")
        codes = new_backup_codes(request.user)
        log_event("2fa.backup_codes_created", request=request)
        return render(request, "registration/otp_backup_codes.html", {"codes": codes})
    device = unconfirmed_device(request.user)
    if request.method == "POST":
        if device.verify_token(request.POST.get("token", "").strip()):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            otp_login(request, device)
            log_event("2fa.enrolled", request=request)
            messages.success(request, "Two-factor sign-in is on: you will be asked for a code after your password.")
            return redirect("otp-setup")
        messages.error(request, "That code did not match. Enter the six digits the app shows now.")
    enrolled = user_has_device(request.user)
    return render(
        request,
        "registration/otp_setup.html",
        {
            "qr": qr_data_uri(device.config_url),
            "secret_url": device.config_url,
            "secret": manual_secret(device),
            "enrolled": enrolled,
        },
    )
