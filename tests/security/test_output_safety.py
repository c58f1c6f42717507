"""--out is hostile ground (in CI it sits inside the checkout of a pull request): the real CLI never writes or
deletes through a link there, refuses a link or a file as --out, removes only files its own manifest lists,
serialises two audits into one folder, and under Ctrl-C leaves the previous report or the new one, whole.

Every test runs ``python -m toolkit.cli audit`` on the embedded sample (the default input) in a subprocess.
"""
from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> dict[str, str]:
    """One private cache for the module: the first audit fills it, the others are warm."""
    cache = tmp_path_factory.mktemp("outsafe-cache")
    os.chmod(cache, 0o700)
    e = {**os.environ, "SEAMSCOPE_CACHE": str(cache), "PYTHONPATH": str(ROOT)}
    e.pop("SEAMSCOPE_NO_CACHE", None)
    return e


def audit(env: dict, out: str | Path, *extra: str, cwd: Path | None = None,
          prelude: str = "") -> subprocess.CompletedProcess:
    """Run the audit CLI; ``prelude`` is Python run first in that process (to inject a fault at one moment)."""
    code = textwrap.dedent(prelude) + "\nimport sys\nfrom toolkit.cli import main\nsys.exit(main(sys.argv[1:]))\n"
    return subprocess.run([sys.executable, "-c", code, "-q", "audit", "--out", str(out), *extra], env=env,
                          cwd=cwd, capture_output=True, text=True, timeout=600)


def complete(out: Path) -> dict:
    """The report in ``out`` is whole: findings.json parses and every table/figure it names is there, as the
    manifest says."""
    doc = json.loads((out / "findings.json").read_text(encoding="utf-8"))
    for sec in doc["sections"].values():
        for rel in [*(sec.get("table_files") or {}).values(), *(sec.get("figures") or {}).values()]:
            assert (out / rel).is_file(), rel
    manifest = json.loads(Path(os.path.realpath(out / "findings.json")).with_name(".seamscope-manifest.json")
                          .read_text())
    assert all((out / rel).is_file() for rel in manifest["files"])
    return doc


def one_line_error(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    return lines[0]


def test_committed_tables_link_and_planted_findings_cannot_touch_the_victim(env, tmp_path):
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "precious.csv").write_text("keep me\n")
    checkout = tmp_path / "checkout"
    report = checkout / "seamscope-report"
    report.mkdir(parents=True)
    (report / "tables").symlink_to(victim)
    planted = {"sections": {"x": {"table_files": {"t": "tables/precious.csv"}}}}
    (report / "findings.json").write_text(json.dumps(planted))
    (report / ".seamscope-manifest.json").write_text(json.dumps({"files": ["tables/precious.csv",
                                                                           "../victim/precious.csv"]}))
    proc = audit(env, "seamscope-report", cwd=checkout)  # the README's CI recipe: --out inside the checkout
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in victim.iterdir()) == ["precious.csv"]  # nothing deleted, nothing written
    assert (victim / "precious.csv").read_text() == "keep me\n"
    assert (report / "tables").is_dir() and not (report / "tables").is_symlink()
    complete(report)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no staging folder left


@pytest.mark.parametrize("given", ["seamscope-report", "links/seamscope-report"])
def test_a_link_as_out_is_refused_in_one_line(env, tmp_path, given):
    victim = tmp_path / "victim"
    victim.mkdir()
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    first = given.split("/")[0]
    (checkout / first).symlink_to(victim)
    line = one_line_error(audit(env, given, cwd=checkout))
    assert "symbolic link" in line and "--out" in line
    assert list(victim.iterdir()) == []


def test_a_file_as_out_is_refused_in_one_line(env, tmp_path):
    target = tmp_path / "report"
    target.write_text("not a folder")
    line = one_line_error(audit(env, target))
    assert "not a folder" in line and "--out" in line
    assert target.read_text() == "not a folder"


def test_only_files_of_its_own_manifest_go_stale(env, tmp_path):
    out = tmp_path / "out"
    assert audit(env, out).returncode == 0
    first = set(json.loads((out / ".seamscope-manifest.json").read_text())["files"])
    gone = sorted(f for f in first if f.startswith("tables/bug_categorization__"))
    assert gone, "the sample's bug categorization writes tables"
    (out / "tables" / "mine.csv").write_text("x\n1\n")  # a user's file inside seamscope's folder
    (out / "notes.txt").write_text("notes")
    (out / "user-dir").mkdir()
    (out / "user-dir" / "a.txt").write_text("a")
    proc = audit(env, out, "--only", "interaction_coverage", "coupling")
    assert proc.returncode == 0, proc.stderr
    doc = complete(out)
    assert set(doc["sections"]) >= {"interaction_coverage"}
    assert not any((out / f).exists() for f in gone)  # ours, no longer produced: removed
    assert (out / "tables" / "mine.csv").read_text() == "x\n1\n"
    assert (out / "notes.txt").read_text() == "notes" and (out / "user-dir" / "a.txt").read_text() == "a"


