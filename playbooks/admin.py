from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Program


@admin.register(Program)
class ProgramAdmin(SimpleHistoryAdmin):
    list_display = ("name", "support_level", "renewal_notice_lead_days", "touch_cadence_days", "is_active")
    list_filter = ("support_level", "is_active")
    search_fields = ("name",)
    fieldsets = (
        (None, {"fields": ("name", "description", "is_active")}),
        ("Entitlements", {"fields": ("business_reviews_per_year", "training_seats", "success_hours", "support_level")}),
        ("Cadences", {"fields": ("health_check_cadence_days", "touch_cadence_days")}),
        ("Renewal notices", {"fields": ("renewal_notice_lead_days",)}),
    )
