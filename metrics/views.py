"""The metrics page and the ledger export for finance."""

import csv
from collections.abc import Iterator
from datetime import date
from typing import Any, cast

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone

from accounts.models import Account, Program
from csm import roles
from csm.csvcells import safe_cell
from csm.security_log import log_event
from renewals import reconcile
from renewals.models import RevenueEntry

from . import report as metrics


class MetricsFilterForm(forms.Form):
    period = forms.ChoiceField(choices=[(kind, kind.capitalize()) for kind in metrics.PERIOD_KINDS], required=False)
    on = forms.DateField(required=False, label="Period containing", widget=forms.DateInput(attrs={"type": "date"}))
    csm = forms.TypedChoiceField(coerce=int, required=False, label="Success manager", empty_value=None)
    segment = forms.ChoiceField(choices=[("", "All segments"), *Account.Segment.choices], required=False)
    program = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)

    def __init__(self, *args: Any, user: roles.User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        owners = (
            get_user_model()
            .objects.filter(owned_accounts__in=Account.objects.visible_to(user))
            .distinct()
            .order_by("first_name", "username")
        )
        cast(forms.ChoiceField, self.fields["csm"]).choices = [("", "All success managers")] + [
            (owner.pk, owner.get_full_name() or owner.username) for owner in owners
        ]
        cast(forms.ChoiceField, self.fields["program"]).choices = [("", "All programs")] + [
            (program.pk, program.name) for program in Program.objects.order_by("name")
        ]

    def scope(self, user: object) -> tuple[str, date, dict]:
        # A bad filter (e.g. a success manager outside your view) is reported on the form and ignored.
        self.is_valid()
        data = self.cleaned_data
        filters = {key: data.get(key) or None for key in ("csm", "segment", "program")}
        return data.get("period") or "quarter", data.get("on") or timezone.localdate(), filters


def parse_scope(request: HttpRequest) -> tuple[MetricsFilterForm, str, date, dict]:
    data = request.GET.copy()
    # Show the period actually displayed, also on a first visit without parameters.
    data.setdefault("period", "quarter")
    data.setdefault("on", timezone.localdate().isoformat())
    form = MetricsFilterForm(data, user=request.user)
    kind, on, filters = form.scope(request.user)
    return form, kind, on, filters


@login_required
def metrics_page(request: HttpRequest) -> HttpResponse:
    form, kind, on, filters = parse_scope(request)
    accounts = metrics.scoped_accounts(request.user, **filters)
    report = metrics.build_report(accounts, kind=kind, on=on)
    chart = {
        "waterfall": [
            {"label": step["label"], "low": float(step["low"]), "high": float(step["high"]), "kind": step["kind"]}
            for step in report.figures.waterfall()
        ],
        "trend": [
            {
                "label": figures.period.label,
                "end_rr": float(figures.end_rr),
                "rate": float(figures.recurring_revenue_rate) if figures.recurring_revenue_rate is not None else None,
                "nrr": float(figures.net_revenue_retention) if figures.net_revenue_retention is not None else None,
            }
            for figures in report.trend
        ],
    }
    return render(
        request,
        "metrics/metrics.html",
        {
            "form": form,
            "report": report,
            "figures": report.figures,
            "formulas": metrics.FORMULAS,
            "chart": chart,
            "export_query": request.GET.urlencode(),
            "reconciled_on": min(on, timezone.localdate()),
            "reconcile_differences": reconcile.differences(on=min(on, timezone.localdate()), accounts=accounts)[:20],
        },
    )


class Echo:
    def write(self, value: str) -> str:
        return value


LEDGER_COLUMNS = (
    "effective_on",
    "account_external_id",
    "account_name",
    "kind",
    "amount",
    "currency",
    "reason_code",
    "reason",
    "contract_id",
    "note",
)


@login_required
def ledger_csv(request: HttpRequest) -> StreamingHttpResponse:
    """The period's ledger entries, one row each, for finance to reconcile."""
    _form, kind, on, filters = parse_scope(request)
    period = metrics.period_containing(kind, on)
    log_event("export", request=request, export="ledger", period=f"{period.start}..{period.end}")
    entries = (
        RevenueEntry.objects.filter(account__in=metrics.scoped_accounts(request.user, **filters))
        .between(period.start, period.end)
        .order_by("effective_on", "pk")
        .values_list(
            "effective_on",
            "account__external_id",
            "account__name",
            "kind",
            "amount",
            "currency",
            "reason__code",
            "reason__label",
            "contract_id",
            "note",
        )
    )
    writer = csv.writer(Echo())

    def rows() -> Iterator[str]:
        yield writer.writerow(LEDGER_COLUMNS)
        for entry in entries.iterator(chunk_size=2000):
            yield writer.writerow([safe_cell(value) if value is not None else "" for value in entry])

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="revenue-ledger-{period.start}-{period.end}.csv"'
    return response
