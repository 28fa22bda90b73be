"""A dry run lists what a rule would create today and writes nothing."""

from datetime import timedelta

import pytest

from playbooks import services
from playbooks.models import PlaybookRule, PlaybookRun, Task
from tests.factories import OnboardingItemFactory

pytestmark = pytest.mark.django_db


def test_a_dry_run_lists_matches_without_writing(acme, globex, make_rule, today) -> None:
    rule = make_rule(PlaybookRule.Trigger.ONBOARDING_OVERDUE, enabled=False)
    OnboardingItemFactory(account=acme, title="Access", due_on=today - timedelta(days=5))
    result = services.dry_run_rule(rule, today=today)
    assert result["count"] == 1
    assert [(name, reason[:25]) for _, name, reason in result["rows"]] == [("Acme", "1 onboarding item(s) over")]
    assert not PlaybookRun.objects.exists()
    assert not Task.objects.exists()


def test_the_dry_run_page_is_for_admins(client, alice, admin_user, acme, make_rule, today) -> None:
    rule = make_rule(PlaybookRule.Trigger.ONBOARDING_OVERDUE, enabled=False)
    client.force_login(alice)
    assert client.get(f"/playbooks/rules/{rule.pk}/dry-run/").status_code == 403
    client.force_login(admin_user)
    response = client.get(f"/playbooks/rules/{rule.pk}/dry-run/")
    assert response.status_code == 200
    assert b"Today it would open 0 tasks" in response.content


def test_the_admin_action_opens_the_dry_run(admin_client, make_rule) -> None:
    rule = make_rule(PlaybookRule.Trigger.CONTACT_LEFT)
    response = admin_client.post("/admin/playbooks/playbookrule/", {"action": "dry_run", "_selected_action": [rule.pk]})
    assert response.status_code == 302
    assert response["Location"] == f"/playbooks/rules/{rule.pk}/dry-run/"
