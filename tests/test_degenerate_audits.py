"""Degenerate audits say so: with fewer than two components, no seams, no coverage, no tests or no issues the
first screen says what could not be measured, why and the one change that fixes it; the numbers are n/a (null in
findings.json, with the reason), never a reassuring 0; a ``--fail-under`` gate on such a metric fails with it."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.gitutil import commit, make_repo
from toolkit.runtime import progress
from toolkit.cli import main

ONE_COMPONENT = {
    # the mapping makes the whole package one component whatever the default rules are
    "seamscope.toml": '[components]\n"calc/**" = "calc"\n',
    "calc/__init__.py": "from calc.ops import add\n",
    "calc/ops.py": "from calc.fmt import show\n\n\ndef add(a, b):\n    return show(a + b)\n",
    "calc/fmt.py": "def show(x):\n    return str(x)\n",
    "tests/test_ops.py": "from calc.ops import add\n\n\ndef test_add():\n    assert add(1, 2) == '3'\n",
}


@pytest.fixture(autouse=True)
def _quiet(monkeypatch):
    monkeypatch.setenv("SEAMSCOPE_NO_CACHE", "1")
    yield
    progress.set_enabled(None)


def _audit(repo: Path, out: Path, *extra: str) -> int:
    return main(["audit", str(repo), "-q", "--out", str(out), *extra])


def test_one_component_shows_na_with_the_reason_and_the_components_snippet(tmp_path, capsys):
    repo = make_repo(tmp_path / "calc", ONE_COMPONENT)
    assert _audit(repo, tmp_path / "out") == 0
    doc = json.loads((tmp_path / "out" / "findings.json").read_text())
    summary = doc["sections"]["summary"]
    for metric in ("interaction_coverage", "untested_seams", "seams_only_mocked", "top_risky_seams",
                   "interface_drift_events"):
        assert summary["summary"][metric] is None, metric
        assert "one component ('calc')" in summary["not_measured"][metric], metric
    # the measured section says the same, not 0
    ic = doc["sections"]["interaction_coverage"]
    assert ic["summary"]["untested_seams"] is None and "one component" in ic["not_measured"]["untested_seams"]
    # the first screen: what, why, and the snippet that fixes it
    snippet = next(p for p in summary["paragraphs"] if p.startswith("[components]\n"))
    assert '"calc/ops.py" = "ops"' in snippet and '"calc/fmt.py" = "fmt"' in snippet
    md = (tmp_path / "out" / "report.md").read_text()
    first = md.split("\n## ", 2)[1]  # the executive summary
    assert "**interaction coverage**: n/a" in first and "**untested seams**: n/a" in first
    assert "Not measured: seams between components" in first and "```toml\n[components]\n" in first
    html = (tmp_path / "out" / "report.html").read_text()
    assert re.search(r'<div class="v na">n/a</div><div class="k"><a [^>]*>untested seams</a></div>', html)
    assert '<pre class="snippet">[components]' in html

    # the gate on a metric that cannot be computed fails, with the reason
    capsys.readouterr()
    assert _audit(repo, tmp_path / "gated", "--fail-under", "interaction-coverage=10") == 1
    err = capsys.readouterr().err
    assert "interaction-coverage could not be computed" in err and "one component ('calc')" in err

    # pasting the snippet is the one change that fixes it: two components, a seam, numbers
    commit(repo, "components", {"seamscope.toml": snippet + "\n"})
    assert _audit(repo, tmp_path / "fixed") == 0
    fixed = json.loads((tmp_path / "fixed" / "findings.json").read_text())["sections"]
    assert {r["seam"] for r in fixed["interaction_coverage"]["tables"]["seams"]} >= {"ops->fmt"}
    assert fixed["summary"]["summary"]["interaction_coverage_estimated"] is not None
    assert "interaction_coverage_estimated" not in fixed["summary"]["not_measured"]
    assert not any(p.startswith("Not measured: seams between components") for p in fixed["summary"]["paragraphs"])


def test_no_tests_and_no_coverage_are_named_not_zero(tmp_path):
    repo = make_repo(tmp_path / "r", {
        "seamscope.toml": '[components]\n"app/a.py" = "a"\n"app/b.py" = "b"\n',
        "app/__init__.py": "", "app/a.py": "from app import b\n\n\ndef f():\n    return b.g()\n",
        "app/b.py": "def g():\n    return 1\n",
    })
    assert _audit(repo, tmp_path / "out") == 0
    summary = json.loads((tmp_path / "out" / "findings.json").read_text())["sections"]["summary"]
    nums, why = summary["summary"], summary["not_measured"]
    # a seam exists, but nothing says whether a test exercises it: n/a, never "untested 0" or "coverage 0"
    assert nums["interaction_coverage"] is None and nums["interaction_coverage_estimated"] is None
    assert "no test was found" in why["interaction_coverage_estimated"]
    assert nums["top_risky_seams"]  # the ranking still ranks the seam
    for metric in ("production_integration_bug_share_pct", "flaky_tests"):
        assert nums[metric] is None and "--" in why[metric], metric  # names the flag that fixes it


def test_gate_on_a_static_estimate_fails_naming_the_missing_coverage(tmp_path, capsys):
    repo = make_repo(tmp_path / "r", {
        "seamscope.toml": '[components]\n"app/a.py" = "a"\n"app/b.py" = "b"\n',
        "app/__init__.py": "", "app/a.py": "from app import b\n\n\ndef f():\n    return b.g()\n",
        "app/b.py": "def g():\n    return 1\n",
        "tests/test_a.py": "from app import a, b\n\n\ndef test_f():\n    assert a.f() == b.g()\n",
    })
    capsys.readouterr()
    assert _audit(repo, tmp_path / "out", "--fail-under", "interaction-coverage=10") == 1
    assert "per-test coverage" in capsys.readouterr().err
    # the estimate is its own metric: a gate on it passes (the one test imports both sides)
    assert _audit(repo, tmp_path / "est", "--fail-under", "interaction-coverage-estimated=10") == 0
