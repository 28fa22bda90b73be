"""Onboarding: the program's checklist started for an account, items ticked, progress."""

from dataclasses import dataclass
from datetime import date, timedelta

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Count, Q

from accounts import stages
from accounts.models import Account

from ..models import (
    OnboardingItem,
    OwnerRole,
)


def _owner_for(role: str, account: Account) -> User | None:
    if role == OwnerRole.CSM:
        return account.owner
    if role == OwnerRole.MANAGER and account.owner is not None:
        team = account.owner.teams.select_related("manager").order_by("pk").first()
        return team.manager if team else account.owner
    return None


@transaction.atomic
def start_onboarding(account: Account, *, starts_on: date) -> int:
    """Instantiate the program's checklist for the account; items already there are kept."""
    if account.program is None:
        return 0
    present = set(account.onboarding_items.values_list("template_item_id", flat=True))
    items = [
        OnboardingItem(
            account=account,
            title=template.title,
            owner=_owner_for(template.owner_role, account),
            owner_role=template.owner_role,
            position=template.position,
            due_on=starts_on + timedelta(days=template.due_offset_days),
            template_item=template,
        )
        for template in account.program.checklist_items.all()
        if template.pk not in present
    ]
    OnboardingItem.objects.bulk_create(items)
    return len(items)


@transaction.atomic
def set_onboarding_item_done(item: OnboardingItem, *, done: bool, today: date) -> OnboardingItem:
    item.completed_on = today if done else None
    item.save(update_fields=["completed_on"])
    if done and not OnboardingItem.objects.filter(account_id=item.account_id, completed_on__isnull=True).exists():
        # The checklist is complete: onboarding is over (docs/domain.md, lifecycle stages).
        stages.move_stage(
            item.account,
            to=Account.Stage.ADOPTION,
            on=today,
            reason="Onboarding checklist complete",
            only_from=(Account.Stage.ONBOARDING,),
        )
    return item


@dataclass
class OnboardingProgress:
    total: int
    done: int
    overdue: int

    @property
    def pct(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0

    @property
    def complete(self) -> bool:
        return bool(self.total) and self.done == self.total


def onboarding_progress(account: Account, *, today: date) -> OnboardingProgress:
    counts = account.onboarding_items.aggregate(
        total=Count("pk"),
        done=Count("pk", filter=Q(completed_on__isnull=False)),
        overdue=Count("pk", filter=Q(completed_on__isnull=True, due_on__lt=today)),
    )
    return OnboardingProgress(**counts)
