"""The audit log shows who changed what and when, to admins and managers."""

from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import Program
from front.audit import audited_models
from renewals.models import Contract, ReasonCode, Renewal

pytestmark = pytest.mark.django_db


def test_contracts_renewals_programs_and_reason_codes_are_audited() -> None:
    assert {Contract, Renewal, Program, ReasonCode} <= set(audited_models())


def test_an_admin_change_in_django_admin_is_logged_with_who_and_which_fields(client, admin_user) -> None:
    code = ReasonCode.objects.create(code="audit-probe", label="Budget cut")
    client.force_login(admin_user)
    form = {"code": "audit-probe", "label": "Budget was cut", "applies_to": "both", "is_active": "on"}
    response = client.post(reverse("admin:renewals_reasoncode_change", args=[code.pk]), form)
    assert response.status_code == 302
    page = client.get(reverse("front:audit-log"), {"model": "renewals.reasoncode"}).content.decode()
    assert "Admin" in page
    assert "label" in page
    assert "Budget cut → Budget was cut" in page
    assert "changed" in page


def test_a_manager_sees_changes_to_their_teams_contracts(client, carol, alice_contract, admin_user) -> None:
    alice_contract.recurring_amount = Decimal("30000.00")
    alice_contract._history_user = admin_user
    alice_contract.save()
    client.force_login(carol)
    page = client.get(reverse("front:audit-log"), {"model": "renewals.contract"}).content.decode()
    assert "Acme" in page
    assert "24000.00 → 30000.00" in page


def test_a_manager_of_another_team_does_not_see_them(client, alice_contract) -> None:
    from csm import roles
    from tests.factories import UserFactory

    alice_contract.recurring_amount = Decimal("30000.00")
    alice_contract.save()
    client.force_login(UserFactory(username="mallory", role=roles.MANAGER))
    page = client.get(reverse("front:audit-log")).content.decode()
    assert "Acme" not in page
    assert "30000.00" not in page


@pytest.mark.parametrize("who", ["alice", "rita"])
def test_csms_and_read_only_users_are_refused(client, who, request) -> None:
    client.force_login(request.getfixturevalue(who))
    assert client.get(reverse("front:audit-log")).status_code == 403


def test_an_empty_log_says_what_will_appear(client, admin_user) -> None:
    client.force_login(admin_user)
    assert b"Nothing has changed yet" in client.get(reverse("front:audit-log")).content
