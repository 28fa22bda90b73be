from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.views.decorators.http import require_POST, require_safe

from accounts import services
from accounts.forms import ContactForm, SuccessorForm, TouchpointForm, add_service_errors
from accounts.models import Account, Contact, visible_owner_ids
from csm import freshness, operations, roles
from csm.requests import SignedInHttpRequest
from csm.security_log import log_event

from . import account360, exports
from . import today as sections
from .forms import AccountFilterForm, AccountForm
from .pagination import BookPaginator

PAGE_SIZE = 50


def _require_write(request: SignedInHttpRequest) -> None:
    if not roles.can_write(request.user):
        raise PermissionDenied("Read-only users change nothing.")


def _is_htmx(request: SignedInHttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


@require_safe
def today(request: SignedInHttpRequest) -> HttpResponse:
    """The home page: what needs the success manager today, most urgent first."""
    day, now = timezone.localdate(), timezone.now()
    scope = sections.Scope.for_request(request.user, request.GET.get("view"))
    # The sections are computed only when the page's cached fragment is missing or stale.
    return render(
        request,
        "front/today.html",
        {
            "today": day,
            "scope": scope,
            "can_see_team": sections.can_see_team(request.user),
            "page_cache_seconds": freshness.seconds(),
            "page_cache_key": freshness.fragment_key(request, scope.visible_owner_ids, "today", scope.team, day),
            "tasks": SimpleLazyObject(lambda: sections.tasks_due(scope, today=day)),
            "renewals": SimpleLazyObject(lambda: sections.renewals_in_window(scope, today=day)),
            "worsened": SimpleLazyObject(lambda: sections.health_worsened(scope, today=day)),
            "silent": SimpleLazyObject(lambda: sections.not_heard_from(scope, now=now)),
            "onboarding": SimpleLazyObject(lambda: sections.onboarding_overdue(scope, today=day)),
            # Administrators see stopped background work here before customers notice it.
            "ops_attention": operations.needs_attention(today=day, now=now) if request.user.is_staff else [],
        },
    )


@require_safe
def today_charts(request: SignedInHttpRequest) -> HttpResponse:
    """The Today page's charts, loaded after the page so the lists show at once."""
    scope = sections.Scope.for_request(request.user, request.GET.get("view"))
    return render(request, "front/_today_charts.html", sections.charts(scope, today=timezone.localdate()))


def _filtered_accounts(request: SignedInHttpRequest) -> tuple[AccountFilterForm, QuerySet[Account]]:
    day = timezone.localdate()
    form = AccountFilterForm(request.GET or None, user=request.user)
    accounts = form.filter(Account.objects.visible_to(request.user), today=day)
    return form, form.order(accounts, today=day)


@require_safe
def account_list(request: SignedInHttpRequest) -> HttpResponse:
    form, accounts = _filtered_accounts(request)
    filtered = form.is_bound and any(value for key, value in request.GET.items() if key not in ("page", "sort"))
    count_key = None if filtered else f"account-list-count:{request.user.pk}"
    paginator = BookPaginator(accounts, PAGE_SIZE, count_key=count_key)
    # The page of rows is read only when the page's cached fragment is missing or stale.
    page = SimpleLazyObject(lambda: paginator.get_page(request.GET.get("page")))
    return render(
        request,
        "front/account_list.html",
        {
            "page_cache_seconds": freshness.seconds(),
            "page_cache_key": freshness.fragment_key(
                request, visible_owner_ids(request.user), "accounts", sorted(request.GET.lists())
            ),
            "page": page,
            "form": form,
            "filtered": filtered,
            "sort": form.sort_key,
            "columns": sort_columns(form.sort_key),
            "today": timezone.localdate(),
        },
    )


def sort_columns(current: str) -> dict[str, dict]:
    """Each sortable column: the sort its header link asks for and how it is sorted now."""
    columns = {}
    for name, ascending, descending in (
        ("name", "name", "-name"),
        ("owner", "owner", None),
        ("program", "program", None),
        ("stage", "stage", None),
        ("renewal", "renewal", None),
        ("arr", "-arr", None),
    ):
        active = current in (ascending, descending)
        link = descending if descending and current == ascending else ascending
        direction = "descending" if current.startswith("-") else "ascending"
        columns[name] = {"link": link, "active": active, "direction": direction if active else ""}
    return columns


@require_safe
def account_export(request: SignedInHttpRequest) -> StreamingHttpResponse:
    _, accounts = _filtered_accounts(request)
    log_event("export", request=request, export="accounts", query=request.GET.urlencode()[:500])
    response = StreamingHttpResponse(
        exports.csv_lines(exports.account_rows(accounts)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="accounts-{timezone.localdate():%Y-%m-%d}.csv"'
    return response


def _account_for(request: SignedInHttpRequest, pk: int) -> Account:
    # Another CSM's account is a 404, not a 403: its existence is not ours to reveal.
    return get_object_or_404(Account.objects.visible_to(request.user).select_related("owner", "program"), pk=pk)


def _writable_account(request: SignedInHttpRequest, pk: int) -> Account:
    account = _account_for(request, pk)
    _require_write(request)
    return account


def _writable_contact(request: SignedInHttpRequest, pk: int) -> Contact:
    contact = get_object_or_404(Contact.objects.visible_to(request.user).select_related("account"), pk=pk)
    _require_write(request)
    return contact


def _account_page(request: SignedInHttpRequest, account: Account, **forms: Any) -> HttpResponse:
    """The account page, with any edit form open (``?add_contact=1``, ``?edit_contact=<id>``,
    ``?successor=1``, ``?edit_account=1``, or a bound form with its errors after a bad POST)."""
    day = timezone.localdate()
    context = account360.overview(account, today=day)
    context["touchpoint_form"] = TouchpointForm(account=account, today=day)
    if roles.can_write(request.user):
        query = request.GET
        if "contact_form" not in forms and query.get("add_contact"):
            forms["contact_form"] = ContactForm(account=account, today=day, initial=_role_defaults(query))
        if "contact_form" not in forms and (edit := query.get("edit_contact", "")).isdigit():
            contact = next((c for c in context["contacts"] if c.pk == int(edit)), None)
            if contact is not None:
                forms["contact_form"] = ContactForm(account=account, today=day, instance=contact)
        if "account_form" not in forms and query.get("edit_account"):
            forms["account_form"] = AccountForm(instance=account, user=request.user)
        if query.get("successor") or "successor_forms" in forms:
            waiting = Contact.objects.filter(account=account).awaiting_successor(today=day)
            bound = forms.pop("successor_forms", {})
            forms["successor_forms"] = [
                (c, bound.get(c.pk) or SuccessorForm(contact=c, today=day, prefix=f"s{c.pk}")) for c in waiting
            ]
    context.update(forms)
    return render(request, "front/account_detail.html", context)


def _role_defaults(query: QueryDict) -> dict:
    """``?add_contact=1&role=is_renewal`` opens the form with that role ticked (coverage tasks);
    ``&succeeds=<id>`` adds the successor of a contact who left."""
    role, succeeds = query.get("role", ""), query.get("succeeds", "")
    initial: dict = {role: True} if role in {field for field, _ in Contact.ROLE_FIELDS} else {}
    if succeeds.isdigit():
        initial["succeeds"] = int(succeeds)
    return initial


@require_safe
def account_detail(request: SignedInHttpRequest, pk: int) -> HttpResponse:
    return _account_page(request, _account_for(request, pk))


def _saved(request: SignedInHttpRequest, account: Account, message: str) -> HttpResponse:
    messages.success(request, message)
    return redirect(reverse("front:account-detail", args=[account.pk]) + "#contacts")


@require_POST
def account_edit(request: SignedInHttpRequest, pk: int) -> HttpResponse:
    account = _writable_account(request, pk)
    form = AccountForm(request.POST, instance=account, user=request.user)
    if form.is_valid():
        try:
            services.update_account(account, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Account saved.")
            return redirect("front:account-detail", pk=account.pk)
    return _account_page(request, account, account_form=form)


@require_POST
def contact_add(request: SignedInHttpRequest, pk: int) -> HttpResponse:
    account = _writable_account(request, pk)
    day = timezone.localdate()
    form = ContactForm(request.POST, account=account, today=day)
    if form.is_valid():
        try:
            contact = services.add_contact(account=account, today=day, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return _saved(request, account, f"{contact.name} added.")
    return _account_page(request, account, contact_form=form)


@require_POST
def contact_edit(request: SignedInHttpRequest, pk: int) -> HttpResponse:
    contact = _writable_contact(request, pk)
    day = timezone.localdate()
    form = ContactForm(request.POST, account=contact.account, today=day, instance=contact)
    if form.is_valid():
        try:
            services.update_contact(contact, today=day, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return _saved(request, contact.account, f"{contact.name} saved.")
    return _account_page(request, _account_for(request, contact.account_id), contact_form=form)


@require_POST
def contact_successor(request: SignedInHttpRequest, pk: int) -> HttpResponse:
    contact = _writable_contact(request, pk)
    day = timezone.localdate()
    form = SuccessorForm(request.POST, contact=contact, today=day, prefix=f"s{contact.pk}")
    if form.is_valid():
        try:
            services.name_successor(contact, successor=form.cleaned_data["successor"], today=day, by=request.user)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            successor = form.cleaned_data["successor"]
            return _saved(request, contact.account, f"{successor.name} takes over from {contact.name}.")
    account = _account_for(request, contact.account_id)
    return _account_page(request, account, successor_forms={contact.pk: form})


@require_POST
def log_touchpoint(request: SignedInHttpRequest, pk: int) -> HttpResponse:
    account = _account_for(request, pk)
    _require_write(request)
    day = timezone.localdate()
    form = TouchpointForm(request.POST, account=account, today=day)
    if form.is_valid():
        try:
            services.log_touchpoint(account=account, by=request.user, now=timezone.now(), **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
    if not _is_htmx(request):
        if form.errors:
            messages.error(
                request, "The touchpoint was not saved: " + "; ".join(map(str, form.errors.get("__all__", [])))
            )
        else:
            messages.success(request, "Touchpoint logged.")
        return redirect("front:account-detail", pk=account.pk)
    saved = not form.errors
    context = account360.overview(account, today=day)
    context["touchpoint_form"] = TouchpointForm(account=account, today=day) if saved else form
    context["saved"] = saved
    # 200 either way: htmx swaps the form back in, with its errors when there are some.
    return render(request, "front/_touchpoint_logged.html", context)
