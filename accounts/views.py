from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Q, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_safe

from renewals.models import Contract

from .models import Account


@login_required
@require_safe
def today(request: HttpRequest) -> HttpResponse:
    """The home page: the signed-in user's book at a glance."""
    day = timezone.localdate()
    accounts = Account.objects.visible_to(request.user)
    contracts = Contract.objects.filter(account__in=accounts).active()
    summary = accounts.aggregate(total=Count("pk"), onboarding=Count("pk", filter=Q(lifecycle_stage="onboarding")))
    renewals = contracts.ending_within(today=day, days=90).select_related("account")[:10]
    arr = contracts.aggregate(total=Sum("recurring_amount"))["total"] or 0
    return render(
        request,
        "accounts/today.html",
        {"today": day, "summary": summary, "renewals": renewals, "arr": arr},
    )


@login_required
@require_safe
def account_list(request: HttpRequest) -> HttpResponse:
    accounts = Account.objects.visible_to(request.user).select_related("owner", "program")
    query = request.GET.get("q", "").strip()
    if query:
        accounts = accounts.filter(Q(name__icontains=query) | Q(external_id__iexact=query))
    page = Paginator(accounts.order_by("name", "pk"), 50).get_page(request.GET.get("page"))
    return render(request, "accounts/account_list.html", {"page": page, "q": query})


@login_required
@require_safe
def account_detail(request: HttpRequest, pk: int) -> HttpResponse:
    # Another CSM's account is a 404, not a 403: its existence is not ours to reveal.
    account = get_object_or_404(Account.objects.visible_to(request.user).select_related("owner", "program"), pk=pk)
    return render(
        request,
        "accounts/account_detail.html",
        {
            "account": account,
            "contacts": account.contacts.all(),
            "contracts": account.contracts.select_related("program").order_by("-ends_on"),
            "touchpoints": account.touchpoints.select_related("by", "contact")[:20],
            "today": timezone.localdate(),
        },
    )
