from datetime import UTC, date, datetime, timedelta

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Account, HealthScore, UsageSnapshot
from csm.models import JobRun, OpsAlert
from renewals.models import Renewal, RenewalNotice
from retention import services
from retention.policies import history_models
from retention.tasks import prune_old_rows
from tests.factories import AccountFactory, ContractFactory, UsageSnapshotFactory
from webhooks.models import WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db

TODAY = date(2026, 6, 1)
NOW = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)


def _scores(account: Account, days: list[date], parts: list | None = None) -> None:
    HealthScore.objects.bulk_create(
        HealthScore(account=account, day=d, score=70, band="green", parts=parts or [1.0, 2.0]) for d in days
    )


def test_rows_older_than_the_window_go_and_newer_ones_stay(acme, settings) -> None:
    settings.RETENTION_DAYS = {**settings.RETENTION_DAYS, "usage_snapshots": 30, "health_scores": 30}
    old, kept = TODAY - timedelta(days=31), TODAY - timedelta(days=30)
    UsageSnapshotFactory(account=acme, date=old)
    UsageSnapshotFactory(account=acme, date=kept)
    _scores(acme, [old, kept])

    out = services.prune(today=TODAY, now=NOW)

    assert out["usage_snapshots"] == 1
    assert out["health_scores"] == 1
    assert list(UsageSnapshot.objects.values_list("date", flat=True)) == [kept]
    assert list(HealthScore.objects.values_list("day", flat=True)) == [kept]


def test_a_run_deletes_at_most_its_batches_and_the_next_run_continues(acme, settings) -> None:
    settings.RETENTION_DAYS = {**settings.RETENTION_DAYS, "health_scores": 10}
    settings.RETENTION_BATCH_SIZE, settings.RETENTION_MAX_BATCHES = 3, 2
    _scores(acme, [TODAY - timedelta(days=100 + i) for i in range(10)] + [TODAY])

    with CaptureQueriesContext(connection) as first:
        assert services.prune(today=TODAY, now=NOW)["health_scores"] == 6
    deletes = [q["sql"] for q in first.captured_queries if q["sql"].startswith('DELETE FROM "accounts_healthscore"')]
    assert len(deletes) == 2
    assert HealthScore.objects.count() == 5
    assert services.prune(today=TODAY, now=NOW)["health_scores"] == 4
    assert list(HealthScore.objects.values_list("day", flat=True)) == [TODAY]
    # Safe to run again: nothing left to delete, nothing newer touched.
    assert services.prune(today=TODAY, now=NOW)["health_scores"] == 0
    assert HealthScore.objects.count() == 1


def test_old_parts_are_emptied_and_score_band_flags_stay(acme, settings) -> None:
    settings.HEALTH_PARTS_DAYS = 300
    old, recent = TODAY - timedelta(days=301), TODAY - timedelta(days=300)
    _scores(acme, [old, recent], parts=[1.0, None, 3.0])
    HealthScore.objects.filter(day=old).update(flagged=True, band="red", score=20)

    assert services.prune(today=TODAY, now=NOW)["health_parts_thinned"] == 1
    assert services.prune(today=TODAY, now=NOW)["health_parts_thinned"] == 0

    thin = HealthScore.objects.get(day=old)
    assert (thin.parts, thin.score, thin.band, thin.flagged) == (None, 20, "red", True)
    assert (thin.model_id, thin.previous_score, thin.previous_band, thin.score_drop) == (None, None, "", None)
    assert thin.components == {}
    assert HealthScore.objects.get(day=recent).parts == [1.0, None, 3.0]


def test_history_sessions_jobs_and_alerts_past_their_windows_go(alice_contract, settings) -> None:
    settings.RETENTION_DAYS = {**settings.RETENTION_DAYS, "history": 30, "job_runs": 30, "ops_alerts": 30}
    historical = type(alice_contract).history.model
    assert historical in history_models()
    historical.objects.filter(id=alice_contract.id).update(history_date=NOW - timedelta(days=31))
    alice_contract.currency = "EUR"
    alice_contract.save()  # a new version, today
    Session.objects.create(session_key="old", session_data="x", expire_date=NOW - timedelta(seconds=1))
    Session.objects.create(session_key="live", session_data="x", expire_date=NOW + timedelta(days=1))
    JobRun.objects.create(job="x", day=TODAY - timedelta(days=31), status=JobRun.Status.DONE)
    JobRun.objects.create(job="x", day=TODAY - timedelta(days=29), status=JobRun.Status.DONE)
    long_ago = NOW - timedelta(days=40)
    OpsAlert.objects.create(key="a", title="resolved", opened_at=long_ago, resolved_at=long_ago)
    OpsAlert.objects.create(key="b", title="still open", opened_at=long_ago)

    out = services.prune(today=TODAY, now=NOW)

    assert out["history"] >= 1
    assert list(historical.objects.filter(id=alice_contract.id).values_list("currency", flat=True)) == ["EUR"]
    assert list(Session.objects.values_list("session_key", flat=True)) == ["live"]
    assert list(JobRun.objects.values_list("day", flat=True)) == [TODAY - timedelta(days=29)]
    assert list(OpsAlert.objects.values_list("key", flat=True)) == ["b"]


