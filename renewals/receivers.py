"""Renewals reacts to mail providers' tracking events (django-anymail's webhooks)."""

import json

from anymail.signals import AnymailTrackingEvent, tracking
from django.dispatch import receiver
from django.utils import timezone

from . import delivery

# Postmark reports soft bounces as bounces; the address still works, so they only defer.
SOFT_TYPES = {"SoftBounce", "Transient", "DnsError"}


def _payload(esp_event: object) -> dict:
    if isinstance(esp_event, dict):
        return json.loads(json.dumps(esp_event, default=str))
    return {"raw": str(esp_event)[:5000]}


@receiver(tracking, dispatch_uid="renewals.tracking")
def on_tracking_event(sender: object, event: AnymailTrackingEvent, esp_name: str, **kwargs: object) -> None:
    # Errors propagate on purpose: anymail then answers 5xx and the provider redelivers later,
    # and the (provider, event id) key makes the redelivery land once.
    payload = _payload(event.esp_event)
    event_type = event.event_type
    if event_type == "bounced" and payload.get("Type") in SOFT_TYPES:
        event_type = "deferred"
    delivery.record_delivery_event(
        provider=esp_name.lower(),
        event_id=event.event_id,
        event_type=event_type,
        message_id=event.message_id,
        recipient=event.recipient or "",
        occurred_at=event.timestamp,
        description=event.description or event.mta_response or "",
        payload=payload,
        now=timezone.now(),
    )
