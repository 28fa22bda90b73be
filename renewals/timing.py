"""When a renewal notice may leave: its program's send window in the account's time zone, and
its program's approval queue (docs/domain.md §8).

A program's window is local hours ``notice_send_from_hour``..``notice_send_until_hour`` on
the weekdays ``notice_send_weekdays`` (ISO: 1 = Monday), read in the account's ``time_zone``.
A pending notice outside it carries ``not_before``, the next opening: the planner and the
sweeper do not publish it before, and the sender, which checks the window again (a retry can
fall after closing time), puts it back to wait instead of sending. The defaults (0 to 24,
every day) are "any time" and cost nothing.
"""

import zoneinfo
from collections.abc import Iterable
from datetime import datetime, time, timedelta

from django.db.models import Q

from accounts.models import Program

from .models import RenewalNotice

CHUNK = 2000


def next_opening(*, now: datetime, time_zone: str, from_hour: int, until_hour: int, weekdays: str) -> datetime | None:
    """The next moment the window opens, or None when it is open at ``now``."""
    try:
        zone = zoneinfo.ZoneInfo(time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo("UTC")
    days = {int(day) for day in weekdays if day.isdigit() and 1 <= int(day) <= 7} or set(range(1, 8))
    local = now.astimezone(zone)
    for ahead in range(8):
        day = local.date() + timedelta(days=ahead)
        if day.isoweekday() not in days:
            continue
        # Wall-clock hours of that day (a DST change shifts them with the customer's clocks).
        opens = datetime.combine(day, time(from_hour), tzinfo=zone)
        closes = (
            datetime.combine(day, time(until_hour), tzinfo=zone)
            if until_hour < 24
            else datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
        )
        if ahead == 0 and opens <= local < closes:
            return None
        if opens > local:
            return opens
    return None  # unreachable with at least one weekday: a week always has an opening


def opening_for(notice: RenewalNotice, *, now: datetime) -> datetime | None:
    """``next_opening`` for a notice loaded with its contract's program and account."""
    program = notice.contract.program
    if program is None or not program.has_send_window:
        return None
    return next_opening(
        now=now,
        time_zone=notice.contract.account.time_zone,
        from_hour=program.notice_send_from_hour,
        until_hour=program.notice_send_until_hour,
        weekdays=program.notice_send_weekdays,
    )


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def delay_outside_window(notice_ids: list[int], *, now: datetime) -> int:
    """Give the pending notices among ``notice_ids`` that are outside their window a ``not_before``.

    Set-based: one UPDATE per (program with a window, account time zone) found among them,
    each with the opening computed once. Returns how many now wait.
    """
    windowed = {program.pk: program for program in Program.objects.all() if program.has_send_window}
    if not windowed or not notice_ids:
        return 0
    delayed = 0
    for chunk in _chunks(notice_ids):
        rows = RenewalNotice.objects.filter(
            pk__in=chunk, status=RenewalNotice.Status.PENDING, contract__program_id__in=list(windowed)
        )
        groups = rows.order_by().values_list("contract__program_id", "contract__account__time_zone").distinct()
        for program_id, time_zone in list(groups):
            program = windowed[program_id]
            opening = next_opening(
                now=now,
                time_zone=time_zone,
                from_hour=program.notice_send_from_hour,
                until_hour=program.notice_send_until_hour,
                weekdays=program.notice_send_weekdays,
            )
            if opening is not None:
                delayed += rows.filter(contract__program_id=program_id, contract__account__time_zone=time_zone).update(
                    not_before=opening, updated_at=now
                )
    return delayed


def hold_for_approval(notice_ids: list[int], *, now: datetime) -> int:
    """New notices of programs that review their notices wait in the approval queue."""
    programs = list(Program.objects.filter(notices_need_approval=True).values_list("pk", flat=True))
    if not programs or not notice_ids:
        return 0
    held = 0
    for chunk in _chunks(notice_ids):
        held += RenewalNotice.objects.filter(
            pk__in=chunk, status=RenewalNotice.Status.PENDING, contract__program_id__in=programs
        ).update(status=RenewalNotice.Status.AWAITING_APPROVAL, updated_at=now)
    return held


def gate_new_notices(notice_ids: list[int], *, now: datetime) -> list[int]:
    """Newly planned pending notices: into the approval queue or to wait for their window.

    Returns the ids that may be published now (all of them when no program reviews its
    notices or has a window, without a query).
    """
    held = hold_for_approval(notice_ids, now=now)
    delayed = delay_outside_window(notice_ids, now=now)
    if not held and not delayed:
        return notice_ids
    ready: list[int] = []
    for chunk in _chunks(notice_ids):
        ready += (
            RenewalNotice.objects.filter(pk__in=chunk, status=RenewalNotice.Status.PENDING)
            .filter(Q(not_before__isnull=True) | Q(not_before__lte=now))
            .values_list("pk", flat=True)
        )
    order = {pk: index for index, pk in enumerate(notice_ids)}
    return sorted(ready, key=order.__getitem__)
