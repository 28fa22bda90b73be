from django.urls import path

from . import views

app_name = "playbooks"

urlpatterns = [
    path("tasks/", views.task_list, name="task-list"),
    path("tasks/new/", views.task_create, name="task-create"),
    path("tasks/bulk/", views.task_bulk, name="task-bulk"),
    path("accounts/<int:account_pk>/tasks/new/", views.task_create, name="account-task-create"),
    path("tasks/<int:pk>/done/", views.task_done, name="task-done"),
    path("tasks/<int:pk>/snooze/", views.task_snooze, name="task-snooze"),
    path("handoff/", views.handoff_form, name="handoff"),
    path("accounts/<int:account_pk>/onboarding/", views.onboarding, name="onboarding"),
    path("onboarding-items/<int:pk>/toggle/", views.onboarding_item_toggle, name="onboarding-item-toggle"),
    path("accounts/<int:account_pk>/success-plan/", views.success_plan, name="success-plan"),
    path("objectives/<int:objective_pk>/milestones/", views.milestone_add, name="milestone-add"),
    path("milestones/<int:pk>/", views.milestone_update, name="milestone-update"),
    path("objectives/<int:pk>/edit/", views.objective_edit, name="objective-edit"),
    path("objectives/<int:pk>/delete/", views.objective_delete, name="objective-delete"),
    path("milestones/<int:pk>/edit/", views.milestone_edit, name="milestone-edit"),
    path("milestones/<int:pk>/delete/", views.milestone_delete, name="milestone-delete"),
    path("accounts/<int:account_pk>/statement/", views.statement, name="statement"),
    path("accounts/<int:account_pk>/entitlement-uses/", views.entitlement_use_add, name="entitlement-use-add"),
    path("rules/<int:pk>/dry-run/", views.rule_dry_run, name="playbook-rule-dry-run"),
]