def test_the_daily_job_runs_once_a_day(acme, settings) -> None:
    settings.RETENTION_DAYS = {**settings.RETENTION_DAYS, "usage_snapshots": 1}
    UsageSnapshotFactory(account=acme, date=timezone.localdate() - timedelta(days=5))
    first = prune_old_rows()
    assert first["usage_snapshots"] == 1
    assert prune_old_rows() is None
    assert JobRun.objects.get(job="retention.prune").status == JobRun.Status.DONE


def test_only_finished_cycles_lose_their_notices_and_only_settled_deliveries_go(acme, alice_contract, settings) -> None:
    settings.RETENTION_DAYS = {**settings.RETENTION_DAYS, "renewal_notices": 30, "webhook_deliveries": 30}
    contact = acme.contacts.first()
    running = ContractFactory(account=acme, starts_on=date(2026, 5, 1), ends_on=date(2027, 4, 30))
    sent, failed = RenewalNotice.Status.SENT, RenewalNotice.Status.FAILED
    for contract, cycle, status in [(alice_contract, "first", sent), (alice_contract, "follow-up", failed),
                                    (running, "first", sent)]:  # fmt: skip
        renewal, _ = Renewal.objects.get_or_create(contract=contract)
        RenewalNotice.objects.create(contract=contract, renewal=renewal, contact=contact, cycle=cycle,
                                     email=contact.email, status=status, scheduled_on=date(2026, 3, 1))  # fmt: skip
    endpoint = WebhookEndpoint.objects.create(url="http://127.0.0.1:9/x", secret="s")
    for status in (WebhookDelivery.Status.DELIVERED, WebhookDelivery.Status.PENDING):
        WebhookDelivery.objects.create(endpoint=endpoint, event="e", event_id=status, payload={}, status=status,
                                       next_attempt_at=NOW)  # fmt: skip
    WebhookDelivery.objects.update(created_at=NOW - timedelta(days=31))

    out = services.prune(today=TODAY, now=NOW)

    assert out["renewal_notices"] == 1
    assert set(RenewalNotice.objects.values_list("contract_id", "status")) == {
        (alice_contract.id, failed),
        (running.id, sent),
    }
    assert list(WebhookDelivery.objects.values_list("status", flat=True)) == [WebhookDelivery.Status.PENDING]


def test_the_parts_window_is_the_setting_alone(acme, settings) -> None:
    settings.HEALTH_PARTS_DAYS = 14
    kept, thinned = TODAY - timedelta(days=14), TODAY - timedelta(days=15)
    _scores(acme, [kept, thinned], parts=[1.0])

    services.prune(today=TODAY, now=NOW)

    assert dict(HealthScore.objects.values_list("day", "parts")) == {kept: [1.0], thinned: None}


def test_a_day_is_thinned_in_bounded_account_chunks(settings) -> None:
    settings.HEALTH_PARTS_DAYS, settings.HEALTH_PARTS_CATCHUP_DAYS = 14, 3
    accounts = [AccountFactory(name=f"A{i}") for i in range(5)]
    day = TODAY - timedelta(days=15)
    for account in accounts:
        _scores(account, [day], parts=[1.0])

    assert services.thin_health_parts(today=TODAY, batch=2, max_batches=2) == 4
    assert HealthScore.objects.exclude(parts=None).count() == 1
    assert services.thin_health_parts(today=TODAY, batch=2, max_batches=2) == 1
    assert HealthScore.objects.exclude(parts=None).count() == 0


def test_thinning_looks_back_only_its_catch_up_window(acme, settings) -> None:
    settings.HEALTH_PARTS_DAYS, settings.HEALTH_PARTS_CATCHUP_DAYS = 300, 5
    edge, beyond = TODAY - timedelta(days=305), TODAY - timedelta(days=306)
    _scores(acme, [edge, beyond], parts=[1.0])
    assert services.prune(today=TODAY, now=NOW)["health_parts_thinned"] == 1
    assert dict(HealthScore.objects.values_list("day", "parts")) == {edge: None, beyond: [1.0]}
    settings.HEALTH_PARTS_CATCHUP_DAYS = 3650  # the one-off catch-up on an old history
    assert services.prune(today=TODAY, now=NOW)["health_parts_thinned"] == 1


def test_read_notifications_and_old_digest_claims_go_unread_ones_stay(alice, settings) -> None:
    from notifications.models import DigestSent, Notification

    settings.RETENTION_DAYS = {**settings.RETENTION_DAYS, "notifications": 30, "digests_sent": 30}
    old = NOW - timedelta(days=31)
    read_old = Notification.objects.create(user=alice, kind=Notification.Kind.values[0], text="read, old")
    unread_old = Notification.objects.create(user=alice, kind=Notification.Kind.values[0], text="unread, old")
    read_new = Notification.objects.create(user=alice, kind=Notification.Kind.values[0], text="read, new")
    Notification.objects.filter(pk=read_old.pk).update(created_at=old, read_at=old)
    Notification.objects.filter(pk=unread_old.pk).update(created_at=old)
    Notification.objects.filter(pk=read_new.pk).update(read_at=NOW)
    DigestSent.objects.create(user=alice, day=TODAY - timedelta(days=31))
    DigestSent.objects.create(user=alice, day=TODAY - timedelta(days=30))

    out = services.prune(today=TODAY, now=NOW)

    assert (out["notifications"], out["digests_sent"]) == (1, 1)
    assert set(Notification.objects.values_list("text", flat=True)) == {"unread, old", "read, new"}
    assert list(DigestSent.objects.values_list("day", flat=True)) == [TODAY - timedelta(days=30)]
