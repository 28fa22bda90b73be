"""The main pages of the app, on realistic data, for the walks that open every page: the phone-width
and accessibility checks in a browser (tests/browser), the read-only walk with the test client.

The data is the demo seed (a small book) plus an import with row errors and an unread notification
for each person, so those pages show their content and not only their empty states."""

import os
from importlib import import_module

from django.apps import apps
from django.contrib.auth.models import User
from django.core.management import call_command

from accounts.models import Account
from csm import roles
from imports.models import ImportJob
from imports.services import dry_run_import
from notifications.models import Notification
from renewals.models import Renewal


def seed_demo_book(settings) -> dict[str, User]:
    """The demo book, signed in with settings.CSM_DEMO_PASSWORD; returns the users by username."""
    # A browser test's database is flushed between tests, rows of data migrations with it: put back
    # the roles and the default health model the seed needs (the migration's own, idempotent, steps).
    migration = import_module("accounts.migrations.0002_roles_default_health_model_pg_indexes")
    migration.create_groups(apps, None)
    migration.create_default_model(apps, None)
    settings.DEBUG = True  # seed_demo refuses to run in production mode
    with open(os.devnull, "w") as quiet:
        call_command("seed_demo", accounts=30, stdout=quiet)
    settings.DEBUG = False
    users = {user.username: user for user in User.objects.all()}
    for name in ("alice", "carol"):
        csv = "external_id,name,segment,owner\nNEW-1,New Co,smb,alice\n,No id,mid,nobody\n"
        dry_run_import(kind="accounts", file_name=f"{name}-accounts.csv", content=csv, user=users[name])
    for name in ("alice", "carol", "rita"):
        Notification.objects.create(user=users[name], kind=Notification.Kind.TASK_ASSIGNED,
                                    text="A task for you: call the champion", url="/playbooks/tasks/")  # fmt: skip
    return users


def main_pages(user: User) -> list[str]:
    """The pages a person works in, with a real account, renewal and import of their own book."""
    account = Account.objects.visible_to(user).filter(contacts__isnull=False).order_by("pk").first()
    renewal = Renewal.objects.visible_to(user).order_by("contract__ends_on", "pk").first()
    assert account is not None, f"the demo book gives {user} an account"
    assert renewal is not None, f"the demo book gives {user} a renewal"
    pages = ["/", "/accounts/", f"/accounts/{account.pk}/", "/renewals/", "/renewals/board/",
             f"/renewals/{renewal.pk}/", "/metrics/", "/playbooks/tasks/", "/playbooks/handoff/",
             f"/playbooks/accounts/{account.pk}/onboarding/", f"/playbooks/accounts/{account.pk}/success-plan/",
             f"/playbooks/accounts/{account.pk}/statement/", "/imports/", "/health/calibration/",
             "/notifications/", "/notifications/settings/", "/growth/", "/growth/checkpoints/",
             "/growth/accuracy/"]  # fmt: skip
    if job := ImportJob.objects.filter(created_by=user).first():
        pages += [f"/imports/{job.pk}/", f"/imports/{job.pk}/mapping/"]  # the check (with its preview), the mapping
    if roles.can_write(user):  # the edit-in-place forms open on the account page
        pages.append(f"/accounts/{account.pk}/?add_contact=1")
    if roles.is_manager(user) or roles.is_admin(user):
        pages.append("/audit/")
    return pages
