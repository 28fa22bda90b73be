"""Daily jobs replace the page-cache stamps of the books they changed, and of no other.

A job run that changes nothing (here: each daily job run a second time, when the first has done
its work) leaves every stamp, so a cached Today survives it; a job that changes one CSM's account
refreshes that CSM's book (and the views of everyone who sees it), not another CSM's.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Account
from csm import freshness
from csm.services import run_job_once
from growth import services as growth_services
from playbooks import services as playbook_services
from playbooks.models import Task
from renewals import lifecycle
from renewals import services as renewal_services
from retention import services as retention_services
from surveys import services as survey_services
from tests.factories import AccountFactory, ContractFactory, RenewalFactory, TaskFactory

from . import test_page_cache
from .test_page_cache import TODAY, renamed, shows, signed_in

pytestmark = pytest.mark.django_db
books = test_page_cache.books  # the fixture: alice's and bob's filled accounts


def daily_jobs() -> dict:
    today, now = timezone.localdate(), timezone.now()
    return {
        "playbook-rules": lambda: playbook_services.evaluate_playbook_rules(today=today),
        "growth.raise_suggestions": lambda: growth_services.raise_suggestions(today=today),
        "growth.checkpoints": lambda: growth_services.record_checkpoints(today=today),
        "renewals.plan_notices": lambda: renewal_services.plan_renewal_notices(today=today, now=now, publish=False),
        "renewals.contract_lifecycle": lambda: lifecycle.run_contract_lifecycle(today=today),
        "surveys.plan_due": lambda: survey_services.plan_due_surveys(today=today, now=now, publish=False),
        "retention.prune": lambda: retention_services.prune(today=today, now=now),
    }


def run_every_job(run: str) -> dict:
    day = timezone.localdate()
    return {name: run_job_once(job=f"{name}:{run}", day=day, work=work).detail for name, work in daily_jobs().items()}


def test_daily_jobs_that_change_nothing_keep_every_cached_page(alice, bob, carol, books) -> None:
    run_every_job("first")  # the books' contracts end soon: notices, stages and the like are done now
    as_alice = signed_in(alice)
    assert shows(as_alice, TODAY, "Call 0")
    stamps = (freshness.stamp([alice.pk]), freshness.stamp([bob.pk]), freshness.stamp(None))
    renamed(books["alice"], "Renamed quietly")

    again = run_every_job("again")

    assert again["playbook-rules"]["total"] == 0
    assert again["renewals.plan_notices"]["notices_planned"] == 0
    assert (freshness.stamp([alice.pk]), freshness.stamp([bob.pk]), freshness.stamp(None)) == stamps
    assert shows(as_alice, TODAY, "Call 0"), "the cached page survived the jobs"


def test_a_job_that_wakes_one_csms_task_refreshes_that_book_only(alice, bob, carol, books) -> None:
    today = timezone.localdate()
    snoozed = TaskFactory(
        account=books["alice"], assignee=alice, title="Snoozed until today", due_on=today,
        status=Task.Status.SNOOZED, snoozed_until=today,
    )  # fmt: skip
    as_alice, as_bob, as_carol = (signed_in(user) for user in (alice, bob, carol))
    assert shows(as_alice, TODAY, "Call 0")
    assert shows(as_bob, TODAY, "Call 0")
    assert shows(as_carol, TODAY + "?view=team", "Alpha Works")
    renamed(books["alice"], "Alice renamed quietly")
    renamed(books["bob"], "Bob renamed quietly")
    bob_before = freshness.stamp([bob.pk])

    run = run_job_once(
        job="playbook-rules", day=today, work=lambda: playbook_services.evaluate_playbook_rules(today=today)
    )

    assert run is not None
    snoozed.refresh_from_db()
    assert snoozed.status == Task.Status.OPEN
    assert shows(as_alice, TODAY, "Alice renamed quietly"), "alice's book changed: computed afresh"
    assert shows(as_carol, TODAY + "?view=team", "Alice renamed quietly"), "so did her manager's team view"
    assert freshness.stamp([bob.pk]) == bob_before
    assert not shows(as_bob, TODAY, "Bob renamed quietly"), "bob's cached page is still served"


def test_the_contract_lifecycle_refreshes_the_books_whose_contracts_it_moved_on(alice, bob, books) -> None:
    today = timezone.localdate()
    # Both books' contracts end within the notice window: a first run moves both accounts to renewal.
    run_job_once(job="lifecycle:first", day=today, work=lambda: lifecycle.run_contract_lifecycle(today=today))
    contract = ContractFactory(account=books["bob"], ends_on=today - timedelta(days=2), auto_renew=False)
    RenewalFactory(contract=contract, stage="in_discussion")
    alice_before, bob_before = freshness.stamp([alice.pk]), freshness.stamp([bob.pk])

    run = run_job_once(
        job="renewals.contract_lifecycle", day=today, work=lambda: lifecycle.run_contract_lifecycle(today=today)
    )

    assert run is not None
    assert run.detail["overdue"] == 1
    assert freshness.stamp([bob.pk]) != bob_before
    assert freshness.stamp([alice.pk]) == alice_before


def test_a_contract_auto_renewed_refreshes_its_book_though_no_stage_moved(alice, carol, books) -> None:
    """The owners are those of the contracts past their end as the night found them: an
    auto-renewed term leaves that set (its next term is in force), and no stage moves here."""
    today = timezone.localdate()
    run_job_once(job="lifecycle:first", day=today, work=lambda: lifecycle.run_contract_lifecycle(today=today))
    account = AccountFactory(owner=carol, lifecycle_stage=Account.Stage.MATURE)
    contract = ContractFactory(account=account, ends_on=today - timedelta(days=2), auto_renew=True)
    RenewalFactory(contract=contract, stage="upcoming")
    alice_before, carol_before = freshness.stamp([alice.pk]), freshness.stamp([carol.pk])

    done = lifecycle.run_contract_lifecycle(today=today)

    assert done["auto_renewed"] == 1
    account.refresh_from_db()
    assert account.lifecycle_stage == Account.Stage.MATURE, "no stage moved"
    assert freshness.stamp([carol.pk]) != carol_before
    assert freshness.stamp([alice.pk]) == alice_before
