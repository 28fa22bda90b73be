from datetime import datetime

from django.db import models


class WebhookEndpoint(models.Model):
    """A URL that receives signed event notifications (health band and renewal stage changes)."""

    class Event(models.TextChoices):
        HEALTH_BAND_CHANGED = "health.band_changed", "Health band changed"
        RENEWAL_STAGE_CHANGED = "renewal.stage_changed", "Renewal stage changed"

    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=200, help_text="Shared secret for the X-CSM-Signature HMAC-SHA256 header.")
    events = models.JSONField(default=list, blank=True, help_text="Event names to send; empty sends every event.")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["url"]

    def __str__(self) -> str:
        return self.url

    def wants(self, event: str) -> bool:
        return not self.events or event in self.events


class WebhookDeliveryQuerySet(models.QuerySet):
    def due(self, *, now: datetime) -> "WebhookDeliveryQuerySet":
        return self.filter(status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now)


class WebhookDelivery(models.Model):
    """The outbox: one row per endpoint and event, claimed before each attempt."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=50)
    event_id = models.CharField(max_length=200)
    payload = models.JSONField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = WebhookDeliveryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event_id"], name="webhook_delivery_once_per_event"),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due_idx")]

    def __str__(self) -> str:
        return f"{self.event} {self.event_id} to {self.endpoint} ({self.status})"
