from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import (
    Account,
    Contact,
    HealthCheck,
    HealthComponent,
    Team,
    Touchpoint,
    UsageSnapshot,
)


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "manager")
    filter_horizontal = ("members",)
    search_fields = ("name",)


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0
    fields = ("name", "email", "title", "is_primary", "is_decision_maker", "is_renewal", "is_billing", "left_on")
    # Leaving hands the roles to the successor: "Mark as left" on the account page, or the API.
    readonly_fields = ("left_on",)
    show_change_link = True


@admin.register(Account)
class AccountAdmin(SimpleHistoryAdmin):
    list_display = ("name", "external_id", "segment", "owner", "program", "lifecycle_stage")
    list_filter = ("segment", "lifecycle_stage", "program", "owner")
    search_fields = ("name", "external_id")
    list_select_related = ("owner", "program")
    autocomplete_fields = ("owner",)
    inlines = [ContactInline]


@admin.register(Contact)
class ContactAdmin(SimpleHistoryAdmin):
    list_display = ("name", "email", "account", "title", "is_primary", "left_on", "email_opt_out")
    list_filter = ("is_decision_maker", "is_renewal", "is_billing", "is_primary", "email_opt_out")
    search_fields = ("name", "email", "account__name")
    list_select_related = ("account",)
    raw_id_fields = ("account",)
    # Leaving and succession go through accounts/services.py (the account page or the API), so
    # the successor inherits the roles and the "primary contact left" rule fires.
    readonly_fields = ("left_on", "successor", "was_primary")


@admin.register(Touchpoint)
class TouchpointAdmin(admin.ModelAdmin):
    list_display = ("account", "kind", "outcome", "occurred_at", "by")
    list_filter = ("kind", "outcome")
    search_fields = ("account__name", "notes")
    list_select_related = ("account", "by")
    raw_id_fields = ("account", "contact")
    date_hierarchy = "occurred_at"


@admin.register(UsageSnapshot)
class UsageSnapshotAdmin(admin.ModelAdmin):
    list_display = (
        "account",
        "date",
        "licenses_active",
        "licenses_purchased",
        "availability_pct",
        "open_support_cases",
    )
    search_fields = ("account__name",)
    list_select_related = ("account",)
    raw_id_fields = ("account",)
    date_hierarchy = "date"


# --- Health (issue #4) ----------------------------------------------------------------------


# HealthModel is administered in health/admin.py: its form dry-runs a change with the scoring.


@admin.register(HealthComponent)
class HealthComponentAdmin(SimpleHistoryAdmin):
    list_display = ("model", "kind", "weight", "worst", "best")
    list_filter = ("model", "kind")
    list_select_related = ("model",)


# HealthScore is not in the admin: Django 5.2's admin cannot register a model keyed by (account, day),
# and scores come from the nightly recalculation only (pages, the API and the explain view read them).


@admin.register(HealthCheck)
class HealthCheckAdmin(admin.ModelAdmin):
    list_display = ("account", "kind", "held_on", "sentiment", "by")
    list_filter = ("kind", "sentiment")
    search_fields = ("account__name", "notes")
    list_select_related = ("account", "by")
    raw_id_fields = ("account",)
    date_hierarchy = "held_on"
