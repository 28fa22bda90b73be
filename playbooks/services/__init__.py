"""Playbooks' services: every change to tasks, onboarding, success plans, entitlements and
handoffs, and the rule runs. Callers write `from playbooks import services`; the modules are
`tasks`, `onboarding`, `plans`, `handoff` and `rule_runs`.
"""

from .handoff import (
    CONTACT_ROLES,
    NOT_ASSIGNABLE,
    UNAVAILABLE,
    assignable_csms,
    record_handoff,
)
from .onboarding import (
    OnboardingProgress,
    onboarding_progress,
    set_onboarding_item_done,
    start_onboarding,
)
from .plans import (
    ENTITLEMENT_FIELDS,
    Statement,
    StatementLine,
    account_panels,
    add_milestone,
    add_objective,
    contract_year,
    delete_milestone,
    delete_objective,
    draft_success_plan,
    edit_milestone,
    record_entitlement_use,
    service_usage_statement,
    success_plan_realization,
    update_milestone,
    update_objective,
)
from .rule_runs import (
    dry_run_rule,
    evaluate_playbook_rules,
    evaluate_rules_for_account,
    fire_rules_for_account,
    health_ran,
)
from .tasks import (
    cancel_open_task,
    cancel_open_tasks,
    close_finished_contact_tasks,
    complete_task,
    open_task,
    open_tasks,
    snooze_task,
    wake_snoozed_tasks,
)

__all__ = [
    "CONTACT_ROLES",
    "ENTITLEMENT_FIELDS",
    "NOT_ASSIGNABLE",
    "UNAVAILABLE",
    "OnboardingProgress",
    "Statement",
    "StatementLine",
    "account_panels",
    "add_milestone",
    "add_objective",
    "assignable_csms",
    "cancel_open_task",
    "cancel_open_tasks",
    "close_finished_contact_tasks",
    "complete_task",
    "contract_year",
    "delete_milestone",
    "delete_objective",
    "draft_success_plan",
    "dry_run_rule",
    "edit_milestone",
    "evaluate_playbook_rules",
    "evaluate_rules_for_account",
    "fire_rules_for_account",
    "health_ran",
    "onboarding_progress",
    "open_task",
    "open_tasks",
    "record_entitlement_use",
    "record_handoff",
    "service_usage_statement",
    "set_onboarding_item_done",
    "snooze_task",
    "start_onboarding",
    "success_plan_realization",
    "update_milestone",
    "update_objective",
    "wake_snoozed_tasks",
]
