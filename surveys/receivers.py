"""Reactions to renewals' events: a renewal marked lost, or lapsed by the lifecycle job, gets its exit survey."""

from typing import Any

from django.dispatch import receiver
from django.utils import timezone

from renewals.models import Renewal
from renewals.signals import renewal_stage_changed

from . import services


@receiver(renewal_stage_changed, dispatch_uid="surveys.exit_survey_on_loss")
def exit_survey_on_loss(sender: Any, renewal: Renewal, new_stage: str, **kwargs: Any) -> None:
    # After commit (renewals/signals.py): never raise; the daily job plans what this missed.
    if new_stage == Renewal.Stage.LOST:
        services.receive_lost_renewal(renewal=renewal, now=timezone.now())
