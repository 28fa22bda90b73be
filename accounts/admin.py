from django.contrib import admin

from .models import Account, Contact, Team, Touchpoint, UsageSnapshot


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "manager")
    filter_horizontal = ("members",)
    search_fields = ("name",)


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0
    fields = ("name", "email", "title", "is_primary", "is_decision_maker", "is_renewal", "is_billing", "left_on")
    show_change_link = True


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ("name", "external_id", "segment", "owner", "program", "lifecycle_stage")
    list_filter = ("segment", "lifecycle_stage", "program", "owner")
    search_fields = ("name", "external_id")
    list_select_related = ("owner", "program")
    autocomplete_fields = ("owner",)
    inlines = [ContactInline]


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ("name", "email", "account", "title", "is_primary", "left_on", "email_opt_out")
    list_filter = ("is_decision_maker", "is_renewal", "is_billing", "is_primary", "email_opt_out")
    search_fields = ("name", "email", "account__name")
    list_select_related = ("account",)
    raw_id_fields = ("account", "successor")


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
