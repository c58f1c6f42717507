"""``seamscope audit`` as a user and a CI job meet it: --compare, gates and exit codes, flags and
seamscope.toml, progress, partial inputs, missing inputs named with their flag, Ctrl-C safety."""
from __future__ import annotations

import json
import multiprocessing
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from toolkit.runtime import progress
from toolkit.run.audit import gate_results, parse_gates, raise_failed_gates, run_audit
from toolkit.cli import build_parser, main
from toolkit.config import SAMPLE_DIR, AuditConfig
from toolkit.errors import GateFailed, InputError
from toolkit.core.audit_result import Audit
from toolkit.core.compare import compare, metric_deltas, seam_changes

ROOT = Path(__file__).resolve().parents[1]
GIT = ["-c", "user.name=t", "-c", "user.email=t@example.org", "-c", "commit.gpgsign=false"]

VIEWS = """from app.db import store
from app.cache import lru
{extra_import}

def post(x):
    lru.get(x)
    {extra_call}
    return store.save(x)
"""
TEST_V1 = """from unittest import mock

from app.api import views
from app.db import store


def test_post():
    with mock.patch("app.cache.lru.get"):
        assert views.post(1) == store.save(1)
"""
TEST_V2 = """from app.api import views
from app.cache import lru


def test_post():
    assert views.post(1) == 1 and lru.get(1) is None
"""


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)


