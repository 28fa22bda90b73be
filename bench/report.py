"""Pure helpers for the benchmark report: headline figures, the cross-scale summary table,
load averages and the machine line. Nothing here touches the database."""

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

SUMMARY_HEADER = (
    "| module | measure | scale | figure | naive baseline | naive ÷ figure | target | verdict |\n"
    "|---|---|---:|---:|---:|---:|---|---|"
)


@dataclass(frozen=True)
class Headline:
    """One headline figure of a module at one scale, beside its naive baseline from the same run.

    ``met`` is None when the measure has no target. For ``unit`` "rows/s" higher is better,
    otherwise (seconds, milliseconds) lower is better; the ratio is always "how many times better
    than naive".
    """

    module: str
    measure: str
    scale: int
    value: float
    unit: str
    naive: float | None = None
    target: str = ""
    met: bool | None = None

    @property
    def higher_is_better(self) -> bool:
        return self.unit.endswith("/s")

    @property
    def ratio(self) -> float | None:
        if self.naive is None or not self.value or not self.naive:
            return None
        return self.value / self.naive if self.higher_is_better else self.naive / self.value

    @property
    def verdict(self) -> str:
        return "n/a" if self.met is None else ("met" if self.met else "not met")


@dataclass
class Result:
    """What a module's ``run(scale=...)`` returns: its Markdown section and headline figures."""

    markdown: str
    headlines: list[Headline] = field(default_factory=list)


def as_result(returned: "Result | str") -> Result:
    """Modules may still return bare Markdown: then they have no headline figures."""
    return returned if isinstance(returned, Result) else Result(str(returned))


def figure(value: float | None, unit: str) -> str:
    """A figure for a table cell: seconds past an hour read as hours, big numbers get separators."""
    if value is None or value != value:  # None or NaN
        return "—"
    if unit == "s" and value >= 3600:
        return f"{value / 3600:,.1f} h"
    if unit == "s" and value >= 100:
        return f"{value / 60:,.1f} min" if value >= 600 else f"{value:,.0f} s"
    if unit == "s":
        return f"{value:.2f} s" if value < 10 else f"{value:.1f} s"
    return f"{value:,.0f} {unit}"


def summary_table(headlines: list[Headline], order: list[str] | None = None) -> str:
    """One row per module, measure and scale: modules in ``order``, each module's measures in the
    order it reported them (its main figure first), then scales."""
    rank = {name: i for i, name in enumerate(order or [])}
    first_seen: dict[tuple[str, str], int] = {}
    for i, h in enumerate(headlines):
        first_seen.setdefault((h.module, h.measure), i)
    rows = sorted(
        headlines,
        key=lambda h: (rank.get(h.module, len(rank)), h.module, first_seen[h.module, h.measure], h.scale),
    )
    lines = [SUMMARY_HEADER]
    for h in rows:
        ratio = "—" if h.ratio is None else f"{h.ratio:,.0f}×" if h.ratio >= 10 else f"{h.ratio:.1f}×"  # noqa: RUF001
        verdict = f"**{h.verdict}**" if h.verdict != "n/a" else h.verdict
        lines.append(
            f"| {h.module} | {h.measure} | {h.scale:,} | {figure(h.value, h.unit)} | {figure(h.naive, h.unit)} "
            f"| {ratio} | {h.target or '—'} | {verdict} |"
        )
    return "\n".join(lines)


def load_text(start: tuple[float, float, float], end: tuple[float, float, float]) -> str:
    def triple(values: tuple[float, float, float]) -> str:
        return " / ".join(f"{v:.1f}" for v in values)

    return f"load average (1 / 5 / 15 min) {triple(start)} at the start, {triple(end)} at the end"


def read_summary(path: Path) -> dict:
    """docs/benchmarks/summary.json: ``{"modules": {name: [headline, ...]}, "machine": "..."}``."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {"modules": {}}


def write_summary(path: Path, summary: dict, name: str, headlines: list[Headline], machine: str) -> dict:
    """Replace one module's headlines (every scale of this run) and the machine line; keep the rest."""
    modules = dict(summary.get("modules", {}))
    modules[name] = [asdict(h) for h in headlines]
    updated = {"machine": machine, "modules": dict(sorted(modules.items()))}
    path.write_text(json.dumps(updated, indent=1, ensure_ascii=False) + "\n")
    return updated


def headlines_of(summary: dict) -> list[Headline]:
    return [Headline(**row) for rows in summary.get("modules", {}).values() for row in rows]
