from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.contrib.auth.models import User
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse

from accounts.models import Account, HealthScore
from playbooks.models import Task
from renewals.models import Renewal, RenewalNotice

from .models import DigestPreference, DigestSent, Notification


def notify_task_assigned(task: Task, *, created: bool) -> Notification | None:
    """Tell the assignee of a task someone else gave them (a rule, a handoff or a colleague)."""
    if task.assignee_id is None or (task.created_by_id == task.assignee_id and created):
        return None
    return Notification.objects.create(**_assigned(task))


def notify_tasks_opened(tasks: list[Task]) -> int:
    """``notify_task_assigned`` for tasks opened in bulk, in one insert."""
    rows = [
        Notification(**_assigned(task))
        for task in tasks
        if task.assignee_id is not None and task.created_by_id != task.assignee_id
    ]
    Notification.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


def _assigned(task: Task) -> dict:
    by = "a playbook rule" if task.rule_id else ("a colleague" if task.source == Task.Source.MANUAL else "csm")
    return {
        "user_id": task.assignee_id,
        "kind": Notification.Kind.TASK_ASSIGNED,
        "text": f"New task from {by}: {task.title}"[:300],
        "url": reverse("front:account-detail", args=[task.account_id]),
    }


def notify_notice_failed(notice: RenewalNotice, *, error: str) -> Notification | None:
    owner_id = notice.contract.account.owner_id
    if owner_id is None:
        return None
    return Notification.objects.create(
        user_id=owner_id,
        kind=Notification.Kind.NOTICE_FAILED,
        text=f"Renewal notice to {notice.email} failed: {error}"[:300],
        url=reverse("renewals:renewal-detail", args=[notice.contract.renewal.pk])
        if hasattr(notice.contract, "renewal")
        else "",
    )


def mark_all_read(*, user: User, now: datetime) -> int:
    return Notification.objects.filter(user=user).unread().update(read_at=now)


@transaction.atomic
def set_digest(*, user: User, enabled: bool) -> DigestPreference:
    pref, _ = DigestPreference.objects.select_for_update().get_or_create(user=user)
    pref.daily_digest = enabled
    pref.save(update_fields=["daily_digest"])
    return pref


@dataclass
class Digest:
    tasks: list = field(default_factory=list)
    renewals: list = field(default_factory=list)
    notices: list = field(default_factory=list)
    red: list = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.tasks) + len(self.renewals) + len(self.notices) + len(self.red)


DIGEST_LIMIT = 50


def digest_for(user: User, *, today: date) -> Digest:
    accounts = Account.objects.visible_to(user).filter(owner=user)
    ending = [
        r
        for r in Renewal.objects.open()
        .filter(contract__account__in=accounts, contract__ends_on__gte=today)
        .select_related("contract__account", "contract__program")
        .order_by("contract__ends_on")[:500]
        # Entering the window: today is the first day of the program's notice lead.
        if (r.contract.ends_on - today).days
        == (r.contract.program.renewal_notice_lead_days if r.contract.program else 60)
    ]
    return Digest(
        tasks=list(Task.objects.due_by(today).filter(assignee=user).select_related("account")[:DIGEST_LIMIT]),
        renewals=ending[:DIGEST_LIMIT],
        notices=list(
            RenewalNotice.objects.filter(
                contract__account__in=accounts,
                status__in=[RenewalNotice.Status.FAILED, RenewalNotice.Status.BOUNCED],
                updated_at__date__gte=today - timedelta(days=1),
            ).select_related("contract__account")[:DIGEST_LIMIT]
        ),
        red=list(
            HealthScore.objects.filter(
                account__in=accounts, day=today, band=HealthScore.Band.RED, band_worsened=True
            ).select_related("account")[:DIGEST_LIMIT]
        ),
    )


def send_daily_digests(*, today: date, now: datetime) -> dict:
    """Send each active user with an email their digest of ``today``, once: a rerun sends nothing twice.

    The (user, day) row is claimed before the email goes; a crash between the two loses that
    day's digest rather than sending it twice.
    """
    sent = skipped = 0
    off = set(DigestPreference.objects.filter(daily_digest=False).values_list("user_id", flat=True))
    for user in User.objects.filter(is_active=True).exclude(email="").exclude(pk__in=off).order_by("pk"):
        try:
            with transaction.atomic():
                claim = DigestSent.objects.create(user=user, day=today)
        except IntegrityError:
            skipped += 1
            continue
        digest = digest_for(user, today=today)
        if not digest.size:
            continue
        context = {"user": user, "digest": digest, "today": today}
        send_mail(
            subject=f"csm: {digest.size} thing(s) need you today",
            message=render_to_string("notifications/digest.txt", context),
            from_email=None,
            recipient_list=[user.email],
        )
        DigestSent.objects.filter(pk=claim.pk).update(sent_at=now, items=digest.size)
        sent += 1
    return {"sent": sent, "skipped": skipped}
