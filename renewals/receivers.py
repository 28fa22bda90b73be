"""Renewals follow account changes: the current contract moves with its account's program.

Chosen over asking each time (docs/domain.md): the program's notice lead, schedule, template
and grace period apply to the term running now, not only from the next one. The renewal page
says so.
"""

from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver

from accounts.models import Account

from .models import Contract


@receiver(pre_save, sender=Account, dispatch_uid="renewals.account_program_before")
def remember_program(sender: type, instance: Account, **kwargs: object) -> None:
    instance._program_before = (
        Account.objects.filter(pk=instance.pk).values_list("program_id", flat=True).first() if instance.pk else None
    )


@receiver(post_save, sender=Account, dispatch_uid="renewals.account_program_after")
def carry_contract_program(sender: type, instance: Account, created: bool = False, **kwargs: object) -> None:
    if created or getattr(instance, "_program_before", instance.program_id) == instance.program_id:
        return
    Contract.objects.filter(account=instance, status=Contract.Status.ACTIVE).update(program_id=instance.program_id)
