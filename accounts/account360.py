"""Everything the account page shows, gathered in a fixed number of statements.

Each block is one query over the account's own rows (never one per contact, contract or
task), so the page costs the same whatever the size of the book or of the account.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Count, Q
from django.utils import timezone

from playbooks.models import Milestone, Objective, OnboardingItem, SuccessPlan, Task
from renewals.models import Contract, RevenueEntry

from .models import Account, Contact, Touchpoint
from .today import BAND_RANK, health_reason, optional_model

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


def _name(user: object) -> str:
    return (user.get_full_name() or user.username) if user is not None else ""


def overview(account: Account, *, today: date) -> dict:
    contacts = list(account.contacts.select_related("successor"))
    contracts = list(account.contracts.select_related("program", "renewal").order_by("-ends_on", "-pk"))
    active = [c for c in contracts if c.status == Contract.Status.ACTIVE and c.ends_on >= today]
    current = min(active, key=lambda c: c.ends_on) if active else None
    touchpoints = list(account.touchpoints.select_related("by", "contact")[:TIMELINE_LIMIT])
    tasks = list(account.tasks.select_related("assignee").order_by("due_on", "pk")[:200])
    open_tasks = [t for t in tasks if t.status in (Task.Status.OPEN, Task.Status.SNOOZED)]
    done_tasks = [t for t in tasks if t.status == Task.Status.DONE and t.completed_at]
    context = {
        "account": account,
        "today": today,
        "contacts": contacts,
        "current_contacts": [c for c in contacts if not c.has_left(today)],
        "contracts": contracts,
        "current_contract": current,
        "arr": sum((c.recurring_amount for c in active), Decimal("0")),
        "open_tasks": open_tasks,
        "onboarding": onboarding(account, today=today),
        "plan": success_plan(account),
        "usage": list(account.usage_snapshots.order_by("-date")[:12])[::-1],
        "entitlements": entitlements(account, today=today),
        "revenue": revenue_series(account),
        "health": health(account, today=today),
        "notices": notices(account),
    }
    context["usage_chart"] = [
        {"day": u.date.isoformat(), "active": u.licenses_active, "purchased": u.licenses_purchased}
        for u in context["usage"]
    ]
    context.update(other_panels(account, today=today))
    context["coverage"] = renewal_coverage(context["current_contacts"], today=today)
    context["timeline"] = timeline(
        touchpoints=touchpoints,
        notices=context["notices"],
        scores=context["health"]["scores"],
        tasks=done_tasks + open_tasks,
    )
    return context


def other_panels(account: Account, *, today: date) -> dict:
    """Panels other issues provide: used as soon as their code has landed."""
    context: dict = {}
    try:
        from . import health as health_module
    except ImportError:
        health_module = None
    if health_module is not None and hasattr(health_module, "panel_context"):
        context.update(health_module.panel_context(account, today=today))
        context["health_panel"] = True
    from playbooks import services as playbook_services

    if hasattr(playbook_services, "account_panels"):
        context.update(playbook_services.account_panels(account, today=today))
        context["playbook_panels"] = True
    return context


def renewal_coverage(contacts: list[Contact], *, today: date) -> dict:
    """Who the renewal notice reaches (DOMAIN §8: several contacts, never only one)."""
    recipients = [
        c for c in contacts if c.email and not c.email_opt_out and (c.is_decision_maker or c.is_renewal or c.is_billing)
    ]
    return {"recipients": recipients, "none": not recipients, "single": len(recipients) == 1}


def onboarding(account: Account, *, today: date) -> dict:
    items = list(OnboardingItem.objects.filter(account=account).select_related("owner"))
    done = sum(1 for item in items if item.completed_on)
    for item in items:
        item.overdue = item.is_overdue(today)
    return {
        "items": items,
        "done": done,
        "total": len(items),
        "pct": round(100 * done / len(items)) if items else 0,
        "overdue": sum(1 for item in items if item.overdue),
    }


def success_plan(account: Account) -> dict:
    plan = SuccessPlan.objects.filter(account=account).first()
    objectives = list(Objective.objects.filter(plan__account=account))
    milestones = list(Milestone.objects.filter(objective__plan__account=account))
    by_objective: dict[int, list[Milestone]] = {}
    for milestone in milestones:
        by_objective.setdefault(milestone.objective_id, []).append(milestone)
    for objective in objectives:
        objective.milestone_list = by_objective.get(objective.pk, [])
    reached = sum(1 for m in milestones if m.status == Milestone.Status.REACHED)
    return {
        "plan": plan,
        "objectives": objectives,
        "reached": reached,
        "total": len(milestones),
        "pct": round(100 * reached / len(milestones)) if milestones else 0,
    }


def entitlements(account: Account, *, today: date) -> list[dict]:
    """What the program entitles the customer to this year, beside what they used."""
    program = account.program
    if program is None:
        return []
    used = Touchpoint.objects.filter(account=account, occurred_at__gte=_at(today - timedelta(days=365))).aggregate(
        reviews=Count("pk", filter=Q(kind=Touchpoint.Kind.BUSINESS_REVIEW)),
        training=Count("pk", filter=Q(kind=Touchpoint.Kind.TRAINING)),
    )
    rows = [
        ("Business reviews", used["reviews"], program.business_reviews_per_year),
        ("Training sessions", used["training"], program.training_seats),
    ]
    return [
        {"label": label, "used": used_n, "entitled": entitled, "pct": min(100, round(100 * used_n / entitled))}
        for label, used_n, entitled in rows
        if entitled
    ]


def revenue_series(account: Account) -> dict:
    """Recurring revenue after each ledger entry: the account's revenue movement."""
    entries = list(RevenueEntry.objects.filter(account=account).order_by("effective_on", "pk"))
    running, points = Decimal("0"), []
    for entry in entries:
        running += entry.amount
        points.append({"day": entry.effective_on.isoformat(), "arr": float(running), "kind": entry.kind})
    return {"entries": entries[-10:][::-1], "points": points}


