"""Correcting a contract's currency moves its whole line and its ledger entries: still reconciled."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from renewals import reconcile, services
from renewals.models import Contract, RevenueEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def line(acme, alice):
    acme.contracts.all().delete()
    first = services.create_contract(
        account=acme, starts_on=date(2026, 1, 1), ends_on=date(2026, 12, 31), amount=Decimal("100"), by=alice
    )
    second = services.renew_contract(
        first, ends_on=date(2027, 12, 31), amount=Decimal("120"), by=alice, today=date(2026, 12, 1)
    )
    return first, second


def test_the_whole_line_and_its_entries_move_to_the_corrected_currency(alice, line) -> None:
    first, second = line
    services.correct_contract_currency(second, currency="jpy", by=alice)
    assert set(Contract.objects.filter(pk__in=[first.pk, second.pk]).values_list("currency", flat=True)) == {"JPY"}
    assert set(RevenueEntry.objects.values_list("currency", flat=True)) == {"JPY"}
    for day in (date(2026, 6, 1), date(2027, 6, 1), date(2026, 12, 31) + timedelta(days=1)):
        assert reconcile.differences(on=day) == []
    assert second.history.first().history_change_reason == "currency corrected"


def test_a_bad_currency_is_a_field_error(alice, line) -> None:
    with pytest.raises(ValidationError) as error:
        services.correct_contract_currency(line[1], currency="yen!", by=alice)
    assert "currency" in error.value.message_dict


def test_admin_corrects_the_currency_through_the_service(client, admin_user, line) -> None:
    first, second = line
    client.force_login(admin_user)
    url = f"/admin/renewals/contract/{second.pk}/change/"
    form = client.get(url).context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data.update({"currency": "EUR", "starts_on": second.starts_on, "ends_on": second.ends_on})
    data["auto_renew"] = "on" if second.auto_renew else ""
    response = client.post(url, {k: v for k, v in data.items() if v != ""})
    assert response.status_code == 302, response.content.decode()[:3000]
    assert Contract.objects.get(pk=first.pk).currency == "EUR"
    assert set(RevenueEntry.objects.values_list("currency", flat=True)) == {"EUR"}
    assert reconcile.differences(on=date(2027, 6, 1)) == []
