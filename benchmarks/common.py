"""What every benchmark shares: its command line, best-of-N timing, a child's peak memory, and its printed rows.

A benchmark module exposes ``run(argv: list[str] | None = None) -> list[dict]``: ``benchmarks/run.py`` passes
``[REPO] [--quick] [--tiny]`` and running the file alone passes ``sys.argv[1:]`` (``main(run)`` does that and prints the
rows), so both read the same arguments with :func:`parse_argv`.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "benchmarks" / ".work"
#: The one convention for "run at the tiny size": ``--tiny`` on the command line, or this variable set to 1.
TINY_ENV = "SEAMSCOPE_BENCH_TINY"
ROW_KEYS = ("name", "ours_s", "baseline", "baseline_s", "ratio", "note")


@dataclass(frozen=True)
class Args:
    repo: str | None = None  # a real repository to measure on, where the benchmark supports one
    quick: bool = False  # smaller generated inputs
    tiny: bool = False  # the smallest inputs that still run every step: what tests/test_benchmarks.py runs
    flags: frozenset[str] = field(default_factory=frozenset)  # every ``--flag`` given, --quick included


def _env_on(name: str) -> bool:
    return os.environ.get(name, "").strip() not in ("", "0")


def parse_argv(argv: list[str] | None) -> Args:
    """``[REPO] [--quick] [--tiny] [--other-flag ...]``; a non-empty ``SEAMSCOPE_BENCH_QUICK`` /
    ``SEAMSCOPE_BENCH_TINY`` other than 0 also means quick / tiny. Tiny implies quick."""
    argv = list(argv or [])
    flags = frozenset(a for a in argv if a.startswith("--"))
    paths = [a for a in argv if not a.startswith("--")]
    tiny = "--tiny" in flags or _env_on(TINY_ENV)
    quick = tiny or "--quick" in flags or _env_on("SEAMSCOPE_BENCH_QUICK")
    return Args(repo=paths[0] if paths else None, quick=quick, tiny=tiny, flags=flags)


def pick(args: Args, full: Any, quick: Any, tiny: Any) -> Any:
    """The value for this run's size: ``tiny`` (the test suite's smoke run), ``quick`` or ``full``."""
    return tiny if args.tiny else quick if args.quick else full


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Wall-clock seconds of one call, and what it returned."""
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def best_of(fn: Callable[[], Any], repeat: int = 3) -> float:
    """Best of ``repeat`` wall-clock runs: the machine may be shared, and the minimum is the least noisy."""
    return min(timed(fn)[0] for _ in range(repeat))


_PEAK_EPILOGUE = """
import resource as _resource
_hwm = [int(_l.split()[1]) for _l in open('/proc/self/status') if _l.startswith('VmHWM')][0]
_kids = _resource.getrusage(_resource.RUSAGE_CHILDREN).ru_maxrss if %r else 0
print(max(_hwm, _kids) / 1024)
"""


def peak_rss_mib(code: str, *args: str, children: bool = False) -> float:
    """Peak resident memory (MiB) of a fresh interpreter running ``code`` with ``sys.argv[1:] == args``.

    The child has the project root and benchmarks/ on ``sys.path``. It reports its own VmHWM, not ``ru_maxrss``:
    Linux carries ``ru_maxrss`` over fork+exec, so a child of a large benchmark process would report the parent's
    peak. ``children``: the largest process the child waited for (a worker pool's) counts too.
    """
    prelude = f"import sys; sys.path[:0] = [{str(ROOT)!r}, {str(ROOT / 'benchmarks')!r}]\n"
    done = subprocess.run([sys.executable, "-c", prelude + code + _PEAK_EPILOGUE % children, *args],
                          capture_output=True, text=True, check=True, cwd=ROOT)
    return float(done.stdout.strip().splitlines()[-1])


#: one BLAS/OpenMP thread: the targets hold on one core of a shared machine, not on whatever threads it has
ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def fresh_seconds(code: str, *args: str) -> float:
    """Seconds a fresh interpreter (one BLAS/OpenMP thread, :data:`ONE_THREAD`) reports: ``code`` prepares its
    inputs untimed and prints the timed part's seconds as its last line; no in-process memo or warm import
    carries over from the caller or from another measurement."""
    import os  # noqa: PLC0415
    prelude = f"import sys; sys.path[:0] = [{str(ROOT)!r}, {str(ROOT / 'benchmarks')!r}]\n"
    done = subprocess.run([sys.executable, "-c", prelude + code, *args], capture_output=True, text=True,
                          check=True, cwd=ROOT, env={**os.environ, **ONE_THREAD, "PYTHONPATH": str(ROOT)})
    return float(done.stdout.strip().splitlines()[-1])


def format_row(row: dict) -> str:
    """``name: ours X s, baseline(B) Y s, ratio Z  [note]``."""
    line = f"{row['name']}: ours {row['ours_s']:.3f} s"
    if row.get("baseline_s") is not None and row["baseline_s"] == row["baseline_s"]:  # not None, not NaN
        line += f", baseline({row.get('baseline', '?')}) {row['baseline_s']:.3f} s, ratio {row['ratio']:.3f}"
    if row.get("note"):
        line += f"  [{row['note']}]"
    return line


def main(run: Callable[[list[str]], list[dict]]) -> None:
    """Run a benchmark from its own command line and print each row, with its extra scalar figures."""
    for row in run(sys.argv[1:]):
        extras = ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in row.items()
                           if k not in ROW_KEYS and isinstance(v, (int, float, str)))
        print(format_row(row) + (f"  ({extras})" if extras else ""), flush=True)


def pr_numbers(commits: Any) -> set[int]:
    """The numbers a history shows as pull requests (``Merge pull request #N``, a subject ending in ``(#N)``): a
    GitHub export would list them as pull requests, so a changelog's bug citing one is exported as a bug-labelled
    pull request, not an issue (links_eval.py, categorization.py)."""
    msg = commits["message"].astype(str)
    a = msg.str.extract(r"^Merge pull request #(\d+)", expand=False).dropna()
    b = msg.str.extract(r"^[^\n]*\(#(\d+)\)\s*(?:\n|$)", expand=False).dropna()
    return set(a.astype(int)) | set(b.astype(int))