def health(account: Account, *, today: date) -> dict:
    score_model = optional_model("accounts", "HealthScore")
    if score_model is None:
        return {"available": False, "scores": [], "latest": None, "chart": []}
    scores = list(
        score_model.objects.filter(
            account=account, day__gt=today - timedelta(days=HEALTH_DAYS), day__lte=today
        ).order_by("day")
    )
    return {
        "available": True,
        "scores": scores,
        "latest": scores[-1] if scores else None,
        "chart": [{"day": s.day.isoformat(), "score": s.score, "band": s.band} for s in scores],
        "reason": health_reason(scores[-1]) if scores else "",
    }


def notices(account: Account) -> list:
    notice_model = optional_model("renewals", "RenewalNotice")
    if notice_model is None:
        return []
    return list(notice_model.objects.filter(contract__account=account).select_related("contact").order_by("-pk")[:50])


def timeline(*, touchpoints: list, notices: list, scores: list, tasks: list) -> list[TimelineEntry]:
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
    for notice in notices:
        when = getattr(notice, "sent_at", None) or getattr(notice, "created_at", None)
        if when is None:
            continue
        status = notice.get_status_display() if hasattr(notice, "get_status_display") else notice.status
        tone = "negative" if notice.status in ("bounced", "failed", "needs_review") else ""
        who = notice.contact.name if notice.contact_id else ""
        entries.append(
            TimelineEntry(when=when, kind="notice", title=f"Renewal notice {status.lower()}", tone=tone, who=who)
        )
    previous = None
    for score in scores:
        band_before = getattr(score, "previous_band", None) or (previous.band if previous else None)
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
    entries.sort(key=lambda e: e.when, reverse=True)
    return entries[:TIMELINE_LIMIT]
