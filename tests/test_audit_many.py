"""``seamscope audit-many``: several real repositories, audited on local processes and on a real Dask
cluster with the same results; failures listed in the index, not fatal."""
from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from toolkit.cli import main
from toolkit.errors import InputError
from toolkit.report.writer import write_audit
from toolkit.run.many import audit_many, audit_one, executor_for, read_targets

GIT = ["-c", "user.name=t", "-c", "user.email=t@example.org", "-c", "commit.gpgsign=false"]


def make_repo(path: Path, components: list[str], tested: set[str] = frozenset(), mocked: set[str] = frozenset(),
              commits: int = 3) -> Path:
    """A real git repository: ``app/<c>`` packages; the first calls the ones tested or mocked (a test names it and,
    through its calls, reaches them), ``app/ops`` calls the others and no test names it (they stay untested)."""
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    head, *others = components
    files = {"app/__init__.py": "", **{f"app/{c}/__init__.py": "" for c in components}}
    for c in others:
        files[f"app/{c}/core.py"] = f"def run_{c}(x):\n    return x + 1\n"
    for caller, callees in ((head, [c for c in others if c in tested or c in mocked]),
                            ("ops", [c for c in others if c not in tested and c not in mocked])):
        if callees or caller == head:
            files[f"app/{caller}/__init__.py"] = ""
            files[f"app/{caller}/main.py"] = ("".join(f"from app.{c} import core as {c}_core\n" for c in callees)
                                              + "\n\ndef handle(x):\n"
                                              + "".join(f"    x = {c}_core.run_{c}(x)\n" for c in callees)
                                              + "    return x\n")
    test = ["from unittest import mock", f"from app.{head} import main"]
    test += [f"from app.{c} import core as {c}_core" for c in sorted(tested)]
    test += ["", "", "def test_handle():"]
    test += [f"    with mock.patch('app.{c}.core.run_{c}'):\n        main.handle(1)" for c in sorted(mocked)]
    test += ["    assert main.handle(0) >= 0", ""]
    files["tests/test_main.py"] = "\n".join(test)
    for rel, text in files.items():
        (path / rel).parent.mkdir(parents=True, exist_ok=True)
        (path / rel).write_text(text)
    for i in range(commits):
        if i:
            (path / f"app/{others[i % len(others)]}/core.py").write_text(
                f"def run_{others[i % len(others)]}(x):\n    return x + {i + 1}\n")
        subprocess.run(["git", "-C", str(path), *GIT, "add", "-A"], check=True)
        subprocess.run(["git", "-C", str(path), *GIT, "commit", "-qm", f"change {i}"], check=True)
    return path


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("repos")
    make_repo(root / "alpha", ["api", "db", "cache"], tested={"db"})
    make_repo(root / "beta", ["web", "auth", "store", "mail"], tested={"auth", "store"}, mocked={"store"})
    make_repo(root / "gamma", ["cli", "core"], commits=5)
    conf = make_repo(root / "delta" / "src", ["ui", "engine"], tested={"engine"})
    (conf.parent / "seamscope.toml").write_text('repo = "src"\nname = "delta via toml"\n')
    (root / "broken").mkdir()  # not a git repository: fails alone
    return root


@pytest.fixture(autouse=True)
def _own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SEAMSCOPE_CACHE", str(tmp_path / "cache"))


def _without_timings(index: dict) -> dict:
    index = dict(index)
    index.pop("generated", None)
    index["provenance"] = [{k: v for k, v in r.items() if k != "seconds"} for r in index["provenance"]["repositories"]]
    return index


def test_targets_from_a_folder_and_from_a_list(root, tmp_path):
    targets = read_targets(root)
    assert [t.name for t in targets] == ["alpha", "beta", "broken", "delta", "gamma"]
    delta = targets[3]
    assert delta.repo is None and delta.config == str((root / "delta" / "seamscope.toml").resolve())
    listing = tmp_path / "repos.txt"
    listing.write_text(f"# team repos\n{root / 'alpha'}\n\n{root / 'delta' / 'seamscope.toml'}  # via its toml\n"
                       f"../{tmp_path.name}/nowhere\n{root / 'alpha'}\n")
    listed = read_targets(listing)
    assert [t.name for t in listed] == ["alpha", "delta", "nowhere", "alpha_2"]
    assert listed[2].repo == str((tmp_path / "nowhere").resolve())
    with pytest.raises(InputError, match="does not exist"):
        read_targets(tmp_path / "missing.txt")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no repository folders"):
        read_targets(tmp_path / "empty")


