"""The embedded sample system: a small shop application with a real history, real test runs and issue exports.

``build(out_dir)`` regenerates everything under ``data/sample/`` deterministically
(the git history byte for byte; test outcomes run for run). ``build_history`` makes
only the repository, for tests.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

from toolkit.sample.repo import build_history, make_plan

__all__ = ["build", "build_history", "make_plan"]


def build(out_dir: Path) -> dict:
    """Build the repository bundle, run its tests, export its issues and write the truth file into ``out_dir``."""
    from toolkit.load.gitrepo import git_command, git_env
    from toolkit.sample import exports, runs, services, truth_file

    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    for sub in ("results", "coverage", "issues", "contracts", "traces"):
        shutil.rmtree(out_dir / sub, ignore_errors=True)
    plan = make_plan()
    with tempfile.TemporaryDirectory(prefix="seamscope-sample-build-") as tmp:
        repo = Path(tmp) / "repo"
        shas = build_history(repo, plan)
        bundle = out_dir / "repo.bundle"
        bundle.unlink(missing_ok=True)
        subprocess.run(git_command("bundle", "create", "-q", str(bundle), "--all", overrides=("pack.threads=1",)),
                       cwd=repo, check=True, env=git_env(),
                       capture_output=True, timeout=120)
        manifest, checkout_root = runs.run_all(repo, out_dir, shas[-1])
        (out_dir / "results" / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        jira = exports.write_jira(plan, out_dir / "issues" / "jira_export.csv")
        github = exports.write_github(plan, out_dir / "issues" / "github_issues.json")
        services.write(out_dir)
        truth = truth_file.write(out_dir, plan, shas, checkout_root)
    return {"commits": len(shas), "head": shas[-1], "jira_issues": len(jira), "github_items": len(github),
            "seams": len(truth["seams"]), "tests": len(truth["tests"]),
            "flaky_tests": truth["flaky_tests"], "env_only_failures": truth["env_only_failures"],
            "service_seams": len(truth["services"]["seams"])}
