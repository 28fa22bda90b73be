from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Exists, OuterRef, QuerySet, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from accounts.models import Contact, Program
from csm import roles
from csm.requests import SignedInHttpRequest

from . import forecast, lifecycle, services
from .currency import Rates
from .forms import LoseForm, RenewalFilterForm, RenewalUpdateForm, RenewForm, ResolveNoticeForm, StageForm
from .models import Contract, Renewal, RenewalNotice


def _filtered(request: HttpRequest, *, default_open: bool = True) -> tuple[QuerySet, RenewalFilterForm]:
    form = RenewalFilterForm(request.GET or None)
    renewals = Renewal.objects.visible_to(request.user).select_related(
        "contract__account", "contract__program", "owner", "reason"
    )
    data = form.cleaned_data if form.is_valid() else {}
    stage = data.get("stage") or ""
    if stage == "":
        if default_open:
            renewals = renewals.open()
    elif stage != "all":
        renewals = renewals.filter(stage=stage)
    if data.get("owner"):
        renewals = renewals.filter(owner=data["owner"])
    if data.get("program"):
        renewals = renewals.filter(contract__program=data["program"])
    if data.get("window"):
        renewals = renewals.ending_within(today=timezone.localdate(), days=int(data["window"]))
    if data.get("coverage") == "flagged":
        renewals = renewals.needing_contacts()
    if data.get("notices") == "problems":
        renewals = renewals.filter(Exists(RenewalNotice.objects.problems().filter(renewal=OuterRef("pk"))))
    return renewals, form


def _stage_totals(renewals: QuerySet, *, rates: Rates) -> list[dict]:
    """Count and forecast per stage; the amounts are ``Total``s (base currency, or per currency)."""
    counts: dict[str, int] = {}
    amounts: dict[str, list] = {}
    for row in renewals.values("stage", "contract__currency").annotate(n=Count("pk"), amount=Sum("forecast_amount")):
        counts[row["stage"]] = counts.get(row["stage"], 0) + row["n"]
        amounts.setdefault(row["stage"], []).append((row["contract__currency"], row["amount"]))
    return [
        {
            "stage": value,
            "label": label,
            "n": counts.get(value, 0),
            "amount": rates.total(amounts.get(value, [])),
        }
        for value, label in Renewal.Stage.choices
        if value in counts or value in Renewal.OPEN_STAGES
    ]


@login_required
def renewal_list(request: HttpRequest) -> HttpResponse:
    renewals, form = _filtered(request)
    page = Paginator(renewals.order_by("contract__ends_on", "pk"), 50).get_page(request.GET.get("page"))
    today = timezone.localdate()
    rates = Rates.as_of(today)
    by = request.GET.get("by") or ""
    by = by if by in forecast.BUCKETS else "quarter"
    for renewal in page.object_list:
        renewal.days_left = renewal.contract.days_left(today)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "renewals/renewal_list.html",
        {
            "form": form,
            "page": page,
            "totals": _stage_totals(renewals, rates=rates),
            "rates": rates,
            "forecast": forecast.renewal_forecast(Renewal.objects.visible_to(request.user), by=by, today=today),
            "forecast_formulas": forecast.FORMULAS,
            "stage_probabilities": [
                (label, Renewal.STAGE_PROBABILITY[Renewal.Stage(value)]) for value, label in Renewal.Stage.choices
            ],
            "today": today,
            "query": query.urlencode(),
            "leads": Program.objects.filter(is_active=True).values_list("name", "renewal_notice_lead_days"),
        },
    )


BOARD_COLUMN = 50
# Moving to these stages says something to the team or to the rules (a notice went out; the
# renewal is no longer "not committed"), so a drag asks first.
CONSEQUENTIAL_STAGES = (Renewal.Stage.NOTIFIED, Renewal.Stage.COMMITTED)