def test_a_second_audit_into_the_same_folder_waits_for_the_first(env, tmp_path):
    out = tmp_path / "out"
    assert audit(env, out).returncode == 0
    before = complete(out)["generated"]
    # the test holds the folder's lock as a running audit would; a second audit must wait, not mix
    fd = os.open(out / ".seamscope.lock", os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)
    code = "import sys\nfrom toolkit.cli import main\nsys.exit(main(sys.argv[1:]))\n"
    proc = subprocess.Popen([sys.executable, "-c", code, "-q", "audit", "--out", str(out)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stderr.readline()  # blocks until the audit reaches the lock
        assert "waiting for another audit" in line, line
        assert complete(out)["generated"] == before  # nothing published while the lock is held
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    assert complete(out)["generated"] > before


def test_two_concurrent_audits_leave_one_whole_report(env, tmp_path):
    out = tmp_path / "out"
    code = "import sys\nfrom toolkit.cli import main\nsys.exit(main(sys.argv[1:]))\n"
    procs = [subprocess.Popen([sys.executable, "-c", code, "-q", "audit", "--out", str(out)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    for p in procs:
        _, err = p.communicate(timeout=600)
        assert p.returncode == 0, err
    complete(out)
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no staging folder left behind


INTERRUPT_AT = """
import os, signal
import toolkit.report.writer as w
_real = w.{name}
def _hit(*a, **k):
    os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C exactly at this moment
    return _real(*a, **k)
w.{name} = _hit
"""


def test_ctrl_c_while_rendering_leaves_the_previous_report_and_says_so(env, tmp_path):
    out = tmp_path / "out"
    assert audit(env, out).returncode == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    proc = audit(env, out, prelude=INTERRUPT_AT.format(name="render_html"))
    assert proc.returncode == 130 and "no partial report was written" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


@pytest.mark.parametrize("moment", ["_exchange", "_carry"])
def test_ctrl_c_while_publishing_leaves_the_new_report_whole_and_says_so(env, tmp_path, moment):
    out = tmp_path / "out"
    assert audit(env, out).returncode == 0
    before = complete(out)["generated"]
    proc = audit(env, out, prelude=INTERRUPT_AT.format(name=moment))
    assert proc.returncode == 130, proc.stderr
    # the interrupt was held back for the few renames: the new report is whole, and the CLI does not claim
    # that nothing was written
    assert "completely written" in proc.stderr and "no partial report" not in proc.stderr, proc.stderr
    assert complete(out)["generated"] > before
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_without_an_atomic_exchange_the_two_renames_are_not_interrupted(env, tmp_path):
    """Where renameat2 is missing (not Linux, old kernels) the swap is two renames; Ctrl-C between them waits."""
    out = tmp_path / "out"
    assert audit(env, out).returncode == 0
    prelude = """
    import os, signal
    import toolkit.report.writer as w
    w._renameat2 = lambda: None
    _rename = os.rename
    def rename(a, b):
        os.kill(os.getpid(), signal.SIGINT)
        return _rename(a, b)
    w.os.rename = rename
    """
    proc = audit(env, out, prelude=prelude)
    assert proc.returncode == 130 and "completely written" in proc.stderr, proc.stderr
    complete(out)
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


@pytest.fixture
def mount_point(tmp_path):
    """A tmpfs mounted at a fresh folder (a Docker volume as --out): renaming the folder fails with EBUSY."""
    point = tmp_path / "volume"
    point.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m,mode=0755", "tmpfs",
                                            str(point)], capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        yield point
    finally:
        subprocess.run(["umount", str(point)], check=False)


def test_a_mount_point_as_out_is_published_in_place_by_a_switched_pointer(env, mount_point):
    out = mount_point
    first = audit(env, out)
    assert first.returncode == 0, first.stderr
    doc1 = complete(out)
    assert os.path.ismount(out)
    (out / "notes.txt").write_text("mine")
    (out / "tables" / "mine.csv").write_text("x\n1\n")  # lands in the current version: carried over
    proc = audit(env, out, prelude=INTERRUPT_AT.format(name="_replace_link"))
    assert proc.returncode == 130 and "completely written" in proc.stderr, proc.stderr
    assert complete(out)["generated"] > doc1["generated"]
    assert os.readlink(out / "report.html") == ".seamscope-current/report.html"
    versions = [p.name for p in out.iterdir() if p.name.startswith(".seamscope-v-")]
    assert versions == [os.readlink(out / ".seamscope-current")]  # the previous version is gone
    assert (out / "notes.txt").read_text() == "mine" and (out / "tables" / "mine.csv").read_text() == "x\n1\n"
    assert not [p for p in out.iterdir() if p.name.startswith((".seamscope-trash", ".seamscope-link"))]


def test_a_single_file_out_replaces_a_link_instead_of_writing_through_it(env, tmp_path):
    from gitutil import commit, make_repo

    repo = make_repo(tmp_path / "repo", {"app/a/x.py": "from app.b import y\n", "app/b/y.py": "V = 1\n"})
    commit(repo, "two", {"app/a/x.py": "from app.b import y\nW = 2\n", "app/b/y.py": "V = 2\n"})
    victim = tmp_path / "precious.txt"
    victim.write_text("keep me")
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    for name in ("coupling.csv", "graph.graphml"):
        (checkout / name).symlink_to(victim)
    code = "import sys\nfrom toolkit.cli import main\nsys.exit(main(sys.argv[1:]))\n"
    for argv in (["coupling", str(repo), "--out", "coupling.csv"],
                 ["coupling", str(repo), "--kind", "structural", "--format", "graphml", "--out", "graph.graphml"]):
        proc = subprocess.run([sys.executable, "-c", code, "-q", *argv], env=env, cwd=checkout,
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        written = checkout / argv[-1]
        assert not written.is_symlink() and written.stat().st_size > 0
    assert victim.read_text() == "keep me"
    proc = subprocess.run([sys.executable, "-c", code, "-q", "coupling", str(repo), "--out", str(checkout)],
                          env=env, capture_output=True, text=True, timeout=300)
    assert "is a folder" in one_line_error(proc)
