from datetime import date
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from . import services
from .models import Account, Contact, Touchpoint


class TouchpointForm(forms.ModelForm):
    occurred_at = forms.DateTimeField(
        label="When",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
    )

    class Meta:
        model = Touchpoint
        fields = ["kind", "outcome", "contact", "occurred_at", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 2, "placeholder": "What was said, what happens next"})}

    def __init__(self, *args: Any, account: Account, today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["contact"]).queryset = Contact.objects.filter(account=account).current(
            today=today
        )
        self.fields["contact"].required = False
        cast(forms.ModelChoiceField, self.fields["contact"]).empty_label = "— no one in particular —"
        if not self.is_bound:
            self.initial.setdefault("occurred_at", timezone.localtime().strftime("%Y-%m-%dT%H:%M"))


class ContactLeftForm(forms.Form):
    left_on = forms.DateField(label="Left on", widget=forms.DateInput(attrs={"type": "date"}))
    successor = forms.ModelChoiceField(
        queryset=Contact.objects.none(), required=False, empty_label="— nobody yet —", label="Who takes over"
    )

    def __init__(self, *args: Any, contact: Contact, today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["successor"]).queryset = (
            Contact.objects.filter(account_id=contact.account_id).current(today=today).exclude(pk=contact.pk)
        )
        self.initial.setdefault("left_on", today.isoformat())


class ContactForm(forms.ModelForm):
    """A contact's details and roles; the service (``add_contact`` / ``update_contact``) saves it."""

    succeeds = forms.ModelChoiceField(queryset=Contact.objects.none(), required=False, widget=forms.HiddenInput)

    class Meta:
        model = Contact
        fields = list(services.CONTACT_FIELDS)

    def __init__(self, *args: Any, account: Account, today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["name"].error_messages["required"] = services.BLANK  # as the API says it
        self.fields["succeeds"].queryset = Contact.objects.filter(account=account).awaiting_successor(today=today)  # type: ignore[attr-defined]  # a ModelChoiceField
        if self.instance.pk:
            del self.fields["succeeds"]

    def _post_clean(self) -> None:
        # The service validates the model (one rule for page and API); the form only parses.
        pass


class SuccessorForm(forms.Form):
    successor = forms.ModelChoiceField(queryset=Contact.objects.none(), label="Who took over")

    def __init__(self, *args: Any, contact: Contact, today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["successor"].queryset = (  # type: ignore[attr-defined]  # a ModelChoiceField
            Contact.objects.filter(account_id=contact.account_id).current(today=today).exclude(pk=contact.pk)
        )


def add_service_errors(form: forms.BaseForm, exc: ValidationError) -> None:
    """Show a service's ValidationError on the form: under its field, or above the form."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for name, errors in exc.message_dict.items():
        form.add_error(name if name in form.fields else None, errors)
