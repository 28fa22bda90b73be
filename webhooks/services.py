"""Outbound webhooks: signed POSTs for health band changes and renewal stage changes.

The ``WebhookDelivery`` table is the outbox. Signal receivers add rows once the sender's
transaction commits (one per endpoint and event id, so a repeated signal adds nothing);
they never touch the broker. A beat task (``sweep_webhooks``) enqueues due rows; the
delivery task claims a row (pending → sending) before it sends, so two workers never both
post it, and on failure puts it back to pending with a later ``next_attempt_at``.

Each request carries ``X-CSM-Event``, ``X-CSM-Event-Id`` (receivers dedupe on it: delivery is
at least once) and ``X-CSM-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">``.
"""

import hashlib
import hmac
import json
import logging
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from renewals.models import Renewal

from .models import WebhookDelivery, WebhookEndpoint

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 5
MAX_ATTEMPTS = 8
# Back-off after attempt n: 1, 2, 4 … minutes, capped at 2 hours (well inside the broker's visibility window).
BACKOFF_BASE = timedelta(minutes=1)
BACKOFF_CAP = timedelta(hours=2)
# A row left in "sending" this long lost its worker mid-send; it goes back to pending.
STUCK_AFTER = timedelta(minutes=10)
HEALTH_EVENT = WebhookEndpoint.Event.HEALTH_BAND_CHANGED
RENEWAL_EVENT = WebhookEndpoint.Event.RENEWAL_STAGE_CHANGED


def sign(secret: str, body: bytes, timestamp: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: str, body: bytes, header: str, *, now: datetime, tolerance: int = 300) -> bool:
    """What a receiver does: recompute the signature and refuse old timestamps (replays)."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(now.timestamp() - timestamp) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, body, timestamp), header)


def backoff(attempts: int) -> timedelta:
    return min(BACKOFF_BASE * 2 ** max(attempts - 1, 0), BACKOFF_CAP)


def queue_events(*, event: str, items: list[tuple[str, dict]], now: datetime) -> int:
    """Add one outbox row per active endpoint that wants ``event`` and per (event id, payload) item;
    a repeated event id adds none. One query for the endpoints and one insert per 1,000 rows."""
    endpoints = [endpoint for endpoint in WebhookEndpoint.objects.filter(active=True) if endpoint.wants(event)]
    if not endpoints:
        return 0
    rows = []
    for event_id, payload in items:
        body = json.loads(json.dumps({"event": event, "id": event_id, "data": payload}, cls=DjangoJSONEncoder))
        rows += [
            WebhookDelivery(endpoint=endpoint, event=event, event_id=event_id, payload=body, next_attempt_at=now)
            for endpoint in endpoints
        ]
    WebhookDelivery.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
    return len(rows)


def queue_event(*, event: str, event_id: str, payload: dict, now: datetime) -> int:
    """``queue_events`` for one event."""
    return queue_events(event=event, items=[(event_id, payload)], now=now)


def queue_on_commit(*, event: str, items: list[tuple[str, dict]]) -> None:
    """Add the outbox rows once the sender's transaction commits; a rollback sends nothing."""

    def add_rows() -> None:
        try:
            queue_events(event=event, items=items, now=timezone.now())
        except Exception:  # Receivers must not raise (accounts/signals.py): log and let the sender go on.
            log.exception("Could not queue %d webhook event(s) %s", len(items), event)

    transaction.on_commit(add_rows)


def on_health_bands_changed(sender: object, *, day: object, changes: list, **kwargs: Any) -> None:
    queue_on_commit(
        event=HEALTH_EVENT,
        items=[
            (
                f"health:{change.account_id}:{day}:{change.new_band}",
                {
                    "account": {"id": change.account_id, "external_id": change.external_id, "name": change.name},
                    "day": day,
                    "old_band": change.old_band,
                    "new_band": change.new_band,
                    "old_score": change.old_score,
                    "new_score": change.new_score,
                },
            )
            for change in changes
        ],
    )


def on_renewal_stage_changed(
    sender: object, *, renewal: Renewal, old_stage: str, new_stage: str, **kwargs: Any
) -> None:
    on_renewal_stages_changed(sender, changes=[(renewal, old_stage, new_stage)])


def on_renewal_stages_changed(sender: object, *, changes: list[tuple[Renewal, str, str]], **kwargs: Any) -> None:
    items = []
    for renewal, old_stage, new_stage in changes:
        contract = renewal.contract
        changed_at = renewal.updated_at or timezone.now()
        event_id = f"renewal:{renewal.pk}:{old_stage}>{new_stage}:{changed_at.isoformat()}"
        payload = {
            "renewal": {"id": renewal.pk, "contract_id": contract.pk, "ends_on": contract.ends_on},
            "account": {"id": contract.account_id, "external_id": contract.account.external_id},
            "old_stage": old_stage,
            "new_stage": new_stage,
        }
        items.append((event_id, payload))
    queue_on_commit(event=RENEWAL_EVENT, items=items)


def due_deliveries(*, now: datetime) -> list[int]:
    """Ids to enqueue now; rows stuck in "sending" past STUCK_AFTER are put back first."""
    WebhookDelivery.objects.filter(status=WebhookDelivery.Status.SENDING, claimed_at__lt=now - STUCK_AFTER).update(
        status=WebhookDelivery.Status.PENDING, next_attempt_at=now
    )
    return list(WebhookDelivery.objects.due(now=now).order_by("next_attempt_at").values_list("pk", flat=True)[:500])


def post(url: str, body: bytes, headers: dict) -> int:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 (admin-set http(s) URL)
    with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
        return response.status


def deliver(delivery_id: int, *, now: datetime) -> str:
    """Claim the row, POST it, record the outcome. Returns the row's new status, or "" if not ours."""
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id, status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now
    ).update(status=WebhookDelivery.Status.SENDING, attempts=F("attempts") + 1, claimed_at=now)
    if not claimed:
        return ""  # another worker has it, or it is already delivered, or not due yet
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "csm-webhooks/1",
        "X-CSM-Event": delivery.event,
        "X-CSM-Event-Id": delivery.event_id,
        "X-CSM-Signature": sign(delivery.endpoint.secret, body, int(now.timestamp())),
    }
    try:
        status_code = post(delivery.endpoint.url, body, headers)
        error = "" if 200 <= status_code < 300 else f"HTTP {status_code}"
    except urllib.error.HTTPError as exc:
        error = f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        error = f"{type(exc).__name__}: {exc}"[:500]
    if not error:
        WebhookDelivery.objects.filter(pk=delivery_id).update(
            status=WebhookDelivery.Status.DELIVERED, delivered_at=now, last_error=""
        )
        return WebhookDelivery.Status.DELIVERED
    if delivery.attempts >= MAX_ATTEMPTS:
        new_status, next_at = WebhookDelivery.Status.FAILED, now
    else:
        new_status, next_at = WebhookDelivery.Status.PENDING, now + backoff(delivery.attempts)
    WebhookDelivery.objects.filter(pk=delivery_id).update(status=new_status, next_attempt_at=next_at, last_error=error)
    log.warning(
        "Webhook %s to %s failed (attempt %s): %s", delivery.event_id, delivery.endpoint.url, delivery.attempts, error
    )
    return new_status
