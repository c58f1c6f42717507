"""The walking skeleton end to end: the CLI audits the sample and real user input, with clear errors."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from gitutil import make_repo
from toolkit.cli import main
from toolkit.config import SAMPLE_DIR, load_toml

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def sample_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    assert main(["audit", "--quiet", "--out", str(out)]) == 0
    return out


def test_audit_without_arguments_reports_on_the_sample(sample_report, sample_truth):
    for name in ("report.html", "report.md", "findings.json"):
        assert (sample_report / name).stat().st_size > 500
    findings = json.loads((sample_report / "findings.json").read_text())
    truth = sample_truth
    sec = {k: v["summary"] for k, v in findings["sections"].items()}
    # one genuine finding from each of the four inputs
    assert sec["coupling"]["components"] == len(truth["components"])
    assert sec["coupling"]["seams"] >= len(truth["seams"])
    assert 50 <= sec["coupling"]["history_mapped_pct"] <= 100  # the history reaches today's components
    assert sec["tests"]["flaky_tests"] == len(truth["flaky_tests"])
    assert sec["issues"]["bugs"] >= 10 and sec["issues"]["bugs_linked_to_fixes"] >= 5
    # the executive summary leads with the integration-coverage headline
    assert list(sec["summary"])[0] in ("top_risky_seams", "interaction_coverage")
    tests = findings["sections"]["tests"]["tables"]["failures_by_environment"]
    assert {row["environment"] for row in tests} == {"isolated", "integrated"}


def test_report_html_is_self_contained_and_names_components(sample_report):
    html = (sample_report / "report.html").read_text()
    assert "payments" in html and "search_index" in html
    assert "http://" not in html.replace("http://www.w3.org", "") and "https://" not in html


def test_missing_repo_is_one_line_exit_2(capsys):
    assert main(["audit", "/nonexistent"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "/nonexistent" in err[0] and "does not exist" in err[0]


def test_not_a_repo_and_missing_flag_input(tmp_path, capsys):
    assert main(["audit", str(tmp_path)]) == 2
    assert "is not a git repository" in capsys.readouterr().err
    assert main(["audit", "--coverage", str(tmp_path / "nope.coverage")]) == 2
    err = capsys.readouterr().err
    assert "nope.coverage" in err and "--coverage" in err


def test_console_script_runs_as_a_process(tmp_path):
    res = subprocess.run([sys.executable, "-m", "toolkit", "audit", "/nonexistent"], capture_output=True, text=True)
    assert res.returncode == 2 and "Traceback" not in res.stderr


def test_audit_a_users_repository_with_flags(tmp_path):
    repo = make_repo(tmp_path / "r", {
        "app/__init__.py": "", "app/api/__init__.py": "", "app/db/__init__.py": "",
        "app/db/store.py": "def save(x):\n    return x\n",
        "app/api/views.py": "from app.db import store\n\ndef post(x):\n    return store.save(x)\n"})
    out = tmp_path / "out"
    assert main(["audit", str(repo), "--quiet", "--out", str(out), "--tests",
                 str(SAMPLE_DIR / "results" / "isolated")]) == 0
    findings = json.loads((out / "findings.json").read_text())
    assert findings["sections"]["coupling"]["summary"]["seams"] == 1
    assert findings["sections"]["issues"]["missing"]  # says why the issues section is empty


def test_toml_config_paths_are_relative_to_the_file(tmp_path):
    cfg = tmp_path / "seamscope.toml"
    cfg.write_text('repo = "repo"\ntests = ["results"]\nissues = "jira.csv"\n[components]\n"src/**" = "core"\n')
    conf = load_toml(cfg)
    assert conf.repo == (tmp_path / "repo").resolve() and conf.issues == ((tmp_path / "jira.csv").resolve(),)
    assert conf.components == {"src/**": "core"}
    cfg.write_text('colour = "blue"\n')
    with pytest.raises(Exception, match="unknown keys"):
        load_toml(cfg)


def test_no_garbage_collection_runs_during_an_audit_and_it_is_back_on_after(tmp_path):
    """Full collections walked millions of long-lived objects again and again (13 % of the big audit): the CLI
    and ``run_audit`` pause the collector while they work, and restore it for the caller."""
    import gc

    from toolkit.run.audit import run_audit
    from toolkit.config import sample_config

    collections: list[int] = []

    def count(phase, info):
        if phase == "start":
            collections.append(info["generation"])

    assert main(["audit", "-q", "--out", str(tmp_path / "r0")]) == 0  # everything it imports, imported
    gc.collect()
    gc.callbacks.append(count)
    try:  # at most one: as the collector comes back on (dozens without the pause, even on the small sample)
        assert main(["audit", "-q", "--out", str(tmp_path / "r")]) == 0
        assert len(collections) <= 1 and gc.isenabled()
        collections.clear()
        run_audit(sample_config())
        assert len(collections) <= 1 and gc.isenabled()
        gc.disable()  # a caller that had it off keeps it off
        run_audit(sample_config())
        assert not gc.isenabled()
        gc.enable()
        garbage: list = [[]]
        garbage[0].append(garbage)  # a cycle: only the collector frees it, and it runs again
        del garbage
        assert gc.collect() > 0 and collections
    finally:
        gc.enable()
        gc.callbacks.remove(count)


def test_ctrl_c_inside_a_weakref_callback_prints_no_traceback(monkeypatch):
    """A SIGINT that lands in a weakref callback cannot be raised there: Python hands it to ``sys.unraisablehook``,
    which prints "Exception ignored" with a traceback. The CLI keeps that one case quiet (it reports the
    interruption itself); other errors in callbacks still reach the hook."""
    import gc
    import weakref

    from toolkit.cli import interrupts_in_callbacks_kept_quiet

    seen: list[type] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda info: seen.append(info.exc_type))

    class Thing:
        pass

    def interrupt(_ref):
        raise KeyboardInterrupt

    def fail(_ref):
        raise ValueError("a real bug in a callback")

    keep = []
    with interrupts_in_callbacks_kept_quiet():
        for callback in (interrupt, fail):
            t = Thing()
            keep.append(weakref.ref(t, callback))
            del t
            gc.collect()
    assert seen == [ValueError]
    t = Thing()
    keep.append(weakref.ref(t, interrupt))
    del t
    assert seen == [ValueError, KeyboardInterrupt]  # outside the block: Python's own behaviour again


def test_version_and_help_on_every_subcommand_and_option(capsys):
    """`seamscope --version` names the version, and no subcommand, argument or option is left without help."""
    import argparse
    from importlib.metadata import version

    from toolkit.cli import build_parser, main

    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0 and capsys.readouterr().out.strip() == f"seamscope {version('seamscope')}"
    parser = build_parser()
    subs = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    helps = {c.dest: c.help for c in subs._choices_actions}
    missing = [name for name in subs.choices if not helps.get(name)]
    for name, sub in subs.choices.items():
        missing += [f"{name} {'/'.join(a.option_strings) or a.dest}" for a in sub._actions
                    if not isinstance(a, argparse._HelpAction) and not a.help]
    assert missing == []
