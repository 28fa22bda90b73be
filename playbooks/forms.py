from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from django import forms
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError

from accounts.models import Account, Program
from csm import roles

from . import services
from .models import EntitlementUse, Milestone, PlaybookRule, Task


def _parse_lines(text: str) -> list[list[str]]:
    return [[part.strip() for part in line.split("|")] for line in text.splitlines() if line.strip()]


class HandoffForm(forms.Form):
    deal_id = forms.CharField(label="CRM deal id", max_length=100)
    account_name = forms.CharField(max_length=200)
    external_id = forms.CharField(label="Account id in the CRM", max_length=100, required=False)
    program = forms.ModelChoiceField(queryset=Program.objects.filter(is_active=True), required=False)
    csm = forms.ModelChoiceField(
        label="Success manager",
        queryset=User.objects.filter(is_active=True, groups__name=roles.CSM).order_by("username"),
        required=False,
    )
    segment = forms.ChoiceField(choices=[("", "—"), *Account.Segment.choices], required=False)
    contract_starts_on = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    contract_ends_on = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    recurring_amount = forms.DecimalField(label="Recurring amount per year", required=False, min_value=0)
    what_sold = forms.CharField(label="What was sold", widget=forms.Textarea(attrs={"rows": 3}))
    outcomes = forms.CharField(
        label="Desired outcomes",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="One per line: outcome | metric | target | due date (YYYY-MM-DD); only the outcome is required.",
    )
    stakeholders = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="One per line: name | email | title | roles (comma-separated: "
        + ", ".join(sorted(services.CONTACT_ROLES))
        + ").",
    )
    expectations = forms.CharField(
        label="Expectations set in the sale", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, user: User | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if user is not None:
            # A CSM sees only themselves here, a manager their team (docs/security.md, "Handoff").
            self.fields["csm"].queryset = self.fields["csm"].queryset.filter(  # type: ignore[attr-defined]  # a ModelChoiceField
                pk__in=services.assignable_csms(user).values("pk")
            )

    def clean_outcomes(self) -> list[dict]:
        outcomes = []
        for number, parts in enumerate(_parse_lines(self.cleaned_data["outcomes"]), start=1):
            parts += [""] * (4 - len(parts))
            try:
                target = Decimal(parts[2]) if parts[2] else None
                due_on = date.fromisoformat(parts[3]) if parts[3] else None
            except (InvalidOperation, ValueError):
                raise ValidationError(f"Line {number}: the target must be a number and the date YYYY-MM-DD.") from None
            outcomes.append({"title": parts[0][:200], "metric": parts[1][:100], "target": target, "due_on": due_on})
        return outcomes

    def clean_stakeholders(self) -> list[dict]:
        people = []
        for number, parts in enumerate(_parse_lines(self.cleaned_data["stakeholders"]), start=1):
            parts += [""] * (4 - len(parts))
            roles_ = [r.strip().lower().replace(" ", "_") for r in parts[3].split(",") if r.strip()]
            unknown = set(roles_) - set(services.CONTACT_ROLES)
            if unknown:
                raise ValidationError(f"Line {number}: unknown role(s) {', '.join(sorted(unknown))}.")
            if parts[1]:
                try:
                    forms.EmailField().clean(parts[1])
                except ValidationError:
                    raise ValidationError(f"Line {number}: {parts[1]!r} is not an email address.") from None
            people.append({"name": parts[0][:200], "email": parts[1], "title": parts[2][:200], "roles": roles_})
        return people


class EntitlementUseForm(forms.Form):
    kind = forms.ChoiceField(choices=EntitlementUse.Kind.choices)
    quantity = forms.DecimalField(min_value=Decimal("0.25"), max_digits=8, decimal_places=2, initial=1)
    used_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(max_length=300, required=False)


class ObjectiveForm(forms.Form):
    title = forms.CharField(max_length=200)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class MilestoneForm(forms.Form):
    title = forms.CharField(max_length=200)
    metric = forms.CharField(max_length=100, required=False)
    target = forms.DecimalField(max_digits=14, decimal_places=2, required=False)
    due_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))


