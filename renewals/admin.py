from django.contrib import admin
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from . import emails
from .forms import NoticeScheduleForm, NoticeTemplateForm
from .models import Contract, NoticeSchedule, NoticeTemplate, ReasonCode, Renewal, RenewalNotice, RevenueEntry


@admin.register(Contract)
class ContractAdmin(SimpleHistoryAdmin):
    list_display = ("account", "program", "starts_on", "ends_on", "recurring_amount", "currency", "status")
    list_filter = ("status", "program", "currency", "auto_renew")
    search_fields = ("account__name", "account__external_id")
    list_select_related = ("account", "program")
    raw_id_fields = ("account", "previous")
    date_hierarchy = "ends_on"

    # Terms and amounts are revenue events: a new term, an amount change or a lost renewal goes
    # through renewals/services/ (the contract page, the API or the import) so the ledger and
    # the renewal row follow. Admin corrects dates, currency, auto-renew and program only.
    def get_readonly_fields(self, request: HttpRequest, obj: Contract | None = None) -> tuple:
        return ("account", "recurring_amount", "status", "previous") if obj is not None else ()

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


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

    # The ledger is written by renewals/services/ only; admin reads it.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: RevenueEntry | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: RevenueEntry | None = None) -> bool:
        return False


@admin.register(Renewal)
class RenewalAdmin(SimpleHistoryAdmin):
    list_display = ("contract", "stage", "owner", "forecast_amount", "probability", "contact_coverage", "closed_on")
    list_filter = ("stage", "contact_coverage", "reason")
    search_fields = ("contract__account__name",)
    raw_id_fields = ("contract", "owner")
    list_select_related = ("contract__account", "owner")


@admin.register(NoticeSchedule)
class NoticeScheduleAdmin(SimpleHistoryAdmin):
    form = NoticeScheduleForm
    list_display = ("__str__", "follow_up_days", "is_active")


@admin.register(NoticeTemplate)
class NoticeTemplateAdmin(SimpleHistoryAdmin):
    form = NoticeTemplateForm
    list_display = ("__str__", "subject", "updated_at")

    def get_changeform_initial_data(self, request: HttpRequest) -> dict:
        # A new template starts from the built-in one, so an admin edits rather than writes.
        sources = emails.builtin_sources()
        return {"subject": sources.subject, "text_body": sources.text_body, "html_body": sources.html_body}


@admin.register(RenewalNotice)
class RenewalNoticeAdmin(admin.ModelAdmin):
    list_display = ("email", "contract", "cycle", "status", "scheduled_on", "attempts", "sent_at")
    list_filter = ("status", "cycle", "scheduled_on")
    search_fields = ("email", "contract__account__name")
    raw_id_fields = ("contract", "renewal", "contact")
    readonly_fields = ("claimed_at", "handed_over_at", "enqueued_at", "sent_at", "attempts", "last_error")
