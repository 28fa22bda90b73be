# ruff: noqa: RUF001  (the report writes a multiplication sign for ratios)
"""The benchmark report's pure helpers: the cross-scale summary table and summary.json."""

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from accounts.models import HealthScore
from bench import report
from bench.db import AllConnectionsCounter, literal_defaults
from bench.report import Headline


def nightly(scale: int, value: float, naive: float | None, met: bool | None) -> Headline:
    return Headline("health", "nightly recalculation", scale, value, "s", naive=naive, target="< 60 s", met=met)


def test_ratio_is_times_better_than_naive_for_times_and_for_rates():
    assert nightly(10_000, 2.0, 600.0, True).ratio == 300
    rate = Headline("ingest", "service upsert", 10_000, 20_000.0, "rows/s", naive=400.0)
    assert rate.ratio == 50
    assert nightly(10_000, 2.0, None, True).ratio is None


def test_verdicts():
    assert nightly(1, 1.0, None, True).verdict == "met"
    assert nightly(1, 99.0, None, False).verdict == "not met"
    assert nightly(1, 1.0, None, None).verdict == "n/a"


def test_summary_table_orders_modules_then_measures_as_reported_then_scales():
    rows = [
        nightly(1_000_000, 75.0, 118_000.0, False),
        Headline("notices", "daily planning (next day)", 10_000, 0.05, "s", target="< 10 s", met=True),
        Headline("notices", "first run (whole backlog)", 10_000, 0.5, "s", naive=17.6),
        Headline("notices", "daily planning (next day)", 100_000, 0.4, "s", target="< 10 s", met=True),
        nightly(10_000, 2.5, 350.0, True),
    ]
    lines = report.summary_table(rows, order=["notices", "health"]).splitlines()
    assert lines[0].startswith("| module | measure | scale |")
    assert lines[2] == "| notices | daily planning (next day) | 10,000 | 0.05 s | — | — | < 10 s | **met** |"
    assert lines[3] == "| notices | daily planning (next day) | 100,000 | 0.40 s | — | — | < 10 s | **met** |"
    assert lines[4] == "| notices | first run (whole backlog) | 10,000 | 0.50 s | 17.6 s | 35× | — | n/a |"
    assert lines[5] == "| health | nightly recalculation | 10,000 | 2.50 s | 350 s | 140× | < 60 s | **met** |"
    assert lines[6] == (
        "| health | nightly recalculation | 1,000,000 | 75.0 s | 32.8 h | 1,573× | < 60 s | **not met** |"
    )


def test_figures_pick_a_readable_unit():
    assert report.figure(0.123, "s") == "0.12 s"
    assert report.figure(149.3, "s") == "149 s"
    assert report.figure(1693.0, "s") == "28.2 min"
    assert report.figure(12_345.6, "rows/s") == "12,346 rows/s"
    assert report.figure(float("nan"), "ms") == "—"


def test_summary_json_replaces_one_module_and_keeps_the_others(tmp_path):
    path = tmp_path / "summary.json"
    summary = report.read_summary(path)
    assert summary == {"modules": {}}
    summary = report.write_summary(path, summary, "health", [nightly(10_000, 3.0, 300.0, True)], "2 cores")
    rate = Headline("ingest", "service upsert", 10_000, 20_000.0, "rows/s", naive=400.0)
    report.write_summary(path, summary, "ingest", [rate], "2 cores")
    summary = report.write_summary(
        path, report.read_summary(path), "health", [nightly(100_000, 9.0, 3000.0, True)], "4 cores"
    )
    stored = json.loads(path.read_text())
    assert stored["machine"] == "4 cores"
    assert sorted(stored["modules"]) == ["health", "ingest"]
    assert [h.scale for h in report.headlines_of(stored) if h.module == "health"] == [100_000]
    assert report.headlines_of(stored)[1] == rate


def test_load_text():
    assert report.load_text((1.0, 0.5, 0.25), (2.0, 1.5, 1.0)) == (
        "load average (1 / 5 / 15 min) 1.0 / 0.5 / 0.2 at the start, 2.0 / 1.5 / 1.0 at the end"
    )


def test_bare_markdown_is_a_result_without_headlines():
    assert report.as_result("## Section").headlines == []


def test_literal_defaults_fill_not_null_columns_the_sql_leaves_out():
    defaults = literal_defaults(HealthScore)
    assert defaults["previous_band"] == ""
    assert defaults["band_worsened"] is False
    assert defaults["flagged"] is False
    assert "parts" not in defaults  # nullable: emptied beyond HEALTH_PARTS_DAYS
    assert "previous_score" not in defaults  # nullable: left NULL
    assert "score" not in defaults  # no default: the SQL must give it


@pytest.mark.django_db(transaction=True)
def test_all_connections_counter_counts_worker_threads_own_connections():
    def work(_: int) -> None:
        try:
            with connection.cursor() as cursor:
                for _ in range(5):
                    cursor.execute("SELECT 1")
        finally:
            connection.close()

    connection.close()  # so that the default connection, too, connects inside the block
    counter = AllConnectionsCounter()
    with counter.counting():
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        with ThreadPoolExecutor(max_workers=2) as pool:
            list(pool.map(work, range(2)))
    counted = counter.count
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")  # after the block: not counted
    assert counted == 11  # 1 + 2 x 5: each statement once
    assert counter.count == counted
