"""The pipeline, opportunity, suggestion, checkpoint and forecast-accuracy pages: parse, call one service, render."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts.models import Account
from csm import roles
from csm.requests import SignedInHttpRequest
from renewals.models import Renewal

from . import reports, services
from .forms import AcceptSuggestionForm, CallForm, DismissForm, LoseForm, NewOpportunityForm, OpportunityForm, WinForm
from .models import Checkpoint, Opportunity, Suggestion

PAGE = 50
SUGGESTIONS = 8  # the newest; the account pages show each account's own


def _require_write(request: HttpRequest) -> None:
    if not roles.can_write(request.user):
        raise PermissionDenied("Read-only users change nothing.")


def _form_errors(request: HttpRequest, form: Form) -> None:
    for name, errors in form.errors.items():
        label = form.fields[name].label or name.replace("_", " ").capitalize() if name in form.fields else ""
        for error in errors:
            messages.error(request, f"{label}: {error}" if label else str(error))


def _run(request: HttpRequest, action: Callable[[], object], success: str) -> bool:
    try:
        action()
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return False
    messages.success(request, success)
    return True


def _back(request: HttpRequest, default: str) -> HttpResponse:
    target = request.POST.get("next", "")
    # Only our own pages: a path, never another host.
    return redirect(target if target.startswith("/") and not target.startswith("//") else default)


@login_required
@require_safe
def pipeline(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    visible = Opportunity.objects.visible_to(request.user)
    open_rows = visible.open().select_related("account", "owner").order_by("close_date", "pk")
    page = Paginator(open_rows, PAGE).get_page(request.GET.get("page"))
    recent = today - timedelta(days=reports.WON_LOST_DAYS)
    pending = Suggestion.objects.visible_to(request.user).pending()
    return render(
        request,
        "growth/pipeline.html",
        {
            "today": today,
            "report": reports.pipeline(visible, today=today),
            "page": page,
            "closed": visible.exclude(stage=Opportunity.Stage.OPEN)
            .filter(closed_on__gte=recent)
            .select_related("account")
            .order_by("-closed_on", "-pk")[:PAGE],
            "suggestions": pending.select_related("account").order_by("-raised_on", "-pk")[:SUGGESTIONS],
            "suggestion_count": pending.count(),
            "accept_form": AcceptSuggestionForm(initial={"close_date": today + timedelta(days=60), "probability": 50}),
        },
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def opportunity_new(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(Account.objects.visible_to(request.user), pk=pk)
    today = timezone.localdate()
    if request.method == "POST":
        _require_write(request)
        form = NewOpportunityForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                opportunity = services.create_opportunity(account=account, by=request.user, **data)  # type: ignore[arg-type]
            except ValidationError as exc:
                for name, errors in exc.message_dict.items() if hasattr(exc, "error_dict") else []:
                    for error in errors:
                        form.add_error(name if name in form.fields else None, error)
            else:
                messages.success(request, "Opportunity added to the pipeline.")
                return redirect("growth:opportunity-detail", pk=opportunity.pk)
    else:
        form = NewOpportunityForm(initial={"close_date": today + timedelta(days=60), "probability": 50})
    return render(request, "growth/opportunity_form.html", {"account": account, "form": form})


@login_required
@require_safe
def opportunity_detail(request: HttpRequest, pk: int) -> HttpResponse:
    opportunity = get_object_or_404(
        Opportunity.objects.visible_to(request.user).select_related("account", "owner", "revenue_entry"), pk=pk
    )
    return render(
        request,
        "growth/opportunity_detail.html",
        {
            "opportunity": opportunity,
            "suggestion": Suggestion.objects.filter(opportunity=opportunity).first(),
            "form": OpportunityForm(
                initial={
                    "kind": opportunity.kind,
                    "title": opportunity.title,
                    "amount": opportunity.amount,
                    "probability": opportunity.probability,
                    "close_date": opportunity.close_date,
                    "reason": opportunity.reason,
                }
            ),
            "win_form": WinForm(),
            "lose_form": LoseForm(),
            "contract": services.contract_for_expansion(opportunity.account, on=timezone.localdate()),
        },
    )


def _writable(request: HttpRequest, model: Any, pk: int, related: str = "account") -> Any:
    row = get_object_or_404(model.objects.visible_to(request.user).select_related(related), pk=pk)
    _require_write(request)
    return row


def _submit(request: HttpRequest, form_class: type[Form], action: Callable[[dict], object], success: str) -> bool:
    """Parse the posted form and call one service with its data; errors become messages."""
    form = form_class(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return False
    return _run(request, lambda: action(form.cleaned_data), success)


@login_required
@require_POST
def opportunity_update(request: SignedInHttpRequest, pk: int) -> HttpResponse:
    opportunity = _writable(request, Opportunity, pk)
    _submit(
        request,
        OpportunityForm,
        lambda data: services.update_opportunity(opportunity, by=request.user, owner=opportunity.owner, **data),
        "Saved.",
    )
    return redirect("growth:opportunity-detail", pk=pk)


@login_required
@require_POST
def opportunity_win(request: SignedInHttpRequest, pk: int) -> HttpResponse:
    opportunity = _writable(request, Opportunity, pk)
    _submit(
        request,
        WinForm,
        lambda data: services.win_opportunity(
            opportunity, by=request.user, today=timezone.localdate(), effective_on=data["effective_on"]
        ),
        "Won: the expansion is in the revenue ledger and the renewal forecast.",
    )
    return redirect("growth:opportunity-detail", pk=pk)


@login_required
@require_POST
def opportunity_lose(request: SignedInHttpRequest, pk: int) -> HttpResponse:
    opportunity = _writable(request, Opportunity, pk)
    _submit(
        request,
        LoseForm,
        lambda data: services.lose_opportunity(
            opportunity, by=request.user, today=timezone.localdate(), reason=data["lost_reason"]
        ),
        "Marked lost, with its reason.",
    )
    return redirect("growth:opportunity-detail", pk=pk)


@login_required
@require_POST
def suggestion_accept(request: SignedInHttpRequest, pk: int) -> HttpResponse:
    suggestion = _writable(request, Suggestion, pk)
    created: list[Opportunity] = []
    if _submit(
        request,
        AcceptSuggestionForm,
        lambda data: created.append(
            services.accept_suggestion(suggestion, by=request.user, today=timezone.localdate(), **data)
        ),
        "Accepted: the suggestion is now an open opportunity.",
    ):
        return redirect("growth:opportunity-detail", pk=created[0].pk)
    return _back(request, reverse("growth:pipeline"))


@login_required
@require_POST
def suggestion_dismiss(request: SignedInHttpRequest, pk: int) -> HttpResponse:
    suggestion = _writable(request, Suggestion, pk)
    _submit(
        request,
        DismissForm,
        lambda data: services.dismiss_suggestion(
            suggestion, by=request.user, today=timezone.localdate(), note=data["note"]
        ),
        "Dismissed: this signal will not be suggested again for this period.",
    )
    return _back(request, reverse("growth:pipeline"))


@login_required
@require_safe
def checkpoint_list(request: HttpRequest) -> HttpResponse:
    rows = (
        Checkpoint.objects.visible_to(request.user)
        .select_related("account", "renewal__contract", "asked_of", "escalated_to")
        .order_by("csm_call", "-recorded_on", "-pk")
    )
    page = Paginator(rows, PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "growth/checkpoint_list.html",
        {
            "page": page,
            "call_form": CallForm(),
            "awaiting": rows.filter(csm_call="", renewal__stage__in=Renewal.OPEN_STAGES).count(),
        },
    )


@login_required
@require_POST
def checkpoint_call(request: SignedInHttpRequest, pk: int) -> HttpResponse:
    checkpoint = get_object_or_404(Checkpoint.objects.visible_to(request.user), pk=pk)
    _require_write(request)
    _submit(
        request,
        CallForm,
        lambda data: services.record_csm_call(
            checkpoint, by=request.user, today=timezone.localdate(), now=timezone.now(), **data
        ),
        "Your call is recorded.",
    )
    return _back(request, reverse("growth:checkpoint-list"))


@login_required
@require_safe
def accuracy(request: HttpRequest) -> HttpResponse:
    report = reports.forecast_accuracy(Checkpoint.objects.visible_to(request.user))
    return render(request, "growth/accuracy.html", {"report": report})
