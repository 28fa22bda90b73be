"""Today and the account list are cached per session until a change to the books they show.

The cast: alice and bob (CSMs, one book each), carol (their manager), admin. ``renamed`` changes
a task behind the app's back (no request, no job), so a page still showing the old title was
served from the cache, and one showing the new title was computed afresh.
"""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.middleware import editable_owner_ids
from accounts.models import Account
from csm import freshness
from csm.services import run_job_once
from csm.tasks import heartbeat
from playbooks.models import Task
from renewals.tasks import sweep_renewal_notices
from webhooks.tasks import sweep_webhooks

from .conftest import fill_account

pytestmark = pytest.mark.django_db
TODAY = reverse("front:today")
TEAM = TODAY + "?view=team"
ACCOUNTS = reverse("front:account-list")


@pytest.fixture
def books(alice, bob, carol):
    from tests.factories import AccountFactory

    return {
        "alice": fill_account(AccountFactory(name="Alpha Works", owner=alice)),
        "bob": fill_account(AccountFactory(name="Bravo Labs", owner=bob)),
    }


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def renamed(account: Account, title: str) -> None:
    Task.objects.filter(account=account).update(title=title)


def shows(client, url: str, text: str) -> bool:
    response = client.get(url)
    assert response.status_code == 200
    return text in response.content.decode()


def test_today_is_cached_until_its_own_user_writes(client, alice, books) -> None:
    client.force_login(alice)
    assert shows(client, TODAY, "Call 0")
    renamed(books["alice"], "Renamed quietly")
    assert shows(client, TODAY, "Call 0")  # served from the cache
    task = Task.objects.get(account=books["alice"])
    response = client.post(reverse("playbooks:task-done", args=[task.pk]))
    assert response.status_code < 400
    page = client.get(TODAY).content.decode()
    assert "Renamed quietly" not in page
    assert "Call 0" not in page


def test_another_csms_write_keeps_alices_page_but_refreshes_the_managers_team_view(alice, bob, carol, books) -> None:
    as_alice, as_bob, as_carol = (signed_in(user) for user in (alice, bob, carol))
    assert shows(as_alice, TODAY, "Call 0")
    assert shows(as_carol, TEAM, "Alpha Works")
    renamed(books["alice"], "Renamed quietly")
    task = Task.objects.get(account=books["bob"])
    assert as_bob.post(reverse("playbooks:task-done", args=[task.pk])).status_code < 400
    assert not shows(as_alice, TODAY, "Renamed quietly")  # bob's write is not in alice's book
    assert shows(as_carol, TEAM, "Renamed quietly")  # but it is in carol's team


def test_a_refused_write_changes_no_stamp(client, alice, books) -> None:
    client.force_login(alice)
    before = freshness.stamp([alice.pk])
    task = Task.objects.get(account=books["alice"])
    response = client.post(reverse("playbooks:task-snooze", args=[task.pk]), {"days": "soon"})
    assert response.status_code == 400
    assert freshness.stamp([alice.pk]) == before


def test_signing_in_or_failing_to_changes_no_stamp(client, alice) -> None:
    before = freshness.stamp(None)
    failed = client.post(reverse("login"), {"username": "alice", "password": "wrong"})
    assert failed.status_code == 200  # the form again, with its error
    client.post(reverse("logout"))
    assert freshness.stamp(None) == before


def test_a_job_run_that_changes_nothing_changes_no_stamp(alice, bob) -> None:
    stamps = lambda: (freshness.stamp([alice.pk]), freshness.stamp([bob.pk]), freshness.stamp(None))  # noqa: E731
    before = stamps()
    run_job_once(job="test-job", day=timezone.localdate(), work=lambda: {})
    assert stamps() == before


def test_a_failed_job_run_changes_every_books_stamp(alice, bob) -> None:
    stamps = lambda: (freshness.stamp([alice.pk]), freshness.stamp([bob.pk]), freshness.stamp(None))  # noqa: E731
    before = stamps()
    with pytest.raises(RuntimeError):
        run_job_once(job="test-job", day=timezone.localdate(), work=lambda: (_ for _ in ()).throw(RuntimeError("x")))
    assert all(a != b for a, b in zip(before, stamps(), strict=True))


def test_sweeps_that_find_nothing_keep_every_cached_page(client, alice, books) -> None:
    client.force_login(alice)
    assert shows(client, TODAY, "Call 0")
    renamed(books["alice"], "Renamed quietly")
    before = freshness.stamp(None)
    # Run in this process, as the beat would every minute: nothing is due, so nothing changed.
    assert sweep_webhooks.apply().get() == 0
    assert sweep_renewal_notices.apply().get() == {"republished": 0, "reset": 0, "needs_review": 0}
    heartbeat.apply()
    assert freshness.stamp(None) == before
    assert shows(client, TODAY, "Call 0"), "the cached page survived the sweeps"
    freshness.bump([alice.pk])  # a write to alice's book
    assert shows(client, TODAY, "Renamed quietly"), "a change to the book refreshes it"


