"""Create the first admin from the environment, once: the production way in (no demo users).

``CSM_ADMIN_USERNAME``, ``CSM_ADMIN_EMAIL`` and ``CSM_ADMIN_PASSWORD`` name the admin. With no
user name set it does nothing; when the user already exists it changes nothing (the password
is the admin's own after the first start), so it can run on every start.
"""

import os

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from csm import roles


class Command(BaseCommand):
    help = "Create the admin named by CSM_ADMIN_USERNAME / CSM_ADMIN_EMAIL / CSM_ADMIN_PASSWORD if absent."

    def handle(self, *args: object, **options: object) -> None:
        username = os.environ.get("CSM_ADMIN_USERNAME", "").strip()
        if not username:
            self.stdout.write("CSM_ADMIN_USERNAME is not set; no admin created (use createsuperuser).")
            return
        users = get_user_model().objects
        if users.filter(username=username).exists():
            self.stdout.write(f"Admin {username!r} already exists; nothing changed.")
            return
        password = os.environ.get("CSM_ADMIN_PASSWORD", "")
        user = get_user_model()(username=username, email=os.environ.get("CSM_ADMIN_EMAIL", ""))
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise CommandError("CSM_ADMIN_PASSWORD: " + " ".join(exc.messages)) from None
        user = users.create_superuser(username=username, email=user.email, password=password)
        user.groups.add(Group.objects.get_or_create(name=roles.ADMIN)[0])
        self.stdout.write(self.style.SUCCESS(f"Admin {username!r} created."))
