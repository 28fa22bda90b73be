"""``{{ amount|money:currency }}`` and ``{% total_money total %}``: money in the currency's own format.

Every amount on a page goes through ``renewals.currency.format_money``; a ``Total`` of several
currencies shows its base amount with the rates it used, or its amounts per currency.
"""

from decimal import Decimal

from django import template

from renewals.currency import Total, format_money

register = template.Library()


@register.filter
def money(amount: Decimal | float | int | None, currency: str | None = None) -> str:
    """``{{ contract.recurring_amount|money:contract.currency }}``; without a currency, the base currency."""
    return format_money(amount, currency or None)


@register.filter
def signed_money(amount: Decimal | float | int | None, currency: str | None = None) -> str:
    """Like ``money`` with a "+" before gains."""
    text = format_money(amount, currency or None)
    return f"+{text}" if amount is not None and amount > 0 else text


@register.inclusion_tag("renewals/_total_money.html")
def total_money(total: Total | None, note: bool = True) -> dict:
    """A total: converted (with "at rates as of …" when ``note``), or one line per currency."""
    return {"total": total, "note": note}
