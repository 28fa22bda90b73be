"""Naive versions of the account list and Today, served only by the page benchmark.

They show what the real pages avoid: a query per row for owner, program and contracts,
and for Today a Python loop over every account in the book.
"""

from datetime import timedelta
from decimal import Decimal

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import include, path
from django.utils import timezone

from accounts.models import Account
from front.forms import MIXED, AccountFilterForm
from renewals.models import Contract


def naive_account_list(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    accounts = Account.objects.visible_to(request.user).order_by("name", "pk")
    page = Paginator(accounts, 50).get_page(request.GET.get("page"))
    for account in page.object_list:
        active = [c for c in account.contracts.all() if c.status == Contract.Status.ACTIVE and c.ends_on >= today]
        account.next_renewal = min((c.ends_on for c in active), default=None)
        account.arr = sum((c.recurring_amount for c in active), Decimal("0")) if active else None
        currencies = {c.currency for c in active}
        account.arr_currency = currencies.pop() if len(currencies) == 1 else MIXED
        account.band = ""
    form = AccountFilterForm(None, user=request.user)
    # The real template, never cached: the baseline computes every request.
    context = {"page": page, "form": form, "sort": "name", "today": today, "page_cache_seconds": 0}
    return render(request, "front/account_list.html", {**context, "page_cache_key": "naive"})


def naive_today(request: HttpRequest) -> HttpResponse:
    today, now = timezone.localdate(), timezone.now()
    silent, tasks, onboarding = [], [], []
    for account in Account.objects.filter(owner=request.user):
        last = account.touchpoints.order_by("-occurred_at").first()
        cadence = account.program.touch_cadence_days if account.program else 30
        if last is None or last.occurred_at < now - timedelta(days=cadence):
            silent.append(account)
        tasks += [t for t in account.tasks.all() if t.status == "open" and t.due_on <= today]
        onboarding += [i for i in account.onboarding_items.all() if not i.completed_on and i.due_on < today]
    return HttpResponse(f"{len(silent)} silent, {len(tasks)} tasks, {len(onboarding)} onboarding items late")


urlpatterns = [
    path("bench/naive-accounts/", naive_account_list),
    path("bench/naive-today/", naive_today),
    path("", include("csm.urls")),
]
