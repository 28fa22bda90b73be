"""A real worker: the sweeper enqueues the outbox row, the worker posts it to a local server."""

import time

import pytest
from django.utils import timezone

from webhooks import services as webhooks
from webhooks import tasks
from webhooks.models import WebhookDelivery, WebhookEndpoint

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_the_worker_delivers_what_the_sweeper_enqueues(celery_worker, receiver) -> None:
    WebhookEndpoint.objects.create(url=receiver.url, secret="shh")
    webhooks.queue_event(event="renewal.stage_changed", event_id="renewal:1:a>b", payload={"x": 1}, now=timezone.now())
    assert tasks.sweep_webhooks() == 1
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and WebhookDelivery.objects.get().status != "delivered":
        time.sleep(0.3)
    if WebhookDelivery.objects.get().status != "delivered":
        print(celery_worker.output())
    assert WebhookDelivery.objects.get().status == "delivered"
    assert len(receiver.requests) == 1
    # Nothing left to enqueue: the next sweep sends nothing more.
    assert tasks.sweep_webhooks() == 0
