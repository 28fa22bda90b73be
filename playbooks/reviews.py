"""When a health check or a business review is overdue (docs/domain.md §5 and §9).

One definition for the playbook rules (rules.py compiles these querysets into its SQL) and for
the Today page's "Overdue health checks and reviews" section.

- A **health check** (any ``HealthCheck``) is due ``program.health_check_cadence_days`` after the
  last one, or after the account was created when none was ever held (as the nightly score's
  ``check_overdue`` flag counts it).
- A **business review** is due every ``365 // program.business_reviews_per_year`` days (the
  program's entitlement); a program entitled to none, or an account with no program, has none
  due. A review is held when it is logged as a touchpoint, a health check or an entitlement use
  of kind business review.
"""

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Exists, Max, OuterRef, Q, QuerySet
from django.utils import timezone

from accounts.models import Account, HealthCheck, Program, Touchpoint

from .models import EntitlementUse, PlaybookRun

# The program's own default: the cadence of accounts without a program (health's check_due_on too).
DEFAULT_CHECK_CADENCE_DAYS: int = Program._meta.get_field("health_check_cadence_days").default
CHECK, REVIEW = "health_check", "business_review"
KINDS = {CHECK: "Health check", REVIEW: "Business review"}


def review_interval_days(reviews_per_year: int) -> int | None:
    """Days between business reviews for a yearly entitlement (None: no review is due)."""
    return 365 // reviews_per_year if reviews_per_year else None


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def intervals(kind: str, programs: Iterable[tuple[int, int | None]] | None = None) -> dict[int, list]:
    """Program ids grouped by their interval in days for ``kind`` (key None: accounts with no program)."""
    if programs is None:
        field = "health_check_cadence_days" if kind == CHECK else "business_reviews_per_year"
        programs = Program.objects.values_list("pk", field)
    groups: dict[int, list] = defaultdict(list)
    for pk, value in programs:
        days = value if kind == CHECK else review_interval_days(value or 0)
        if days:
            groups[days].append(pk)
    if kind == CHECK:
        groups[DEFAULT_CHECK_CADENCE_DAYS].append(None)
    return groups


def held_since(kind: str, day: "date | OuterRef", *, account: OuterRef | None = None) -> Q:
    """Accounts (``account``, by default ``OuterRef("pk")``) that held a ``kind`` on or after ``day``."""
    account = account if account is not None else OuterRef("pk")
    checks = HealthCheck.objects.filter(account=account, held_on__gte=day)
    if kind == CHECK:
        return Q(Exists(checks))
    touch = {"occurred_at__gte": _start_of(day)} if isinstance(day, date) else {"occurred_at__date__gte": day}
    return (
        Q(Exists(checks.filter(kind=HealthCheck.Kind.BUSINESS_REVIEW)))
        | Q(Exists(Touchpoint.objects.filter(account=account, kind=Touchpoint.Kind.BUSINESS_REVIEW, **touch)))
        | Q(
            Exists(
                EntitlementUse.objects.filter(
                    account=account, kind=EntitlementUse.Kind.BUSINESS_REVIEW, used_on__gte=day
                )
            )
        )
    )


def alerted_for_current_due_date(kind: str, rule_id: int) -> Exists:
    """Accounts (``OuterRef("pk")``) for which the rule already fired since the last ``kind``
    held: a rule fires once per due date, however its task was closed."""
    runs = PlaybookRun.objects.filter(rule_id=rule_id, account=OuterRef("pk")).exclude(
        held_since(kind, OuterRef("fired_on"), account=OuterRef(OuterRef("pk")))
    )
    return Exists(runs)


def overdue(kind: str, *, today: date, programs: Iterable[tuple[int, int | None]] | None = None) -> Q:
    """Accounts whose ``kind`` is overdue today: nothing held within the interval, and older than it."""
    found = Q(pk__in=[])
    for days, program_ids in intervals(kind, programs).items():
        cutoff = today - timedelta(days=days)
        ids = [pk for pk in program_ids if pk is not None]
        in_group = Q(program_id__in=ids) if ids else Q(pk__in=[])
        if None in program_ids:
            in_group |= Q(program__isnull=True)
        found |= in_group & Q(created_at__lt=_start_of(cutoff)) & ~held_since(kind, cutoff)
    return found


def overdue_accounts(accounts: QuerySet[Account], kind: str, *, today: date) -> QuerySet[Account]:
    return accounts.filter(overdue(kind, today=today))


def last_held(kind: str, account_ids: list[int]) -> dict[int, date]:
    """The day each account last held a ``kind`` (accounts that never did are absent)."""
    last: dict[int, date] = {}

    def keep(rows: Iterable[tuple[int, date]]) -> None:
        for pk, day in rows:
            if day is not None and (pk not in last or day > last[pk]):
                last[pk] = day

    def latest(queryset: QuerySet, field: str) -> Iterable[tuple[int, Any]]:
        return (
            queryset.filter(account_id__in=account_ids)
            .order_by()
            .values("account_id")
            .annotate(last=Max(field))
            .values_list("account_id", "last")
        )

    checks = HealthCheck.objects.all()
    if kind == REVIEW:
        checks = checks.filter(kind=HealthCheck.Kind.BUSINESS_REVIEW)
        reviews = Touchpoint.objects.filter(kind=Touchpoint.Kind.BUSINESS_REVIEW)
        keep((pk, timezone.localdate(moment)) for pk, moment in latest(reviews, "occurred_at"))
        keep(latest(EntitlementUse.objects.filter(kind=EntitlementUse.Kind.BUSINESS_REVIEW), "used_on"))
    keep(latest(checks, "held_on"))
    return last


def due_on(kind: str, account: Account, *, last: date | None) -> date | None:
    """The day ``kind`` fell (or falls) due for ``account``, from the last one held or its creation."""
    program = account.program
    days: int | None
    if kind == CHECK:
        days = program.health_check_cadence_days if program else DEFAULT_CHECK_CADENCE_DAYS
    else:
        days = review_interval_days(program.business_reviews_per_year) if program else None
    if days is None:
        return None
    return (last or timezone.localdate(account.created_at)) + timedelta(days=days)
