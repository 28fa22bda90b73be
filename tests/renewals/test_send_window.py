"""The send window: a program's local hours and weekdays, read in each account's time zone.
Notices planned outside it wait (``not_before``) and leave at the next opening, once."""

from datetime import UTC, date, datetime

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from accounts.models import Account
from renewals import services, timing
from renewals.models import RenewalNotice
from tests.factories import AccountFactory, ContactFactory, ContractFactory, ProgramFactory

pytestmark = pytest.mark.django_db

MONDAY = date(2026, 3, 2)


def utc(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


def opening(now: datetime, zone: str, weekdays: str = "12345") -> datetime | None:
    return timing.next_opening(now=now, time_zone=zone, from_hour=9, until_hour=17, weekdays=weekdays)


def test_the_next_opening_in_two_time_zones() -> None:
    # Monday 06:00 UTC: 07:00 in Paris (UTC+1), 01:00 in New York (UTC-5), 15:00 in Tokyo (UTC+9).
    now = utc(2, 6)
    assert opening(now, "Europe/Paris") == utc(2, 8)  # 09:00 Paris
    assert opening(now, "America/New_York") == utc(2, 14)  # 09:00 New York
    assert opening(now, "Asia/Tokyo") is None  # open now
    # After closing time the next working day; from Friday evening, Monday.
    assert opening(utc(2, 17), "Europe/Paris") == utc(3, 8)
    assert opening(utc(6, 17), "Europe/Paris") == utc(9, 8)
    # New York moved to summer time on 8 March: 09:00 is 13:00 UTC from then on.
    assert opening(utc(9, 6), "America/New_York") == utc(9, 13)
    # Every day, any hour: always open.
    always = {"from_hour": 0, "until_hour": 24, "weekdays": "1234567"}
    assert timing.next_opening(now=now, time_zone="Europe/Paris", **always) is None


@pytest.fixture
def windowed(alice):
    """One program sending 09:00-17:00 on weekdays; a customer in Paris and one in New York."""
    program = ProgramFactory(
        name="Business hours", notice_send_from_hour=9, notice_send_until_hour=17, notice_send_weekdays="12345"
    )
    books = {}
    for zone, name in (("Europe/Paris", "Paris"), ("America/New_York", "NewYork")):
        account = AccountFactory(name=name, owner=alice, program=program, time_zone=zone)
        domain = f"{name.lower()}.test"
        ContactFactory(account=account, name=f"{name} Buyer", email=f"buyer@{domain}", is_decision_maker=True)
        ContactFactory(account=account, name=f"{name} Billing", email=f"billing@{domain}", is_billing=True)
        ContractFactory(account=account, starts_on=date(2025, 5, 1), ends_on=date(2026, 4, 30))
        books[zone] = account
    return books


def waits() -> dict[str, datetime | None]:
    return dict(RenewalNotice.objects.values_list("email", "not_before"))


def test_notices_planned_outside_the_window_wait_for_its_opening(windowed) -> None:
    result = services.plan_renewal_notices(today=MONDAY, now=utc(2, 6))
    assert (result["notices_planned"], result["published"], result["waiting"]) == (4, 0, 4)
    assert waits() == {
        "buyer@paris.test": utc(2, 8),
        "billing@paris.test": utc(2, 8),
        "buyer@newyork.test": utc(2, 14),
        "billing@newyork.test": utc(2, 14),
    }
    assert not RenewalNotice.objects.filter(enqueued_at__isnull=False).exists()


def test_the_sweeper_publishes_each_notice_at_its_own_opening(windowed, django_capture_on_commit_callbacks) -> None:
    services.plan_renewal_notices(today=MONDAY, now=utc(2, 6))
    assert services.sweep_renewal_notices(now=utc(2, 7, 59))["republished"] == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert services.sweep_renewal_notices(now=utc(2, 8))["republished"] == 2
    published = set(RenewalNotice.objects.filter(enqueued_at__isnull=False).values_list("email", flat=True))
    assert published == {"buyer@paris.test", "billing@paris.test"}
    assert services.sweep_renewal_notices(now=utc(2, 8, 10))["republished"] == 0  # New York still closed
    with django_capture_on_commit_callbacks(execute=True):
        services.sweep_renewal_notices(now=utc(2, 14))
    new_york = RenewalNotice.objects.filter(email__endswith="@newyork.test")
    assert set(new_york.values_list("enqueued_at", flat=True)) == {utc(2, 14)}


def test_the_sender_never_sends_before_the_opening_and_then_sends_once(windowed) -> None:
    services.plan_renewal_notices(today=MONDAY, now=utc(2, 6))
    paris = RenewalNotice.objects.get(email="buyer@paris.test")
    assert services.send_renewal_notice(notice_id=paris.pk, now=utc(2, 7)) == "not claimed"
    paris.refresh_from_db()
    assert (paris.status, paris.attempts) == (RenewalNotice.Status.PENDING, 0)
    assert mail.outbox == []
    assert services.send_renewal_notice(notice_id=paris.pk, now=utc(2, 8, 5)) == "sent"
    assert services.send_renewal_notice(notice_id=paris.pk, now=utc(2, 8, 6)) == "not claimed"
    assert [message.to for message in mail.outbox] == [["Paris Buyer <buyer@paris.test>"]]


def test_the_sender_checks_the_window_again_and_puts_a_late_notice_back_to_wait(windowed) -> None:
    # A retry after closing time (or a window changed after planning): nothing is sent.
    services.plan_renewal_notices(today=MONDAY, now=utc(2, 6))
    notice = RenewalNotice.objects.get(email="buyer@paris.test")
    RenewalNotice.objects.filter(pk=notice.pk).update(not_before=None)
    assert services.send_renewal_notice(notice_id=notice.pk, now=utc(2, 16, 30)) == "waiting for the send window"
    notice.refresh_from_db()
    assert (notice.status, notice.attempts, notice.not_before) == (RenewalNotice.Status.PENDING, 0, utc(3, 8))
    assert notice.claimed_at is None
    assert notice.enqueued_at is None
    assert mail.outbox == []
    assert services.send_renewal_notice(notice_id=notice.pk, now=utc(3, 8, 1)) == "sent"


def test_a_program_without_a_window_sends_at_once(alice_contract) -> None:
    result = services.plan_renewal_notices(today=MONDAY, now=utc(2, 2))
    assert result["waiting"] == 0
    assert result["published"] == result["notices_planned"] == 3
    assert set(waits().values()) == {None}


def test_an_account_starts_in_the_server_time_zone(settings, alice) -> None:
    assert AccountFactory(owner=alice).time_zone == settings.TIME_ZONE


def test_the_account_form_edits_the_time_zone_and_refuses_an_unknown_one(client, alice, acme) -> None:
    client.force_login(alice)
    form = {"name": "Acme", "segment": acme.segment, "program": acme.program_id}
    form["lifecycle_stage"] = acme.lifecycle_stage
    page = client.get(f"/accounts/{acme.pk}/", {"edit_account": 1}).content.decode()
    assert '<option value="Europe/Paris">Europe/Paris</option>' in page
    bad = client.post(f"/accounts/{acme.pk}/edit/", {**form, "time_zone": "Mars/Olympus"})
    assert bad.status_code in (200, 400)
    assert "Mars/Olympus" in bad.content.decode()
    assert "time zone" in bad.content.decode()
    acme.refresh_from_db()
    assert acme.time_zone != "Mars/Olympus"
    client.post(f"/accounts/{acme.pk}/edit/", {**form, "time_zone": "Asia/Tokyo"})
    acme.refresh_from_db()
    assert acme.time_zone == "Asia/Tokyo"


def test_the_api_reads_and_writes_the_time_zone_with_field_errors(alice, acme) -> None:
    api = APIClient()
    api.force_authenticate(alice)
    assert api.get(f"/api/accounts/{acme.pk}/").json()["time_zone"] == acme.time_zone
    bad = api.patch(f"/api/accounts/{acme.pk}/", {"time_zone": "Nowhere/Land"}, format="json")
    assert bad.status_code == 400
    assert "time_zone" in bad.json()
    ok = api.patch(f"/api/accounts/{acme.pk}/", {"time_zone": "America/Chicago"}, format="json")
    assert ok.status_code == 200
    assert Account.objects.get(pk=acme.pk).time_zone == "America/Chicago"
    created = api.post("/api/accounts/", {"name": "Tokyo Co", "time_zone": "Asia/Tokyo"}, format="json")
    assert created.status_code == 201
    assert created.json()["time_zone"] == "Asia/Tokyo"


def test_the_account_import_takes_a_time_zone_column(client, alice) -> None:
    client.force_login(alice)

    def upload(text: str):
        file = SimpleUploadedFile("accounts.csv", text.encode(), "text/csv")
        return client.post("/imports/", {"kind": "accounts", "file": file}, follow=True)

    bad = upload("external_id,name,time_zone\nTZ-1,Umbrella,Moon/Base\n").content.decode()
    assert "time_zone" in bad
    assert "Europe/Paris" in bad
    from imports.models import ImportJob

    upload("external_id,name,time_zone\nTZ-1,Umbrella,Europe/Berlin\n")
    job = ImportJob.objects.order_by("-pk").first()
    assert job.status == ImportJob.Status.VALIDATED
    client.post(f"/imports/{job.pk}/run/")
    assert Account.objects.get(external_id="TZ-1").time_zone == "Europe/Berlin"
