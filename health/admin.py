"""The health model's admin: starts from the standard components, refuses empty or all-zero
weights, and dry-runs a change on tonight's bands before it is saved (health/dry_run.py)."""

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils import timezone
from simple_history.admin import SimpleHistoryAdmin

from accounts.models import HealthComponent, HealthModel

from . import dry_run
from .scoring import ModelSpec

DRY_RUN = "_dry_run"


class HealthComponentFormSet(forms.BaseInlineFormSet):
    request: HttpRequest | None = None

    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        kept = [
            form.cleaned_data
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE") and form.cleaned_data.get("kind")
        ]
        if not kept:
            raise ValidationError("A health model needs components: without any, none of its accounts is scored.")
        if sum(row.get("weight") or 0 for row in kept) == 0:
            raise ValidationError("Every weight is 0: give at least one component a weight above 0.")
        kinds = [row["kind"] for row in kept]
        if len(set(kinds)) != len(kinds):
            raise ValidationError("Each component may appear once.")
        if self.request is not None and DRY_RUN in self.request.POST:
            self.request.health_dry_run = self.band_shift(kept)  # type: ignore[attr-defined]
            # Stops the save: the page shows the form again, as typed, with the dry run.
            raise ValidationError("Dry run only: nothing was saved. Save to apply these weights.")

    def band_shift(self, rows: list[dict]) -> dry_run.BandShift:
        model: HealthModel = self.instance
        proposed = dry_run.proposed_spec(
            model_id=model.pk,
            green_min=model.green_min,
            yellow_min=model.yellow_min,
            drop_alert=model.drop_alert_points,
            components={row["kind"]: (row["weight"] or 0, row["worst"], row["best"]) for row in rows},
        )
        current = None
        if model.pk is not None:
            current = ModelSpec.of(HealthModel.objects.get(pk=model.pk))
        program_id = None if model.is_default else model.program_id
        return dry_run.band_shift(program_id=program_id, current=current, proposed=proposed, today=timezone.localdate())


class HealthComponentInline(admin.TabularInline):
    model = HealthComponent
    formset = HealthComponentFormSet
    fields = ("kind", "weight", "worst", "best")

    def get_extra(self, request: HttpRequest, obj: HealthModel | None = None, **kwargs: Any) -> int:
        return len(HealthComponent.DEFAULTS) if obj is None else 0

    def get_formset(self, request: HttpRequest, obj: HealthModel | None = None, **kwargs: Any) -> Any:
        formset = super().get_formset(request, obj, **kwargs)
        formset.request = request  # type: ignore[attr-defined]  # HealthComponentFormSet.request
        return formset


@admin.register(HealthModel)
class HealthModelAdmin(SimpleHistoryAdmin):
    """Per-program health models; every change (components included) is kept in the history."""

    change_form_template = "admin/accounts/healthmodel/change_form.html"
    list_display = ("name", "program", "is_default", "green_min", "yellow_min", "drop_alert_points")
    list_select_related = ("program",)
    inlines = [HealthComponentInline]
    fieldsets = (
        (None, {"fields": ("name", "program", "is_default")}),
        (
            "Bands and alerts",
            {
                "fields": ("green_min", "yellow_min", "drop_alert_points"),
                "description": "Scores run from 0 to 100, higher is healthier. “Dry run” shows how tonight's"
                " bands would move with the values on this page, without saving them.",
            },
        ),
    )

    def get_formset_kwargs(self, request: HttpRequest, obj: Any, inline: Any, prefix: str) -> dict:
        kwargs = super().get_formset_kwargs(request, obj, inline, prefix)
        if isinstance(inline, HealthComponentInline) and obj.pk is None and request.method != "POST":
            # A new model starts from the standard components (docs/domain.md, "The health score").
            kwargs["initial"] = [
                {"kind": kind, "weight": weight, "worst": worst, "best": best}
                for kind, weight, worst, best in HealthComponent.DEFAULTS
            ]
        return kwargs

    def render_change_form(self, request: HttpRequest, context: dict, *args: Any, **kwargs: Any) -> Any:
        context["health_dry_run"] = getattr(request, "health_dry_run", None)
        return super().render_change_form(request, context, *args, **kwargs)
