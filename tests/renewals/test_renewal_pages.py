from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from renewals import services
from renewals.models import ReasonCode, Renewal, RenewalNotice
from tests.factories import ContractFactory

from .conftest import NOTICE_DAY, at

pytestmark = pytest.mark.django_db


@pytest.fixture
def renewal(alice_contract, globex) -> Renewal:
    ContractFactory(account=globex, ends_on=date(2026, 4, 20), recurring_amount=Decimal("5000"))
    services.plan_renewal_notices(today=NOTICE_DAY, now=at(NOTICE_DAY))
    return Renewal.objects.get(contract=alice_contract)


def test_the_list_shows_only_the_book_and_totals_per_stage(client, alice, renewal) -> None:
    client.force_login(alice)
    response = client.get(reverse("renewals:renewal-list"))
    assert response.status_code == 200
    assert [r.contract.account.name for r in response.context["page"].object_list] == ["Acme"]
    upcoming = next(t for t in response.context["totals"] if t["stage"] == "upcoming")
    assert (upcoming["n"], upcoming["amount"].amount) == (1, Decimal("24000.00"))


def test_the_list_filters_by_stage_owner_window_and_program(client, carol, alice, bob, renewal) -> None:
    client.force_login(carol)
    url = reverse("renewals:renewal-list")

    def names(**params) -> list[str]:
        return sorted(r.contract.account.name for r in client.get(url, params).context["page"].object_list)

    assert names() == ["Acme", "Globex"]
    assert names(owner=bob.pk) == ["Globex"]
    assert names(stage="committed") == []
    assert names(program=renewal.contract.program_id) == ["Acme", "Globex"]
    assert names(window="30") == []  # both end in April 2026; today is later


def test_the_board_groups_renewals_by_stage(client, alice, renewal) -> None:
    services.advance_renewal(renewal, stage=Renewal.Stage.COMMITTED, by=alice)
    client.force_login(alice)
    response = client.get(reverse("renewals:renewal-board"))
    columns = {c["stage"]: [r.pk for r in c["cards"]] for c in response.context["columns"]}
    assert columns["committed"] == [renewal.pk]
    assert columns["upcoming"] == []


def test_the_detail_shows_notices_per_recipient(client, alice, renewal) -> None:
    client.force_login(alice)
    response = client.get(reverse("renewals:renewal-detail", args=[renewal.pk]))
    assert response.status_code == 200
    assert b"billing@acme.test" in response.content
    assert [n.email for n in response.context["notices"]] == [
        "billing@acme.test",
        "buyer@acme.test",
        "renewal@acme.test",
    ]


def test_another_csms_renewal_is_a_404(client, bob, renewal) -> None:
    client.force_login(bob)
    assert client.get(reverse("renewals:renewal-detail", args=[renewal.pk])).status_code == 404
    response = client.post(reverse("renewals:renewal-stage", args=[renewal.pk]), {"stage": "committed"})
    assert response.status_code == 404


def test_read_only_users_see_but_change_nothing(client, rita, renewal) -> None:
    client.force_login(rita)
    assert client.get(reverse("renewals:renewal-detail", args=[renewal.pk])).status_code == 200
    response = client.post(reverse("renewals:renewal-stage", args=[renewal.pk]), {"stage": "committed"})
    assert response.status_code == 403
    renewal.refresh_from_db()
    assert renewal.stage == Renewal.Stage.UPCOMING


def test_marking_lost_without_a_reason_is_refused_with_a_message(client, alice, renewal) -> None:
    client.force_login(alice)
    url = reverse("renewals:renewal-lose", args=[renewal.pk])
    response = client.post(url, {"notes": "no idea"}, follow=True)
    assert "Choose a reason" in response.content.decode()
    renewal.refresh_from_db()
    assert renewal.stage == Renewal.Stage.UPCOMING
    price = ReasonCode.objects.get(code="price")
    client.post(url, {"reason": price.pk, "notes": "Too expensive"})
    renewal.refresh_from_db()
    assert (renewal.stage, renewal.reason, renewal.reason_notes) == (Renewal.Stage.LOST, price, "Too expensive")


def test_renewing_from_the_page_creates_the_next_term(client, alice, renewal) -> None:
    client.force_login(alice)
    client.post(
        reverse("renewals:renewal-renew", args=[renewal.pk]), {"ends_on": "2027-04-30", "amount": "25000", "notes": ""}
    )
    renewal.refresh_from_db()
    assert renewal.stage == Renewal.Stage.EXPANDED
    assert renewal.contract.next_term.recurring_amount == Decimal("25000.00")


def test_a_notice_needing_review_can_be_sent_again(client, alice, renewal) -> None:
    notice = RenewalNotice.objects.filter(renewal=renewal).first()
    RenewalNotice.objects.filter(pk=notice.pk).update(status=RenewalNotice.Status.NEEDS_REVIEW)
    client.force_login(alice)
    client.post(reverse("renewals:renewal-notice-resolve", args=[notice.pk]), {"action": "resend"})
    notice.refresh_from_db()
    assert notice.status == RenewalNotice.Status.PENDING
