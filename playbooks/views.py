from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from accounts.models import Account
from csm import roles
from csm.requests import SignedInHttpRequest

from . import forms, services
from .models import Milestone, Objective, OnboardingItem, PlaybookRule, Task


def _htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _require_write(request: HttpRequest) -> None:
    if not roles.can_write(request.user):
        raise PermissionDenied("Read-only users change nothing.")


def _account(request: HttpRequest, pk: int) -> Account:
    # Another CSM's account is a 404: its existence is not ours to reveal.
    return get_object_or_404(Account.objects.visible_to(request.user).select_related("owner", "program"), pk=pk)


# --- Tasks ---------------------------------------------------------------------------------------


def task_list(request: HttpRequest) -> HttpResponse:
    """My tasks by urgency; ``?scope=all`` shows every task on the accounts I see."""
    today = timezone.localdate()
    scope = request.GET.get("scope", "mine")
    tasks = Task.objects.visible_to(request.user).select_related("account", "rule", "assignee")
    if scope != "all":
        tasks = tasks.filter(assignee=request.user)
    open_tasks = list(tasks.filter(status=Task.Status.OPEN).order_by("due_on", "pk")[:500])
    groups = [
        ("Overdue", [t for t in open_tasks if t.due_on < today], "bad"),
        ("Due today", [t for t in open_tasks if t.due_on == today], "warn"),
        ("Coming up", [t for t in open_tasks if t.due_on > today], ""),
    ]
    snoozed = list(tasks.filter(status=Task.Status.SNOOZED).order_by("snoozed_until", "pk")[:100])
    return render(
        request,
        "playbooks/task_list.html",
        {"groups": groups, "snoozed": snoozed, "today": today, "scope": scope, "total": len(open_tasks)},
    )


def _task_row(request: HttpRequest, task: Task) -> HttpResponse:
    return render(request, "playbooks/_task_row.html", {"task": task, "today": timezone.localdate()})


@require_POST
def task_done(request: SignedInHttpRequest, pk: int) -> HttpResponse:
    _require_write(request)
    task = get_object_or_404(Task.objects.visible_to(request.user), pk=pk)
    try:
        services.complete_task(task, by=request.user, now=timezone.now())
    except ValidationError as exc:
        return HttpResponse(" ".join(exc.messages), status=409)
    return _task_row(request, task) if _htmx(request) else redirect("playbooks:task-list")


@require_POST
def task_snooze(request: SignedInHttpRequest, pk: int) -> HttpResponse:
    _require_write(request)
    task = get_object_or_404(Task.objects.visible_to(request.user), pk=pk)
    today = timezone.localdate()
    days = request.POST.get("days")
    form = forms.SnoozeForm({"until": today + timedelta(days=int(days))} if days and days.isdigit() else request.POST)
    if not form.is_valid():
        return HttpResponse("Pick a day to snooze until.", status=400)
    try:
        services.snooze_task(task, until=form.cleaned_data["until"], today=today, by=request.user)
    except ValidationError as exc:
        return HttpResponse(" ".join(exc.messages), status=400)
    return _task_row(request, task) if _htmx(request) else redirect("playbooks:task-list")


# --- Handoff -------------------------------------------------------------------------------------


