"""The approval queue's pages: the list (approve or hold, several at once) and one notice's message."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from csm import roles
from csm.requests import SignedInHttpRequest

from . import approvals
from .forms import NoticeMessageForm

PAGE_SIZE = 50


def _require_write(request: SignedInHttpRequest) -> None:
    if not roles.can_write(request.user):
        raise PermissionDenied("Read-only users change nothing.")


@login_required
@require_http_methods(["GET", "POST"])
def approval_queue(request: SignedInHttpRequest) -> HttpResponse:
    if request.method == "POST":
        _require_write(request)
        action = request.POST.get("action", "")
        ids = [int(value) for value in request.POST.getlist("notice") if value.isdigit()]
        try:
            count = approvals.review_notices(notice_ids=ids, action=action, by=request.user, now=timezone.now())
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, f"{count} notice{'s' if count != 1 else ''} {approvals.ACTIONS[action]}.")
        return redirect("renewals:approval-queue")
    page = Paginator(approvals.queue_for(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "renewals/approval_queue.html",
        {"page": page, "notices": page.object_list, "user_can_write": roles.can_write(request.user)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def approval_notice(request: SignedInHttpRequest, pk: int) -> HttpResponse:
    """One queued notice: its message as it will be sent, to edit, approve or hold."""
    notice = get_object_or_404(approvals.queue_for(request.user), pk=pk)
    subject, text = approvals.message_of(notice)
    form = NoticeMessageForm(request.POST or None, initial={"subject": subject, "text": text})
    if request.method == "POST":
        _require_write(request)
        if form.is_valid():
            now = timezone.now()
            try:
                approvals.edit_notice_message(
                    notice=notice, subject=form.cleaned_data["subject"], text=form.cleaned_data["text"],
                    by=request.user, now=now,
                )  # fmt: skip
                then = request.POST.get("then", "")
                if then in approvals.ACTIONS:
                    approvals.review_notices(notice_ids=[notice.pk], action=then, by=request.user, now=now)
            except ValidationError as exc:
                if hasattr(exc, "error_dict"):
                    for field, errors in exc.message_dict.items():
                        form.add_error(field if field in form.fields else None, errors)
                else:
                    form.add_error(None, exc.messages)
            else:
                done = approvals.ACTIONS.get(then, "saved")
                messages.success(request, f"Notice to {notice.email}: message saved, {done}.")
                return redirect("renewals:approval-queue")
        status = 400
    else:
        status = 200
    return render(
        request,
        "renewals/approval_notice.html",
        {"notice": notice, "form": form, "user_can_write": roles.can_write(request.user)},
        status=status,
    )
