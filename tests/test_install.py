"""An install that works: the built wheel carries the sample and the notebooks, and runs from outside a checkout.

The wheel is built from a copy of this checkout, installed with ``--no-deps`` into a fresh venv that sees the
test interpreter's packages through a path file (fast, and no download of pandas & co.), and run from a folder
outside any checkout with no PYTHONPATH: ``seamscope --version``, ``seamscope notebooks DIR`` and an audit of
the embedded sample must all work from the installed package alone.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SKIP_COPY = shutil.ignore_patterns(".git", ".venv", "__pycache__", "*.pyc", "build", "dist", "*.egg-info", ".work",
                                   "test-artifacts", "seamscope-report", ".pytest_cache", ".hypothesis", "_bundled",
                                   ".seamscope-cache", ".ipynb_checkpoints")

pytestmark = pytest.mark.xdist_group("install")  # about 10 s: not marked slow


def _setuptools_recent() -> bool:
    try:
        import setuptools
    except ImportError:
        return False
    return int(setuptools.__version__.split(".")[0]) >= 77


def _run(cmd: list, cwd: Path, env: dict | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, dict]:
    tmp = tmp_path_factory.mktemp("install")
    src = tmp / "src"
    shutil.copytree(ROOT, src, ignore=SKIP_COPY, symlinks=True)
    # offline when this interpreter can build (setuptools >= 77, as pyproject.toml asks); else pip fetches it
    no_isolation = ["--no-build-isolation"] if _setuptools_recent() else []
    built = _run([sys.executable, "-m", "pip", "wheel", src, "--no-deps", "-q", "-w", tmp / "dist",
                  *no_isolation], cwd=tmp)
    if built.returncode and "setuptools" in built.stderr and ("No matching distribution" in built.stderr
                                                              or "Could not find a version" in built.stderr):
        pytest.skip("cannot build offline: this interpreter has setuptools < 77 and the index is unreachable "
                    "(make setup installs setuptools>=77 into .venv)")
    assert built.returncode == 0, built.stderr
    wheel = next((tmp / "dist").glob("seamscope-*.whl"))
    venv = tmp / "venv"
    made = _run([sys.executable, "-m", "venv", "--without-pip", venv], cwd=tmp)
    assert made.returncode == 0, made.stderr
    py = venv / "bin" / "python"
    site = Path(_run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=tmp).stdout.strip())
    clean = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    inst = _run([sys.executable, "-m", "pip", "--python", py, "install", "--no-deps", "-q", wheel], cwd=tmp, env=clean)
    assert inst.returncode == 0, inst.stderr
    # then the dependencies from the test interpreter's site-packages: a plain path line (its own .pth files, such
    # as an editable install of this checkout, are not processed, so `toolkit` can only come from the wheel)
    (site / "zz_test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    env = dict(clean)
    env["SEAMSCOPE_CACHE"] = str(tmp / "cache")
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    work = tmp / "elsewhere"  # outside any checkout
    work.mkdir()
    return work, env


def test_installed_package_is_the_wheel_not_the_checkout(installed):
    work, env = installed
    where = _run(["python", "-c", "import toolkit, toolkit.config as c; print(toolkit.__file__); print(c.SAMPLE_DIR);"
                  "print(c.NOTEBOOKS_DIR)"], cwd=work, env=env)
    assert where.returncode == 0, where.stderr
    pkg, sample, notebooks = where.stdout.split()
    assert "site-packages" in pkg and not pkg.startswith(str(ROOT))
    assert sample.endswith("toolkit/_bundled/sample") and notebooks.endswith("toolkit/_bundled/notebooks")


def test_installed_version_notebooks_and_sample_audit(installed):
    work, env = installed
    version = _run(["seamscope", "--version"], cwd=work, env=env)
    assert version.returncode == 0 and version.stdout.strip().startswith("seamscope 0."), version.stderr

    nb = _run(["seamscope", "notebooks", "nbs"], cwd=work, env=env)
    assert nb.returncode == 0, nb.stderr
    names = sorted(p.name for p in (work / "nbs").iterdir())
    assert names == sorted(p.name for p in (ROOT / "notebooks").glob("*") if p.suffix in (".ipynb", ".md"))
    for p in (work / "nbs").glob("*.ipynb"):
        assert json.loads(p.read_text())["cells"]  # whole notebooks, not stubs

    audit = _run(["seamscope", "-q", "audit", "--out", "rep"], cwd=work, env=env, timeout=600)
    assert audit.returncode == 0, audit.stderr
    rep = work / "rep"
    for name in ("report.html", "report.md", "findings.json", "report-summary.md", "report.sarif"):
        assert (rep / name).is_file(), name
    summary = (rep / "report-summary.md").read_text()
    assert "payments->inventory" in summary  # the sample's planted riskiest seam, found from the installed copy