@login_required
def renewal_board(request: HttpRequest) -> HttpResponse:
    # With no stage chosen the board shows its closed columns too (below: the last 90 days).
    renewals, form = _filtered(request, default_open=False)
    today = timezone.localdate()
    # The board shows the open pipeline, plus what closed in the last 90 days.
    renewals = renewals.exclude(stage__in=Renewal.CLOSED_STAGES, closed_on__lt=today - timedelta(days=90))
    rates = Rates.as_of(today)
    totals = {row["stage"]: row for row in _stage_totals(renewals, rates=rates)}
    query = request.GET.copy()
    query.pop("stage", None)
    columns = []
    for value, label in Renewal.Stage.choices:
        # One bounded read per column: each says how many it shows of how many it has.
        cards = list(renewals.filter(stage=value).order_by("contract__ends_on", "pk")[:BOARD_COLUMN])
        query["stage"] = value
        columns.append(
            {
                "stage": value,
                "label": label,
                "cards": cards,
                "total": totals.get(value),
                "more_url": f"{reverse('renewals:renewal-list')}?{query.urlencode()}",
                "consequential": value in CONSEQUENTIAL_STAGES,
            }
        )
    undo = request.session.pop("board_undo", None)
    return render(
        request,
        "renewals/renewal_board.html",
        {
            "form": form,
            "columns": columns,
            "rates": rates,
            "today": today,
            "stage_choices": StageForm().fields["stage"].choices,  # type: ignore[attr-defined]  # a ChoiceField
            "undo": undo,
        },
    )


def _eligibility(contacts: list[Contact], today) -> list[tuple[Contact, str]]:
    """Each contact of the account with why they do or do not receive notices."""
    return [(contact, contact.renewal_exclusion(today)) for contact in contacts]


@login_required
@require_safe
def renewal_detail(request: HttpRequest, pk: int) -> HttpResponse:
    renewal = get_object_or_404(
        Renewal.objects.visible_to(request.user).select_related(
            "contract__account__owner", "contract__program", "contract__previous", "owner", "reason"
        ),
        pk=pk,
    )
    today = timezone.localdate()
    contract = renewal.contract
    notices = renewal.notices.select_related("contact").order_by("scheduled_on", "cycle", "email")
    terms: list[Contract] = []
    term = contract.previous
    while term is not None and len(terms) < 10:
        terms.append(term)
        term = term.previous
    next_term = getattr(contract, "next_term", None)
    days_left = contract.days_left(today)
    return render(
        request,
        "renewals/renewal_detail.html",
        {
            "renewal": renewal,
            "contract": contract,
            "today": today,
            "days_left": days_left,
            "notices": notices,
            "contacts": _eligibility(list(contract.account.contacts.all()), today),
            "history": renewal.history.select_related("history_user")[:30],
            "terms": terms,
            "next_term": next_term,
            "ledger": contract.revenue_entries.select_related("reason").order_by("effective_on"),
            "stage_form": StageForm(initial={"stage": renewal.stage}),
            "update_form": RenewalUpdateForm(
                initial={
                    "forecast_amount": renewal.forecast_amount,
                    "uplift_pct": renewal.uplift_pct,
                    "probability": renewal.probability,
                    "close_date": renewal.close_date,
                    "owner": renewal.owner,
                }
            ),
            "renew_form": RenewForm(
                initial={
                    "ends_on": contract.ends_on + (contract.ends_on - contract.starts_on),
                    "amount": renewal.renewal_amount,
                }
            ),
            "lose_form": LoseForm(),
            "lapses_on": lifecycle.lapses_on(contract) if renewal.is_open and days_left < 0 else None,
            "renews_late": services.lapse_to_reverse(contract, renewal) is not None,
            "resolve_choices": ResolveNoticeForm().fields["action"].choices,  # type: ignore[attr-defined]  # a ChoiceField
            "unclear_choices": services.Resolution.UNCLEAR_CHOICES,
        },
    )


def _writable_renewal(request: HttpRequest, pk: int) -> Renewal:
    renewal = get_object_or_404(Renewal.objects.visible_to(request.user).select_related("contract"), pk=pk)
    if not roles.can_write(request.user):
        raise PermissionDenied("Read-only users change nothing.")
    return renewal


def _run(request: HttpRequest, renewal: Renewal, action, success: str) -> HttpResponse:
    try:
        action()
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, success)
    return redirect("renewals:renewal-detail", pk=renewal.pk)


