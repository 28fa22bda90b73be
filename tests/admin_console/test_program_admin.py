"""The program screen links its set-up, copies a program whole, and previews the notice email."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import HealthComponent, HealthModel, Program
from playbooks.models import ChecklistTemplateItem, PlaybookRule, SuccessPlanTemplateObjective
from renewals.models import NoticeSchedule, NoticeTemplate
from tests.factories import AccountFactory, ContactFactory, ContractFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def premier(program) -> Program:
    ChecklistTemplateItem.objects.create(program=program, title="Access set up", due_offset_days=7, position=0)
    SuccessPlanTemplateObjective.objects.create(program=program, title="Adoption", milestone_title="80% active")
    NoticeSchedule.objects.create(program=program, follow_up_days="45,20")
    model = HealthModel.objects.create(name="Professional health", program=program, green_min=75)
    HealthComponent.objects.create(model=model, kind="adoption", weight=30, worst=10, best=90)
    PlaybookRule.objects.create(name="Quiet", trigger="no_touchpoint", program=program, task_title="Call them")
    return program


def test_the_program_page_links_its_health_model_schedule_template_and_preview(client, admin_user, premier) -> None:
    client.force_login(admin_user)
    page = client.get(reverse("admin:accounts_program_change", args=[premier.pk])).content.decode()
    model = HealthModel.objects.get(program=premier)
    schedule = NoticeSchedule.objects.get(program=premier)
    assert reverse("admin:accounts_healthmodel_change", args=[model.pk]) in page
    assert reverse("admin:renewals_noticeschedule_change", args=[schedule.pk]) in page
    # No template of its own yet: says so, and links to adding one for this program.
    assert "Uses the default notice email" in page
    assert reverse("admin:renewals_noticetemplate_add") + f"?program={premier.pk}" in page
    assert reverse("admin:renewals_noticetemplate_preview") + f"?program={premier.pk}" in page


def test_copy_program_copies_everything_that_hangs_off_it(client, admin_user, premier) -> None:
    NoticeTemplate.objects.create(program=premier, subject="Renew {{ account }}", text_body="Hi", html_body="<p>Hi</p>")
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:accounts_program_changelist"),
        {"action": "copy_programs", "_selected_action": [premier.pk]},
        follow=True,
    )
    copy = Program.objects.get(name="Professional (copy)")
    assert "Copied Professional as" in response.content.decode()
    assert (copy.is_active, copy.renewal_notice_lead_days) == (False, premier.renewal_notice_lead_days)
    assert list(copy.checklist_items.values_list("title", "due_offset_days")) == [("Access set up", 7)]
    assert list(copy.plan_objectives.values_list("title", "milestone_title")) == [("Adoption", "80% active")]
    assert NoticeSchedule.objects.get(program=copy).follow_up_days == "45,20"
    assert NoticeTemplate.objects.get(program=copy).subject == "Renew {{ account }}"
    model = HealthModel.objects.get(program=copy)
    assert model.green_min == 75
    assert list(model.components.values_list("kind", "weight")) == [("adoption", 30)]
    assert list(PlaybookRule.objects.filter(program=copy).values_list("trigger", "enabled")) == [
        ("no_touchpoint", False)
    ]
    # The original is untouched, and a second copy gets a free name.
    assert premier.checklist_items.count() == 1
    action = {"action": "copy_programs", "_selected_action": [premier.pk]}
    client.post(reverse("admin:accounts_program_changelist"), action)
    assert Program.objects.filter(name="Professional (copy 2)").exists()


def test_the_notice_preview_renders_the_real_email_for_the_chosen_contract(client, admin_user, alice, program) -> None:
    NoticeTemplate.objects.create(
        program=program,
        subject="{{ account }}: your {{ program }} renewal",
        text_body="Dear {{ contact_first_name }}, your term ends {{ contract_end }}.",
        html_body="<p>Dear {{ contact_first_name }}</p>",
    )
    account = AccountFactory(name="Initech", owner=alice, program=program)
    ContactFactory(account=account, name="Peter Gibbons", email="peter@initech.test", is_renewal=True)
    contract = ContractFactory(account=account, ends_on=timezone.localdate() + timedelta(days=70))
    client.force_login(admin_user)
    url = reverse("admin:renewals_noticetemplate_preview")
    page = client.get(url, {"program": program.pk, "contract": contract.pk}).content.decode()
    assert "<strong>Initech: your Professional renewal</strong>" in page
    assert "Peter Gibbons &lt;peter@initech.test&gt;" in page
    assert f"Dear Peter, your term ends {contract.ends_on.day} " in page
    assert 'srcdoc="&lt;p&gt;Dear Peter&lt;/p&gt;"' in page  # escaped: the body cannot leave the attribute
    # Nothing was planned or sent.
    assert not contract.notices.exists()
    # A contract of another program is not offered under this one.
    other = ContractFactory(account=AccountFactory(program=Program.objects.create(name="Basic")))
    assert (
        "No active contract with that id in Professional"
        in client.get(url, {"program": program.pk, "contract": other.pk}).content.decode()
    )
