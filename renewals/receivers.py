"""Renewals reacts to events from outside: mail providers' tracking events (django-anymail's
webhooks), and account changes (the current contract moves with its account's program).

The program move was chosen over asking each time (docs/domain.md): the program's notice lead, schedule, template
and grace period apply to the term running now, not only from the next one. The renewal page
says so.
"""

import json
from typing import Any

from anymail.signals import AnymailTrackingEvent, tracking
from django.db.models.signals import post_init, post_save
from django.dispatch import receiver
from django.utils import timezone

from accounts.models import Account

from . import delivery
from .models import Contract

# Postmark reports soft bounces as bounces; the address still works, so they only defer.
SOFT_TYPES = {"SoftBounce", "Transient", "DnsError"}


def _payload(esp_event: object) -> dict:
    if isinstance(esp_event, dict):
        return json.loads(json.dumps(esp_event, default=str))
    return {"raw": str(esp_event)[:5000]}


@receiver(tracking, dispatch_uid="renewals.tracking")
def on_tracking_event(sender: object, event: AnymailTrackingEvent, esp_name: str, **kwargs: Any) -> None:
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


_UNKNOWN = object()


@receiver(post_init, sender=Account, dispatch_uid="renewals.account_program_loaded")
def remember_program(sender: type, instance: Account, **kwargs: Any) -> None:
    # Read from the loaded row without a query (a deferred program_id stays unknown).
    instance._loaded_program_id = instance.__dict__.get("program_id", _UNKNOWN)  # type: ignore[attr-defined]


@receiver(post_save, sender=Account, dispatch_uid="renewals.account_program_after")
def carry_contract_program(sender: type, instance: Account, created: bool = False, **kwargs: Any) -> None:
    loaded = getattr(instance, "_loaded_program_id", _UNKNOWN)
    current = instance.__dict__.get("program_id", _UNKNOWN)
    instance._loaded_program_id = current  # type: ignore[attr-defined]  # the next save compares with this
    if created or kwargs.get("raw") or current is _UNKNOWN or loaded == current:
        return
    Contract.objects.filter(account=instance, status=Contract.Status.ACTIVE).exclude(program_id=current).update(
        program_id=current
    )
