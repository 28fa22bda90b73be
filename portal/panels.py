"""The account page's "Customer page" panel: the account's links, their views, and a form for a new one."""

from datetime import datetime

from django.db.models import Count, Max

from accounts.models import Account

from . import services
from .models import CustomerLink


def account_panel(account: Account, *, now: datetime) -> dict:
    links = list(
        CustomerLink.objects.filter(account=account)
        .select_related("contact", "created_by")
        .annotate(view_count=Count("views"), last_view=Max("views__viewed_at"))[:20]
    )
    for link in links:
        link.live = not link.refusal(now=now)  # type: ignore[attr-defined]  # for the template
        link.url = services.url_for(link) if link.live else ""  # type: ignore[attr-defined]
    return {"customer_links": links, "customer_link_days": services.DEFAULT_DAYS}
