"""The approval queue: a program's notices wait for the CSM (own book) or a manager (team) to
approve, edit or hold them; approved ones are published after commit; read-only cannot act."""

from datetime import UTC, date, datetime

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.test import Client

from renewals import approvals, services
from renewals.models import RenewalNotice
from tests.factories import ContractFactory

pytestmark = pytest.mark.django_db

MONDAY = date(2026, 3, 2)
NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)


@pytest.fixture
def reviewed(program) -> None:
    program.notices_need_approval = True
    program.save()


@pytest.fixture
def queued(reviewed, alice_contract, globex) -> dict[str, RenewalNotice]:
    """Acme's three notices (alice's book) and Globex's one (bob's), all waiting."""
    ContractFactory(account=globex, starts_on=date(2025, 5, 1), ends_on=date(2026, 4, 30))
    result = services.plan_renewal_notices(today=MONDAY, now=NOW)
    assert (result["notices_planned"], result["published"], result["waiting"]) == (4, 0, 4)
    return {notice.email: notice for notice in RenewalNotice.objects.all()}


def statuses() -> dict[str, str]:
    return dict(RenewalNotice.objects.values_list("email", "status"))


def test_the_days_notices_wait_and_nothing_sends_them(queued) -> None:
    assert set(statuses().values()) == {RenewalNotice.Status.AWAITING_APPROVAL}
    assert services.sweep_renewal_notices(now=NOW)["republished"] == 0
    notice = queued["billing@acme.test"]
    assert services.send_renewal_notice(notice_id=notice.pk, now=NOW) == "not claimed"
    assert mail.outbox == []


def test_a_program_without_review_is_not_queued(alice_contract) -> None:
    services.plan_renewal_notices(today=MONDAY, now=NOW)
    assert set(statuses().values()) == {RenewalNotice.Status.PENDING}


def test_the_csm_approves_their_own_and_they_are_published_on_commit(
    alice, queued, django_capture_on_commit_callbacks
) -> None:
    ids = [notice.pk for notice in queued.values()]
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert approvals.review_notices(notice_ids=ids, action="approve", by=alice, now=NOW) == 3  # not bob's
    assert callbacks  # the publish runs after commit
    acme = RenewalNotice.objects.filter(email__endswith="@acme.test")
    assert set(acme.values_list("status", flat=True)) == {RenewalNotice.Status.PENDING}
    assert set(acme.values_list("enqueued_at", flat=True)) == {NOW}
    assert set(acme.values_list("reviewed_by", flat=True)) == {alice.pk}
    assert statuses()["gina@globex.test"] == RenewalNotice.Status.AWAITING_APPROVAL
    notice = queued["billing@acme.test"]
    assert services.send_renewal_notice(notice_id=notice.pk, now=NOW) == "sent"
    assert services.send_renewal_notice(notice_id=notice.pk, now=NOW) == "not claimed"
    assert len(mail.outbox) == 1


def test_the_manager_approves_for_the_team_and_read_only_cannot(carol, rita, queued) -> None:
    with pytest.raises(PermissionDenied):
        approvals.review_notices(notice_ids=[queued["gina@globex.test"].pk], action="approve", by=rita, now=NOW)
    gina = queued["gina@globex.test"].pk
    assert approvals.review_notices(notice_ids=[gina], action="approve", by=carol, now=NOW) == 1
    assert statuses()["gina@globex.test"] == RenewalNotice.Status.PENDING


def test_a_held_notice_stays_until_approved(alice, queued, django_capture_on_commit_callbacks) -> None:
    notice = queued["buyer@acme.test"]
    assert approvals.review_notices(notice_ids=[notice.pk], action="hold", by=alice, now=NOW) == 1
    assert statuses()["buyer@acme.test"] == RenewalNotice.Status.HELD
    assert services.sweep_renewal_notices(now=NOW)["republished"] == 0
    assert approvals.review_notices(notice_ids=[notice.pk], action="approve", by=alice, now=NOW) == 1
    assert statuses()["buyer@acme.test"] == RenewalNotice.Status.PENDING


