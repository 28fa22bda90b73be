from django.contrib import admin

from .models import ImportJob, JobRun, WebhookDelivery, WebhookEndpoint


@admin.register(JobRun)
class JobRunAdmin(admin.ModelAdmin):
    list_display = ("job", "day", "status", "started_at", "finished_at")
    list_filter = ("job", "status")
    date_hierarchy = "day"
    readonly_fields = ("job", "day", "status", "started_at", "finished_at", "detail")


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ("url", "events", "active", "created_at")
    list_filter = ("active",)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ("event", "event_id", "endpoint", "status", "attempts", "next_attempt_at", "last_error")
    list_filter = ("status", "event")
    readonly_fields = (
        "endpoint",
        "event",
        "event_id",
        "payload",
        "attempts",
        "claimed_at",
        "delivered_at",
        "last_error",
        "created_at",
    )


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ("file_name", "kind", "created_by", "status", "total_rows", "created_at")
    list_filter = ("kind", "status")
    exclude = ("content",)