def test_audit_one_returns_a_small_json_safe_summary(root, tmp_path):
    res = audit_one("beta", str(root / "beta"), None, str(tmp_path), write=write_audit)
    assert res["error"] is None and res["report"] == "beta/report.html"
    assert (tmp_path / "beta" / "report.html").exists() and (tmp_path / "beta" / "findings.json").exists()
    assert json.loads(json.dumps(res)) == res and len(json.dumps(res)) < 4000
    seams = {s["seam"]: s["status"] for s in res["top_seams"]}
    assert seams == {"ops->mail": "untested", "web->store": "mocks_only"}  # web->auth is integration-tested
    assert list(seams) == ["ops->mail", "web->store"]  # untested first
    bad = audit_one("broken", str(root / "broken"), None, str(tmp_path), write=write_audit)
    assert bad["report"] is None and "is not a git repository" in bad["error"]


def test_local_processes_index_and_failures(root, tmp_path, capsys):
    assert main(["audit-many", str(root), "--workers", "2", "--out", str(tmp_path / "out"), "-q"]) == 0
    out = tmp_path / "out"
    assert "1 failed" in capsys.readouterr().out
    index = json.loads((out / "index.json").read_text())
    repos = {r["repository"]: r for r in index["sections"]["repositories"]["tables"]["repositories"]}
    assert set(repos) == {"alpha", "beta", "broken", "delta", "gamma"}
    assert repos["broken"]["status"] == "failed" and "is not a git repository" in repos["broken"]["error"]
    # no coverage given: the measured numbers are n/a, the static estimate is its own column
    assert repos["gamma"]["interaction_coverage"] is None and repos["gamma"]["untested_seams"] is None
    assert repos["gamma"]["interaction_coverage_estimated"] == 0
    assert repos["alpha"]["seams"] == 2 and repos["alpha"]["interaction_coverage_estimated"] == 50
    assert index["sections"]["failures"]["tables"]["failures"][0]["repository"] == "broken"
    worst = index["sections"]["worst_seams"]["tables"]["worst_seams"]
    assert [w["status"] for w in worst] == sorted((w["status"] for w in worst), key=["untested", "mocks_only"].index)
    assert {(w["repository"], w["seam"]) for w in worst} >= {("gamma", "ops->core"), ("beta", "web->store")}
    for name in ("alpha", "beta", "delta", "gamma"):
        assert (out / name / "report.html").exists()
    assert "delta via toml" in (out / "delta" / "report.html").read_text()
    for name in ("index.html", "index.md"):
        assert "Worst seams across repositories" in (out / name).read_text()
    assert not (out / "report.html").exists() and not (out / "findings.json").exists()


def test_any_executor_gives_the_same_index(root, tmp_path):
    targets = read_targets(root)
    with ThreadPoolExecutor(2) as pool:
        a = audit_many(targets, tmp_path / "a", write=write_audit, executor=pool)
    b = audit_many(targets, tmp_path / "b", write=write_audit, workers=2)
    strip = [[{k: v for k, v in r.items() if k != "seconds"} for r in x] for x in (a, b)]
    assert strip[0] == strip[1]


def test_scheduler_without_dask_names_the_extra(root, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "dask.distributed", None)  # as if dask were not installed
    assert main(["audit-many", str(root), "--scheduler", "tcp://127.0.0.1:1", "--out", str(tmp_path / "o")]) == 2
    assert "pip install seamscope[dask]" in capsys.readouterr().err
    with pytest.raises(InputError, match="--workers"):
        with executor_for(None, 0):
            pass


@pytest.mark.xdist_group("dask")
def test_dask_cluster_gives_the_same_results_as_local_processes(root, tmp_path, capsys):
    distributed = pytest.importorskip("dask.distributed")
    local = tmp_path / "local"
    assert main(["audit-many", str(root), "--workers", "2", "--out", str(local), "-q"]) == 0
    cluster = distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, host="127.0.0.1",
                                       dashboard_address=None)
    try:
        remote = tmp_path / "dask"
        assert main(["audit-many", str(root), "--scheduler", cluster.scheduler_address, "--out", str(remote),
                     "-q"]) == 0
        with distributed.Client(cluster) as client:
            ran_on = client.run(lambda: 1)
        assert len(ran_on) == 2
    finally:
        cluster.close()
    a = json.loads((local / "index.json").read_text())
    b = json.loads((remote / "index.json").read_text())
    assert _without_timings(a) == _without_timings(b)
    assert a["sections"]["repositories"]["summary"]["audited"] == 4
    for name in ("alpha", "beta", "delta", "gamma"):
        fa = json.loads((local / name / "findings.json").read_text())["sections"]
        fb = json.loads((remote / name / "findings.json").read_text())["sections"]
        assert fa["interaction_coverage"]["tables"] == fb["interaction_coverage"]["tables"]
