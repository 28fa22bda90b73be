"""Reactions to renewals' events: a renewal marked lost, or lapsed by the lifecycle job, gets its exit survey."""

from typing import Any

from django.dispatch import receiver
from django.utils import timezone

from renewals.models import Renewal
from renewals.signals import renewal_stage_changed, renewal_stages_changed

from . import services


@receiver(renewal_stage_changed, dispatch_uid="surveys.exit_survey_on_loss")
def exit_survey_on_loss(sender: Any, renewal: Renewal, old_stage: str = "", new_stage: str = "", **kwargs: Any) -> None:
    exit_surveys_on_loss(sender, changes=[(renewal, old_stage, new_stage)])


@receiver(renewal_stages_changed, dispatch_uid="surveys.exit_surveys_on_loss")
def exit_surveys_on_loss(sender: Any, changes: list[tuple[Renewal, str, str]], **kwargs: Any) -> None:
    # After commit (renewals/signals.py): never raise; the daily job plans what this missed.
    lost = [renewal.pk for renewal, _, new_stage in changes if new_stage == Renewal.Stage.LOST]
    if lost:
        services.receive_lost_renewals(renewal_ids=lost, now=timezone.now())