def test_a_write_by_someone_who_edits_everything_changes_every_books_stamp(client, admin_user, alice, bob) -> None:
    before = freshness.stamp([alice.pk]), freshness.stamp([bob.pk])
    freshness.bump(editable_owner_ids(admin_user))
    after = freshness.stamp([alice.pk]), freshness.stamp([bob.pk])
    assert before[0] != after[0]
    assert before[1] != after[1]


def test_moving_an_account_to_another_owner_changes_both_books(alice, bob, books) -> None:
    before = freshness.stamp([alice.pk]), freshness.stamp([bob.pk]), freshness.stamp([alice.pk + bob.pk + 100])
    account = books["alice"]
    account.owner = bob
    account.save()
    after = freshness.stamp([alice.pk]), freshness.stamp([bob.pk]), freshness.stamp([alice.pk + bob.pk + 100])
    assert before[0] != after[0]
    assert before[1] != after[1]
    assert before[2] == after[2]  # a third owner's book did not change


def test_an_account_loaded_without_its_owner_costs_no_query_and_still_tells_a_move(alice, bob, books) -> None:
    with CaptureQueriesContext(connection) as loaded:
        account = Account.objects.only("name").get(pk=books["alice"].pk)
    assert len(loaded) == 1, "remembering the owner does not load the deferred field"
    before = freshness.stamp([alice.pk]), freshness.stamp([bob.pk])
    account.owner = bob  # the old owner was never read: every book is told
    account.save()
    after = freshness.stamp([alice.pk]), freshness.stamp([bob.pk])
    assert before[0] != after[0]
    assert before[1] != after[1]


def test_a_session_never_gets_another_sessions_fragment(alice, bob, books) -> None:
    as_alice, as_bob = signed_in(alice), signed_in(bob)
    assert shows(as_alice, TODAY, "Alpha Works")
    assert not shows(as_bob, TODAY, "Alpha Works")
    assert shows(as_bob, TODAY, "Bravo Labs")


def test_the_account_list_is_cached_until_a_write_in_the_book(client, alice, books) -> None:
    client.force_login(alice)
    assert shows(client, ACCOUNTS, "Alpha Works")
    Account.objects.filter(pk=books["alice"].pk).update(name="Quietly Renamed")
    assert shows(client, ACCOUNTS, "Alpha Works")  # cached
    assert shows(client, ACCOUNTS + "?q=Quiet", "Quietly Renamed")  # another query, computed
    acme_touch = reverse("front:touchpoint-log", args=[books["alice"].pk])
    client.post(acme_touch, {"kind": "call", "outcome": "positive", "occurred_on": timezone.localdate(), "notes": "x"})
    assert shows(client, ACCOUNTS, "Quietly Renamed")


def test_with_the_cache_off_every_request_is_computed(client, alice, books, settings) -> None:
    settings.PAGE_CACHE_SECONDS = 0
    client.force_login(alice)
    assert shows(client, TODAY, "Call 0")
    renamed(books["alice"], "Renamed quietly")
    assert shows(client, TODAY, "Renamed quietly")


def test_a_cached_today_reads_only_the_session_the_user_and_the_stamps(client, alice, books) -> None:
    client.force_login(alice)
    client.get(TODAY)
    with CaptureQueriesContext(connection) as captured:
        client.get(TODAY)
    tables = {table for query in captured.captured_queries for table in _tables(query["sql"])}
    assert tables <= {"django_session", "auth_user", "auth_group", "auth_user_groups", "csm_changestamp"}, tables


def test_a_stale_fragment_expires_after_page_cache_seconds(client, alice, books, settings, monkeypatch) -> None:
    # The in-memory cache, whose expiry reads this process's clock (Redis keeps its own).
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "expiry"}}
    client.force_login(alice)
    assert shows(client, TODAY, "Call 0")
    renamed(books["alice"], "Renamed quietly")
    later = timezone.now() + timedelta(seconds=settings.PAGE_CACHE_SECONDS + 1)
    monkeypatch.setattr("time.time", lambda: later.timestamp())  # locmem expiry reads time.time()
    assert shows(client, TODAY, "Renamed quietly")


def _tables(sql: str) -> set[str]:
    import re

    return set(re.findall(r'(?:FROM|JOIN)\s+"(\w+)"', sql))
