"""Every contract's term ends somewhere: auto-renewed, overdue then lapsed, or closed late."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core import mail

from csm.models import JobRun
from playbooks.models import Task
from renewals import lifecycle, services, tasks
from renewals.models import Contract, ReasonCode, Renewal, RenewalNotice, RevenueEntry
from tests.renewals.conftest import NOTICE_DAY, at

pytestmark = pytest.mark.django_db

END = date(2026, 4, 30)  # alice_contract's last day (tests/conftest.py)


def new_contract(account, *, amount: str = "24000", auto_renew: bool = False, by=None) -> Contract:
    return services.create_contract(
        account=account,
        starts_on=date(2025, 5, 1),
        ends_on=END,
        amount=Decimal(amount),
        by=by,
        auto_renew=auto_renew,
    )


def ledger(account) -> list[tuple[str, Decimal, date]]:
    return list(RevenueEntry.objects.filter(account=account).values_list("kind", "amount", "effective_on"))


def rr(account, on: date) -> Decimal:
    return sum((amount for _, amount, day in ledger(account) if day <= on), Decimal("0"))


def overdue_tasks(account) -> list[Task]:
    return list(Task.objects.filter(account=account, title__startswith="Renewal overdue"))


def test_a_contract_with_no_outcome_is_overdue_on_day_one_and_lapses_after_the_grace(acme, alice) -> None:
    contract = new_contract(acme, by=alice)
    assert lifecycle.run_contract_lifecycle(today=END)["overdue"] == 0  # its last day: still in force

    day1 = END + timedelta(days=1)
    assert lifecycle.run_contract_lifecycle(today=day1) | {"churned": 0, "renewal_stage": 0} == {
        "expired": 0,
        "auto_renewed": 0,
        "overdue": 1,
        "lapsed": 0,
        "churned": 0,
        "renewal_stage": 0,
    }
    [task] = overdue_tasks(acme)
    assert (task.assignee, task.due_on, task.status) == (alice, day1, Task.Status.OPEN)
    assert "lapses on 31 May 2026" in task.description  # grace 30 days (Program default)
    assert Renewal.objects.get(contract=contract).overdue_on == day1

    # The task is done by hand: running again (same day, later days) opens no second one.
    Task.objects.filter(pk=task.pk).update(status=Task.Status.DONE)
    for offset in range(1, 31):
        lifecycle.run_contract_lifecycle(today=END + timedelta(days=offset))
    assert len(overdue_tasks(acme)) == 1
    assert not RevenueEntry.objects.filter(kind="churn").exists()

    grace_end = END + timedelta(days=31)  # day +grace+1
    assert lifecycle.run_contract_lifecycle(today=grace_end)["lapsed"] == 1
    assert lifecycle.run_contract_lifecycle(today=grace_end)["lapsed"] == 0
    assert lifecycle.run_contract_lifecycle(today=grace_end + timedelta(days=9))["lapsed"] == 0
    churn = RevenueEntry.objects.get(kind="churn")
    assert (churn.amount, churn.effective_on, churn.reason.code) == (Decimal("-24000.00"), day1, "lapsed")
    contract.refresh_from_db()
    assert contract.status == Contract.Status.EXPIRED
    assert contract.renewal.stage == Renewal.Stage.LOST
    assert rr(acme, END) == Decimal("24000")
    assert rr(acme, day1) == 0


def test_the_grace_period_is_the_programs(acme, alice, program) -> None:
    program.renewal_grace_days = 5
    program.save()
    new_contract(acme, by=alice)
    assert lifecycle.run_contract_lifecycle(today=END + timedelta(days=5))["lapsed"] == 0
    assert lifecycle.run_contract_lifecycle(today=END + timedelta(days=6))["lapsed"] == 1


def test_a_missed_month_is_caught_up_in_one_run(acme, alice) -> None:
    new_contract(acme, by=alice)
    assert lifecycle.run_contract_lifecycle(today=END + timedelta(days=60))["lapsed"] == 1
    assert RevenueEntry.objects.filter(kind="churn").count() == 1


def test_a_late_renewal_reverses_the_lapse_and_continues_the_term(acme, alice) -> None:
    contract = new_contract(acme, by=alice)
    lifecycle.run_contract_lifecycle(today=END + timedelta(days=40))
    next_term = services.renew_contract(
        contract, ends_on=date(2027, 4, 30), amount=Decimal("25000"), by=alice, today=END + timedelta(days=45)
    )
    assert next_term.starts_on == END + timedelta(days=1)
    assert sorted(ledger(acme)) == sorted(
        [
            ("new", Decimal("24000.00"), date(2025, 5, 1)),
            ("churn", Decimal("-24000.00"), END + timedelta(days=1)),
            ("churn", Decimal("24000.00"), END + timedelta(days=1)),
            ("expansion", Decimal("1000.00"), END + timedelta(days=1)),
        ]
    )
    assert rr(acme, END + timedelta(days=1)) == Decimal("25000")
    churn = RevenueEntry.objects.filter(kind="churn").order_by("pk")
    assert churn[1].reverses == churn[0]
    contract.refresh_from_db()
    assert (contract.status, contract.renewal.stage) == (Contract.Status.RENEWED, Renewal.Stage.EXPANDED)
    # Not twice: the lapse is reversed once, and the term cannot be renewed again.
    with pytest.raises(Exception, match="already been renewed"):
        services.renew_contract(contract, ends_on=date(2027, 4, 30), amount=Decimal("1"), by=alice, today=END)
    assert lifecycle.run_contract_lifecycle(today=END + timedelta(days=46))["lapsed"] == 0


def test_a_renewal_closed_inside_the_grace_never_lapses_and_its_task_closes(
    acme, alice, django_capture_on_commit_callbacks
) -> None:
    contract = new_contract(acme, by=alice)
    lifecycle.run_contract_lifecycle(today=END + timedelta(days=1))
    with django_capture_on_commit_callbacks(execute=True):
        services.renew_contract(contract, ends_on=date(2027, 4, 30), amount=Decimal("24000"), by=alice, today=END)
    [task] = overdue_tasks(acme)
    assert task.status == Task.Status.CANCELLED
    assert task.outcome == "Renewal closed: renewed"
    assert task.completed_at is not None
    assert lifecycle.run_contract_lifecycle(today=END + timedelta(days=40))["lapsed"] == 0
    assert not RevenueEntry.objects.filter(kind="churn").exists()


def test_a_lost_renewal_expires_at_the_end_with_one_churn_entry(acme, alice) -> None:
    contract = new_contract(acme, by=alice)
    services.mark_renewal_lost(
        contract.renewal, reason=ReasonCode.objects.get(code="budget-cut"), notes="", by=alice, today=END
    )
    assert lifecycle.run_contract_lifecycle(today=END + timedelta(days=40)) | {"churned": 0, "renewal_stage": 0} == {
        "churned": 0,
        "renewal_stage": 0,
        "expired": 1,
        "auto_renewed": 0,
        "overdue": 0,
        "lapsed": 0,
    }
    assert RevenueEntry.objects.filter(kind="churn").count() == 1
    assert not overdue_tasks(acme)


def test_an_auto_renewing_contract_renews_on_its_terms_with_its_uplift(acme, alice) -> None:
    contract = new_contract(acme, auto_renew=True, by=alice)
    Renewal.objects.filter(contract=contract).update(uplift_pct=Decimal("5"))
    assert lifecycle.run_contract_lifecycle(today=END + timedelta(days=1))["auto_renewed"] == 1
    contract.refresh_from_db()
    next_term = contract.next_term
    assert (next_term.starts_on, next_term.ends_on) == (date(2026, 5, 1), date(2027, 4, 30))
    assert (next_term.recurring_amount, next_term.auto_renew) == (Decimal("25200.00"), True)
    assert (contract.status, contract.renewal.stage) == (Contract.Status.RENEWED, Renewal.Stage.EXPANDED)
    assert ledger(acme)[-1] == ("expansion", Decimal("1200.00"), date(2026, 5, 1))
    assert not overdue_tasks(acme)
    assert lifecycle.run_contract_lifecycle(today=END + timedelta(days=1))["auto_renewed"] == 0


def test_auto_renewal_catches_up_every_missed_term(acme, alice) -> None:
    new_contract(acme, auto_renew=True, by=alice)
    assert lifecycle.run_contract_lifecycle(today=date(2028, 6, 1))["auto_renewed"] == 3
    assert Contract.objects.filter(account=acme, status=Contract.Status.ACTIVE).get().ends_on == date(2029, 4, 30)
    assert [kind for kind, _, _ in ledger(acme)] == ["new"]


def test_an_auto_renewal_downgrade_on_its_terms_needs_no_reason(acme, alice) -> None:
    contract = new_contract(acme, auto_renew=True, by=alice)
    Renewal.objects.filter(contract=contract).update(uplift_pct=Decimal("-10"))
    lifecycle.run_contract_lifecycle(today=END + timedelta(days=1))
    assert ledger(acme)[-1] == ("contraction", Decimal("-2400.00"), date(2026, 5, 1))


def test_the_auto_renewal_notice_says_it_renews_and_how_to_cancel(acme, alice) -> None:
    contract = new_contract(acme, auto_renew=True, by=alice)
    Renewal.objects.filter(contract=contract).update(uplift_pct=Decimal("5"))
    services.plan_renewal_notices(today=NOTICE_DAY, now=at(NOTICE_DAY), publish=False)
    notice = RenewalNotice.objects.filter(contract=contract).first()
    services.send_renewal_notice(notice_id=notice.pk, now=at(NOTICE_DAY))
    [message] = mail.outbox
    assert "renews automatically" in message.subject
    assert "It renews automatically on 1 May 2026 for a further term until 30 April 2027" in message.body
    assert "USD 25,200.00" in message.body
    assert "To cancel, reply to this email" in message.body
    assert "before 30 April 2026" in message.body
    assert "We would like to agree on its renewal" not in message.body
    assert "renews automatically" in message.alternatives[0][0]


def test_an_admins_template_without_the_wording_still_tells_an_auto_renewal(acme, alice) -> None:
    from renewals.models import NoticeTemplate

    NoticeTemplate.objects.create(program=None, subject="Renewal", text_body="Hi {{ account }}", html_body="<p>Hi</p>")
    contract = new_contract(acme, auto_renew=True, by=alice)
    services.plan_renewal_notices(today=NOTICE_DAY, now=at(NOTICE_DAY), publish=False)
    notice = RenewalNotice.objects.filter(contract=contract).first()
    services.send_renewal_notice(notice_id=notice.pk, now=at(NOTICE_DAY))
    assert "To cancel, reply to this email" in mail.outbox[0].body
    assert "To cancel" in mail.outbox[0].alternatives[0][0]


def test_a_regular_notice_keeps_its_renewal_wording(acme, alice) -> None:
    contract = new_contract(acme, by=alice)
    services.plan_renewal_notices(today=NOTICE_DAY, now=at(NOTICE_DAY), publish=False)
    notice = RenewalNotice.objects.filter(contract=contract).first()
    services.send_renewal_notice(notice_id=notice.pk, now=at(NOTICE_DAY))
    assert "We would like to agree on its renewal" in mail.outbox[0].body
    assert "renews automatically" not in mail.outbox[0].body


def test_the_daily_task_runs_once_a_day(acme, alice, settings) -> None:
    assert "renewals-contract-lifecycle" in settings.CSM_BEAT_DEFAULTS
    new_contract(acme, by=alice)
    tasks.run_contract_lifecycle()
    tasks.run_contract_lifecycle()
    assert JobRun.objects.filter(job="renewals.contract_lifecycle").count() == 1
