from django.contrib import admin

from .models import WebhookDelivery, WebhookEndpoint


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
