"""Everything the account page shows, gathered in a fixed number of statements.

Each block is one query over the account's own rows (never one per contact, contract or
task), so the page costs the same whatever the size of the book or of the account.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.contrib.auth.models import User
from django.utils import timezone

from accounts.models import Account, Contact, HealthScore
from growth import reports as growth_reports
from health import explain
from playbooks import services as playbook_services
from renewals.models import Contract, NoticeEvent, RenewalAnswer, RenewalNotice, RevenueEntry

from .today import BAND_RANK, health_reason

TIMELINE_LIMIT = 30
HEALTH_DAYS = 90


@dataclass
class TimelineEntry:
    when: datetime
    kind: str  # touchpoint | notice | health | task
    title: str
    detail: str = ""
    tone: str = ""
    who: str = ""


def _at(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(12)))


def _name(user: User | None) -> str:
    return (user.get_full_name() or user.username) if user is not None else ""


def overview(account: Account, *, today: date) -> dict:
    contacts = list(account.contacts.select_related("successor"))
    contracts = list(account.contracts.select_related("program", "renewal").order_by("-ends_on", "-pk"))
    active = [c for c in contracts if c.status == Contract.Status.ACTIVE and c.ends_on >= today]
    current = min(active, key=lambda c: c.ends_on) if active else None
    touchpoints = list(account.touchpoints.select_related("by", "contact")[:TIMELINE_LIMIT])
    # For the timeline: the latest tasks opened or done (the open ones show in the tasks panel).
    tasks = list(account.tasks.select_related("assignee").order_by("-created_at", "-pk")[:TIMELINE_LIMIT])
    usage = list(account.usage_snapshots.order_by("-date")[:12])[::-1]
    trend = health_trend(account, today=today)
    notice_rows = notices(account)
    current_contacts = [c for c in contacts if not c.has_left(today)]
    context = {
        "account": account,
        "today": today,
        "contacts": contacts,
        "current_contacts": current_contacts,
        "contracts": contracts,
        "current_contract": current,
        "arr": sum((c.recurring_amount for c in active), Decimal("0")),
        "usage": usage,
        "usage_chart": [
            {"day": u.date.isoformat(), "active": u.licenses_active, "purchased": u.licenses_purchased} for u in usage
        ],
        "revenue": revenue_series(account),
        "health_trend": trend,
        "notices": notice_rows,
        "coverage": renewal_coverage(current_contacts, today=today),
        "timeline": timeline(
            touchpoints=touchpoints,
            notices=notice_rows,
            scores=trend["scores"],
            tasks=tasks,
            events=notice_events(account),
            answers=list(
                RenewalAnswer.objects.filter(renewal__contract__account=account).select_related("notice")[
                    :TIMELINE_LIMIT
                ]
            ),
            stage_changes=list(account.stage_changes.select_related("by")[:TIMELINE_LIMIT]),
        ),
    }
    # The health panel (issue #4) and the playbooks panels (#5): onboarding, success plan,
    # entitlements and open tasks, each with its own actions.
    context.update(explain.panel_context(account, today=today))
    context.update(playbook_services.account_panels(account, today=today))
    # Expansion opportunities, suggestions and renewal checkpoints (issue #18).
    context["growth"] = growth_reports.account_panel(account)
    return context


def renewal_coverage(contacts: list[Contact], *, today: date) -> dict:
    """Who the renewal notice reaches (docs/domain.md, "Renewals": several contacts, never only one)."""
    recipients = [c for c in contacts if c.receives_renewal_notices(today)]
    return {"recipients": recipients, "none": not recipients, "single": len(recipients) == 1}


def revenue_series(account: Account) -> dict:
    """Recurring revenue after each ledger entry: the account's revenue movement."""
    entries = list(RevenueEntry.objects.filter(account=account).order_by("effective_on", "pk"))
    running, points = Decimal("0"), []
    for entry in entries:
        running += entry.amount
        points.append({"day": entry.effective_on.isoformat(), "arr": float(running), "kind": entry.kind})
    return {"entries": entries[-10:][::-1], "points": points}


