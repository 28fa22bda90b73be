"""Page fragments cached until the books under them change.

The Today sections and the account list cost tens of ms of ORM and template work per request,
and a success manager reloads them all day while their book changes a few times an hour. They
are cached per session and keyed by change stamps, one per book owner plus one for everyone:

- a successful write request (POST, PUT, PATCH, DELETE answered below 400: forms, htmx actions,
  the API, the admin) replaces the stamps of the books its user may edit: a CSM's own book, a
  manager's team; a user who edits everything, or an anonymous one (inbound webhooks),
  replaces the stamp for everyone (``accounts.middleware.BumpOnWriteMiddleware``). Signing in and
  out does not;
- a write that reaches another owner's book says so with ``bump(owner_ids)`` (the handoff);
- a task writes through services that say whose books they changed: a renewal notice sent or reset
  replaces its owners' stamps, and so does every daily job (``run_job_once``) for the books its run
  changed (``bump_changed``): new tasks, suggestions, checkpoints, notices, surveys, contracts moved on
  are their accounts' owners' books; a night of health scores is every book. A run that changes
  nothing (no row written, a sweep that finds nothing due, a webhook delivery, the heartbeat, the
  retention job, which removes only rows older than any page shows) replaces none, so cached pages
  outlive the jobs and the minute sweeps. A failed run replaces every stamp: it may have written
  part of its work;

A fragment for the books of owners O is keyed by the stamp for everyone and the stamps of O, so
the first read after any change to those books computes afresh, while other CSMs' writes leave
it cached. ``PAGE_CACHE_SECONDS`` bounds what a change made some other way (a shell, SQL by
hand) can leave stale; 0 turns the cache off.
"""

import hashlib
import uuid
from collections.abc import Iterable

from django.conf import settings
from django.db.models import Max, QuerySet
from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.utils import timezone

from .models import ChangeStamp

EVERYONE = "everyone"  # changes that may touch any book
ANY = "any"  # replaced with every change: the stamp of those who see every book
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
SIGN_IN_VIEWS = frozenset({"login", "otp-verify", "logout"})


def _owner_key(owner_id: int) -> str:
    return f"owner:{owner_id}"


def bump(owner_ids: Iterable[int] | None = None) -> None:
    """Replace the stamps of these owners' books, or (None) of every book, in one statement."""
    keys = [EVERYONE] if owner_ids is None else [_owner_key(pk) for pk in sorted(set(owner_ids))]
    now, token = timezone.now(), uuid.uuid4().hex
    ChangeStamp.objects.bulk_create(
        [ChangeStamp(key=key, token=token, changed_at=now) for key in [ANY, *keys]],
        update_conflicts=True,
        unique_fields=["key"],
        update_fields=["token", "changed_at"],
    )


def bump_changed(owner_ids: Iterable[int | None]) -> None:
    """Replace the stamps of the books of these accounts' owners (None: an account nobody owns, seen
    only by those who see every book); nothing at all when there are none, so a job run that changed
    nothing leaves every cached page."""
    owners = set(owner_ids)
    if owners:
        bump(owners - {None})  # type: ignore[arg-type]  # None was taken out


def last_id(queryset: QuerySet) -> int:
    """The highest primary key so far: rows above it were written after (a job's watermark)."""
    return queryset.aggregate(last=Max("pk"))["last"] or 0


def stamp(owner_ids: Iterable[int] | None) -> str:
    """The stamps of these owners' books (None: every book), read in one statement."""
    keys = [ANY] if owner_ids is None else [EVERYONE, *(_owner_key(pk) for pk in owner_ids)]
    tokens = dict(ChangeStamp.objects.filter(key__in=keys).values_list("key", "token"))
    return hashlib.sha256("|".join(tokens.get(key, "-") for key in keys).encode()).hexdigest()[:32]


def fragment_key(request: HttpRequest, owner_ids: Iterable[int] | None, *parts: object) -> str:
    """The cache key of a fragment showing these owners' books, for this session.

    A fragment holds the session's CSRF tokens and what its user may see, so it is never shared
    between sessions; the session key and CSRF secret are hashed, never written into the key.
    """
    session = request.session.session_key or ""
    get_token(request)  # the page's forms carry a token: make sure the secret exists now
    csrf = request.META.get("CSRF_COOKIE") or ""
    who = hashlib.sha256(f"{session}:{csrf}".encode()).hexdigest()[:32]
    return ":".join([who, stamp(owner_ids), *(str(part) for part in parts)])


def seconds() -> int:
    return settings.PAGE_CACHE_SECONDS
