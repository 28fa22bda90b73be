from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts.models import Account
from csm import roles
from csm.requests import SignedInHttpRequest

from . import forms, services, triage
from .models import Milestone, Objective, OnboardingItem, PlaybookRule, Task

MAX_SNOOZE_DAYS = 3650  # ten years: beyond that the date overflows long before it means anything


def _htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _require_write(request: HttpRequest) -> None:
    if not roles.can_write(request.user):
        raise PermissionDenied("Read-only users change nothing.")


def _account(request: HttpRequest, pk: int) -> Account:
    # Another CSM's account is a 404: its existence is not ours to reveal.
    return get_object_or_404(Account.objects.visible_to(request.user).select_related("owner", "program"), pk=pk)


# --- Tasks ---------------------------------------------------------------------------------------


TASK_PAGE = 100


def task_list(request: HttpRequest) -> HttpResponse:
    """Tasks by urgency, filtered and paginated; every count is of the whole filtered list."""
    today = timezone.localdate()
    filters = forms.TaskFilterForm(request.GET or None)
    data = filters.cleaned_data if filters.is_valid() else {}
    scope, status = data.get("scope") or "mine", data.get("status") or "open"
    tasks = Task.objects.visible_to(request.user).select_related("account", "rule", "assignee")
    if scope != "all" and not data.get("owner"):
        tasks = tasks.filter(assignee=request.user)
    tasks = triage.TaskFilter(
        kind=data.get("kind") or "",
        rule_id=data["rule"].pk if data.get("rule") else None,
        account_id=data.get("account"),
        assignee_id=data["owner"].pk if data.get("owner") else None,
        due=data.get("due") or "",
    ).apply(tasks, today=today)
    counts = tasks.aggregate(
        open=Count("pk", filter=Q(status=Task.Status.OPEN)),
        snoozed=Count("pk", filter=Q(status=Task.Status.SNOOZED)),
        overdue=Count("pk", filter=Q(status=Task.Status.OPEN, due_on__lt=today)),
        due_today=Count("pk", filter=Q(status=Task.Status.OPEN, due_on=today)),
        later=Count("pk", filter=Q(status=Task.Status.OPEN, due_on__gt=today)),
    )
    order = ("due_on", "priority", "pk") if status == "open" else ("snoozed_until", "pk")
    page = Paginator(tasks.filter(status=status).order_by(*order), TASK_PAGE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    if status == "open":
        groups = [
            ("Overdue", [t for t in rows if t.due_on < today], "bad", counts["overdue"]),
            ("Due today", [t for t in rows if t.due_on == today], "warn", counts["due_today"]),
            ("Coming up", [t for t in rows if t.due_on > today], "", counts["later"]),
        ]
    else:
        groups = [("Snoozed", rows, "", counts["snoozed"])]
    query = request.GET.copy()
    query.pop("page", None)
    account = Account.objects.visible_to(request.user).filter(pk=data.get("account") or 0).first()
    return render(
        request,
        "playbooks/task_list.html",
        {
            "groups": groups,
            "page": page,
            "counts": counts,
            "today": today,
            "scope": scope,
            "status": status,
            "filters": filters,
            "filter_account": account,
            "query": query.urlencode(),
            "bulk_form": forms.BulkTaskForm(),
            "new_task_form": forms.AccountTaskForm(user=request.user, initial={"due_on": today}),
        },
    )


@require_POST
def task_bulk(request: SignedInHttpRequest) -> HttpResponse:
    _require_write(request)
    form = forms.BulkTaskForm(request.POST)
    back = request.POST.get("next", "")
    back = back if back.startswith("/") and not back.startswith("//") else reverse("playbooks:task-list")
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))  # type: ignore[misc]  # ErrorList items are strings
        return redirect(back)
    data, today = form.cleaned_data, timezone.localdate()
    visible = Task.objects.visible_to(request.user)
    try:
        if data["action"] == "done":
            n = triage.close_tasks(
                visible, ids=data["ids"], by=request.user, now=timezone.now(), outcome=data["outcome"]
            )
            messages.success(request, f"{n} task(s) marked done.")
        elif data["action"] == "snooze":
            until = today + timedelta(days=data["days"] or 7)
            n = triage.snooze_tasks(visible, ids=data["ids"], until=until, today=today, by=request.user)
            messages.success(request, f"{n} task(s) snoozed until {until:%-d %b}.")
        else:
            n = triage.reassign_tasks(visible, ids=data["ids"], assignee=data["assignee"], by=request.user)
            who = data["assignee"].get_full_name() or data["assignee"].username
            messages.success(request, f"{n} task(s) reassigned to {who}.")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect(back)


@require_POST
def task_create(request: SignedInHttpRequest, account_pk: int | None = None) -> HttpResponse:
    _require_write(request)
    today = timezone.localdate()
    if account_pk is None:
        form: forms.AccountTaskForm | forms.NewTaskForm = forms.AccountTaskForm(request.POST, user=request.user)
    else:
        account = _account(request, account_pk)
        form = forms.NewTaskForm(request.POST)
    if form.is_valid():
        data = dict(form.cleaned_data)
        account = data.pop("account", None) or account
        try:
            task = triage.create_task(account=account, **data, today=today, by=request.user)
        except ValidationError as exc:
            for name, errors in exc.message_dict.items():
                form.add_error(name if name in form.fields else None, errors)
        else:
            messages.success(request, f"Task added: {task.title}.")
            return redirect("front:account-detail", pk=account.pk) if account_pk else redirect("playbooks:task-list")
    if account_pk is None:
        return render(request, "playbooks/task_new.html", {"new_task_form": form}, status=400)
    return render(request, "playbooks/task_new.html", {"new_task_form": form, "account": account}, status=400)


