from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from accounts.models import Program

from .models import (
    ChecklistTemplateItem,
    EntitlementUse,
    Handoff,
    PlaybookRule,
    PlaybookRun,
    SuccessPlanTemplateObjective,
    Task,
)


class ChecklistTemplateItemInline(admin.TabularInline):
    model = ChecklistTemplateItem
    extra = 1
    fields = ("position", "title", "owner_role", "due_offset_days")
    verbose_name = "onboarding checklist item"


class SuccessPlanTemplateObjectiveInline(admin.TabularInline):
    model = SuccessPlanTemplateObjective
    extra = 1
    fields = ("position", "title", "milestone_title", "metric", "target", "due_offset_days", "is_adoption")
    verbose_name = "success plan objective"


class PlaybookRuleInline(admin.TabularInline):
    model = PlaybookRule
    extra = 0
    fields = ("name", "trigger", "parameter", "task_title", "assignee_role", "due_in_days", "enabled")
    show_change_link = True
    verbose_name = "playbook rule for this program only"


@admin.register(Program)
class ProgramAdmin(SimpleHistoryAdmin):
    """One object ties the program together: entitlements, cadences, checklist, plan template, rules."""

    list_display = ("name", "support_level", "renewal_notice_lead_days", "touch_cadence_days", "is_active")
    list_filter = ("support_level", "is_active")
    search_fields = ("name",)
    fieldsets = (
        (None, {"fields": ("name", "description", "is_active")}),
        ("Entitlements", {"fields": ("business_reviews_per_year", "training_seats", "success_hours", "support_level")}),
        ("Cadences", {"fields": ("health_check_cadence_days", "touch_cadence_days")}),
        (
            "Renewal notices",
            {
                "fields": ("renewal_notice_lead_days", "renewal_grace_days"),
                "description": "The notice schedule and email templates are configured under Renewals. A contract"
                " past its end without an outcome is overdue, and lapses (churn) after the grace period.",
            },
        ),
    )
    inlines = (ChecklistTemplateItemInline, SuccessPlanTemplateObjectiveInline, PlaybookRuleInline)


@admin.action(description="Dry run: show what the rule would create today")
def dry_run(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet) -> HttpResponse:
    return redirect("playbooks:playbook-rule-dry-run", pk=queryset.order_by("pk")[0].pk)


@admin.register(PlaybookRule)
class PlaybookRuleAdmin(SimpleHistoryAdmin):
    list_display = (
        "name",
        "trigger",
        "parameter",
        "program",
        "assignee_role",
        "due_in_days",
        "enabled",
        "dry_run_link",
    )
    list_filter = ("enabled", "trigger", "program")
    list_editable = ("enabled",)
    search_fields = ("name", "task_title")
    actions = (dry_run,)
    fieldsets = (
        (None, {"fields": ("name", "enabled", "program")}),
        ("When", {"fields": ("trigger", "parameter", "retrigger_delay_days")}),
        ("Then open a task", {"fields": ("task_title", "task_description", "assignee_role", "due_in_days")}),
    )

    @admin.display(description="Dry run")
    def dry_run_link(self, rule: PlaybookRule) -> str:
        return format_html(
            '<a href="{}">what it would create today</a>', reverse("playbooks:playbook-rule-dry-run", args=[rule.pk])
        )


@admin.register(PlaybookRun)
class PlaybookRunAdmin(admin.ModelAdmin):
    list_display = ("rule", "account", "fired_on", "status", "closed_on", "reason")
    list_filter = ("status", "rule")
    search_fields = ("account__name",)
    raw_id_fields = ("account",)
    list_select_related = ("rule", "account")


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ("title", "account", "assignee", "due_on", "status", "source", "rule")
    list_filter = ("status", "source", "rule")
    search_fields = ("title", "account__name", "key")
    raw_id_fields = ("account",)
    list_select_related = ("account", "assignee", "rule")


@admin.register(Handoff)
class HandoffAdmin(admin.ModelAdmin):
    list_display = ("deal_id", "account", "created_at", "updated_at")
    search_fields = ("deal_id", "account__name")
    raw_id_fields = ("account", "contract")


@admin.register(EntitlementUse)
class EntitlementUseAdmin(admin.ModelAdmin):
    list_display = ("account", "kind", "quantity", "used_on", "by")
    list_filter = ("kind",)
    search_fields = ("account__name",)
    raw_id_fields = ("account",)
