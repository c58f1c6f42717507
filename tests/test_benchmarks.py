"""Benchmarks that can't rot: every script in benchmarks/ runs at its tiny size, in a fresh process.

The figures mean nothing at that size; what is tested is that each benchmark still runs end to end against
today's code (a renamed function, a moved module or a changed cache layout breaks it here, not on the day
someone needs its numbers). ``--tiny`` (or ``SEAMSCOPE_BENCH_TINY=1``) is the one convention
(``benchmarks/common.py``). Scripts are discovered, so a new one is covered the day it is added.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from gitutil import commit, make_repo, when

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks"

#: scripts not run here, each with the reason (only for what needs real clones or the network)
SKIP = {
    "links_eval.py": "its truth is the changelog history of four named real clones under /tmp/rr (no tiny form)",
}
#: what each non-benchmark script is given to run small; bench_*.py get ``--tiny``
ARGS = {
    "big_inputs.py": lambda tmp: ["--tiny"],
    "synthetic_repo.py": lambda tmp: [str(tmp / "synthetic"), "--commits", "30", "--files", "10"],
    # no clones: scored without a vocabulary; the tuning part only (the held-out part is measured once, by hand)
    "categorization.py": lambda tmp: ["--repos", str(tmp), "--part", "tuning"],
    "real_repos.py": lambda tmp: [str(_tiny_project(tmp / "tinyproj"))],
    "backtest_real.py": lambda tmp: [str(_tiny_project(tmp / "tinyproj")), "--months", "0"],
    "ranking_eval.py": lambda tmp: [str(_tiny_project(tmp / "tinyproj")), "--months", "0", "--data", str(tmp / "d")],
    "static_vs_coverage.py": lambda tmp: [f"{_tiny_project(tmp / 'tinyproj')}={_tiny_coverage(tmp / 'tinyproj')}"],
    "run.py": lambda tmp: ["--tiny", "--only", "issues"],  # the runner itself; each benchmark runs below
    "common.py": lambda tmp: [],  # a library: importing it must work
}


def _scripts() -> list[str]:
    return sorted(p.name for p in BENCH.glob("*.py"))


def _tiny_project(path: Path) -> Path:
    """A small real project: two modules of one package calling each other, a test, a changelog citing a fix."""
    make_repo(path, {
        "src/shop/__init__.py": "",
        "src/shop/prices.py": "def total(items):\n    return sum(items)\n",
        "src/shop/cart.py": "from shop.prices import total\n\n\ndef checkout(items):\n    return total(items)\n",
        "tests/test_cart.py": ("from shop.cart import checkout\n\n\n"
                               "def test_checkout():\n    assert checkout([1]) == 1\n"),
        "CHANGES.rst": "Changes\n=======\n",
    }, date=when(1))
    commit(path, "Fix rounding in total (#7)", {
        "src/shop/prices.py": "def total(items):\n    return round(sum(items), 2)\n",
        "CHANGES.rst": "Changes\n=======\n\n- Fix rounding in ``total``. #7\n",
    }, date=when(5))
    return path


def _tiny_coverage(project: Path) -> Path:
    """A per-test coverage file of the tiny project, written through coverage's own API: its test ran the call
    from cart into prices."""
    import coverage

    data = coverage.CoverageData(basename=str(project.parent / "tiny.coverage"))
    data.set_context("tests/test_cart.py::test_checkout|run")
    data.add_lines({str(project / "src/shop/cart.py"): [1, 4, 5], str(project / "src/shop/prices.py"): [1, 2]})
    data.write()
    return project.parent / "tiny.coverage"


def test_every_script_is_run_or_skipped_for_a_reason():
    assert set(SKIP) <= set(_scripts()), "a skipped script no longer exists: drop it from SKIP"
    assert set(ARGS) <= set(_scripts()), "a script in ARGS no longer exists"
    assert all(reason.strip() for reason in SKIP.values())


@pytest.mark.slow
@pytest.mark.parametrize("script", [s for s in _scripts() if s not in SKIP])
def test_benchmark_runs_at_tiny_size(script: str, tmp_path: Path):
    args = ARGS[script](tmp_path) if script in ARGS else ["--tiny"]
    assert script in ARGS or script.startswith("bench_"), f"{script}: give it a tiny form in ARGS, or a reason in SKIP"
    env = dict(os.environ, PYTHONPATH=str(ROOT), SEAMSCOPE_CACHE=str(tmp_path / "cache"))
    env.pop("SEAMSCOPE_NO_CACHE", None)
    done = subprocess.run([sys.executable, str(BENCH / script), *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600)
    out = done.stdout + done.stderr
    assert done.returncode == 0, f"{script} exited {done.returncode}:\n{out[-4000:]}"
    assert "FAILED" not in done.stdout and "audit failed" not in done.stdout, out[-4000:]
    if script.startswith("bench_"):  # it printed at least one row: "<name>: ours X s ..." (or its own words)
        assert re.search(r": (ours\b|cold audit )", done.stdout), out[-2000:]
    if script == "ranking_eval.py":  # the tiny project's one case is at HEAD: nothing later to score
        assert "n/a" in done.stdout and (tmp_path / "d" / "tinyproj@0m.pkl").exists(), out[-2000:]
    if script == "backtest_real.py":  # ranked at HEAD: no later fix to score, which must read n/a, not 0
        assert "tinyproj" in done.stdout and "n/a" in done.stdout, out[-2000:]
    if script == "static_vs_coverage.py":  # one seam (cart->prices), estimated and measured integration-tested
        assert re.search(r"tinyproj\s+1\s+1\s+0\s+0\s+1\s+0\s+0\s+100%", done.stdout), out[-2000:]
    if script == "real_repos.py":
        assert "tinyproj" in done.stdout and "disagreeing" in done.stdout, out[-2000:]
