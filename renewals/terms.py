"""What an auto-renewal renews to: a term as long as the last, the amount with its uplift."""

from datetime import date, timedelta
from decimal import Decimal

from dateutil.relativedelta import relativedelta

from .models import Contract, Renewal


def next_term_end(contract: Contract) -> date:
    """The end of a term as long as ``contract``'s, in months when it runs whole months."""
    starts_on = contract.ends_on + timedelta(days=1)
    ends_on = starts_on + relativedelta(starts_on, contract.starts_on) - timedelta(days=1)
    return ends_on if ends_on > starts_on else starts_on + (contract.ends_on - contract.starts_on)


def on_terms_amount(contract: Contract, renewal: Renewal) -> Decimal:
    """This term's amount with the renewal's uplift (negative for an agreed step down)."""
    return (contract.recurring_amount * (1 + renewal.uplift_pct / 100)).quantize(Decimal("0.01"))