class MilestoneProgressForm(forms.Form):
    current = forms.DecimalField(max_digits=14, decimal_places=2, required=False)
    status = forms.ChoiceField(choices=Milestone.Status.choices)


class SnoozeForm(forms.Form):
    until = forms.DateField()


class PeriodForm(forms.Form):
    start = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))


def _assignable_users() -> "forms.ModelChoiceField":
    from renewals.forms import PersonChoiceField

    users = User.objects.filter(is_active=True, groups__name__in=[roles.CSM, roles.MANAGER]).distinct()
    return PersonChoiceField(users.order_by("first_name", "username"), required=False, empty_label="Anyone")


class NewTaskForm(forms.Form):
    title = forms.CharField(max_length=200)
    kind = forms.TypedChoiceField(label="Type", choices=Task.Kind.choices, initial=Task.Kind.FOLLOW_UP)
    priority = forms.TypedChoiceField(choices=Task.Priority.choices, coerce=int, initial=Task.Priority.NORMAL)
    due_on = forms.DateField(label="Due", widget=forms.DateInput(attrs={"type": "date"}))
    description = forms.CharField(label="Notes", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    assignee = _assignable_users()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].empty_label = "The account's CSM"  # type: ignore[attr-defined]  # a ModelChoiceField


class AccountTaskForm(NewTaskForm):
    """The task list's form, where the account is named (by name or CRM id) among those I see."""

    account = forms.CharField(max_length=200, help_text="Account name or CRM id.")
    field_order = ["account", "title", "kind", "priority", "due_on", "assignee", "description"]

    def __init__(self, *args: Any, user: "roles.User", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_account(self) -> Account:
        text = self.cleaned_data["account"].strip()
        visible = Account.objects.visible_to(self.user)
        matches = list(visible.filter(external_id=text)[:2]) or list(visible.filter(name__iexact=text)[:2])
        if not matches:
            raise ValidationError("No account you can see has this name or CRM id.")
        if len(matches) > 1:
            raise ValidationError("Several accounts have this name; use the CRM id.")
        return matches[0]


DUE_CHOICES = [("", "Any day"), ("overdue", "Overdue"), ("today", "Today"), ("week", "Due within 7 days")]


class TaskFilterForm(forms.Form):
    scope = forms.ChoiceField(choices=[("mine", "Mine"), ("all", "Everyone I see")], required=False)
    status = forms.ChoiceField(choices=[("open", "Open"), ("snoozed", "Snoozed")], required=False)
    kind = forms.ChoiceField(label="Type", choices=[("", "Any type"), *Task.Kind.choices], required=False)
    rule = forms.ModelChoiceField(PlaybookRule.objects.all(), required=False, empty_label="Any rule")
    due = forms.ChoiceField(choices=DUE_CHOICES, required=False)
    owner = _assignable_users()
    account = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)


BULK_ACTIONS = [("done", "Mark done"), ("snooze", "Snooze"), ("reassign", "Reassign")]


class BulkTaskForm(forms.Form):
    action = forms.ChoiceField(choices=BULK_ACTIONS)
    ids = forms.TypedMultipleChoiceField(coerce=int, choices=[], error_messages={"required": "Tick at least one task."})
    outcome = forms.CharField(max_length=300, required=False)
    days = forms.TypedChoiceField(
        choices=[(1, "1 day"), (3, "3 days"), (7, "1 week"), (14, "2 weeks")], coerce=int, required=False
    )
    assignee = _assignable_users()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Any id is accepted here; the service keeps only open tasks the user may see.
        self.fields["ids"].valid_value = lambda value: str(value).isdigit()  # type: ignore[attr-defined]  # a MultipleChoiceField

    def clean(self) -> dict:
        data = cast(dict, super().clean())  # BaseForm.clean returns cleaned_data
        if data.get("action") == "reassign" and not data.get("assignee"):
            self.add_error("assignee", "Pick who takes the tasks.")
        return data
