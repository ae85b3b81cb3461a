"""Running a benchmark by name: ``turnwise bench NAME [--quick]``.

A benchmark is a module under ``benchmarks/`` with a function ``run(quick: bool) -> list[Row]``
that measures Turnwise against named baselines in the same run. ``BENCHMARKS`` maps each
name to its module; registering a new one is one line there. ``run_benchmark`` runs one,
prints its rows as a table and writes them, with the commit and the machine they were taken
on, to ``benchmarks/results/NAME.json`` (or ``$TURNWISE_BENCH_RESULTS/NAME.json``).
"""

from __future__ import annotations

import importlib
import json
import math
import os
import platform
import signal
import subprocess
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType, MappingProxyType
from typing import Any, Final

from turnwise.errors import InvalidArgument

__all__ = [
    "BENCHMARKS",
    "RESULTS_ENV",
    "Benchmark",
    "Row",
    "format_table",
    "get_benchmark",
    "results_dir",
    "run_benchmark",
    "write_results",
]


@dataclass(frozen=True)
class Row:
    """One figure of a benchmark: ``method`` measured on ``case``, e.g.
    ``Row("GetNetworkSummary/sequential", "turnwise", "p50_ms", 1.8, "ms")``."""

    case: str
    method: str
    metric: str
    value: float
    unit: str


Benchmark = Callable[[bool], list[Row]]

# name -> module holding ``run(quick: bool) -> list[Row]``. Imported only when that benchmark
# runs, so one benchmark's heavy dependencies never slow down another.
BENCHMARKS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "grpc": "benchmarks.grpc_roundtrip",
        "forecast": "benchmarks.forecast",
        "pickup": "benchmarks.pickup",
        "transfers": "benchmarks.transfers",
        "leads": "benchmarks.leads",
    }
)

RESULTS_ENV: Final = "TURNWISE_BENCH_RESULTS"
_REPO_ROOT: Final = Path(__file__).resolve().parent.parent
_GIT_TIMEOUT_S: Final = 10.0


def get_benchmark(name: str) -> Benchmark:
    """The ``run`` function of benchmark ``name``; InvalidArgument naming the choices if
    there is none."""
    if name not in BENCHMARKS:
        choices = ", ".join(sorted(BENCHMARKS))
        raise InvalidArgument("name", f"unknown benchmark {name!r}; choose one of: {choices}")
    run: Benchmark = importlib.import_module(BENCHMARKS[name]).run
    return run


def run_benchmark(name: str, quick: bool) -> None:
    """Run benchmark ``name`` (smaller cases with ``quick``), print its rows and write them
    to ``results_dir() / f"{name}.json"``."""
    benchmark = get_benchmark(name)
    with _sigterm_as_exit():
        rows = benchmark(quick)
    print(format_table(rows))
    path = write_results(name, quick, rows)
    print(f"wrote {path}")


@contextmanager
def _sigterm_as_exit() -> Iterator[None]:
    """While a benchmark runs, SIGTERM (a CI timeout, ``kill``) raises SystemExit, so that
    the ``finally`` blocks stopping the servers it started still run (Ctrl-C raises
    KeyboardInterrupt already; SIGKILL cannot be caught)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, exit_on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)


def results_dir() -> Path:
    """``$TURNWISE_BENCH_RESULTS`` if set, else ``benchmarks/results``."""
    override = os.environ.get(RESULTS_ENV)
    return Path(override) if override else _REPO_ROOT / "benchmarks" / "results"


def write_results(name: str, quick: bool, rows: Sequence[Row]) -> Path:
    """Write ``rows`` with their provenance to ``results_dir() / f"{name}.json"`` (replacing
    it atomically) and return the path."""
    for row in rows:
        if not math.isfinite(row.value):
            raise InvalidArgument(
                f"{name}.{row.case}.{row.method}.{row.metric}",
                f"is {row.value}; a benchmark must report finite values",
            )
    commit, dirty = _git_state()
    document = {
        "commit": commit,
        "dirty": dirty,
        "machine": _machine(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": quick,
        "rows": [asdict(row) for row in rows],
    }
    directory = results_dir()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.json"
    partial = path.with_suffix(".json.partial")
    partial.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    partial.replace(path)
    return path


def format_table(rows: Sequence[Row]) -> str:
    """``rows`` as an aligned text table, values right-aligned."""
    header = ("case", "method", "metric", "value", "unit")
    cells = [header, *((r.case, r.method, r.metric, _format_value(r.value), r.unit) for r in rows)]
    widths = [max(len(line[i]) for line in cells) for i in range(len(header))]
    lines = []
    for line in cells:
        padded = [
            text.rjust(width) if i == 3 else text.ljust(width)
            for i, (text, width) in enumerate(zip(line, widths, strict=True))
        ]
        lines.append("  ".join(padded).rstrip())
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def _format_value(value: float) -> str:
    if abs(value) >= 1000:
        return f"{value:.0f}"
    if abs(value) >= 100:
        return f"{value:.1f}"
    return f"{value:.3g}" if abs(value) < 1 else f"{value:.2f}"


def _git_state() -> tuple[str, bool]:
    """(HEAD commit, whether the tree has uncommitted changes outside benchmarks/results).
    ("unknown", True) where git cannot tell: the figures are then not tied to a clean commit."""
    try:
        head = _git("rev-parse", "HEAD")
        status = _git("status", "--porcelain", "--", ".", ":(exclude)benchmarks/results")
    except (OSError, subprocess.SubprocessError):
        return "unknown", True
    return head.strip(), bool(status.strip())


def _git(*args: str) -> str:
    done = subprocess.run(
        ["git", *args],
        cwd=_REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=_GIT_TIMEOUT_S,
        check=True,
    )
    return done.stdout


def _machine() -> dict[str, Any]:
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gb": _memory_gb(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def _memory_gb() -> float | None:
    try:
        pages = os.sysconf("SC_PHYS_PAGES")
        page_size = os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None
    return round(pages * page_size / 1024**3, 1)
