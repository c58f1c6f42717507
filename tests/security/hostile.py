"""Hostile repositories for the security suite: real git repositories whose own config, attributes, links and
seamscope.toml try to run programs, read outside the repository or exhaust memory. Every trap that runs a
program appends to a canary file, so a test can prove the trap is armed (plain git springs it) and that
seamscope never springs it."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from gitutil import commit, git, make_repo

ROOT = Path(__file__).resolve().parents[2]

APP = {
    "pkg/__init__.py": "",
    "pkg/api/__init__.py": "",
    "pkg/api/views.py": "from pkg.core import models\n\n\ndef view():\n    return models.fetch()\n",
    "pkg/core/__init__.py": "",
    "pkg/core/models.py": "def fetch():\n    return 1\n",
    "tests/test_views.py": "from pkg.api import views\n\n\ndef test_view():\n    assert views.view() == 1\n",
}


def trap_script(folder: Path, canary: Path) -> Path:
    """An executable that records it ran (appends to ``canary``) and passes stdin through, as a filter would."""
    script = folder / "trap.sh"
    script.write_text(f"#!/bin/sh\necho \"ran $0 $*\" >> '{canary}'\ncat\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return script


def armed_repo(path: Path, canary: Path) -> Path:
    """A repository with two commits whose own config runs ``trap.sh`` through every door git has for reads:
    fsmonitor, clean/smudge/process filters on every file (committed ``.gitattributes``), diff textconv and
    external diff drivers, hooks (own folder and ``core.hooksPath``), signature checking, pager and credential
    helper; the work tree holds an uncommitted change so that anything asking git about it runs the filter."""
    make_repo(path, {**APP, ".gitattributes": "* filter=evil diff=evil\n"}, date="2024-01-01T12:00:00+00:00")
    commit(path, "fix fetch", {"pkg/core/models.py": "def fetch():\n    return 2\n"})
    trap = trap_script(path.parent, canary)
    hooks = path / ".git" / "hooks"
    hooks.mkdir(exist_ok=True)
    for name in ("post-checkout", "pre-commit", "post-index-change", "reference-transaction", "pre-auto-gc",
                 "fsmonitor-watchman"):
        (hooks / name).write_text(trap.read_text())
        (hooks / name).chmod(0o755)
    for key, value in (("core.fsmonitor", str(trap)), ("filter.evil.clean", str(trap)),
                       ("filter.evil.smudge", str(trap)), ("filter.evil.process", str(trap)),
                       ("filter.evil.required", "true"), ("diff.evil.textconv", str(trap)),
                       ("diff.evil.command", str(trap)), ("diff.external", str(trap)),
                       ("core.hooksPath", str(hooks)), ("log.showSignature", "true"), ("gpg.program", str(trap)),
                       ("core.pager", str(trap)), ("pager.log", str(trap)), ("credential.helper", f"!{trap}"),
                       ("core.sshCommand", str(trap)), ("core.alternateRefsCommand", str(trap))):
        git(path, "config", key, value)
    (path / "pkg" / "core" / "models.py").write_text("def fetch():\n    return 3\n")  # uncommitted change
    return path


def run_cli(*args: str, cache: Path, env: dict[str, str] | None = None, cwd: Path | None = None
            ) -> subprocess.CompletedProcess:
    """The real CLI in a fresh process (``python -m toolkit.cli``), with this checkout's code and its own cache."""
    full = dict(os.environ, PYTHONPATH=str(ROOT), SEAMSCOPE_CACHE=str(cache), **(env or {}))
    return subprocess.run([sys.executable, "-m", "toolkit.cli", "-q", *args], capture_output=True, text=True,
                          env=full, cwd=cwd or ROOT, timeout=600)


def one_line_error(res: subprocess.CompletedProcess) -> str:
    """The CLI's stderr, asserted to be exactly one line and no traceback."""
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert "Traceback" not in res.stderr, res.stderr
    assert len(lines) == 1, res.stderr
    return lines[0]


def all_output(folder: Path) -> str:
    """Every file under ``folder`` as text (bytes decoded leniently), for 'never appears' assertions."""
    return "\n".join(p.read_bytes().decode("utf-8", "replace") for p in folder.rglob("*") if p.is_file())
