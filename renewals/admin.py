from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Contract


@admin.register(Contract)
class ContractAdmin(SimpleHistoryAdmin):
    list_display = ("account", "program", "starts_on", "ends_on", "recurring_amount", "currency", "status")
    list_filter = ("status", "program", "currency", "auto_renew")
    search_fields = ("account__name", "account__external_id")
    list_select_related = ("account", "program")
    raw_id_fields = ("account", "previous")
    date_hierarchy = "ends_on"
