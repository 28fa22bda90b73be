"""``make bench``: run the benchmark modules and write docs/benchmarks.md.

Each module ``bench/bench_<name>.py`` defines ``run(*, scale: int) -> Result``: it builds its
data on PostgreSQL (``BENCH_DATABASE_URL``, default a ``csm_bench`` database on this
machine), measures the optimised path beside a naive baseline in the same run, and returns
a Markdown section with its headline figures (``bench.report.Result``). Sections land in
``docs/benchmarks/<name>.md``, headline figures in ``docs/benchmarks/summary.json``, and both are
stitched into ``docs/benchmarks.md`` under a cross-scale summary table and a description of the
machine.

    python -m bench                 # every module at its default scale
    python -m bench notices health  # some modules
    BENCH_SCALE=100000 python -m bench health
    BENCH_SCALES=10000,100000,1000000 python -m bench   # every module at the three scales
"""

import argparse
import importlib
import os
import pkgutil
import platform
import sys
import time
from pathlib import Path

from bench import report

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def machine() -> str:
    """Cores, CPU, memory, the PostgreSQL server and its key settings, Python and Django."""
    import django
    from django.db import DatabaseError, connection

    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    settings = ("server_version", "shared_buffers", "work_mem", "max_parallel_workers_per_gather")
    try:
        with connection.cursor() as cursor:
            shown = {}
            for name in settings:
                cursor.execute(f"SHOW {name}")
                shown[name] = cursor.fetchone()[0]
        server = (
            f"PostgreSQL {shown['server_version'].split()[0]} (shared_buffers {shown['shared_buffers']}, "
            f"work_mem {shown['work_mem']}, max_parallel_workers_per_gather "
            f"{shown['max_parallel_workers_per_gather']})"
        )
    except DatabaseError:
        server = "PostgreSQL not reachable when this page was stitched"
    return (
        f"{os.cpu_count()} cores ({cpu}), {mem_gib:.0f} GiB memory, {platform.system()} {platform.release()}; "
        f"{server}; Python {platform.python_version()}, Django {django.get_version()}"
    )


def scales(default: int) -> list[int]:
    """``BENCH_SCALES=10000,100000,1000000`` runs each module at every scale, in order;
    ``BENCH_SCALE=n`` at one; otherwise the module's own default."""
    listed = [int(part) for part in os.environ.get("BENCH_SCALES", "").replace("_", "").split(",") if part.strip()]
    return listed or [int(os.environ.get("BENCH_SCALE", "0")) or default]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("names", nargs="*", help="modules to run (bench_<name>.py); default all")
    parser.add_argument("--stitch", action="store_true", help="only rebuild docs/benchmarks.md from the sections")
    args = parser.parse_args()
    os.environ.setdefault(
        "DATABASE_URL", os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/csm_bench")
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "csm.settings")
    import django

    django.setup()
    available = sorted(
        m.name.removeprefix("bench_")
        for m in pkgutil.iter_modules([str(Path(__file__).parent)])
        if m.name.startswith("bench_")
    )
    names = [] if args.stitch else (args.names or available)
    (DOCS / "benchmarks").mkdir(parents=True, exist_ok=True)
    summary_path = DOCS / "benchmarks" / "summary.json"
    summary = report.read_summary(summary_path)
    described = machine() if names else ""
    run_started = time.monotonic()
    for name in names:
        module = importlib.import_module(f"bench.bench_{name}")
        started = time.monotonic()
        print(f"== {name}", flush=True)
        sections, headlines = [], []
        for scale in scales(module.DEFAULT_SCALE):
            load_start, scale_started = os.getloadavg(), time.monotonic()
            result = report.as_result(module.run(scale=scale))
            took = time.monotonic() - scale_started
            sections.append(
                f"{result.markdown.rstrip()}\n\n_At {scale:,}: took {took:.0f} s; "
                f"{report.load_text(load_start, os.getloadavg())}._"
            )
            headlines += result.headlines
            print(sections[-1], flush=True)
        section = "\n\n".join(sections)
        section += f"\n\n_Run on {time.strftime('%Y-%m-%d')}, took {time.monotonic() - started:.0f} s in all._\n"
        (DOCS / "benchmarks" / f"{name}.md").write_text(section)
        summary = report.write_summary(summary_path, summary, name, headlines, described)
    if names:
        print(f"ran {', '.join(names)} in {time.monotonic() - run_started:.0f} s", file=sys.stderr)
    stitch(available, summary, described)


def stitch(available: list[str], summary: dict, described: str) -> None:
    """docs/benchmarks.md from the committed sections and summary.json."""
    parts = [
        "# Benchmarks\n",
        "Written by `make bench` (`python -m bench`); each section is rewritten when its module runs, and",
        "`python -m bench --stitch` rebuilds this page from the committed sections. Targets are checked here,",
        "never in timed tests. Naive baselines are measured in the same run on a sample and extrapolated",
        "linearly. Each section ends with the load average when it started and ended.\n",
        f"Machine: {summary.get('machine') or described or machine()}.\n",
        "## Summary\n",
        "Headline figure per module and scale beside its naive baseline (naive ÷ figure: how many times",
        "better than naive; for throughput, figure ÷ naive).\n",
        (
            report.summary_table(report.headlines_of(summary), order=available)
            if summary.get("modules")
            else "_No headline figures yet: run the modules (docs/benchmarks/summary.json)._"
        )
        + "\n",
    ]
    parts += [
        (DOCS / "benchmarks" / f"{name}.md").read_text()
        for name in available
        if (DOCS / "benchmarks" / f"{name}.md").exists()
    ]
    (DOCS / "benchmarks.md").write_text("\n".join(parts))
    print(f"wrote {DOCS / 'benchmarks.md'}", file=sys.stderr)


if __name__ == "__main__":
    main()