def _commit(repo: Path, msg: str) -> None:
    subprocess.run(["git", "-C", str(repo), *GIT, "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(repo), *GIT, "commit", "-qm", msg], check=True)


def make_repo(repo: Path) -> Path:
    """v1: api calls db (integration-tested) and cache (tested only with cache mocked)."""
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    _write(repo, {
        "app/__init__.py": "", "app/api/__init__.py": "", "app/db/__init__.py": "", "app/cache/__init__.py": "",
        "app/db/store.py": "def save(x):\n    return x\n",
        "app/cache/lru.py": "def get(x):\n    return None\n",
        "app/api/views.py": VIEWS.format(extra_import="", extra_call=""),
        "tests/test_views.py": TEST_V1,
    })
    _commit(repo, "v1")
    return repo


def make_v2(repo: Path) -> None:
    """v2: a new jobs component calls db, cache and a new mail component, and no test names it (untested); cache
    is now tested for real."""
    _write(repo, {
        "app/mail/__init__.py": "", "app/mail/smtp.py": "def send(x):\n    return x\n",
        "app/jobs/__init__.py": "",
        "app/jobs/nightly.py": ("from app.cache import lru\nfrom app.db import store\nfrom app.mail import smtp\n\n"
                                "def run(x):\n    lru.get(x)\n    return smtp.send(store.save(x))\n"),
        "tests/test_views.py": TEST_V2,
    })
    _commit(repo, "v2")


@pytest.fixture(autouse=True)
def _quiet_progress():
    yield
    progress.set_enabled(None)


@pytest.fixture(scope="module")
def sample_out(tmp_path_factory):
    out = tmp_path_factory.mktemp("sample") / "report"
    assert main(["audit", "--quiet", "--out", str(out)]) == 0
    return out


# ---- --compare -------------------------------------------------------------------------------

def test_compare_finds_new_untested_covered_and_new_seams_and_gates_on_them(tmp_path, capsys):
    repo = make_repo(tmp_path / "repo")
    assert main(["audit", str(repo), "-q", "--out", str(tmp_path / "v1")]) == 0
    v1 = json.loads((tmp_path / "v1" / "findings.json").read_text())
    status = {r["seam"]: r["status"] for r in v1["sections"]["interaction_coverage"]["tables"]["seams"]}
    assert status == {"api->db": "integration_estimated", "api->cache": "mocks_only_estimated"}

    # unchanged repository: the gate passes
    prev = str(tmp_path / "v1" / "findings.json")
    assert main(["audit", str(repo), "-q", "--out", str(tmp_path / "same"), "--compare", prev,
                 "--fail-on", "new-untested-seam"]) == 0
    same = json.loads((tmp_path / "same" / "findings.json").read_text())["sections"]["compare"]
    assert same["summary"]["new_untested_seams"] == [] and same["tables"]["seam_changes"] == []
    assert {r["change"] for r in same["tables"]["metric_deltas"]} == {"unchanged"}

    make_v2(repo)
    capsys.readouterr()
    rc = main(["audit", str(repo), "-q", "--out", str(tmp_path / "v2"), "--compare", prev,
               "--fail-on", "new-untested-seam"])
    err = capsys.readouterr().err
    assert rc == 1 and "gate failed" in err and "jobs->db" in err and "jobs->mail" in err
    # the report was written before the gate failed
    doc = json.loads((tmp_path / "v2" / "findings.json").read_text())
    cmp = doc["sections"]["compare"]
    assert cmp["summary"]["new_untested_seams"] == ["jobs->cache", "jobs->db", "jobs->mail"]
    assert cmp["summary"]["newly_covered_seams"] == ["api->cache"]
    assert cmp["summary"]["new_seams"] == ["jobs->cache", "jobs->db", "jobs->mail"]
    assert cmp["summary"]["removed_seams"] == []
    changes = {r["seam"]: (r["previous_status"], r["status"], r["change"]) for r in cmp["tables"]["seam_changes"]}
    assert changes == {"api->cache": ("mocks_only", "integration", "better"),
                       **{f"jobs->{c}": (None, "untested", "new seam") for c in ("cache", "db", "mail")}}
    deltas = {r["metric"]: r for r in cmp["tables"]["metric_deltas"]}
    # no coverage given: the measured counts are n/a (no delta), the estimate moves 1 of 2 -> 2 of 5 seams
    assert "untested_seams" not in deltas and "interaction_coverage" not in deltas
    est = deltas["interaction_coverage_estimated"]
    assert (est["previous"], est["now"], est["change"]) == (50.0, 40.0, "worse")
    assert (tmp_path / "v2" / "tables" / "compare__seam_changes.csv").exists()
    assert "Since the previous audit" in (tmp_path / "v2" / "report.html").read_text()


def test_compare_logic_on_hand_made_findings():
    cur = {"interaction_coverage": 50.0, "untested_seams": 1, "bugs": 3, "coverage_basis": "static", "x": 2}
    prev = {"interaction_coverage": 40.0, "untested_seams": 1, "bugs": 5, "coverage_basis": "coverage", "x": 1}
    d = metric_deltas(cur, prev).set_index("metric")
    assert d.loc["interaction_coverage", "change"] == "better" and d.loc["interaction_coverage", "delta"] == 10
    assert d.loc["untested_seams", "change"] == "unchanged" and d.loc["bugs", "change"] == "better"
    assert d.loc["x", "change"] == "changed" and "coverage_basis" not in d.index
    ch = seam_changes({"a->b": "untested", "b->c": "mocks_only", "c->d": "integration"},
                      {"a->b": "mocks_only", "b->c": "mocks_only", "d->e": "untested"})
    assert ch.set_index("seam")["change"].to_dict() == {"a->b": "worse", "c->d": "new seam", "d->e": "removed seam"}
    # a previous audit without the seams table (e.g. --only): deltas still, seam lists unknown -> gate cannot pass
    audit = Audit.from_summaries({"summary": ({"interaction_coverage": 10.0}, {}, None),
                                  "interaction_coverage": ({"interaction_coverage": 10.0}, {}, None)})
    c = compare(audit, pd.DataFrame({"seam": ["a->b"], "status": ["untested"]}),
                {"sections": {"summary": {"summary": {"interaction_coverage": 20.0}}}})
    assert c.summary["new_untested_seams"] is None and c.summary["metrics_worse"] == 1 and c.changes is None
    audit.since_previous = c.summary
    audit.gates = gate_results(audit, fail_under=[], fail_on=["new-untested-seam"])
    with pytest.raises(GateFailed, match="cannot tell"):
        raise_failed_gates(audit)


# ---- gates and exit codes ----------------------------------------------------------------------

def test_fail_under_any_summary_number_hyphen_or_underscore(sample_out, tmp_path, capsys):
    doc = json.loads((sample_out / "findings.json").read_text())
    cov = doc["sections"]["summary"]["summary"]["interaction_coverage"]
    out = tmp_path / "o"
    assert main(["audit", "-q", "--out", str(out), "--fail-under", f"interaction-coverage={cov}",
                 "--fail-under", "link_rate_pct=1"]) == 0
    (out / "report.html").unlink()
    capsys.readouterr()
    assert main(["audit", "-q", "--out", str(out), "--fail-under", f"interaction_coverage={cov + 0.1}"]) == 1
    err = capsys.readouterr().err
    assert "gate failed" in err and f"interaction_coverage is {cov}" in err
    assert (out / "report.html").exists()  # written before the gate


@pytest.mark.parametrize("argv, needle", [
    (["--fail-under", "no-such-metric=3"], "unknown gate metric 'no-such-metric'"),
    (["--fail-under", "interaction-coverage"], "is not METRIC=NUMBER"),
    (["--fail-under", "interaction-coverage=lots"], "needs a number"),
    (["--fail-on", "new-untested-seam"], "add --compare"),
    (["--fail-on", "everything-bad"], "unknown gate condition"),
])
def test_bad_gates_exit_2_with_the_flag_named(argv, needle, tmp_path, capsys):
    assert main(["audit", "-q", "--out", str(tmp_path / "o"), *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert needle in err and argv[0] in err and len(err.splitlines()) == 1


def test_syntax_errors_in_gates_stop_before_the_audit(tmp_path):
    assert main(["audit", "-q", "--out", str(tmp_path / "o"), "--fail-on", "new-untested-seam"]) == 2
    assert not (tmp_path / "o").exists()
    with pytest.raises(InputError, match="--compare"):
        parse_gates([], ["new-untested-seam"], compare=False)
    # floors name metrics of the one vocabulary (toolkit.vocab.metrics), by id or summary key
    assert parse_gates(["interaction_coverage=1", "link-rate-pct=2.5"], [], compare=False) == [
        ("interaction-coverage", 1.0), ("link-rate-pct", 2.5)]
    with pytest.raises(InputError, match="unknown gate metric 'a-b'"):
        parse_gates(["a-b=1"], [], compare=False)
    with pytest.raises(InputError, match="coverage-basis.*not a number"):
        parse_gates(["coverage-basis=1"], [], compare=False)


def test_exit_codes_are_documented_in_help():
    text = build_parser()._subparsers._group_actions[0].choices["audit"].format_help()
    for needle in ("exit codes", "0  ok", "1  a CI gate failed", "2  bad input", "[thresholds]", "[weights]",
                   "min_coupling", "recurrence_months", "--fail-on new-untested-seam"):
        assert needle in text, needle


# ---- configuration ---------------------------------------------------------------------------

def test_toml_thresholds_reach_the_config_and_flags_override_them(tmp_path):
    repo = make_repo(tmp_path / "repo")
    toml = tmp_path / "seamscope.toml"
    toml.write_text('repo = "repo"\n[thresholds]\nmin_coupling = 55\nrecurrence_months = 3\n'
                    '[weights]\nbug_history = 2.5\n')
    from toolkit.cli import _audit_config
    args = build_parser().parse_args(["audit", "--config", str(toml), "--threshold", "min_coupling=70",
                                      "--threshold", "lower_environment=dev", "--weight", "doc_gap=0.25"])
    conf = _audit_config(args)
    assert conf.repo == repo.resolve()
    assert conf.thresholds == {"min_coupling": 70, "recurrence_months": 3, "lower_environment": "dev"}
    assert conf.weights == {"bug_history": 2.5, "doc_gap": 0.25}
    bad = build_parser().parse_args(["audit", "--weight", "w=heavy"])
    with pytest.raises(InputError, match="--weight"):
        _audit_config(bad)


def test_weights_from_the_toml_reach_the_ranking(tmp_path):
    from toolkit.config import load_toml
    from toolkit.core.evidence import load_evidence
    from toolkit.core.findings import Findings

    toml = tmp_path / "seamscope.toml"
    toml.write_text(f'repo = "{SAMPLE_DIR / "repo.bundle"}"\n[weights]\nintegration_gap = 0\nbug_history = 7\n')
    ev = load_evidence(load_toml(toml))
    assert Findings(ev).ranking.weights["bug_history"] == 7.0
    assert Findings(ev).ranking.weights["integration_gap"] == 0.0


def test_a_threshold_changes_the_result(sample_out, tmp_path):
    before = json.loads((sample_out / "findings.json").read_text())["sections"]["coupling"]["summary"]
    assert before["logically_coupled_pairs"] > 0
    out = tmp_path / "o"
    assert main(["audit", "-q", "--out", str(out), "--threshold", "min_coupling=101", "--only", "coupling"]) == 0
    after = json.loads((out / "findings.json").read_text())["sections"]["coupling"]["summary"]
    assert after["logically_coupled_pairs"] == 0  # coupling is a percentage: nothing reaches 101


# ---- missing and unreadable inputs --------------------------------------------------------------

@pytest.mark.parametrize("flag", ["--tests", "--coverage", "--issues", "--labels", "--config", "--compare"])
def test_missing_input_names_path_and_flag(flag, tmp_path, capsys):
    missing = tmp_path / f"nope{flag.strip('-')}.x"
    assert main(["audit", "-q", "--out", str(tmp_path / "o"), flag, str(missing)]) == 2
    err = capsys.readouterr().err.strip()
    assert str(missing) in err and flag in err and "does not exist" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("content, needle", [("{not json", "is not a findings.json"),
                                             ('{"a": 1}', "no 'sections'"),
                                             (None, "is a directory")])
def test_unusable_compare_file(content, needle, tmp_path, capsys):
    prev = tmp_path / "prev"
    if content is None:
        prev.mkdir()
    else:
        prev.write_text(content)
    assert main(["audit", "-q", "--out", str(tmp_path / "o"), "--compare", str(prev)]) == 2
    err = capsys.readouterr().err
    assert needle in err and str(prev) in err and "--compare" in err


def test_unreadable_toml_names_the_file(tmp_path, capsys):
    cfg = tmp_path / "seamscope.toml"
    cfg.write_text("repo = [unclosed\n")
    assert main(["audit", "-q", "--config", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert str(cfg) in err and "--config" in err and "TOML" in err


# ---- partial inputs ----------------------------------------------------------------------------

def test_repo_only_report_says_which_sections_are_missing_and_why(tmp_path, capsys):
    repo = make_repo(tmp_path / "repo")
    assert main(["audit", str(repo), "--out", str(tmp_path / "o")]) == 0
    err = capsys.readouterr().err
    assert "section(s) without their input" in err
    doc = json.loads((tmp_path / "o" / "findings.json").read_text())
    missing = {k: v["missing"] for k, v in doc["sections"].items() if v["missing"]}
    assert "--tests" in missing["tests"] and "--tests" in missing["environments"]
    assert "--issues" in missing["issues"] and "--issues" in missing["bug_categorization"]
    assert doc["sections"]["interaction_coverage"]["missing"] is None
    md = (tmp_path / "o" / "report.md").read_text()
    assert "no JUnit XML given" in md and "no issue-tracker export given" in md  # Markdown escapes the brackets


def test_repo_and_tests_only(tmp_path):
    out = tmp_path / "o"
    assert main(["audit", str(SAMPLE_DIR / "repo.bundle"), "-q", "--out", str(out),
                 "--tests", str(SAMPLE_DIR / "results")]) == 0
    doc = json.loads((out / "findings.json").read_text())
    s = doc["sections"]
    assert s["tests"]["missing"] is None and s["tests"]["summary"]["tests"] > 0
    assert s["environments"]["missing"] is None
    assert "--issues" in s["issues"]["missing"] and "--issues" in s["cross_component_bugs"]["missing"]
    assert doc["provenance"]["missing"]["coverage"].startswith("no coverage data given (--coverage)")


# ---- progress and --verbose -----------------------------------------------------------------------

def test_progress_bars_for_stages_and_analyses_when_enabled(capsys):
    progress.set_enabled(True)
    run_audit(AuditConfig(repo=SAMPLE_DIR / "repo.bundle"), only=["coupling"])
    err = capsys.readouterr().err
    assert "loading evidence" in err and "analyses" in err
    progress.set_enabled(False)
    run_audit(AuditConfig(repo=SAMPLE_DIR / "repo.bundle"), only=["coupling"])
    assert capsys.readouterr().err == ""


def test_no_bars_when_stderr_is_not_a_tty_and_verbose_breakdown(tmp_path, capsys):
    assert main(["audit", "--out", str(tmp_path / "o"), "--verbose"]) == 0  # pytest's stderr is no TTY
    err = capsys.readouterr().err
    assert "loading evidence" not in err and "\r" not in err
    lines = err.split("stage timings:")[1].splitlines()
    names = [ln.rsplit(None, 2)[0].strip() for ln in lines if ln.strip().endswith(" s")]
    assert {"structure", "git history", "analysis: interaction_coverage", "analysis: environments",
            "write report", "total"} <= set(names)


# ---- Ctrl-C -----------------------------------------------------------------------------------

def _complete(out: Path) -> dict:
    doc = json.loads((out / "findings.json").read_text())
    html = (out / "report.html").read_text()
    assert html.rstrip().endswith("</html>")
    for rel in (f for sec in doc["sections"].values() for f in (sec.get("table_files") or {}).values()):
        assert (out / rel).is_file(), rel
    return doc


def test_ctrl_c_leaves_the_previous_or_a_complete_report_and_the_cache_is_reused(tmp_path):
    env = {**os.environ, "SEAMSCOPE_CACHE": str(tmp_path / "cache"), "PYTHONPATH": str(ROOT)}
    env.pop("SEAMSCOPE_NO_CACHE", None)
    out = tmp_path / "report"
    cmd = [sys.executable, "-m", "toolkit", "audit", "-q", "--out", str(out)]
    first = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    previous = _complete(out)["generated"]
    outcomes = []
    rng = random.Random(20261125)  # "random" moments, the same in every run
    for delay in sorted(rng.uniform(0.2, 4.0) for _ in range(4)):
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(delay)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=300)
        # 130: seamscope's handler; -SIGINT: interrupted while Python was still importing, before seamscope ran
        assert proc.returncode in (0, 130, -signal.SIGINT), (delay, proc.returncode, err)
        doc = _complete(out)  # never half-written: the previous report or the new one, whole
        if proc.returncode == 130:  # before the publish: nothing written; during it: held back, the new one whole
            assert "Traceback" not in err, err
            assert "no partial report was written" in err or (
                "completely written" in err and doc["generated"] > previous), err
        elif proc.returncode == 0:
            assert doc["generated"] >= previous
        previous = doc["generated"]
        outcomes.append(proc.returncode)
        assert not list(tmp_path.glob(".report.tmp-*")), "temporary folder left behind"
    # a full run after the interruptions: served from the cache (no entry is written again)
    cache_files = {p: p.stat().st_mtime_ns for p in (tmp_path / "cache").rglob("*") if p.is_file()}
    assert cache_files, "the first run stored nothing in the cache"
    again = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    after = {p: p.stat().st_mtime_ns for p in (tmp_path / "cache").rglob("*") if p.is_file()}
    rewritten = [p for p in cache_files if after.get(p) != cache_files[p]]
    assert rewritten == [] and set(after) == set(cache_files)  # nothing recomputed: every entry reused
    _complete(out)
    print("Ctrl-C outcomes (130 = interrupted, 0 = finished first):", outcomes)


def _processes_naming(text: str) -> list[int]:
    """Live processes whose command line holds ``text`` (a forked child keeps its parent's command line)."""
    found = []
    for d in Path("/proc").iterdir():
        try:
            if d.name.isdigit() and text in (d / "cmdline").read_bytes().decode("utf-8", "replace") \
                    and "Z" not in (d / "stat").read_text().rsplit(")", 1)[1].split()[0]:
                found.append(int(d.name))
        except OSError:
            continue
    return found


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc to list processes")
def test_ctrl_c_during_a_backtest_leaves_no_process_behind(tmp_path):
    """The backtest's ranking is prepared in a forked child while the analyses run: Ctrl-C at any moment
    ends the audit as usual and the child with it."""
    env = {**os.environ, "SEAMSCOPE_CACHE": str(tmp_path / "cache"), "PYTHONPATH": str(ROOT)}
    env.pop("SEAMSCOPE_NO_CACHE", None)
    out = tmp_path / "report-with-backtest"
    cmd = [sys.executable, "-m", "toolkit", "audit", "-q", "--out", str(out), "--backtest"]
    outcomes = []
    for i, delay in enumerate((0.9, 1.4, 2.0)):
        proc = subprocess.Popen([*cmd[:-2], f"{out}-{i}", cmd[-1]], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        time.sleep(delay)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=300)
        assert proc.returncode in (0, 130, -signal.SIGINT), (delay, proc.returncode, err)
        assert "Traceback" not in err, err
        deadline = time.monotonic() + 10
        while _processes_naming(f"{out}-{i}") and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _processes_naming(f"{out}-{i}") == [], f"a process of the audit outlived it (delay {delay})"
        left = sorted(str(p.relative_to(tmp_path)) for p in (tmp_path / "cache").rglob("*.tmp"))
        assert not left, f"half-written cache files were left behind (delay {delay}, audit pid {proc.pid}, exit {proc.returncode}): {left}"
        outcomes.append(proc.returncode)
    print("Ctrl-C outcomes with a backtest (130 = interrupted, 0 = finished first):", outcomes)


def test_audit_with_a_backtest_section_after_the_ranking(tmp_path, capsys):
    """`audit --backtest` (the sample's revision by default) adds the backtest to the report and findings.json,
    computed from the audit's own evidence."""
    from toolkit.config import sample_backtest_rev

    out = tmp_path / "bt"
    assert main(["audit", "--quiet", "--out", str(out), "--backtest"]) == 0
    findings = json.loads((out / "findings.json").read_text())
    ids = list(findings["sections"])
    assert ids.index("backtest") == ids.index("seam_ranking") + 1
    bt = findings["sections"]["backtest"]
    assert bt["summary"]["backtest_at"] == sample_backtest_rev()
    assert bt["summary"]["backtest_beats_baselines"] is True and bt["summary"]["backtest_later_fixes"] == 2
    headline = findings["sections"]["summary"]["summary"]  # the executive summary says how far to trust the list
    assert headline["backtest_beats_baselines"] is True
    assert headline["backtest_top20_share"] == bt["summary"]["backtest_top20_share"]
    html = (out / "report.html").read_text()
    assert "Would this ranking have warned you?" in html and "Ours vs ranking by churn only" in html
    assert (out / "figures" / "backtest_top20.png").stat().st_size > 1000
    assert multiprocessing.active_children() == []  # the ranking prepared beside the analyses: process ended
    capsys.readouterr()
    assert main(["backtest", "--format", "json"]) == 0  # the standalone command's sample default, same revision
    assert json.loads(capsys.readouterr().out)["at"] == sample_backtest_rev()


def test_backtest_on_a_repository_needs_a_revision_and_issues(tmp_path, capsys):
    repo = make_repo(tmp_path / "r")
    assert main(["audit", str(repo), "-q", "--out", str(tmp_path / "o"), "--backtest"]) == 2
    assert "--backtest needs a revision" in capsys.readouterr().err
    assert main(["audit", str(repo), "-q", "--out", str(tmp_path / "o"), "--backtest", "no-such-tag"]) == 2
    err = capsys.readouterr().err
    assert "backtest revision 'no-such-tag' does not exist" in err and "--backtest" in err
    assert main(["audit", str(repo), "-q", "--out", str(tmp_path / "o"), "--backtest", "HEAD"]) == 0
    section = json.loads((tmp_path / "o" / "findings.json").read_text())["sections"]["backtest"]
    assert "no issue-tracker export" in section["missing"]  # nothing to score against, said instead of zeros


def test_backtest_at_several_revisions(tmp_path, capsys):
    """One revision is an anecdote: several give one row each and a count of those where the ranking won."""
    from toolkit.config import sample_backtest_rev

    revs = [f"{sample_backtest_rev()}~3", sample_backtest_rev()]
    out = tmp_path / "bt"
    assert main(["audit", "--quiet", "--out", str(out), "--backtest", *revs]) == 0
    sec = json.loads((out / "findings.json").read_text())["sections"]["backtest"]
    rows = sec["tables"]["backtest_by_revision"]
    assert [r["at"] for r in rows] == revs and sec["summary"]["backtest_at"] == revs
    scored = [r for r in rows if r["later_fixes"] > 0]
    wins = sum(r["beats_baselines"] for r in scored)
    assert sec["summary"]["backtest_revisions_beating_baselines"] == f"{wins} of {len(scored)}"
    assert sec["summary"]["backtest_beats_baselines"] is (wins == len(scored) > 0)
    assert {r["at"] for r in sec["tables"]["backtest_scores"]} == set(revs)
    fixes = sec["tables"]["backtest_later_fixes"]  # a bug fixed after both revisions is listed for each
    assert sec["summary"]["backtest_later_fixes"] == len({r["key"] for r in fixes}) < len(fixes)
    capsys.readouterr()
    assert main(["backtest", "--at", *revs, "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [r["at"] for r in doc["results"]] == revs and doc["by_revision"] == rows


def test_audit_as_of_a_past_revision_with_results_from_later_runs(tmp_path):
    """`audit --at` an older revision while the results name tests that revision lacks: those tests have no
    source file, and every section still comes out (root causes used to crash on the missing file)."""
    from toolkit.config import sample_backtest_rev

    out = tmp_path / "past"
    assert main(["audit", "-q", "--out", str(out), "--at", sample_backtest_rev()]) == 0
    sections = json.loads((out / "findings.json").read_text())["sections"]
    kinds = pd.DataFrame(sections["tests"]["tables"]["test_kinds"])
    assert kinds["file"].isna().any()  # the case under test: results-only tests without a file
    assert sections["root_causes"]["missing"] is None and sections["root_causes"]["tables"]["test_pyramid"]


def test_an_error_caused_by_ctrl_c_still_exits_130_without_a_traceback(monkeypatch, capsys):
    """Ctrl-C during a C extension's import can surface later as another error (pybind11: "type is already
    registered"); after an interrupt the CLI says interrupted (130) instead of crashing with exit 1."""
    import toolkit.cli as cli

    def interrupted_import(args):
        try:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(5)
        except KeyboardInterrupt:
            raise ImportError('generic_type: type "ObjSense" is already registered!') from None
        raise AssertionError("SIGINT was not delivered")

    monkeypatch.setattr(cli, "cmd_audit", interrupted_import)
    before = signal.getsignal(signal.SIGINT)
    assert cli.main(["audit", "-q"]) == 130
    assert "interrupted; no partial report was written" in capsys.readouterr().err
    assert signal.getsignal(signal.SIGINT) is before  # the handler is put back


def test_errors_without_an_interrupt_keep_their_exit_codes(monkeypatch, capsys):
    import toolkit.cli as cli

    def broken(args):
        raise ImportError("a real import error")

    monkeypatch.setattr(cli, "cmd_audit", broken)
    with pytest.raises(ImportError, match="a real import error"):
        cli.main(["audit", "-q"])
