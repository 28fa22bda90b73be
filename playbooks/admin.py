from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from accounts.models import HealthModel, Program
from renewals.models import NoticeSchedule, NoticeTemplate

from . import programs
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
                "description": "A contract past its end without an outcome is overdue, and lapses (churn) after"
                " the grace period.",
            },
        ),
        ("Set-up", {"fields": ("set_up",), "description": "What else this program uses, one click away."}),
    )
    readonly_fields = ("set_up",)
    inlines = (ChecklistTemplateItemInline, SuccessPlanTemplateObjectiveInline, PlaybookRuleInline)
    actions = ("copy_programs",)

    @admin.display(description="Health model, notice schedule and email")
    def set_up(self, program: Program) -> str:
        if program.pk is None:
            return "Save the program first; then add its health model, notice schedule and email here."

        def link(model: Any, label: str, fallback: str) -> str:
            found = model.objects.filter(program=program).first()
            meta = model._meta
            if found is not None:
                url = reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[found.pk])
                return format_html('<a href="{}">{}</a>', url, label)
            url = reverse(f"admin:{meta.app_label}_{meta.model_name}_add") + f"?program={program.pk}"
            return format_html('{} · <a href="{}">add one for this program</a>', fallback, url)

        preview = reverse("admin:renewals_noticetemplate_preview") + f"?program={program.pk}"
        return format_html(
            '<ul><li>{}</li><li>{}</li><li>{} · <a href="{}">preview the notice email for a contract</a></li></ul>',
            link(HealthModel, "Health model (its own)", "Scored by the default health model"),
            link(NoticeSchedule, "Notice schedule (its own)", "Follows the default notice schedule"),
            link(NoticeTemplate, "Notice email template (its own)", "Uses the default notice email"),
            preview,
        )

    @admin.action(description="Copy program (checklist, plan template, schedule, email, health model, rules)")
    def copy_programs(self, request: HttpRequest, queryset: QuerySet[Program]) -> None:
        for program in queryset.order_by("name"):
            try:
                copy = programs.copy_program(program=program, by=request.user)  # type: ignore[arg-type]
            except ValidationError as exc:
                self.message_user(request, f"{program}: {' '.join(exc.messages)}", messages.ERROR)
                continue
            url = reverse("admin:accounts_program_change", args=[copy.pk])
            self.message_user(
                request,
                format_html('Copied {} as <a href="{}">{}</a> (inactive until you switch it on).', program, url, copy),
                messages.SUCCESS,
            )


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
