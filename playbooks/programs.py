"""Setting a program up: copying one whole, with everything that hangs off it."""

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.forms.models import model_to_dict

from accounts.models import HealthComponent, HealthModel, Program
from renewals.models import NoticeSchedule, NoticeTemplate

from .models import ChecklistTemplateItem, PlaybookRule, SuccessPlanTemplateObjective

MAX_NAME = Program._meta.get_field("name").max_length or 100


def _copy_fields(instance: object, *, exclude: tuple[str, ...] = ()) -> dict:
    fields = model_to_dict(instance, exclude=("id", "program", *exclude))  # type: ignore[arg-type]
    return {name: value for name, value in fields.items() if not isinstance(value, list)}


def copy_name(program: Program) -> str:
    """ "Premier (copy)", then "Premier (copy 2)", … : a free name for a copy."""
    base = f"{program.name} (copy"
    name, n = f"{base})", 2
    while Program.objects.filter(name=name).exists():
        name, n = f"{base} {n})", n + 1
    return name[:MAX_NAME]


@transaction.atomic
def copy_program(*, program: Program, name: str = "", by: User | None = None) -> Program:
    """A new, inactive program with the same entitlements, cadences and notice lead, and copies of
    its onboarding checklist, success-plan template, notice schedule and email template, health
    model (with its components) and program-only playbook rules (switched off until reviewed)."""
    name = (name or copy_name(program)).strip()
    if not name:
        raise ValidationError({"name": "Give the copy a name."})
    if Program.objects.filter(name__iexact=name).exists():
        raise ValidationError({"name": f"A program named {name!r} exists already."})
    copy = Program(**{**_copy_fields(program, exclude=("name",)), "name": name[:MAX_NAME], "is_active": False})
    copy.full_clean()
    copy._history_user = by  # type: ignore[attr-defined]  # simple_history reads it
    copy.save()
    ChecklistTemplateItem.objects.bulk_create(
        ChecklistTemplateItem(program=copy, **_copy_fields(item)) for item in program.checklist_items.all()
    )
    SuccessPlanTemplateObjective.objects.bulk_create(
        SuccessPlanTemplateObjective(program=copy, **_copy_fields(objective))
        for objective in program.plan_objectives.all()
    )
    schedule = NoticeSchedule.objects.filter(program=program).first()
    if schedule is not None:
        NoticeSchedule.objects.create(program=copy, **_copy_fields(schedule))
    template = NoticeTemplate.objects.filter(program=program).first()
    if template is not None:
        NoticeTemplate.objects.create(program=copy, **_copy_fields(template, exclude=("updated_at",)))
    model = HealthModel.objects.filter(program=program).first()
    if model is not None:
        model_copy = HealthModel.objects.create(
            program=copy, **{**_copy_fields(model, exclude=("name",)), "name": f"{name} health"[:100]}
        )
        HealthComponent.objects.bulk_create(
            HealthComponent(model=model_copy, **_copy_fields(component, exclude=("model",)))
            for component in model.components.all()
        )
    for rule in PlaybookRule.objects.filter(program=program):
        fields = _copy_fields(rule, exclude=("name", "created_at"))
        PlaybookRule.objects.create(program=copy, **{**fields, "name": f"{rule.name} ({name})"[:100], "enabled": False})
    return copy
