"""The guards that keep the house as drawn (ARCHITECTURE.md): the import contracts and the type checker.

Both tools come with the dev extra (``pip install -e '.[dev]'``). ``SEAMSCOPE_GUARDS_PYTHON`` names another
interpreter that has them (the project's packages are still resolved from this one's).
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BASELINE = Path(__file__).with_name("mypy_baseline.json")
PYTHON = os.environ.get("SEAMSCOPE_GUARDS_PYTHON") or sys.executable

pytestmark = pytest.mark.xdist_group("guards")  # both tools are CPU-heavy: one worker


def _run(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([PYTHON, *args], cwd=ROOT, env=env, capture_output=True, text=True)


def test_import_contracts_hold():
    """Layers and pure analyses (pyproject's [tool.importlinter]); an ignored import that no longer exists fails
    too, so the list of exceptions is cut as the fixes land."""
    res = _run("-c", "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())",
               "--no-cache", "--no-logo")
    assert "No module named" not in res.stderr, f"import-linter is not installed for {PYTHON}: pip install -e '.[dev]'"
    assert res.returncode == 0, res.stdout[-6000:] + res.stderr[-2000:]
    assert "Contracts: 2 kept, 0 broken" in res.stdout


def _mypy_errors() -> tuple[Counter, str]:
    """(errors per file, mypy's output)."""
    res = _run("-m", "mypy", "--python-executable", sys.executable, "--no-error-summary", "--show-error-codes")
    assert "No module named mypy" not in res.stderr, f"mypy is not installed for {PYTHON}: pip install -e '.[dev]'"
    assert res.returncode in (0, 1), res.stdout[-3000:] + res.stderr[-3000:]  # 2: mypy itself failed
    errors = [m for line in res.stdout.splitlines() if (m := re.match(r"^(toolkit/[^:]+\.py):\d+: error:", line))]
    return Counter(m.group(1) for m in errors), res.stdout


def test_mypy_errors_only_go_down():
    """mypy on toolkit/ (pyproject's [tool.mypy]): no file has more errors than tests/mypy_baseline.json counts
    for it, and a file that has fewer must have its count lowered there (the baseline is a ratchet)."""
    got, out = _mypy_errors()
    baseline: dict[str, int] = json.loads(BASELINE.read_text(encoding="utf-8"))["errors per file"]
    worse = {f: (n, baseline.get(f, 0)) for f, n in got.items() if n > baseline.get(f, 0)}
    if worse:
        lines = [line for line in out.splitlines() if line.split(":")[0] in worse]
        pytest.fail("new type errors (file: now vs baseline): "
                    + ", ".join(f"{f}: {n} vs {b}" for f, (n, b) in sorted(worse.items())) + "\n" + "\n".join(lines))
    better = {f: (got.get(f, 0), b) for f, b in baseline.items() if got.get(f, 0) < b}
    assert not better, ("fewer type errors than tests/mypy_baseline.json counts: lower these counts (delete a "
                        "file at 0): " + ", ".join(f"{f}: {n} (was {b})" for f, (n, b) in sorted(better.items())))
