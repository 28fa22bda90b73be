from datetime import date

import pytest

from metrics.report import last_periods, period_containing


@pytest.mark.parametrize(
    ("kind", "day", "start", "end", "label"),
    [
        ("month", date(2024, 2, 10), date(2024, 2, 1), date(2024, 2, 29), "Feb 2024"),
        ("quarter", date(2026, 5, 31), date(2026, 4, 1), date(2026, 6, 30), "Q2 2026"),
        ("quarter", date(2026, 12, 31), date(2026, 10, 1), date(2026, 12, 31), "Q4 2026"),
        ("year", date(2026, 7, 4), date(2026, 1, 1), date(2026, 12, 31), "2026"),
    ],
)
def test_a_period_contains_its_day(kind, day, start, end, label) -> None:
    period = period_containing(kind, day)
    assert (period.start, period.end, period.label) == (start, end, label)


def test_the_trend_runs_back_across_a_year_end() -> None:
    labels = [p.label for p in last_periods("quarter", date(2026, 2, 1), 4)]
    assert labels == ["Q2 2025", "Q3 2025", "Q4 2025", "Q1 2026"]


def test_an_unknown_period_is_refused() -> None:
    with pytest.raises(ValueError, match="period must be one of"):
        period_containing("week", date(2026, 1, 1))
