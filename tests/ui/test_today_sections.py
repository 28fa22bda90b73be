"""Each section of the Today page lists the right accounts, most urgent first."""

from datetime import date, timedelta

import pytest

from front import today as sections
from playbooks.models import Task
from renewals.models import Contract
from tests.factories import (
    AccountFactory,
    ContactFactory,
    ContractFactory,
    HealthScoreFactory,
    OnboardingItemFactory,
    ProgramFactory,
    TaskFactory,
    TouchpointFactory,
)
from tests.ui.conftest import at

pytestmark = pytest.mark.django_db
TODAY = date(2026, 3, 2)


def test_tasks_due_lists_my_overdue_and_todays_tasks_not_later_or_done_ones(alice, bob, acme, globex) -> None:
    overdue = TaskFactory(account=acme, assignee=alice, title="Overdue", due_on=TODAY - timedelta(days=3))
    due = TaskFactory(account=acme, assignee=alice, title="Today", due_on=TODAY)
    TaskFactory(account=acme, assignee=alice, title="Tomorrow", due_on=TODAY + timedelta(days=1))
    TaskFactory(account=acme, assignee=alice, title="Done", due_on=TODAY, status=Task.Status.DONE)
    TaskFactory(account=globex, assignee=bob, title="Bob's", due_on=TODAY)
    section = sections.tasks_due(sections.Scope(user=alice), today=TODAY)
    assert [t.pk for t in section.rows] == [overdue.pk, due.pk]
    assert section.total == 2


def test_a_snoozed_task_waits_until_its_snooze_ends(alice, acme) -> None:
    TaskFactory(account=acme, assignee=alice, title="Later", due_on=TODAY - timedelta(days=1),
                        status=Task.Status.SNOOZED, snoozed_until=TODAY + timedelta(days=2))  # fmt: skip
    assert sections.tasks_due(sections.Scope(user=alice), today=TODAY).total == 0


def test_renewals_follow_each_programs_notice_window(alice) -> None:
    early = ProgramFactory(name="Enterprise", renewal_notice_lead_days=90)
    standard = ProgramFactory(name="Essentials", renewal_notice_lead_days=60)
    in_90 = ContractFactory(account=AccountFactory(owner=alice, program=early), program=early,
                            ends_on=TODAY + timedelta(days=80))  # fmt: skip
    ContractFactory(account=AccountFactory(owner=alice, program=standard), program=standard,
                    ends_on=TODAY + timedelta(days=80))  # fmt: skip
    in_60 = ContractFactory(account=AccountFactory(owner=alice, program=standard), program=standard,
                            ends_on=TODAY + timedelta(days=30))  # fmt: skip
    ContractFactory(account=AccountFactory(owner=alice, program=standard), program=standard,
                    ends_on=TODAY + timedelta(days=30), status=Contract.Status.RENEWED)  # fmt: skip
    section = sections.renewals_in_window(sections.Scope(user=alice), today=TODAY)
    assert [c.pk for c in section.rows] == [in_60.pk, in_90.pk]


def test_a_renewal_without_a_current_renewal_contact_says_so(alice, program) -> None:
    account = AccountFactory(owner=alice, program=program)
    ContactFactory(account=account, is_decision_maker=True, left_on=TODAY - timedelta(days=10))
    ContactFactory(account=account, is_champion=True)
    ContractFactory(account=account, ends_on=TODAY + timedelta(days=40))
    (row,) = sections.renewals_in_window(sections.Scope(user=alice), today=TODAY).rows
    assert row.notice_status == ("No renewal contact", "bad")


def test_a_renewal_reaching_only_one_contact_is_flagged(alice, program) -> None:
    account = AccountFactory(owner=alice, program=program)
    ContactFactory(account=account, is_decision_maker=True)
    ContractFactory(account=account, ends_on=TODAY + timedelta(days=40))
    (row,) = sections.renewals_in_window(sections.Scope(user=alice), today=TODAY).rows
    assert row.recipients == 1
    assert row.notice_status[1] == "warn"


def test_not_heard_from_uses_the_programs_cadence_and_lists_the_longest_silence_first(alice) -> None:
    tight = ProgramFactory(name="Enterprise", touch_cadence_days=14)
    loose = ProgramFactory(name="Essentials", touch_cadence_days=60)
    now = at(TODAY)
    never = AccountFactory(name="Never", owner=alice, program=loose)
    overdue = AccountFactory(name="Tight", owner=alice, program=tight)
    TouchpointFactory(account=overdue, occurred_at=now - timedelta(days=20))
    fine = AccountFactory(name="Loose", owner=alice, program=loose)
    TouchpointFactory(account=fine, occurred_at=now - timedelta(days=20))
    TouchpointFactory(account=fine, occurred_at=now - timedelta(days=90))
    section = sections.not_heard_from(sections.Scope(user=alice), now=now)
    assert [a.pk for a in section.rows] == [never.pk, overdue.pk]
    assert section.rows[1].silent_days == 20


