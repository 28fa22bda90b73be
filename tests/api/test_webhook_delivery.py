"""Delivery: signed, claimed before sending, retried with back-off, given up after MAX_ATTEMPTS."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from webhooks import services as webhooks
from webhooks.models import WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def queued(url: str) -> WebhookDelivery:
    endpoint = WebhookEndpoint.objects.create(url=url, secret="shh")
    webhooks.queue_event(event="health.band_changed", event_id="health:1:2026-03-01:red", payload={"n": 1}, now=NOW)
    return WebhookDelivery.objects.get(endpoint=endpoint)


def test_a_delivery_is_signed_with_the_endpoint_secret(receiver) -> None:
    delivery = queued(receiver.url)
    assert webhooks.deliver(delivery.pk, now=NOW) == "delivered"
    (request,) = receiver.requests
    headers = {key.lower(): value for key, value in request["headers"].items()}
    assert headers["x-csm-event-id"] == "health:1:2026-03-01:red"
    assert webhooks.verify("shh", request["body"], headers["x-csm-signature"], now=NOW)
    assert not webhooks.verify("wrong", request["body"], headers["x-csm-signature"], now=NOW)
    assert not webhooks.verify("shh", request["body"] + b" ", headers["x-csm-signature"], now=NOW)
    assert not webhooks.verify("shh", request["body"], headers["x-csm-signature"], now=NOW + timedelta(hours=1))
    assert json.loads(request["body"])["data"] == {"n": 1}
    assert WebhookDelivery.objects.get(pk=delivery.pk).status == "delivered"


def test_a_failed_attempt_is_retried_later_with_back_off(receiver) -> None:
    receiver.statuses = [500, 503]
    delivery = queued(receiver.url)
    assert webhooks.deliver(delivery.pk, now=NOW) == "pending"
    row = WebhookDelivery.objects.get(pk=delivery.pk)
    assert (row.attempts, row.next_attempt_at, row.last_error) == (1, NOW + timedelta(minutes=1), "HTTP 500")
    # Not due yet: nobody claims it.
    assert webhooks.deliver(delivery.pk, now=NOW + timedelta(seconds=30)) == ""
    assert webhooks.deliver(delivery.pk, now=NOW + timedelta(minutes=1)) == "pending"
    assert WebhookDelivery.objects.get(pk=delivery.pk).next_attempt_at == NOW + timedelta(minutes=3)
    assert webhooks.deliver(delivery.pk, now=NOW + timedelta(minutes=3)) == "delivered"
    assert len(receiver.requests) == 3


def test_after_the_last_attempt_the_delivery_fails_for_good(receiver) -> None:
    receiver.statuses = [500] * webhooks.MAX_ATTEMPTS
    delivery = queued(receiver.url)
    when = NOW
    for _ in range(webhooks.MAX_ATTEMPTS):
        webhooks.deliver(delivery.pk, now=when)
        when = WebhookDelivery.objects.get(pk=delivery.pk).next_attempt_at
    row = WebhookDelivery.objects.get(pk=delivery.pk)
    assert (row.status, row.attempts) == ("failed", webhooks.MAX_ATTEMPTS)
    assert webhooks.deliver(delivery.pk, now=when + timedelta(days=1)) == ""


def test_a_row_another_worker_claimed_is_not_sent_twice(receiver) -> None:
    delivery = queued(receiver.url)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status="sending", claimed_at=NOW)
    assert webhooks.deliver(delivery.pk, now=NOW) == ""
    assert receiver.requests == []
    # Only when it has been stuck a long while does the sweeper put it back.
    assert webhooks.due_deliveries(now=NOW + timedelta(minutes=5)) == []
    assert webhooks.due_deliveries(now=NOW + timedelta(minutes=11)) == [delivery.pk]


def test_an_unreachable_endpoint_is_a_retry_not_a_crash() -> None:
    delivery = queued("http://127.0.0.1:9/closed-port")
    assert webhooks.deliver(delivery.pk, now=NOW) == "pending"
    assert "URLError" in WebhookDelivery.objects.get(pk=delivery.pk).last_error
