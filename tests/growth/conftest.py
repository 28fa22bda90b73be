from datetime import date
from decimal import Decimal

import pytest

from renewals import services as renewal_services
from renewals.models import Contract
from tests.api.conftest import api  # noqa: F401  (the token client fixture)

TODAY = date(2026, 6, 15)


@pytest.fixture
def acme_term(acme, alice) -> Contract:
    """Acme's running term, recorded through the contract service: a new-logo ledger entry and a renewal."""
    return renewal_services.create_contract(
        account=acme, starts_on=date(2026, 1, 1), ends_on=date(2026, 12, 31), amount=Decimal("24000.00"), by=alice
    )
