"""The one guard for every CSV the site writes (the account list export, the revenue ledger).

A text cell starting with one of ``FORMULA_STARTS`` is a formula to Excel, LibreOffice and Google
Sheets (CSV injection, OWASP): a customer named "=HYPERLINK(...)" must stay text, so it gets a
leading apostrophe. Numbers, dates and empty cells are never formulas: a churn of -25 stays -25.
"""

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return str(value)
