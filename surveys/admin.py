from django.contrib import admin

from .models import Survey, SurveyInvite, SurveyResponse, SurveySettings


@admin.register(SurveySettings)
class SurveySettingsAdmin(admin.ModelAdmin):
    list_display = (
        "__str__",
        "nps_every_months",
        "nps_to_decision_makers",
        "nps_to_champions",
        "csat_after_onboarding",
        "csat_support_load",
        "exit_when_lost",
        "link_days",
    )


@admin.register(Survey)
class SurveyAdmin(admin.ModelAdmin):
    list_display = ("account", "kind", "occasion", "created_on")
    list_filter = ("kind",)
    raw_id_fields = ("account", "renewal")


@admin.register(SurveyInvite)
class SurveyInviteAdmin(admin.ModelAdmin):
    list_display = ("survey", "email", "status", "sent_at")
    list_filter = ("status",)
    raw_id_fields = ("survey", "contact")


@admin.register(SurveyResponse)
class SurveyResponseAdmin(admin.ModelAdmin):
    list_display = ("account", "contact", "kind", "score", "reason", "answered_at")
    list_filter = ("kind",)
    raw_id_fields = ("invite", "account", "contact")
