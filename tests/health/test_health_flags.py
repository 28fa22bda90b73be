"""Flags for playbooks: a worse band or a drop beyond the model's alert amount; a signal per band change."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts import signals
from accounts.models import HealthModel, HealthScore, UsageSnapshot
from health import nightly

from .conftest import DAY, give_usage

pytestmark = pytest.mark.django_db
NEXT = DAY + timedelta(days=1)


def test_a_worse_band_flags_the_account_and_signals_the_change(healthy_account) -> None:
    nightly.recalculate_health(day=DAY)
    first = HealthScore.objects.get(account=healthy_account, day=DAY)
    assert not first.flagged
    assert first.previous_band == ""
    UsageSnapshot.objects.filter(account=healthy_account).delete()
    give_usage(healthy_account, day=NEXT, active=0, advanced=0, cases=8, escalations=3, availability="90")
    received = []

    def receiver(*, day, changes, **kwargs) -> None:
        received.extend((day, change) for change in changes)

    signals.health_bands_changed.connect(receiver)
    try:
        nightly.recalculate_health(day=NEXT)
    finally:
        signals.health_bands_changed.disconnect(receiver)
    row = HealthScore.objects.get(account=healthy_account, day=NEXT)
    assert row.previous_score == first.score
    assert row.previous_band == first.band
    assert row.score_drop == first.score - row.score
    assert row.band_worsened
    assert row.flagged
    assert [(day, c.account_id, c.old_band, c.new_band, c.old_score, c.new_score) for day, c in received] == [
        (NEXT, healthy_account.pk, first.band, row.band, first.score, row.score)
    ]


def test_a_drop_beyond_the_alert_amount_flags_without_a_band_change(healthy_account) -> None:
    nightly.recalculate_health(day=DAY)
    first = HealthScore.objects.get(account=healthy_account, day=DAY)
    model = HealthModel.objects.get(is_default=True)
    model.green_min, model.yellow_min, model.drop_alert_points = 99, 1, 2
    model.save()
    give_usage(healthy_account, day=NEXT, active=12)
    nightly.recalculate_health(day=NEXT)
    row = HealthScore.objects.get(account=healthy_account, day=NEXT)
    assert row.score_drop > 2
    assert row.band == row.previous_band or first.band == "green"
    assert row.flagged


def test_a_small_drop_in_the_same_band_is_not_flagged(healthy_account) -> None:
    nightly.recalculate_health(day=DAY)
    give_usage(healthy_account, day=NEXT, active=19)
    nightly.recalculate_health(day=NEXT)
    row = HealthScore.objects.get(account=healthy_account, day=NEXT)
    assert 0 < row.score_drop <= 15
    assert row.band == row.previous_band
    assert not row.flagged
    assert not row.band_worsened


def test_no_health_check_within_the_cadence_is_marked_overdue(healthy_account, program) -> None:
    program.health_check_cadence_days = 5
    program.save()
    nightly.recalculate_health(day=DAY)
    assert HealthScore.objects.get(account=healthy_account).check_overdue
    program.health_check_cadence_days = 30
    program.save()
    nightly.recalculate_health(day=DAY)
    assert not HealthScore.objects.get(account=healthy_account).check_overdue


def test_band_changes_are_read_without_joining_accounts(healthy_account) -> None:
    """The night's scores have stale statistics when they are read back: a join with accounts can be
    planned as a loop over every account per change (it took 12 minutes at 1M), so the read names
    accounts by primary key, a batch at a time."""
    nightly.recalculate_health(day=DAY)
    UsageSnapshot.objects.filter(account=healthy_account).delete()
    give_usage(healthy_account, day=NEXT, active=0, advanced=0, cases=8, escalations=3, availability="90")
    nightly.recalculate_health(day=NEXT, notify=False)
    received = []
    signals.health_bands_changed.connect(receiver := lambda **kwargs: received.extend(kwargs["changes"]))
    try:
        with CaptureQueriesContext(connection) as queries:
            nightly._send_band_changes(day=NEXT)
    finally:
        signals.health_bands_changed.disconnect(receiver)
    assert [(c.account_id, c.external_id, c.name) for c in received] == [
        (healthy_account.pk, healthy_account.external_id, healthy_account.name)
    ]
    scores_read = [q["sql"] for q in queries.captured_queries if "accounts_healthscore" in q["sql"]]
    assert scores_read
    assert not [sql for sql in scores_read if "accounts_account" in sql]
