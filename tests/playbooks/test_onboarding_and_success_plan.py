"""Onboarding checklists from the program's template; success plan realization."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from playbooks import services
from playbooks.models import Milestone

pytestmark = pytest.mark.django_db


def test_onboarding_progress_counts_done_and_overdue(acme, program_templates, today) -> None:
    services.start_onboarding(acme, starts_on=today - timedelta(days=10))
    first = acme.onboarding_items.order_by("position").first()
    services.set_onboarding_item_done(first, done=True, today=today)
    progress = services.onboarding_progress(acme, today=today)
    assert (progress.total, progress.done, progress.overdue, progress.pct) == (3, 1, 0, 33)
    progress = services.onboarding_progress(acme, today=today + timedelta(days=5))
    assert progress.overdue == 1


def test_starting_onboarding_twice_adds_nothing(acme, program_templates, today) -> None:
    assert services.start_onboarding(acme, starts_on=today) == 3
    assert services.start_onboarding(acme, starts_on=today) == 0


def test_realization_is_the_share_of_milestones_reached(acme, alice, today) -> None:
    objective = services.add_objective(acme, title="Adoption")
    reached = services.add_milestone(objective, title="50 users", due_on=today, target=Decimal("50"))
    services.add_milestone(objective, title="100 users", due_on=today, target=Decimal("100"))
    services.add_milestone(objective, title="Reports", due_on=today)
    services.update_milestone(reached, current=Decimal("55"), status="in_progress", today=today)
    assert reached.status == Milestone.Status.REACHED
    assert reached.reached_on == today
    assert acme.success_plan.realization() == pytest.approx(1 / 3)
    assert services.success_plan_realization([acme.pk]) == {acme.pk: pytest.approx(1 / 3)}


def test_the_checklist_toggle_is_404_for_another_csm(client, acme, bob, alice, program_templates, today) -> None:
    services.start_onboarding(acme, starts_on=today)
    item = acme.onboarding_items.first()
    client.force_login(bob)
    assert client.post(f"/playbooks/onboarding-items/{item.pk}/toggle/", {"done": "1"}).status_code == 404
    assert client.get(f"/playbooks/accounts/{acme.pk}/onboarding/").status_code == 404
    client.force_login(alice)
    response = client.post(f"/playbooks/onboarding-items/{item.pk}/toggle/", {"done": "1"}, HTTP_HX_REQUEST="true")
    assert b"1 of 3 done" in response.content
    item.refresh_from_db()
    assert item.completed_on is not None


def test_the_success_plan_editor_records_progress(client, acme, alice, rita) -> None:
    objective = services.add_objective(acme, title="Adoption")
    milestone = services.add_milestone(objective, title="50 users", due_on=date(2026, 6, 1), target=Decimal("50"))
    client.force_login(rita)
    assert (
        client.post(f"/playbooks/milestones/{milestone.pk}/", {"current": "60", "status": "planned"}).status_code == 403
    )
    client.force_login(alice)
    client.post(f"/playbooks/milestones/{milestone.pk}/", {"current": "60", "status": "planned"})
    milestone.refresh_from_db()
    assert (milestone.current, milestone.status) == (Decimal("60"), "reached")
    page = client.get(f"/playbooks/accounts/{acme.pk}/success-plan/")
    assert b"100%" in page.content


def test_account_panels_render_for_the_account_page(acme, program_templates, today) -> None:
    from django.template.loader import render_to_string

    services.start_onboarding(acme, starts_on=today)
    context = {"account": acme, **services.account_panels(acme, today=today)}
    html = "".join(
        render_to_string(f"playbooks/_{name}_panel.html", context)
        for name in ("onboarding", "success_plan", "entitlements", "tasks")
    )
    assert "Access set up" in html
    assert "No success plan yet" in html
    assert "Business review" in html
    assert "No open tasks" in html
