"""``make bench``: run the benchmark modules and write docs/benchmarks.md.

Each module ``bench/bench_<name>.py`` defines ``run(*, scale: int) -> str``: it builds its
data on PostgreSQL (``BENCH_DATABASE_URL``, default a ``csm_bench`` database on this
machine), measures the optimised path beside a naive baseline in the same run, and returns
a Markdown section. Sections land in ``docs/benchmarks/<name>.md`` and are stitched into
``docs/benchmarks.md`` with a description of the machine.

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
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    try:
        pg = subprocess.run(["psql", "--version"], capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        pg = "psql not found"
    return (
        f"{os.cpu_count()} cores ({cpu}), {mem_gib:.0f} GiB memory, {platform.platform()}, "
        f"Python {platform.python_version()}, {pg}"
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
    for name in names:
        module = importlib.import_module(f"bench.bench_{name}")
        started = time.monotonic()
        print(f"== {name}", flush=True)
        sections = [module.run(scale=scale) for scale in scales(module.DEFAULT_SCALE)]
        section = "\n\n".join(sections)
        section += f"\n\n_Run on {time.strftime('%Y-%m-%d')}, took {time.monotonic() - started:.0f} s in all._\n"
        (DOCS / "benchmarks" / f"{name}.md").write_text(section)
        print(section, flush=True)
    parts = [
        "# Benchmarks\n",
        "Written by `make bench` (`python -m bench`); each section is rewritten when its module runs.",
        "Targets are met here, never in timed tests. Each section names the load the machine was under",
        "when it ran: the figures committed in November 2026 were measured while six developers ran",
        "test suites on the same two cores (load average 8 to 12), so they are pessimistic.\n",
        f"Machine: {machine()}.\n",
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