def health_trend(account: Account, *, today: date) -> dict:
    """The header's score and sparkline, and the band changes for the timeline."""
    scores = list(
        HealthScore.objects.filter(account=account, day__gt=today - timedelta(days=HEALTH_DAYS), day__lte=today)
        # Only what the sparkline and the timeline draw: not the parts, most of a row's bytes.
        .only("account_id", "day", "score", "band", "previous_band")
        .order_by("day")
    )
    # The header shows the account's current score exactly as the account list does: the latest
    # nightly run's (HealthScoreQuerySet.latest_run), else none.
    current = HealthScore.objects.latest_run(today=today).filter(account=account).first() if scores else None
    return {
        "scores": scores,
        "latest": current,
        "chart": [{"day": s.day.isoformat(), "score": s.score, "band": s.band} for s in scores],
        "reason": health_reason(current) if current else "",
    }


def notices(account: Account) -> list[RenewalNotice]:
    return list(RenewalNotice.objects.for_account(account).select_related("contact").order_by("-pk")[:50])


def notice_events(account: Account) -> list[NoticeEvent]:
    """What the mail provider reported about the account's notices (renewals/delivery.py)."""
    return list(NoticeEvent.objects.filter(notice__contract__account=account).select_related("notice")[:TIMELINE_LIMIT])


def timeline(
    *,
    touchpoints: list,
    notices: list,
    scores: list,
    tasks: list,
    events: Sequence = (),
    answers: Sequence = (),
    stage_changes: Sequence = (),
) -> list[TimelineEntry]:
    entries = [
        TimelineEntry(
            when=tp.occurred_at,
            kind="touchpoint",
            title=tp.get_kind_display(),
            detail=tp.notes,
            tone=tp.outcome,
            who=", ".join(filter(None, [_name(tp.by), tp.contact.name if tp.contact else ""])),
        )
        for tp in touchpoints
    ]
    problems = RenewalNotice.NEEDS_A_PERSON
    entries += [
        TimelineEntry(
            when=notice.sent_at or notice.created_at,
            kind="notice",
            title=f"Renewal notice {notice.get_status_display().lower()}",
            detail=notice.last_error if notice.status in problems else "",
            tone="negative" if notice.status in problems else "",
            who=f"{notice.contact.name} <{notice.email}>",
        )
        for notice in notices
    ]
    bad = ("bounced", "rejected", "complained", "failed")
    entries += [
        TimelineEntry(
            when=event.occurred_at,
            kind="notice",
            title=f"Renewal notice {event.event_type} ({event.provider})",
            detail=event.description,
            tone="negative" if event.event_type in bad else "",
            who=event.notice.email,
        )
        for event in events
    ]
    entries += [
        TimelineEntry(
            when=answer.answered_at,
            kind="notice",
            title=f"Renewal notice answered: {answer.get_kind_display()}",
            detail=f"Named {answer.named_name} <{answer.named_email}>" if answer.named_email else "",
            tone="positive" if answer.kind == RenewalAnswer.Kind.PLAN_TO_RENEW else "",
            who=answer.notice.email,
        )
        for answer in answers
    ]
    previous = None
    for score in scores:
        band_before = score.previous_band or (previous.band if previous else None)
        if band_before and band_before != score.band:
            worse = BAND_RANK.get(score.band, 0) > BAND_RANK.get(band_before, 0)
            entries.append(
                TimelineEntry(
                    when=_at(score.day),
                    kind="health",
                    title=f"Health {band_before} → {score.band}",
                    detail=f"Score {score.score}",
                    tone="negative" if worse else "positive",
                )
            )
        previous = score
    for task in tasks:
        who = _name(task.assignee)
        if task.completed_at:
            entries.append(
                TimelineEntry(
                    when=task.completed_at, kind="task", title=f"Task done: {task.title}", tone="positive", who=who
                )
            )
        else:
            entries.append(
                TimelineEntry(
                    when=task.created_at, kind="task", title=f"Task opened: {task.title}", detail=task.reason, who=who
                )
            )
    entries += [
        TimelineEntry(
            when=_at(change.on),
            kind="stage",
            title=f"Stage {change.get_from_stage_display()} → {change.get_to_stage_display()}",
            detail=change.reason,
            tone="negative" if change.to_stage == "churned" else "",
            who=_name(change.by),
        )
        for change in stage_changes
    ]
    entries.sort(key=lambda e: e.when, reverse=True)
    return entries[:TIMELINE_LIMIT]
