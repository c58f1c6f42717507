"""Run the sample repository's own test suite for real, per environment and run index."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ENVIRONMENTS = ("isolated", "integrated")
RUNS = (1, 2, 3)
#: JUnit flavour per environment (both appear in the wild; loaders must read both).
JUNIT_FAMILY = {"isolated": "xunit1", "integrated": "xunit2"}
TIMEOUT_S = 300


def run_suite(workdir: Path, environment: str, run: int, junit: Path, coverage_file: Path | None = None) -> int:
    """Run pytest in ``workdir``; write JUnit XML to ``junit``; optionally record per-test coverage contexts."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COV_", "COVERAGE_"))}
    env.update({"SHOP_ENV": environment, "SHOP_RUN": str(run), "PYTHONDONTWRITEBYTECODE": "1",
                "PYTHONHASHSEED": "0"})
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-o", f"junit_family={JUNIT_FAMILY[environment]}",
           "-o", f"junit_suite_name=shop-{environment}", f"--junitxml={junit}"]
    if coverage_file is not None:
        env["COVERAGE_FILE"] = str(coverage_file)
        cmd += ["--cov=shop", "--cov-context=test", "--cov-report="]
    junit.parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(cmd, cwd=workdir, env=env, capture_output=True, text=True, timeout=TIMEOUT_S)
    if proc.returncode not in (0, 1):  # 1 = some tests failed, which the sample is meant to show
        raise RuntimeError(f"pytest exited with {proc.returncode} in {environment} run {run}:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return proc.returncode


def run_all(repo: Path, out_dir: Path, head: str) -> tuple[dict, str]:
    """Run every environment x run; write results/<env>/run<N>/junit.xml and coverage.

    Returns the manifest data and the (now deleted) checkout root that the coverage file's paths start with.
    """
    from toolkit.load.gitrepo import git_command, git_env

    manifest: dict = {"runs": {}}
    # a fixed checkout location keeps the paths recorded in the coverage file stable across builds
    base = Path(tempfile.gettempdir()) / "seamscope-sample-checkout"
    shutil.rmtree(base, ignore_errors=True)
    base.mkdir(parents=True)
    try:
        work = base / "shop"
        subprocess.run(git_command("clone", "-q", "-b", "main", str(repo), str(work)), check=True, env=git_env(),
                       capture_output=True, timeout=120)
        coverage_file = out_dir / "coverage" / ".coverage"
        coverage_file.parent.mkdir(parents=True, exist_ok=True)
        coverage_file.unlink(missing_ok=True)
        for environment in ENVIRONMENTS:
            for run in RUNS:
                cov = coverage_file if (environment, run) == ("integrated", 1) else None
                run_suite(work, environment, run, out_dir / "results" / environment / f"run{run}" / "junit.xml", cov)
                manifest["runs"][f"{environment}/run{run}"] = {"environment": environment, "commit": head, "run": run}
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return manifest, str(work)