def _form_errors(request: HttpRequest, form) -> None:
    for field, errors in form.errors.items():
        label = (form.fields[field].label or field.replace("_", " ").capitalize()) if field in form.fields else ""
        for error in errors:
            messages.error(request, f"{label}: {error}" if label else error)


@login_required
@require_POST
def renewal_stage(request: SignedInHttpRequest, pk: int) -> HttpResponse:
    renewal = _writable_renewal(request, pk)
    form = StageForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return redirect("renewals:renewal-detail", pk=pk)
    stage, old_stage = form.cleaned_data["stage"], renewal.stage
    response = _run(
        request,
        renewal,
        lambda: services.advance_renewal(renewal, stage=stage, by=request.user),
        f"Moved to {Renewal.Stage(stage).label}.",
    )
    if request.POST.get("next") == "board":
        renewal.refresh_from_db(fields=["stage"])
        if renewal.stage == stage != old_stage and request.POST.get("undo") != "1":
            request.session["board_undo"] = {
                "pk": renewal.pk,
                "stage": old_stage,
                "label": Renewal.Stage(old_stage).label,
                "account": renewal.contract.account.name,
            }
        return redirect("renewals:renewal-board")
    return response


@login_required
@require_POST
def renewal_update(request: SignedInHttpRequest, pk: int) -> HttpResponse:
    renewal = _writable_renewal(request, pk)
    form = RenewalUpdateForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return redirect("renewals:renewal-detail", pk=pk)
    return _run(
        request, renewal, lambda: services.update_renewal(renewal, by=request.user, **form.cleaned_data), "Saved."
    )


@login_required
@require_POST
def renewal_renew(request: SignedInHttpRequest, pk: int) -> HttpResponse:
    renewal = _writable_renewal(request, pk)
    form = RenewForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return redirect("renewals:renewal-detail", pk=pk)
    data = form.cleaned_data
    return _run(
        request,
        renewal,
        lambda: services.renew_contract(
            renewal.contract,
            ends_on=data["ends_on"],
            amount=data["amount"],
            reason=data["reason"],
            notes=data["notes"],
            by=request.user,
            today=timezone.localdate(),
        ),
        "Renewed: the next term is recorded.",
    )


@login_required
@require_POST
def renewal_lose(request: SignedInHttpRequest, pk: int) -> HttpResponse:
    renewal = _writable_renewal(request, pk)
    form = LoseForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return redirect("renewals:renewal-detail", pk=pk)
    return _run(
        request,
        renewal,
        lambda: services.mark_renewal_lost(
            renewal,
            reason=form.cleaned_data["reason"],
            notes=form.cleaned_data["notes"],
            by=request.user,
            today=timezone.localdate(),
        ),
        "Marked lost, with its reason.",
    )


@login_required
@require_POST
def notices_resend(request: SignedInHttpRequest) -> HttpResponse:
    """Send again every failed or bounced notice of the filtered renewals (never an unclear one)."""
    if not roles.can_write(request.user):
        raise PermissionDenied("Read-only users change nothing.")
    renewals, _ = _filtered(request)
    count = services.resend_failed_notices(
        RenewalNotice.objects.visible_to(request.user).filter(renewal__in=renewals), by=request.user, now=timezone.now()
    )
    messages.success(request, f"{count} notice{'s' if count != 1 else ''} will be sent again.")
    return redirect(f"{reverse('renewals:renewal-list')}?notices=problems")


@login_required
@require_POST
def notice_resolve(request: SignedInHttpRequest, pk: int) -> HttpResponse:
    notice = get_object_or_404(RenewalNotice.objects.visible_to(request.user), pk=pk)
    if not roles.can_write(request.user):
        raise PermissionDenied("Read-only users change nothing.")
    form = ResolveNoticeForm(request.POST)
    if form.is_valid():
        try:
            services.resolve_notice(notice, action=form.cleaned_data["action"], by=request.user, now=timezone.now())
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            label = dict(services.Resolution.CHOICES)[form.cleaned_data["action"]]
            messages.success(request, f"Notice to {notice.email}: {label.lower()}.")
    return redirect("renewals:renewal-detail", pk=notice.renewal_id)
