from decimal import Decimal
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q

from accounts.models import Program
from csm import roles

from . import emails
from .models import NoticeSchedule, NoticeTemplate, ReasonCode, Renewal
from .services import Resolution

WINDOWS = (
    ("", "Any time"),
    ("30", "Next 30 days"),
    ("60", "Next 60 days"),
    ("90", "Next 90 days"),
    ("180", "Next 180 days"),
    ("365", "Next 12 months"),
)


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: roles.AuthUser) -> str:
        return obj.get_full_name() or obj.username


def staff_choices() -> forms.ModelChoiceField:
    users = get_user_model().objects.filter(is_active=True, groups__name__in=[roles.CSM, roles.MANAGER]).distinct()
    return PersonChoiceField(users.order_by("first_name", "username"), required=False, empty_label="Anyone")


class RenewalFilterForm(forms.Form):
    owner = staff_choices()
    stage = forms.ChoiceField(
        choices=[("", "Open stages"), ("all", "All stages"), *Renewal.Stage.choices], required=False
    )
    window = forms.ChoiceField(choices=WINDOWS, required=False, label="Ending")
    program = forms.ModelChoiceField(Program.objects.all(), required=False, empty_label="Any program")
    coverage = forms.ChoiceField(
        choices=[("", "Any coverage"), ("flagged", "Fewer than two contacts")], required=False, label="Contacts"
    )
    notices = forms.ChoiceField(
        choices=[("", "Any"), ("problems", "Failed, bounced or unclear")], required=False, label="Notices"
    )


class StageForm(forms.Form):
    stage = forms.ChoiceField(choices=[(s, Renewal.Stage(s).label) for s in Renewal.OPEN_STAGES])


class RenewalUpdateForm(forms.Form):
    forecast_amount = forms.DecimalField(max_digits=14, decimal_places=2, min_value=0, required=False)
    uplift_pct = forms.DecimalField(label="Uplift %", max_digits=5, decimal_places=2, initial=Decimal("0"))
    probability = forms.IntegerField(min_value=0, max_value=100)
    close_date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    owner = staff_choices()


def reason_field(applies: str) -> forms.ModelChoiceField:
    codes = ReasonCode.objects.filter(is_active=True).filter(Q(applies_to=applies) | Q(applies_to="both"))
    return forms.ModelChoiceField(codes, required=False, empty_label="Choose a reason")


class RenewForm(forms.Form):
    ends_on = forms.DateField(label="New term ends on", widget=forms.DateInput(attrs={"type": "date"}))
    amount = forms.DecimalField(label="New recurring amount", max_digits=14, decimal_places=2, min_value=0)
    reason = forms.ModelChoiceField(ReasonCode.objects.none(), required=False, help_text="Required for a downgrade.")
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"] = reason_field(ReasonCode.Applies.DOWNGRADE)
        self.fields["reason"].help_text = "Required for a downgrade."


class LoseForm(forms.Form):
    reason = forms.ModelChoiceField(ReasonCode.objects.none())
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False, label="What happened")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"] = reason_field(ReasonCode.Applies.LOSS)
        self.fields["reason"].required = False  # the service says why it is needed


class ResolveNoticeForm(forms.Form):
    action = forms.ChoiceField(choices=Resolution.CHOICES)


class NoticeMessageForm(forms.Form):
    """One queued notice's message as the CSM edits it (renewals/approvals.py validates it)."""

    subject = forms.CharField(max_length=200, required=False)
    text = forms.CharField(
        label="Message", required=False, widget=forms.Textarea(attrs={"rows": 18}),
        help_text="Plain text. Empty: the program's template. The unsubscribe link is added if you remove it.",
    )  # fmt: skip


class NoticeTemplateForm(forms.ModelForm):
    """Admin form: a template that does not render is refused with the reason."""

    class Meta:
        model = NoticeTemplate
        fields = ["program", "subject", "text_body", "html_body"]
        help_texts = {
            "text_body": "Variables: " + ", ".join(f"{{{{ {name} }}}}" for name in emails.CONTEXT_HELP),
        }

    def clean_subject(self) -> str:
        subject = self.cleaned_data["subject"]
        emails.check_template_source(subject)
        return emails.one_line(subject)

    def clean_text_body(self) -> str:
        emails.check_template_source(self.cleaned_data["text_body"])
        return self.cleaned_data["text_body"]

    def clean_html_body(self) -> str:
        emails.check_template_source(self.cleaned_data["html_body"])
        return self.cleaned_data["html_body"]


class NoticeScheduleForm(forms.ModelForm):
    class Meta:
        model = NoticeSchedule
        fields = ["program", "follow_up_days", "is_active"]

    def clean_follow_up_days(self) -> str:
        raw = self.cleaned_data["follow_up_days"]
        try:
            days = sorted({int(part) for part in raw.replace(" ", "").split(",") if part}, reverse=True)
        except ValueError:
            raise forms.ValidationError("Write whole numbers of days separated by commas, e.g. 30,14.") from None
        if any(day < 1 or day >= 365 for day in days):
            raise forms.ValidationError("Each follow-up is between 1 and 364 days before the end.")
        return ",".join(str(day) for day in days)
