import pytest
from django.core import mail

from renewals import services
from renewals.forms import NoticeScheduleForm, NoticeTemplateForm
from renewals.models import NoticeTemplate, RenewalNotice

from .conftest import NOTICE_DAY, at

pytestmark = pytest.mark.django_db


@pytest.fixture
def notice(alice_contract) -> RenewalNotice:
    services.plan_renewal_notices(today=NOTICE_DAY, now=at(NOTICE_DAY))
    return RenewalNotice.objects.get(email="buyer@acme.test")


def test_the_programs_own_template_is_used(notice, program) -> None:
    NoticeTemplate.objects.create(
        program=program,
        subject="Renew {{ account }} by {{ contract_end }}",
        text_body="Dear {{ contact_name }}, {{ renewal_amount }}",
        html_body="<p>Dear {{ contact_name }}</p>",
    )
    services.send_renewal_notice(notice_id=notice.pk, now=at(NOTICE_DAY, 7))
    [message] = mail.outbox
    assert message.subject == "Renew Acme by 30 April 2026"
    assert message.body == "Dear Dana Buyer, USD 24,000.00"


def test_names_are_escaped_in_html_but_not_in_text(notice) -> None:
    contact = notice.contact
    contact.name = "Dana <script>x</script> & Co"
    contact.save()
    services.send_renewal_notice(notice_id=notice.pk, now=at(NOTICE_DAY, 7))
    [message] = mail.outbox
    assert "Hello Dana," in message.body
    assert "<script>" not in message.alternatives[0][0]


@pytest.mark.parametrize(
    "body",
    ["{% include 'base.html' %}", "{% load humanize %}{{ 1|intcomma }}", "{% if %}", "{{ account|nosuchfilter }}"],
)
def test_templates_that_reach_outside_the_sandbox_or_do_not_compile_are_refused(body) -> None:
    form = NoticeTemplateForm(data={"subject": "Renewal", "text_body": body, "html_body": "<p>ok</p>"})
    assert not form.is_valid()
    assert "text_body" in form.errors


def test_an_admin_can_save_a_valid_template_and_a_schedule() -> None:
    form = NoticeTemplateForm(data={"subject": "Renewal\r\nBcc: x@y.z", "text_body": "Hi", "html_body": "<p>Hi</p>"})
    assert form.is_valid(), form.errors
    assert form.save().subject == "Renewal Bcc: x@y.z"
    schedule = NoticeScheduleForm(data={"follow_up_days": "14, 30,30", "is_active": True})
    assert schedule.is_valid(), schedule.errors
    assert schedule.cleaned_data["follow_up_days"] == "30,14"
    assert not NoticeScheduleForm(data={"follow_up_days": "soon", "is_active": True}).is_valid()


def test_the_body_names_the_vendor(alice_contract, settings) -> None:
    settings.CSM_VENDOR_NAME = "Globex Software"
    settings.DEFAULT_FROM_EMAIL = "Globex <renewals@globex.test>"
    services.plan_renewal_notices(today=NOTICE_DAY, now=at(NOTICE_DAY))
    notice = RenewalNotice.objects.get(email="billing@acme.test")
    services.send_renewal_notice(notice_id=notice.pk, now=at(NOTICE_DAY, 7))
    [message] = mail.outbox
    assert "between Acme and Globex Software runs" in message.body
    assert "<strong>Acme</strong> and Globex Software" in message.alternatives[0][0]
    assert message.from_email.endswith("<renewals@globex.test>")
