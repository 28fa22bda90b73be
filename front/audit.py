"""The audit log: who changed which contract, renewal, program or other configuration, and when.

Every model with django-simple-history's ``HistoricalRecords`` is audited; the page finds
them generically, so models other apps add to history show up without changes here.
"""

from dataclasses import dataclass
from datetime import datetime
from heapq import merge
from itertools import islice
from typing import Any

from django.apps import apps
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from accounts.models import Account
from csm import roles

ACTIONS = {"+": "created", "~": "changed", "-": "deleted"}
PAGE = 100


@dataclass(frozen=True)
class Entry:
    when: datetime
    who: str
    model: str
    label: str
    object_id: object
    action: str
    changes: list[tuple[str, object, object]]
    reason: str


def audited_models() -> list[type[models.Model]]:
    """Models whose changes are recorded (they carry a simple-history manager)."""
    return sorted(
        (m for m in apps.get_models() if getattr(m._meta, "simple_history_manager_attribute", None)),
        key=lambda m: m._meta.label,
    )


def path_to_account(model: type[models.Model], depth: int = 4) -> str | None:
    """The lookup from ``model`` to its customer Account ('' for Account itself), or None."""
    if model is Account:
        return ""
    frontier = [(model, "")]
    for _ in range(depth):
        following = []
        for current, prefix in frontier:
            for field in current._meta.get_fields():
                if not (field.is_relation and (field.many_to_one or field.one_to_one) and field.concrete):
                    continue
                lookup = f"{prefix}{field.name}"
                if field.related_model is Account:
                    return lookup
                if field.related_model is not None:  # concrete foreign keys always have one
                    following.append((field.related_model, f"{lookup}__"))
        frontier = following
    return None


def history_visible_to(model: type[models.Model], user: roles.User) -> models.QuerySet:
    """The model's history rows ``user`` may see: a manager sees their teams' accounts only."""
    history = getattr(model, model._meta.simple_history_manager_attribute).all()  # type: ignore[attr-defined]  # set by simple_history
    if model is Account:  # its history rows carry the account's id, not a link to it
        return history if roles.sees_everything(user) else history.filter(id__in=Account.objects.visible_to(user))
    lookup = path_to_account(history.model)
    if lookup is None or lookup == "":
        return history
    return history.filter(**{f"{lookup}__in": Account.objects.visible_to(user)})


def recent_entries(*, user: roles.User, model_label: str = "", limit: int = PAGE) -> list[Entry]:
    chosen = [m for m in audited_models() if not model_label or m._meta.label_lower == model_label]
    streams = [
        history_visible_to(model, user).select_related("history_user").order_by("-history_date", "-history_id")[:limit]
        for model in chosen
    ]
    records = islice(merge(*streams, key=lambda r: r.history_date, reverse=True), limit)
    return [entry_for(record) for record in records]


def entry_for(record: Any) -> Entry:  # a simple_history historical record (the package ships no types)
    changes = []
    if record.history_type == "~":
        previous = record.prev_record
        if previous is not None:
            delta = record.diff_against(previous)
            changes = [(change.field, change.old, change.new) for change in delta.changes]
    user = record.history_user
    return Entry(
        when=record.history_date,
        who=(user.get_full_name() or user.username) if user else "system",
        model=record.instance_type._meta.verbose_name.capitalize(),
        label=str(record.instance),
        object_id=record.history_object.pk,
        action=ACTIONS.get(record.history_type, record.history_type),
        changes=changes,
        reason=record.history_change_reason or "",
    )


@require_safe
def audit_log(request: HttpRequest) -> HttpResponse:
    if not (roles.is_admin(request.user) or roles.is_manager(request.user)):
        raise PermissionDenied("The audit log is for admins and managers.")
    label = request.GET.get("model", "")
    choices = [(m._meta.label_lower, str(m._meta.verbose_name_plural).capitalize()) for m in audited_models()]
    if label not in {value for value, _ in choices}:
        label = ""
    return render(
        request,
        "csm/audit_log.html",
        {"entries": recent_entries(user=request.user, model_label=label), "choices": choices, "chosen": label},
    )
