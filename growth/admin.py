from django.contrib import admin

from .models import Checkpoint, CheckpointSchedule, Opportunity, Suggestion


@admin.register(CheckpointSchedule)
class CheckpointScheduleAdmin(admin.ModelAdmin):
    """The program setting: days before the end when renewal checkpoints fall (default 180,90)."""

    list_display = ["__str__", "program", "days_before"]


@admin.register(Opportunity)
class OpportunityAdmin(admin.ModelAdmin):
    list_display = ["title", "account", "kind", "amount", "currency", "stage", "probability", "close_date", "owner"]
    list_filter = ["stage", "kind"]
    search_fields = ["title", "account__name"]
    raw_id_fields = ["account", "owner", "revenue_entry", "created_by"]
    # Closing goes through growth.services (the ledger entry): not editable here.
    readonly_fields = ["stage", "closed_on", "revenue_entry", "lost_reason"]


@admin.register(Suggestion)
class SuggestionAdmin(admin.ModelAdmin):
    list_display = ["account", "signal", "period", "status", "raised_on"]
    list_filter = ["signal", "status"]
    raw_id_fields = ["account", "opportunity", "decided_by"]


@admin.register(Checkpoint)
class CheckpointAdmin(admin.ModelAdmin):
    list_display = ["renewal", "days_before", "recorded_on", "auto_call", "csm_call", "asked_of", "escalated_to"]
    list_filter = ["days_before", "auto_call", "csm_call"]
    raw_id_fields = ["renewal", "account", "called_by", "asked_of", "escalated_to"]
