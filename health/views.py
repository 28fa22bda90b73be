"""Health pages: the calibration report and the health-check form (the panel lives on the account page)."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from accounts.models import Account, HealthCheck
from csm import roles

from . import checks, scoring
from .calibration import calibration_report


class HealthCheckForm(forms.Form):
    kind = forms.ChoiceField(choices=HealthCheck.Kind.choices, initial=HealthCheck.Kind.HEALTH_CHECK)
    held_on = forms.DateField(label="Held on", widget=forms.DateInput(attrs={"type": "date"}))
    sentiment = forms.TypedChoiceField(
        choices=HealthCheck.Sentiment.choices,
        coerce=int,
        initial=HealthCheck.Sentiment.NEUTRAL,
        help_text="Your read of the relationship. Tonight's health score uses the latest check.",
    )
    notes = forms.CharField(widget=forms.Textarea, required=False)


@login_required
def health_check_new(request: HttpRequest, pk: int) -> HttpResponse:
    # Another CSM's account is a 404; a read-only user may look but not record (403).
    account = get_object_or_404(Account.objects.visible_to(request.user).select_related("program"), pk=pk)
    if not roles.can_write(request.user):
        raise PermissionDenied
    today = timezone.localdate()
    form = HealthCheckForm(request.POST or None, initial={"held_on": today})
    if request.method == "POST" and form.is_valid():
        try:
            checks.record_health_check(account=account, by=request.user, today=today, **form.cleaned_data)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
        else:
            messages.success(request, "Health check recorded. Tonight's score will use its sentiment.")
            return redirect("front:account-detail", pk=account.pk)
    cadence = account.program.health_check_cadence_days if account.program else scoring.DEFAULT_CHECK_CADENCE_DAYS
    return render(
        request,
        "health/check_form.html",
        {"account": account, "form": form, "cadence": cadence, "due_on": checks.check_due_on(account)},
    )


@login_required
def calibration(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    report = calibration_report(user=request.user, today=today)
    context = {"report": report, "today": today, "has_history": any(horizon["n"] for horizon in report)}
    return render(request, "health/calibration.html", context)
