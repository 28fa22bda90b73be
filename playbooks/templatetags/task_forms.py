from django import template
from django.utils import timezone

from accounts.models import Account

from ..forms import NewTaskForm

register = template.Library()


@register.inclusion_tag("playbooks/_new_task_form.html", takes_context=True)
def new_task_form(context: template.Context, account: Account) -> dict:
    """The "add a task" form of an account page, for users who may write."""
    return {
        "account": account,
        "new_task_form": NewTaskForm(initial={"due_on": timezone.localdate()}, auto_id=f"id_task_{account.pk}_%s"),
        "csrf_token": context.get("csrf_token"),
        "user_can_write": context.get("user_can_write"),
    }
