from decimal import Decimal

from django import forms

from .models import Checkpoint, Opportunity


class OpportunityForm(forms.Form):
    kind = forms.ChoiceField(choices=Opportunity.Kind.choices)
    title = forms.CharField(max_length=200, required=False)
    amount = forms.DecimalField(
        label="Added recurring amount per year", max_digits=14, decimal_places=2, min_value=Decimal("0.01")
    )
    probability = forms.IntegerField(label="Probability %", min_value=0, max_value=100, initial=50)
    close_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(max_length=300, required=False)


class NewOpportunityForm(OpportunityForm):
    currency = forms.RegexField(r"^[A-Z]{3}$", initial="USD", max_length=3)


class AcceptSuggestionForm(forms.Form):
    kind = forms.ChoiceField(choices=Opportunity.Kind.choices)
    amount = forms.DecimalField(label="Amount per year", max_digits=14, decimal_places=2, min_value=Decimal("0.01"))
    probability = forms.IntegerField(label="Probability %", min_value=0, max_value=100, initial=50)
    close_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))


class DismissForm(forms.Form):
    note = forms.CharField(max_length=300, required=False)


class WinForm(forms.Form):
    effective_on = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}), help_text="Empty for today."
    )


class LoseForm(forms.Form):
    lost_reason = forms.CharField(label="Why was it lost?", max_length=300)


class CallForm(forms.Form):
    call = forms.ChoiceField(choices=Checkpoint.Call.choices, widget=forms.RadioSelect)
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)
