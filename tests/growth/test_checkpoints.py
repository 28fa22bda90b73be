"""Renewal checkpoints: csm's call at T-180 and T-90, the CSM's call, a disagreement reaching the manager.

docs/domain.md §11.
"""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from growth import services
from growth.models import Checkpoint, CheckpointSchedule
from notifications.models import Notification
from playbooks.models import Task
from renewals import services as renewal_services
from renewals.models import ReasonCode, Renewal
from tests.factories import HealthScoreFactory

pytestmark = pytest.mark.django_db

ENDS = date(2026, 12, 31)


@pytest.fixture
def acme_renewal(acme, alice) -> Renewal:
    contract = renewal_services.create_contract(
        account=acme, starts_on=date(2026, 1, 1), ends_on=ENDS, amount=Decimal("24000.00"), by=alice
    )
    return contract.renewal


def at_day(days_before: int) -> date:
    return ENDS - timedelta(days=days_before)


def test_t180_records_csms_call_and_asks_the_csm_once(acme, acme_renewal, alice) -> None:
    HealthScoreFactory(account=acme, day=at_day(181), score=30, band="red")
    assert services.record_checkpoints(today=at_day(181)) == {"checkpoints": 0}  # not yet

    assert services.record_checkpoints(today=at_day(180)) == {"checkpoints": 1}
    assert services.record_checkpoints(today=at_day(180)) == {"checkpoints": 0}
    assert services.record_checkpoints(today=at_day(150)) == {"checkpoints": 0}  # between the points

    checkpoint = Checkpoint.objects.get()
    assert (checkpoint.days_before, checkpoint.auto_call, checkpoint.asked_of) == (180, "at_risk", alice)
    # Red (+2) and a renewal whose coverage the planner has not checked yet (nothing): 2 points.
    assert checkpoint.auto_reason.startswith("2 risk point(s): health red (+2)")
    task = Task.objects.get(key=checkpoint.task_key)
    assert (task.assignee, task.status, task.source) == (alice, "open", "job")

    assert services.record_checkpoints(today=at_day(90)) == {"checkpoints": 1}
    assert sorted(Checkpoint.objects.values_list("days_before", flat=True)) == [90, 180]


def test_a_missed_point_is_caught_up_but_only_the_latest_point_passed(acme_renewal) -> None:
    # The job did not run from T-180 to T-85: only T-90 is recorded, not a stale T-180.
    assert services.record_checkpoints(today=at_day(85)) == {"checkpoints": 1}
    assert list(Checkpoint.objects.values_list("days_before", flat=True)) == [90]


def test_the_points_are_a_program_setting(acme, acme_renewal) -> None:
    CheckpointSchedule.objects.create(program=acme.program, days_before="120, 45")
    assert services.record_checkpoints(today=at_day(180)) == {"checkpoints": 0}
    assert services.record_checkpoints(today=at_day(120)) == {"checkpoints": 1}
    assert services.record_checkpoints(today=at_day(45)) == {"checkpoints": 1}
    assert sorted(Checkpoint.objects.values_list("days_before", flat=True)) == [45, 120]


def test_the_automated_call_reads_health_coverage_rules_and_commitment() -> None:
    assert services.automated_call(band="green", coverage="ok", playbook_tasks=0, committed=False)[0] == "likely"
    assert services.automated_call(band="yellow", coverage="single_contact", playbook_tasks=0, committed=False)[0] == (
        "at_risk"
    )
    call, why = services.automated_call(band="red", coverage="no_contact", playbook_tasks=2, committed=False)
    assert (call, why) == (
        "will_churn",
        "5 risk point(s): health red (+2), no renewal contact (+2), 2 open playbook task(s) (+1).",
    )
    assert services.automated_call(band="red", coverage="no_contact", playbook_tasks=2, committed=True)[0] == "likely"


def test_a_disagreement_through_the_page_reaches_the_manager(client, acme, acme_renewal, alice, carol) -> None:
    HealthScoreFactory(account=acme, day=at_day(180), score=85, band="green")
    services.record_checkpoints(today=at_day(180))
    checkpoint = Checkpoint.objects.get()
    assert checkpoint.auto_call == "likely"

    client.force_login(alice)
    page = client.get(reverse("growth:checkpoint-list"))
    assert page.status_code == 200
    assert "Make your call" in page.content.decode()
    # The note is required: without it nothing is recorded.
    client.post(reverse("growth:checkpoint-call", args=[checkpoint.pk]), {"call": "will_churn", "note": ""})
    checkpoint.refresh_from_db()
    assert checkpoint.csm_call == ""

    response = client.post(
        reverse("growth:checkpoint-call", args=[checkpoint.pk]),
        {"call": "will_churn", "note": "Their new CFO is consolidating vendors."},
    )
    assert response.status_code == 302
    checkpoint.refresh_from_db()
    assert (checkpoint.csm_call, checkpoint.escalated_to, checkpoint.disagrees) == ("will_churn", carol, True)
    assert Task.objects.get(key=checkpoint.task_key).status == "done"
    escalation = Task.objects.get(key=f"growth:checkpoint-disagreement:{checkpoint.pk}")
    assert escalation.assignee == carol
    assert "consolidating vendors" in escalation.description
    note = Notification.objects.get(user=carol)
    assert "Checkpoint disagreement on Acme" in note.text

    # A second call escalates nothing more.
    client.post(reverse("growth:checkpoint-call", args=[checkpoint.pk]), {"call": "at_risk", "note": "Softer now."})
    assert Task.objects.filter(assignee=carol).count() == 1


def test_an_agreeing_call_goes_to_nobody(api, acme, acme_renewal, alice, carol, bob, rita) -> None:
    services.record_checkpoints(today=at_day(90))
    checkpoint = Checkpoint.objects.get()
    url = f"/api/checkpoints/{checkpoint.pk}/call/"
    assert api(bob).post(url, {"call": checkpoint.auto_call, "note": "x"}).status_code == 404
    assert api(rita).post(url, {"call": checkpoint.auto_call, "note": "x"}).status_code == 403
    assert api(alice).post(url, {"call": "likely"}, format="json").status_code == 400  # note required
    response = api(alice).post(url, {"call": checkpoint.auto_call, "note": "Agreed."}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["escalated_to"] is None
    assert not Task.objects.filter(assignee=carol).exists()


def test_a_closed_renewal_takes_no_more_calls(acme_renewal, alice) -> None:
    services.record_checkpoints(today=at_day(90))
    reason = ReasonCode.objects.get_or_create(code="price", defaults={"label": "Price", "applies_to": "loss"})[0]
    renewal_services.mark_renewal_lost(acme_renewal, reason=reason, notes="", by=alice, today=at_day(30))
    with pytest.raises(Exception, match="has closed"):
        services.record_csm_call(
            Checkpoint.objects.get(), call="likely", note="late", by=alice, today=at_day(20), now=timezone.now()
        )
