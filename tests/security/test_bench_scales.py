"""``make bench`` runs each module at the scales asked for (10k / 100k / 1M accounts)."""

from bench.__main__ import scales


def test_bench_scales_lists_every_scale_in_order(monkeypatch) -> None:
    monkeypatch.setenv("BENCH_SCALES", "10000,100_000,1000000")
    assert scales(500) == [10_000, 100_000, 1_000_000]


def test_one_scale_or_the_module_default(monkeypatch) -> None:
    monkeypatch.delenv("BENCH_SCALES", raising=False)
    monkeypatch.setenv("BENCH_SCALE", "2000")
    assert scales(500) == [2000]
    monkeypatch.delenv("BENCH_SCALE")
    assert scales(500) == [500]
