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

from django.db import connection

from accounts.models import Account, Program

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


def delay_outside_window(notice_ids: list[int], *, now: datetime, programs: list[Program] | None = None) -> list[int]:
    """Give the pending notices among ``notice_ids`` that are outside their window a ``not_before``.

    Set-based: the next opening is computed once per (program with a window, time zone in
    use), then one ``UPDATE … FROM (VALUES …) RETURNING id`` per chunk of notices sets it from
    each row's contract program and account time zone. Returns the ids that now wait.
    """
    programs = list(Program.objects.all()) if programs is None else programs
    windowed = [program for program in programs if program.has_send_window]
    if not windowed or not notice_ids:
        return []
    zones = list(Account.objects.filter(program__in=windowed).order_by().values_list("time_zone", flat=True).distinct())
    openings = [
        (program.pk, zone, opening)
        for program in windowed
        for zone in zones
        if (
            opening := next_opening(
                now=now,
                time_zone=zone,
                from_hour=program.notice_send_from_hour,
                until_hour=program.notice_send_until_hour,
                weekdays=program.notice_send_weekdays,
            )
        )
        is not None
    ]
    if not openings:
        return []
    values = ", ".join(["(%s, %s, %s)"] * len(openings))
    stamp = connection.ops.adapt_datetimefield_value  # raw SQL: the backend's own datetime form
    delayed: list[int] = []
    with connection.cursor() as cursor:
        for chunk in _chunks(notice_ids):
            cursor.execute(
                f"""
                UPDATE renewals_renewalnotice SET not_before = w.column3, updated_at = %s
                FROM renewals_contract c
                JOIN accounts_account a ON a.id = c.account_id
                JOIN (VALUES {values}) AS w ON w.column1 = c.program_id AND w.column2 = a.time_zone
                WHERE renewals_renewalnotice.contract_id = c.id AND renewals_renewalnotice.status = %s
                  AND renewals_renewalnotice.id IN ({", ".join(["%s"] * len(chunk))})
                RETURNING renewals_renewalnotice.id
                """,  # noqa: S608 - only placeholders are interpolated.
                [
                    stamp(now),
                    *(value for pk, zone, opening in openings for value in (pk, zone, stamp(opening))),
                    RenewalNotice.Status.PENDING,
                    *chunk,
                ],
            )
            delayed += [row[0] for row in cursor.fetchall()]
    return delayed


def hold_for_approval(notice_ids: list[int], *, now: datetime, programs: list[Program] | None = None) -> list[int]:
    """New notices of programs that review their notices wait in the approval queue; their ids."""
    programs = list(Program.objects.all()) if programs is None else programs
    reviewing = [program.pk for program in programs if program.notices_need_approval]
    if not reviewing or not notice_ids:
        return []
    held: list[int] = []
    for chunk in _chunks(notice_ids):
        rows = RenewalNotice.objects.filter(
            pk__in=chunk, status=RenewalNotice.Status.PENDING, contract__program_id__in=reviewing
        )
        found = list(rows.values_list("pk", flat=True))
        RenewalNotice.objects.filter(pk__in=found).update(status=RenewalNotice.Status.AWAITING_APPROVAL, updated_at=now)
        held += found
    return held


def gate_new_notices(notice_ids: list[int], *, now: datetime) -> list[int]:
    """Newly planned pending notices: into the approval queue or to wait for their window.

    Returns the ids that may be published now (all of them when no program reviews its
    notices or has a window, without a query).
    """
    if not notice_ids:
        return notice_ids
    programs = list(Program.objects.all())  # a handful of rows, read once
    held = hold_for_approval(notice_ids, now=now, programs=programs)
    delayed = delay_outside_window(notice_ids, now=now, programs=programs)
    if not held and not delayed:
        return notice_ids
    waiting = set(held) | set(delayed)
    return [pk for pk in notice_ids if pk not in waiting]
