"""The README's commands and CI snippets work when pasted: YAML that parses and does what the README says,
and every `seamscope` command line accepted by the CLI's own parser."""
from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from toolkit.cli import build_parser

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"^```(\w*)\n(.*?)^```", README, flags=re.M | re.S)


def _yaml_blocks() -> list:
    yaml = pytest.importorskip("yaml", reason="pyyaml is not installed (pip install seamscope[dev])")
    return [yaml.safe_load(body) for lang, body in BLOCKS if lang == "yaml"]


def _command_lines() -> list[str]:
    """Every seamscope invocation in the README's code blocks (continuations joined, shell glue cut off)."""
    found = []
    for lang, body in BLOCKS:
        if lang not in ("sh", "yaml", ""):
            continue
        for line in re.sub(r"\\\n\s*", " ", body).splitlines():
            m = re.search(r"(?:^|[\s;])((?:\.venv/bin/)?seamscope\s+(?:--|[a-z]+[a-z-]*\s).*)$", line)
            if not m or "pip install" in line:
                continue
            cmd = m.group(1).split(" || ")[0].split(" && ")[0]
            found.append(cmd)
    return found


def test_readme_has_the_commands_it_promises():
    cmds = _command_lines()
    assert any(c.startswith("seamscope notebooks") for c in cmds)
    assert sum("audit" in c for c in cmds) >= 4


@pytest.mark.parametrize("cmd", _command_lines())
def test_every_seamscope_command_in_the_readme_parses(cmd):
    argv = [t for t in shlex.split(cmd, comments=True) if not t.startswith("$")][1:]  # $gate: shell variables
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --version and --help exit 0; a bad flag exits 2
        assert exc.code == 0, f"the CLI refuses: {cmd}"
        return
    assert callable(args.func)


def test_ci_snippets_parse_and_survive_a_failing_test_step():
    github, gitlab = [d for d in _yaml_blocks() if isinstance(d, dict) and ("jobs" in d or "seamscope" in d)]
    steps = github["jobs"]["audit"]["steps"]
    runs = "\n".join(str(s.get("run", "")) for s in steps)
    assert "pytest-cov" in runs
    tests = [s for s in steps if "pytest" in str(s.get("run", "")) and "junitxml" in str(s.get("run", ""))]
    envs = {re.search(r"results/([^/]+)/", s["run"]).group(1) for s in tests}
    assert len(envs) == 2, envs  # two environments: the environment comparison can run
    assert all(s.get("continue-on-error") is True for s in tests)
    uses = {s.get("uses", "").split("@")[0]: s for s in steps}
    assert "always()" in uses["actions/upload-artifact"]["if"]
    assert "always()" in uses["github/codeql-action/upload-sarif"]["if"]
    assert uses["github/codeql-action/upload-sarif"]["with"]["sarif_file"].endswith("report.sarif")
    assert any("report-summary.md" in str(s.get("run", "")) and "always()" in str(s.get("if", "")) for s in steps)
    assert "--fail-under" in runs

    job = gitlab["seamscope"]
    script = "\n".join(job["script"])
    assert job["artifacts"]["when"] == "always"
    assert "pytest-cov" in script and len(set(re.findall(r"results/([^/]+)/", script))) == 2
    assert all("|| true" in line for line in job["script"] if line.startswith("pytest"))
    assert "|| status=$?" in script and job["script"][-1].startswith("exit $status")
    assert "report-summary.md" in script
