"""The account list's filters, sort and computed columns."""

from datetime import date
from typing import Any, cast

from django import forms
from django.contrib.auth.models import User
from django.db.models import Case, F, Max, Min, OuterRef, Q, QuerySet, Subquery, Sum, Value, When

from accounts import services
from accounts.models import Account, HealthScore, Program, time_zone_choices
from csm import roles
from renewals.forms import PersonChoiceField
from renewals.models import Contract

SORTS = {
    "name": ("name", "pk"),
    "-name": ("-name", "-pk"),
    "owner": ("owner__username", "name", "pk"),
    "program": ("program__name", "name", "pk"),
    "stage": ("lifecycle_stage", "name", "pk"),
    "renewal": ("next_renewal", "name", "pk"),
    "-arr": ("-arr", "name", "pk"),
}
RENEWAL_WINDOWS = [(30, "30 days"), (60, "60 days"), (90, "90 days"), (180, "6 months")]
BANDS = [("green", "Green"), ("yellow", "Yellow"), ("red", "Red")]


class AccountFilterForm(forms.Form):
    q = forms.CharField(required=False, label="Search", max_length=200)
    owner = PersonChoiceField(queryset=User.objects.none(), required=False, empty_label="Any owner")
    program = forms.ModelChoiceField(queryset=Program.objects.all(), required=False, empty_label="Any program")
    band = forms.ChoiceField(choices=[("", "Any health"), *BANDS], required=False, label="Health")
    stage = forms.ChoiceField(choices=[("", "Any stage"), *Account.Stage.choices], required=False)
    renewal = forms.TypedChoiceField(
        choices=[("", "Any renewal date"), *((str(d), f"Renews within {label}") for d, label in RENEWAL_WINDOWS)],
        coerce=int,
        required=False,
        empty_value=None,
        label="Renewal",
    )
    sort = forms.ChoiceField(choices=[(key, key) for key in SORTS], required=False)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        # Owners come from roles and teams, never from scanning the accounts table.
        people = User.objects.filter(is_active=True).order_by("first_name", "username")
        if roles.sees_everything(user):
            people = people.filter(groups__name__in=[roles.CSM, roles.MANAGER]).distinct()
        elif roles.is_manager(user):
            people = people.filter(Q(pk=user.pk) | Q(teams__manager=user)).distinct()
        else:
            people = people.filter(pk=user.pk)
        cast(forms.ModelChoiceField, self.fields["owner"]).queryset = people

    @property
    def shows_owner_filter(self) -> bool:
        return roles.role_of(self.user) != roles.CSM

    def filter(self, accounts: QuerySet[Account], *, today: date) -> QuerySet[Account]:
        data = self.cleaned_data if self.is_valid() else {}
        if query := (data.get("q") or "").strip():
            accounts = accounts.filter(Q(name__icontains=query) | Q(external_id__iexact=query))
        if data.get("owner"):
            accounts = accounts.filter(owner=data["owner"])
        if data.get("program"):
            accounts = accounts.filter(program=data["program"])
        if data.get("stage"):
            accounts = accounts.filter(lifecycle_stage=data["stage"])
        if data.get("renewal"):
            ending = Contract.objects.active().ending_within(today=today, days=data["renewal"])
            accounts = accounts.filter(pk__in=ending.values("account_id"))
        if data.get("band"):
            accounts = accounts.filter(pk__in=latest_scores(today=today).filter(band=data["band"]).values("account_id"))
        return accounts

    def order(self, accounts: QuerySet[Account], *, today: date) -> QuerySet[Account]:
        key = self.cleaned_data.get("sort") if self.is_valid() else ""
        return with_columns(accounts, today=today).order_by(*SORTS.get(key or "name", SORTS["name"]))

    @property
    def sort_key(self) -> str:
        return (self.cleaned_data.get("sort") if self.is_valid() else "") or "name"


def latest_scores(*, today: date) -> QuerySet:
    """Health scores of the latest nightly run on or before ``today`` (HealthScoreQuerySet.latest_run)."""
    return HealthScore.objects.latest_run(today=today)


MIXED = "*"  # arr_currency of an account whose contracts in force are in several currencies


def with_columns(accounts: QuerySet[Account], *, today: date) -> QuerySet[Account]:
    """The list's computed columns: next renewal, recurring revenue and health band.

    Correlated subqueries, so PostgreSQL evaluates them only for the rows of the page.
    """
    active = Contract.objects.active().filter(account=OuterRef("pk"), ends_on__gte=today).order_by()
    accounts = accounts.select_related("owner", "program").annotate(
        next_renewal=Subquery(active.values("account").annotate(d=Min("ends_on")).values("d")),
        arr=Subquery(active.values("account").annotate(s=Sum("recurring_amount")).values("s")),
        # The currency of that sum, or "*" when the account's contracts are in several: the list then
        # says so instead of showing a sum of mixed currencies.
        arr_currency=Subquery(
            active.values("account")
            .annotate(lo=Min("currency"), hi=Max("currency"))
            .annotate(c=Case(When(lo=F("hi"), then=F("lo")), default=Value(MIXED)))
            .values("c")
        ),
    )
    latest = latest_scores(today=today).filter(account=OuterRef("pk"))
    return accounts.annotate(band=Subquery(latest.values("band")[:1]))


class AccountForm(forms.ModelForm):
    """An account's name, ids, segment, program and stage; the owner only for managers and admins."""

    class Meta:
        model = Account
        fields = ["name", "external_id", "segment", "program", "lifecycle_stage", "time_zone", "owner"]

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["name"].error_messages["required"] = services.BLANK  # as the API says it
        self.fields["time_zone"].widget = forms.Select(choices=time_zone_choices())
        self.fields["time_zone"].required = False  # left out: the account keeps its time zone
        if roles.is_manager(user) or roles.is_admin(user):
            owners = AccountFilterForm(user=user).fields["owner"].queryset  # type: ignore[attr-defined]  # a ModelChoiceField
            self.fields["owner"].queryset = owners  # type: ignore[attr-defined]  # a ModelChoiceField
            self.fields["owner"].label_from_instance = lambda u: u.get_full_name() or u.username  # type: ignore[attr-defined]  # a ModelChoiceField
        else:
            del self.fields["owner"]

    def clean_time_zone(self) -> str:
        return self.cleaned_data.get("time_zone") or self.instance.time_zone

    def _post_clean(self) -> None:
        pass  # validated by services.update_account