def _task_row(request: HttpRequest, task: Task) -> HttpResponse:
    return render(request, "playbooks/_task_row.html", {"task": task, "today": timezone.localdate()})


@require_POST
def task_done(request: SignedInHttpRequest, pk: int) -> HttpResponse:
    _require_write(request)
    task = get_object_or_404(Task.objects.visible_to(request.user), pk=pk)
    try:
        services.complete_task(task, by=request.user, now=timezone.now(), outcome=request.POST.get("outcome", ""))
    except ValidationError as exc:
        return HttpResponse(" ".join(exc.messages), status=409)
    return _task_row(request, task) if _htmx(request) else redirect("playbooks:task-list")


@require_POST
def task_snooze(request: SignedInHttpRequest, pk: int) -> HttpResponse:
    _require_write(request)
    task = get_object_or_404(Task.objects.visible_to(request.user), pk=pk)
    today = timezone.localdate()
    days = request.POST.get("days")
    if days and (not days.isdigit() or int(days) > MAX_SNOOZE_DAYS):
        return HttpResponse(f"Snooze for 1 to {MAX_SNOOZE_DAYS} days.", status=400)
    form = forms.SnoozeForm({"until": today + timedelta(days=int(days))} if days else request.POST)
    if not form.is_valid():
        return HttpResponse("Pick a day to snooze until.", status=400)
    try:
        services.snooze_task(task, until=form.cleaned_data["until"], today=today, by=request.user)
    except ValidationError as exc:
        return HttpResponse(" ".join(exc.messages), status=400)
    return _task_row(request, task) if _htmx(request) else redirect("playbooks:task-list")


# --- Handoff -------------------------------------------------------------------------------------


def handoff_form(request: SignedInHttpRequest) -> HttpResponse:
    if request.method == "POST":
        _require_write(request)
    form = forms.HandoffForm(request.POST or None, user=request.user)
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


@require_http_methods(["GET", "HEAD", "POST"])
def success_plan(request: HttpRequest, account_pk: int) -> HttpResponse:
    account = _account(request, account_pk)
    today = timezone.localdate()
    objective_form = forms.ObjectiveForm(prefix="objective")
    if request.method == "POST":
        _require_write(request)
        objective_form = forms.ObjectiveForm(request.POST, prefix="objective")
        if objective_form.is_valid():
            try:
                services.add_objective(account, **objective_form.cleaned_data)
            except ValidationError as exc:
                objective_form.add_error(None, exc)
            else:
                messages.success(request, "Objective added.")
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
    objective = _writable_objective(request, objective_pk)
    form = forms.MilestoneForm(request.POST)
    if form.is_valid():
        services.add_milestone(objective, **form.cleaned_data)
    else:
        messages.error(request, "The milestone needs a title and a due date.")
    return redirect("playbooks:success-plan", account_pk=objective.plan.account_id)


def _writable_objective(request: HttpRequest, pk: int) -> Objective:
    objective = get_object_or_404(
        Objective.objects.filter(plan__account__in=Account.objects.visible_to(request.user)).select_related("plan"),
        pk=pk,
    )
    _require_write(request)
    return objective


def _writable_milestone(request: HttpRequest, pk: int) -> Milestone:
    milestone = get_object_or_404(
        Milestone.objects.filter(objective__plan__account__in=Account.objects.visible_to(request.user)).select_related(
            "objective__plan"
        ),
        pk=pk,
    )
    _require_write(request)
    return milestone


@require_http_methods(["GET", "HEAD", "POST"])
def objective_edit(request: HttpRequest, pk: int) -> HttpResponse:
    objective = _writable_objective(request, pk)
    form = forms.ObjectiveForm(
        request.POST or None, initial={"title": objective.title, "description": objective.description}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.update_objective(objective, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Objective saved.")
            return redirect("playbooks:success-plan", account_pk=objective.plan.account_id)
    return render(
        request,
        "playbooks/plan_item_form.html",
        {
            "form": form,
            "heading": f"Edit objective “{objective.title}”",
            "delete_url": reverse("playbooks:objective-delete", args=[objective.pk]),
            "account": objective.plan.account,
        },
    )


@require_POST
def objective_delete(request: HttpRequest, pk: int) -> HttpResponse:
    objective = _writable_objective(request, pk)
    services.delete_objective(objective)
    messages.success(request, f"Objective “{objective.title}” deleted.")
    return redirect("playbooks:success-plan", account_pk=objective.plan.account_id)


@require_http_methods(["GET", "HEAD", "POST"])
def milestone_edit(request: HttpRequest, pk: int) -> HttpResponse:
    milestone = _writable_milestone(request, pk)
    initial = {
        "title": milestone.title,
        "metric": milestone.metric,
        "target": milestone.target,
        "due_on": milestone.due_on,
    }
    form = forms.MilestoneForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.edit_milestone(milestone, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Milestone saved.")
            return redirect("playbooks:success-plan", account_pk=milestone.objective.plan.account_id)
    return render(
        request,
        "playbooks/plan_item_form.html",
        {
            "form": form,
            "heading": f"Edit milestone “{milestone.title}”",
            "delete_url": reverse("playbooks:milestone-delete", args=[milestone.pk]),
            "account": milestone.objective.plan.account,
        },
    )


@require_POST
def milestone_delete(request: HttpRequest, pk: int) -> HttpResponse:
    milestone = _writable_milestone(request, pk)
    services.delete_milestone(milestone)
    messages.success(request, f"Milestone “{milestone.title}” deleted.")
    return redirect("playbooks:success-plan", account_pk=milestone.objective.plan.account_id)


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
    # By default the contract year so far: entitlements are included per contract year.
    start, year_end, _ = services.contract_year(account, today=today)
    end = min(year_end, today)
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
