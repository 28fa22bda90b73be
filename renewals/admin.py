from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Contract, ReasonCode, RevenueEntry


@admin.register(Contract)
class ContractAdmin(SimpleHistoryAdmin):
    list_display = ("account", "program", "starts_on", "ends_on", "recurring_amount", "currency", "status")
    list_filter = ("status", "program", "currency", "auto_renew")
    search_fields = ("account__name", "account__external_id")
    list_select_related = ("account", "program")
    raw_id_fields = ("account", "previous")
    date_hierarchy = "ends_on"


@admin.register(ReasonCode)
class ReasonCodeAdmin(SimpleHistoryAdmin):
    list_display = ("label", "code", "applies_to", "is_active")
    list_filter = ("applies_to", "is_active")


@admin.register(RevenueEntry)
class RevenueEntryAdmin(admin.ModelAdmin):
    list_display = ("account", "kind", "amount", "currency", "effective_on", "reason")
    list_filter = ("kind", "currency")
    raw_id_fields = ("account", "contract")
    date_hierarchy = "effective_on"
