from datetime import date

import pytest

from playbooks.models import ChecklistTemplateItem, OwnerRole, PlaybookRule, SuccessPlanTemplateObjective

TODAY = date(2026, 3, 1)


@pytest.fixture
def today() -> date:
    return TODAY


@pytest.fixture
def make_rule():
    def _make(trigger: str, parameter: int = 0, **fields: object) -> PlaybookRule:
        defaults = {
            "name": f"{trigger} {parameter}",
            "task_title": f"Act on {trigger} ({{n}})",
            "task_description": "Do something about it.",
            "due_in_days": 3,
            "retrigger_delay_days": 30,
            "enabled": True,
        }
        return PlaybookRule.objects.create(trigger=trigger, parameter=parameter, **{**defaults, **fields})

    return _make


@pytest.fixture
def program_templates(program):
    ChecklistTemplateItem.objects.create(program=program, title="Access set up", due_offset_days=7, position=0)
    ChecklistTemplateItem.objects.create(
        program=program, title="Entitlements explained", due_offset_days=14, position=1
    )
    ChecklistTemplateItem.objects.create(
        program=program, title="First value reached", owner_role=OwnerRole.CUSTOMER, due_offset_days=45, position=2
    )
    SuccessPlanTemplateObjective.objects.create(
        program=program, title="Adoption", milestone_title="80% of licenses active", metric="% active", target=80
    )
    return program
