"""Keep ``Account.last_touch_at`` current however a touchpoint changes: logged by a CSM, edited
or deleted in the admin, posted through the API, or removed with its account. Tell cached pages
when an account changes owner."""

from typing import Any

from django.db.models import DEFERRED
from django.db.models.signals import post_delete, post_init, post_save
from django.dispatch import receiver

from csm import freshness

from . import services
from .models import Account, Touchpoint


@receiver(post_init, sender=Touchpoint, dispatch_uid="accounts.touchpoint_loaded")
def remember_account(sender: type[Touchpoint], instance: Touchpoint, **kwargs: Any) -> None:
    # An edit may move the touchpoint to another account: the one it left needs refreshing too.
    instance._loaded_account_id = instance.account_id


@receiver(post_save, sender=Touchpoint, dispatch_uid="accounts.touchpoint_saved")
@receiver(post_delete, sender=Touchpoint, dispatch_uid="accounts.touchpoint_deleted")
def refresh_last_touch(sender: type[Touchpoint], instance: Touchpoint, **kwargs: Any) -> None:
    if kwargs.get("raw"):  # loaddata: the fixture carries its own last_touch_at
        return
    accounts = {pk for pk in (instance.account_id, getattr(instance, "_loaded_account_id", None)) if pk is not None}
    services.refresh_last_touch(account_ids=accounts)
    instance._loaded_account_id = instance.account_id


@receiver(post_init, sender=Account, dispatch_uid="accounts.account_loaded")
def remember_owner(sender: type[Account], instance: Account, **kwargs: Any) -> None:
    # Read without loading: ``instance.owner_id`` on a row loaded with ``.only(...)`` would cost
    # one query per row (the nightly band-change batches load only names).
    instance._loaded_owner_id = instance.__dict__.get("owner_id", DEFERRED)


@receiver(post_save, sender=Account, dispatch_uid="accounts.account_saved")
def account_moved(sender: type[Account], instance: Account, created: bool, **kwargs: Any) -> None:
    """An account given to another owner changes both books, whoever moved it (csm/freshness.py)."""
    loaded = getattr(instance, "_loaded_owner_id", None)
    if loaded is DEFERRED:
        # Loaded without its owner: only an owner set since then was saved, and the old one is unknown.
        if "owner_id" in instance.__dict__ and not kwargs.get("raw"):
            freshness.bump(None)
        instance._loaded_owner_id = instance.__dict__.get("owner_id", DEFERRED)
        return
    owners = {instance.owner_id, loaded} - {None}
    if not kwargs.get("raw") and (created or len(owners) > 1):
        freshness.bump(owners)  # type: ignore[arg-type]  # None was taken out
    instance._loaded_owner_id = instance.owner_id
