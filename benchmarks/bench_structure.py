"""Static structure loading: ours vs a bare ``ast.parse`` loop, warm vs cold, and vs grimp's import graph.

Rows (ratio = ours / baseline):
  structure_cold_<repo>      load_structure without cache vs one process reading + ``ast.parse``-ing the same
                             Python files and nothing else (target <= 1.5)
  structure_cpu_<repo>       the same, counting CPU seconds (this process + worker/git children) instead of wall
                             time: robust to other load on the machine; with 2 cores, wall ~ CPU / 2
  structure_warm_<repo>      second load_structure (cache warm) vs the cold one (target < 0.05)
  structure_vs_grimp         load_structure cold on a repository holding only some stdlib packages vs
                             ``grimp.build_graph`` of the same importable packages (imports only; for reference)

Default repository: the running Python's stdlib (``sysconfig.get_paths()["stdlib"]``, without
site-packages), copied once into a git repository under ``benchmarks/.work/``.
``python benchmarks/bench_structure.py [repo] [--quick]`` (``--quick``: stdlib's ``email``/``json``/... only).
Every cold, warm and baseline measurement runs in a fresh process.
"""
from __future__ import annotations

import ast
import os
import resource
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from common import WORK, best_of, main, parse_argv, timed  # noqa: E402

from toolkit.load.gitrepo import Repo  # noqa: E402
from toolkit.load.structure import load_structure  # noqa: E402

REPEAT = 3
GRIMP_PACKAGES = ("email", "json", "http", "xml", "importlib", "asyncio", "concurrent", "urllib", "logging")


def _git(cwd: Path, *args: str) -> None:
    from toolkit.load.gitrepo import git_command, git_env

    subprocess.run(git_command(*args), cwd=cwd,
                   check=True, capture_output=True, env=git_env())


def _stdlib_repo(name: str, packages: tuple[str, ...] | None = None) -> Path:
    """A git repository holding a copy of the stdlib's .py files (or only ``packages``), made once."""
    dest = WORK / name
    if (dest / ".git").exists():
        return dest
    src = Path(sysconfig.get_paths()["stdlib"])
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=WORK))
    for path in src.rglob("*.py"):
        rel = path.relative_to(src)
        if rel.parts[0] in ("site-packages", "dist-packages") or "__pycache__" in rel.parts:
            continue
        if packages is not None and rel.parts[0] not in packages:
            continue
        out = tmp / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, out)
    _git(tmp, "init", "-q")
    _git(tmp, "add", "-A")
    _git(tmp, "-c", "user.email=bench@example.com", "-c", "user.name=bench", "commit", "-q", "-m", "stdlib copy")
    os.replace(tmp, dest)
    return dest


def _bare_parse(repo: Repo) -> float:
    """The baseline: read every Python file and ``ast.parse`` it in one process, keeping nothing."""
    paths = [p for p in repo.list_files(None) if p.endswith(".py")]
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _, data in repo.read_files(paths, None):
            try:
                ast.parse(data)
            except (SyntaxError, ValueError):
                pass
    return time.perf_counter() - t


def _cpu() -> float:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _child_main(kind: str, path: str) -> None:
    """In a fresh process: one measurement, printed as JSON (wall, CPU with children, what was parsed)."""
    import json

    repo = Repo.open(path)
    c0 = _cpu()
    if kind == "bare":
        wall, stats, summary = _bare_parse(repo), {}, ""
    else:
        wall, s = timed(lambda: load_structure(repo, skips=[]))
        stats = dict(s.stats)
        summary = (f"{int((s.files.kind == 'python').sum())} Python files, {len(s.imports)} imports, "
                   f"{len(s.call_sites)} cross-component call sites, {len(s.skipped)} skipped")
    print(json.dumps({"wall": wall, "cpu": _cpu() - c0, "stats": stats, "summary": summary}))


def _in_child(kind: str, path: Path, cache: Path) -> dict:
    """Run one measurement in a fresh interpreter: a cold run is cold (no in-process memo of an earlier run
    survives, as it did when the runs shared this process and only the cache folder was deleted)."""
    import json

    env = {**os.environ, "SEAMSCOPE_CACHE": str(cache), "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, __file__, "--child", kind, str(path)], env=env, cwd=ROOT,
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _cold_warm(path: Path, label: str, cache: Path, repeat: int = REPEAT) -> list[dict]:
    base_s = cold_s = base_cpu = cold_cpu = float("inf")
    for _ in range(repeat):  # best of REPEAT, alternating, so that load from other processes hits both alike
        base = _in_child("bare", path, cache)
        shutil.rmtree(cache / "structure", ignore_errors=True)
        cold = _in_child("ours", path, cache)
        assert cold["stats"]["parsed"] > 0, "a cold run parsed nothing: something outlived the cache folder"
        base_s, cold_s = min(base_s, base["wall"]), min(cold_s, cold["wall"])
        base_cpu, cold_cpu = min(base_cpu, base["cpu"]), min(cold_cpu, cold["cpu"])
    warm_s = float("inf")
    for _ in range(repeat):
        warm = _in_child("ours", path, cache)
        assert warm["stats"]["parsed"] == 0
        warm_s = min(warm_s, warm["wall"])
    print(f"# {label}: {cold['summary']}", file=sys.stderr)
    return [
        {"name": f"structure_cold_{label}", "ours_s": cold_s, "baseline": "bare ast.parse loop",
         "baseline_s": base_s, "ratio": cold_s / base_s},
        {"name": f"structure_cpu_{label}", "ours_s": cold_cpu, "baseline": "bare ast.parse loop (CPU s)",
         "baseline_s": base_cpu, "ratio": cold_cpu / base_cpu},
        {"name": f"structure_warm_{label}", "ours_s": warm_s, "baseline": "ours cold",
         "baseline_s": cold_s, "ratio": warm_s / cold_s},
    ]


def _vs_grimp(cache: Path) -> dict:
    import grimp

    path = _stdlib_repo("stdlib_grimp", GRIMP_PACKAGES)
    ours_s = best_of(lambda: load_structure(path, skips=[], cache=False), REPEAT)
    grimp_s = best_of(lambda: grimp.build_graph(*GRIMP_PACKAGES, cache_dir=None), REPEAT)
    return {"name": "structure_vs_grimp", "ours_s": ours_s, "baseline": "grimp.build_graph (imports only)",
            "baseline_s": grimp_s, "ratio": ours_s / grimp_s}


def run(argv: list[str] | None = None) -> list[dict]:
    args = parse_argv(argv)
    repo, quick = args.repo, args.quick
    WORK.mkdir(parents=True, exist_ok=True)
    rows = []
    with tempfile.TemporaryDirectory(dir=WORK) as cache:
        os.environ["SEAMSCOPE_CACHE"] = cache
        if args.tiny:  # one small package, once each; grimp's row is left out (it needs grimp's own build)
            rows += _cold_warm(_stdlib_repo("stdlib_tiny", ("json",)), "stdlib_json", Path(cache), repeat=1)
            return rows
        if quick:
            rows += _cold_warm(_stdlib_repo("stdlib_grimp", GRIMP_PACKAGES), "stdlib_subset", Path(cache))
        else:
            rows += _cold_warm(_stdlib_repo("stdlib"), "stdlib", Path(cache))
        rows.append(_vs_grimp(Path(cache)))
        if repo:
            rows += _cold_warm(Path(repo), Path(repo).name, Path(cache))
    return rows


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        _child_main(sys.argv[2], sys.argv[3])
    else:
        main(run)
