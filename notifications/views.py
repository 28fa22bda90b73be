from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from csm import roles

from . import services
from .models import DigestPreference, Notification


@require_safe
def unread_count(request: HttpRequest) -> HttpResponse:
    """The header's unread count, fetched after the page so a cached page reads nothing more."""
    n = Notification.objects.filter(user=request.user).unread().count()
    return render(request, "notifications/_count.html", {"unread_notifications": n})


def notification_list(request: HttpRequest) -> HttpResponse:
    items = list(Notification.objects.filter(user=request.user)[:100])
    return render(request, "notifications/list.html", {"items": items})


@require_POST
def mark_read(request: HttpRequest) -> HttpResponse:
    if not roles.can_write(request.user):
        raise PermissionDenied("Read-only users change nothing.")
    services.mark_all_read(user=request.user, now=timezone.now())
    return redirect("notifications:list")


class SettingsForm(forms.Form):
    daily_digest = forms.BooleanField(required=False, label="Send me a daily digest email")


def settings_page(request: HttpRequest) -> HttpResponse:
    if request.method == "POST" and not roles.can_write(request.user):
        raise PermissionDenied("Read-only users change nothing.")
    pref = DigestPreference.objects.filter(user=request.user).first()
    form = SettingsForm(
        request.POST if request.method == "POST" else None,
        initial={"daily_digest": pref.daily_digest if pref else True},
    )
    if request.method == "POST" and form.is_valid():
        services.set_digest(user=request.user, enabled=form.cleaned_data["daily_digest"])
        messages.success(request, "Settings saved.")
        return redirect("notifications:settings")
    return render(request, "notifications/settings.html", {"form": form, "can_write": roles.can_write(request.user)})
