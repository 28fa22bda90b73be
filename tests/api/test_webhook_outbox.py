"""Signal receivers add outbox rows after commit: once per endpoint and event, never on rollback."""

from datetime import date

import pytest
from django.db import transaction

from accounts.signals import health_band_changed
from csm.models import WebhookDelivery, WebhookEndpoint
from renewals.models import Renewal
from renewals.signals import renewal_stage_changed
from tests.factories import ContractFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def endpoints():
    return {
        "all": WebhookEndpoint.objects.create(url="http://127.0.0.1:9/all", secret="s1"),
        "health": WebhookEndpoint.objects.create(
            url="http://127.0.0.1:9/h", secret="s2", events=["health.band_changed"]
        ),
        "renewals": WebhookEndpoint.objects.create(url="http://127.0.0.1:9/r", secret="s3",
                                                    events=["renewal.stage_changed"]),
        "off": WebhookEndpoint.objects.create(url="http://127.0.0.1:9/off", secret="s4", active=False),
    }  # fmt: skip


def band_change(account) -> None:
    health_band_changed.send(sender=None, account=account, day=date(2026, 3, 1), old_band="green", new_band="red",
                             old_score=80, new_score=35)  # fmt: skip


def test_a_band_change_queues_one_delivery_per_interested_endpoint(
    acme, endpoints, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        band_change(acme)
        band_change(acme)  # the same event twice: still one row per endpoint
    rows = WebhookDelivery.objects.order_by("endpoint__url")
    assert [row.endpoint.url for row in rows] == [endpoints["all"].url, endpoints["health"].url]
    assert rows[0].payload["data"]["new_band"] == "red"
    assert rows[0].payload["data"]["account"]["external_id"] == "ACME"
    assert {row.status for row in rows} == {"pending"}


def test_nothing_is_queued_when_the_change_rolls_back(acme, endpoints, django_capture_on_commit_callbacks) -> None:
    def failing_health_run() -> None:
        with transaction.atomic():
            band_change(acme)
            raise RuntimeError("the health run failed")

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        failing_health_run()
    assert not WebhookDelivery.objects.exists()


def test_a_renewal_stage_change_goes_to_renewal_subscribers(
    acme, endpoints, django_capture_on_commit_callbacks
) -> None:
    renewal = Renewal.objects.create(contract=ContractFactory(account=acme), stage="committed")
    with django_capture_on_commit_callbacks(execute=True):
        renewal_stage_changed.send(sender=Renewal, renewal=renewal, old_stage="in_discussion", new_stage="committed",
                                   by=None)  # fmt: skip
    rows = WebhookDelivery.objects.all()
    assert sorted(row.endpoint.url for row in rows) == sorted([endpoints["all"].url, endpoints["renewals"].url])
    assert rows[0].payload["data"]["new_stage"] == "committed"
    assert rows[0].event == "renewal.stage_changed"
