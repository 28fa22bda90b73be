"""Roles are Django groups. A user's role decides which book they see and what they may change.

- CSM: their own book (accounts they own).
- Manager: their team's books (accounts owned by members of teams they manage) and their own.
- Admin (or superuser): everything, and configuration in Django admin.
- Read-only: sees everything, changes nothing.
"""

from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.models import User as AuthUser
from django.http import HttpRequest

CSM = "CSM"
MANAGER = "Manager"
ADMIN = "Admin"
READ_ONLY = "Read-only"
ROLES = (CSM, MANAGER, ADMIN, READ_ONLY)

User = AuthUser | AnonymousUser


def group_names(user: User) -> set[str]:
    if not user.is_authenticated:
        return set()
    cached = getattr(user, "_csm_groups", None)
    if cached is None:
        cached = set(user.groups.values_list("name", flat=True))
        user._csm_groups = cached  # type: ignore[attr-defined]  # a per-request cache on the user object
    return cached


def is_admin(user: User) -> bool:
    return bool(user.is_authenticated and (user.is_superuser or ADMIN in group_names(user)))


def is_manager(user: User) -> bool:
    return MANAGER in group_names(user)


def is_read_only(user: User) -> bool:
    return READ_ONLY in group_names(user) and not is_admin(user)


def sees_everything(user: User) -> bool:
    return is_admin(user) or is_read_only(user)


def can_write(user: User) -> bool:
    return bool(user.is_authenticated) and not is_read_only(user)


def role_of(user: User) -> str:
    if is_admin(user):
        return ADMIN
    if is_read_only(user):
        return READ_ONLY
    if is_manager(user):
        return MANAGER
    return CSM


def role_context(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"user_role": role_of(user), "user_can_write": can_write(user)}
