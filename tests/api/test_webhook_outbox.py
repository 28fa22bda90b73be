"""Signal receivers add outbox rows after commit: once per endpoint and event, never on rollback."""

from datetime import date

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from accounts.signals import health_bands_changed
from health.nightly import BandChange
from renewals.models import Renewal
from renewals.signals import renewal_stage_changed
from tests.factories import ContractFactory, RenewalFactory
from webhooks.models import WebhookDelivery, WebhookEndpoint

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
    change = BandChange(account_id=account.pk, external_id=account.external_id, name=account.name, old_band="green",
                        new_band="red", old_score=80, new_score=35)  # fmt: skip
    health_bands_changed.send(sender=None, day=date(2026, 3, 1), changes=[change])


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
    renewal = RenewalFactory(contract=ContractFactory(account=acme), stage="committed")
    with django_capture_on_commit_callbacks(execute=True):
        renewal_stage_changed.send(sender=Renewal, renewal=renewal, old_stage="in_discussion", new_stage="committed",
                                   by=None)  # fmt: skip
    rows = WebhookDelivery.objects.all()
    assert sorted(row.endpoint.url for row in rows) == sorted([endpoints["all"].url, endpoints["renewals"].url])
    assert rows[0].payload["data"]["new_stage"] == "committed"
    assert rows[0].event == "renewal.stage_changed"


def test_a_night_of_band_changes_is_queued_in_a_few_statements(endpoints, django_capture_on_commit_callbacks) -> None:
    changes = [
        BandChange(account_id=n, external_id=f"X-{n}", name=f"Account {n}", old_band="green", new_band="yellow",
                   old_score=70, new_score=60)
        for n in range(1, 1201)
    ]  # fmt: skip
    with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks(execute=True):
        health_bands_changed.send(sender=None, day=date(2026, 3, 1), changes=changes)
    # Two interested endpoints: 2,400 rows from one endpoint query and an insert per batch of rows
    # (1,000, or fewer where the database limits the parameters of one statement, as SQLite does).
    assert WebhookDelivery.objects.count() == 2400
    fields = [f for f in WebhookDelivery._meta.concrete_fields if not f.primary_key]
    batch = min(1000, connection.ops.bulk_batch_size(fields, [None] * 2400))
    assert len(queries) <= 1 + -(-2400 // batch) + 2  # endpoints, the inserts, a savepoint pair


def test_band_changes_with_no_interested_endpoint_cost_one_query(django_capture_on_commit_callbacks) -> None:
    WebhookEndpoint.objects.create(url="http://127.0.0.1:9/r", secret="s", events=["renewal.stage_changed"])
    change = BandChange(account_id=1, external_id="X", name="X", old_band="green", new_band="red", old_score=80,
                        new_score=30)  # fmt: skip
    with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks(execute=True):
        health_bands_changed.send(sender=None, day=date(2026, 3, 1), changes=[change] * 500)
    assert not WebhookDelivery.objects.exists()
    assert len(queries) == 1