def handoff_form(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        _require_write(request)
    form = forms.HandoffForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            handoff, created = services.record_handoff(
                **data, payload={"source": "form"}, by=request.user, today=timezone.localdate()
            )
        except ValidationError as exc:
            for name, errors in exc.message_dict.items():
                form.add_error(name if name in form.fields else None, errors)
        else:
            verb = "recorded" if created else "updated"
            messages.success(request, f"Handoff {handoff.deal_id} {verb}: onboarding has started.")
            if Account.objects.visible_to(request.user).filter(pk=handoff.account_id).exists():
                return redirect("playbooks:onboarding", account_pk=handoff.account_id)
            return redirect("playbooks:handoff")
    return render(request, "playbooks/handoff_form.html", {"form": form})


# --- Onboarding ----------------------------------------------------------------------------------


@require_safe
def onboarding(request: HttpRequest, account_pk: int) -> HttpResponse:
    account = _account(request, account_pk)
    today = timezone.localdate()
    return render(
        request, "playbooks/onboarding.html", {"account": account, **services.account_panels(account, today=today)}
    )


@require_POST
def onboarding_item_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    _require_write(request)
    item = get_object_or_404(
        OnboardingItem.objects.filter(account__in=Account.objects.visible_to(request.user)).select_related("account"),
        pk=pk,
    )
    today = timezone.localdate()
    services.set_onboarding_item_done(item, done=request.POST.get("done") == "1", today=today)
    if _htmx(request):
        context = {"account": item.account, **services.account_panels(item.account, today=today)}
        return render(request, "playbooks/_onboarding_panel.html", context)
    return redirect("playbooks:onboarding", account_pk=item.account_id)


# --- Success plan ----------------------------------------------------------------------------------


@require_safe
def success_plan(request: HttpRequest, account_pk: int) -> HttpResponse:
    account = _account(request, account_pk)
    today = timezone.localdate()
    objective_form = forms.ObjectiveForm(prefix="objective")
    if request.method == "POST":
        _require_write(request)
        objective_form = forms.ObjectiveForm(request.POST, prefix="objective")
        if objective_form.is_valid():
            services.add_objective(account, **objective_form.cleaned_data)
            return redirect("playbooks:success-plan", account_pk=account.pk)
    return render(
        request,
        "playbooks/success_plan.html",
        {
            "account": account,
            "objective_form": objective_form,
            "milestone_form": forms.MilestoneForm(initial={"due_on": today + timedelta(days=90)}),
            "statuses": Milestone.Status.choices,
            **services.account_panels(account, today=today),
        },
    )


@require_POST
def milestone_add(request: HttpRequest, objective_pk: int) -> HttpResponse:
    _require_write(request)
    objective = get_object_or_404(
        Objective.objects.filter(plan__account__in=Account.objects.visible_to(request.user)), pk=objective_pk
    )
    form = forms.MilestoneForm(request.POST)
    if form.is_valid():
        services.add_milestone(objective, **form.cleaned_data)
    else:
        messages.error(request, "The milestone needs a title and a due date.")
    return redirect("playbooks:success-plan", account_pk=objective.plan.account_id)


@require_POST
def milestone_update(request: HttpRequest, pk: int) -> HttpResponse:
    _require_write(request)
    milestone = get_object_or_404(
        Milestone.objects.filter(objective__plan__account__in=Account.objects.visible_to(request.user)), pk=pk
    )
    form = forms.MilestoneProgressForm(request.POST)
    if not form.is_valid():
        return HttpResponse("Enter a number and a status.", status=400)
    today = timezone.localdate()
    services.update_milestone(milestone, **form.cleaned_data, today=today)
    if _htmx(request):
        return render(
            request,
            "playbooks/_milestone_row.html",
            {"milestone": milestone, "today": today, "statuses": Milestone.Status.choices, "editable": True},
        )
    return redirect("playbooks:success-plan", account_pk=milestone.objective.plan.account_id)


# --- Entitlements and the statement -----------------------------------------------------------------


@require_safe
def statement(request: HttpRequest, account_pk: int) -> HttpResponse:
    account = _account(request, account_pk)
    today = timezone.localdate()
    period = forms.PeriodForm(request.GET or None)
    start, end = today - timedelta(days=365), today
    if period.is_valid():
        start = period.cleaned_data["start"] or start
        end = period.cleaned_data["end"] or end
    try:
        data = services.service_usage_statement(account, start=start, end=end)
    except ValidationError:
        start, end = end, end
        data = services.service_usage_statement(account, start=start, end=end)
    use_form = forms.EntitlementUseForm(initial={"used_on": today})
    return render(
        request,
        "playbooks/statement.html",
        {"account": account, "statement": data, "period": period, "use_form": use_form, "today": today},
    )


@require_POST
def entitlement_use_add(request: SignedInHttpRequest, account_pk: int) -> HttpResponse:
    _require_write(request)
    account = _account(request, account_pk)
    form = forms.EntitlementUseForm(request.POST)
    if form.is_valid():
        services.record_entitlement_use(account, **form.cleaned_data, by=request.user)
        messages.success(request, "Service recorded.")
    else:
        messages.error(request, "Enter the kind of service, a quantity above zero and the day.")
    return redirect("playbooks:statement", account_pk=account.pk)


# --- Rule dry run ------------------------------------------------------------------------------------


def rule_dry_run(request: HttpRequest, pk: int) -> HttpResponse:
    if not roles.is_admin(request.user):
        raise PermissionDenied("Only admins configure playbook rules.")
    rule = get_object_or_404(PlaybookRule, pk=pk)
    result = services.dry_run_rule(rule, today=timezone.localdate())
    return render(request, "playbooks/rule_dry_run.html", result)