def test_an_edited_message_is_stored_on_that_notice_and_sent(alice, queued) -> None:
    notice = queued["billing@acme.test"]
    approvals.edit_notice_message(
        notice=notice, subject="Your renewal, Bill", text="Hello Bill,\n\nShall we talk about <next year>?", by=alice,
        now=NOW,
    )  # fmt: skip
    approvals.review_notices(notice_ids=[n.pk for n in queued.values()], action="approve", by=alice, now=NOW)
    for email in ("billing@acme.test", "buyer@acme.test"):
        services.send_renewal_notice(notice_id=queued[email].pk, now=NOW)
    edited, plain = mail.outbox
    assert edited.subject == "Your renewal, Bill"
    assert edited.body.startswith("Hello Bill,\n\nShall we talk about <next year>?")
    assert "/r/unsubscribe/" in edited.body  # the unsubscribe link is put back
    assert "&lt;next year&gt;" in edited.alternatives[0][0]  # escaped in the HTML part
    assert edited.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert plain.subject != "Your renewal, Bill"  # the other notices keep the template


def test_a_message_cannot_be_edited_once_it_is_out_of_the_queue(alice, queued) -> None:
    from django.core.exceptions import ValidationError

    notice = queued["billing@acme.test"]
    approvals.review_notices(notice_ids=[notice.pk], action="approve", by=alice, now=NOW)
    with pytest.raises(ValidationError):
        approvals.edit_notice_message(notice=notice, subject="Late", text="Too late", by=alice, now=NOW)


def test_the_page_lists_the_own_book_and_approves_the_selected(alice, queued) -> None:
    client = Client()
    client.force_login(alice)
    page = client.get("/renewals/approvals/").content.decode()
    assert page.count('<tr id="approval-') == 3
    assert "gina@globex.test" not in page
    picked = [queued["billing@acme.test"].pk, queued["buyer@acme.test"].pk]
    response = client.post("/renewals/approvals/", {"action": "approve", "notice": picked}, follow=True)
    assert "2 notices approved." in response.content.decode()
    assert statuses()["billing@acme.test"] == statuses()["buyer@acme.test"] == RenewalNotice.Status.PENDING
    assert statuses()["renewal@acme.test"] == RenewalNotice.Status.AWAITING_APPROVAL


def test_the_page_edits_one_message_then_approves_it(alice, queued) -> None:
    client = Client()
    client.force_login(alice)
    notice = queued["renewal@acme.test"]
    form = client.get(f"/renewals/approvals/{notice.pk}/").content.decode()
    assert "/r/answer/" in form  # the message as it will go, links included
    client.post(f"/renewals/approvals/{notice.pk}/", {"subject": "Hi Rene", "text": "Short note.", "then": "approve"})
    notice.refresh_from_db()
    assert (notice.edited_subject, notice.edited_text, notice.status) == ("Hi Rene", "Short note.", "pending")
    missing = client.post(f"/renewals/approvals/{queued['buyer@acme.test'].pk}/", {"subject": "", "text": "No subject"})
    assert missing.status_code == 400
    assert "A message needs a subject." in missing.content.decode()


def test_read_only_sees_the_queue_but_cannot_act(rita, queued) -> None:
    client = Client()
    client.force_login(rita)
    page = client.get("/renewals/approvals/").content.decode()
    assert page.count('<tr id="approval-') == 4
    assert "Approve selected" not in page
    ids = [notice.pk for notice in queued.values()]
    assert client.post("/renewals/approvals/", {"action": "approve", "notice": ids}).status_code == 403
    notice = queued["billing@acme.test"]
    assert client.post(f"/renewals/approvals/{notice.pk}/", {"subject": "x", "text": "y"}).status_code == 403
    assert set(statuses().values()) == {RenewalNotice.Status.AWAITING_APPROVAL}


def test_another_csm_cannot_open_a_notice_of_another_book(bob, queued) -> None:
    client = Client()
    client.force_login(bob)
    assert client.get(f"/renewals/approvals/{queued['billing@acme.test'].pk}/").status_code == 404


def test_approved_outside_the_window_waits_for_it(alice, queued, program) -> None:
    program.notice_send_from_hour, program.notice_send_until_hour = 10, 12
    program.save()
    notice = queued["billing@acme.test"]
    approvals.review_notices(notice_ids=[notice.pk], action="approve", by=alice, now=NOW)
    notice.refresh_from_db()
    assert notice.status == RenewalNotice.Status.PENDING
    assert notice.not_before is not None
    assert notice.not_before > NOW
    assert notice.enqueued_at is None


def test_a_program_with_approval_also_queues_a_fallback_notice(alice, queued) -> None:
    from renewals import delivery
    from tests.factories import ContactFactory

    notice = queued["billing@acme.test"]
    ContactFactory(account=notice.contract.account, name="Bea", email="bea@acme.test", is_billing=True)
    fallback = delivery.plan_fallback_notice(notice, contact=notice.contact, today=MONDAY, now=NOW)
    assert fallback.status == RenewalNotice.Status.AWAITING_APPROVAL