def test_onboarding_overdue_counts_late_open_items_per_account(alice, acme) -> None:
    OnboardingItemFactory(account=acme, title="Access", due_on=TODAY - timedelta(days=4))
    OnboardingItemFactory(account=acme, title="Training", due_on=TODAY - timedelta(days=1))
    OnboardingItemFactory(account=acme, title="Done", due_on=TODAY - timedelta(days=9), completed_on=TODAY)
    OnboardingItemFactory(account=acme, title="Later", due_on=TODAY + timedelta(days=3))
    section = sections.onboarding_overdue(sections.Scope(user=alice), today=TODAY)
    assert section.total == 1
    assert section.rows[0]["overdue"] == 2
    assert section.rows[0]["days_late"] == 4


def test_a_manager_toggles_to_the_team_and_a_csm_cannot(alice, bob, carol, acme, globex) -> None:
    TaskFactory(account=acme, assignee=alice, title="A", due_on=TODAY)
    TaskFactory(account=globex, assignee=bob, title="B", due_on=TODAY)
    team = sections.Scope.for_request(carol, "team")
    assert team.team
    assert {t.title for t in sections.tasks_due(team, today=TODAY).rows} == {"A", "B"}
    assert not sections.Scope.for_request(alice, "team").team
    assert sections.tasks_due(sections.Scope.for_request(alice, "team"), today=TODAY).total == 1


def test_a_huge_silent_book_stops_counting_at_the_cap_and_still_lists_the_longest_silences(alice, program) -> None:
    now = at(TODAY)
    silent_for = {"A": 40, "B": 400, "C": None, "D": 90, "E": 3}
    accounts = {}
    for name, days in silent_for.items():
        accounts[name] = AccountFactory(name=name, owner=alice, program=program)
        if days is not None:
            TouchpointFactory(account=accounts[name], occurred_at=now - timedelta(days=days))
    section = sections.not_heard_from(sections.Scope(user=alice), now=now, limit=3, cap=2)
    assert section.capped
    assert section.total == 2
    assert [a.name for a in section.rows] == ["C", "B", "D"]


def _notice(contract, contact, status) -> None:
    from renewals.models import Renewal, RenewalNotice

    renewal, _ = Renewal.objects.get_or_create(contract=contract)
    RenewalNotice.objects.create(contract=contract, renewal=renewal, contact=contact, cycle="first",
                                 email=contact.email, status=status, scheduled_on=TODAY)  # fmt: skip


def test_a_renewal_shows_whether_its_notice_was_sent_or_bounced(alice, program) -> None:
    sent = AccountFactory(name="Sent", owner=alice, program=program)
    bounced = AccountFactory(name="Bounced", owner=alice, program=program)
    for account, status in ((sent, "sent"), (bounced, "bounced")):
        buyer = ContactFactory(account=account, is_decision_maker=True)
        ContactFactory(account=account, is_billing=True)
        contract = ContractFactory(account=account, ends_on=TODAY + timedelta(days=50))
        _notice(contract, buyer, status)
    rows = sections.renewals_in_window(sections.Scope(user=alice), today=TODAY).rows
    assert {c.account.name: c.notice_status for c in rows} == {"Sent": ("Sent", "good"), "Bounced": ("Bounced", "bad")}


def test_health_worsened_lists_flagged_accounts_with_what_changed(alice, acme, globex) -> None:

    def parts(active_pct: float) -> dict:
        contribution = 40 * active_pct / 100
        return {"adoption": {"base": 40, "input": active_pct, "score": active_pct, "weight": 40,
                             "contribution": contribution, "n": active_pct, "d": 100}}  # fmt: skip

    HealthScoreFactory(account=acme, day=TODAY - timedelta(days=1), score=70, band="green",
                               components=parts(90))  # fmt: skip
    HealthScoreFactory(account=acme, day=TODAY, score=45, band="yellow", previous_band="green",
                               score_drop=25, flagged=True, components=parts(30))  # fmt: skip
    HealthScoreFactory(account=globex, day=TODAY, score=20, band="red", flagged=True)
    section = sections.health_worsened(sections.Scope(user=alice), today=TODAY)
    assert [s.account.name for s in section.rows] == ["Acme"]
    assert section.rows[0].reason.startswith("Adoption")
