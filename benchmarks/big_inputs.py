"""The large synthetic input set of the big-audit benchmark, generated once and deterministically.

Under ``benchmarks/.work/big/`` (idempotent: a marker file records the parameters):

``repo/``
    :func:`synthetic_repo.generate` — 20,000 commits, 3,000 modules in 20 packages.
``junit/<unit|integration>/run-<1|2>/test_pNN.xml``
    10,000 pytest tests in 2 environments x 2 runs. The test files are the
    repository's ``tests/test_pNN.py``; the tests each file really defines keep
    their names, the rest are named ``test_case_<i>`` in the same files.
    A few percent fail only in ``integration``, a few flip between runs (flaky).
``coverage.sqlite``
    a coverage.py data file with one ``<nodeid>|run`` context per test, written with
    ``CoverageData.set_context`` + ``add_lines`` on the repository's own paths
    (recorded under another machine's prefix, so path mapping is exercised). Each
    test covers ~8 modules of its package and of the packages it depends on, on
    their real ``def``/call/``return`` lines, so call sites map to tests.
``issues.json``
    5,000 GitHub issues ``#1``..``#5000`` — the numbers the synthetic commit
    messages close (``Fixes #N``), so linking finds fix commits.

Usage: ``python benchmarks/big_inputs.py [--tiny]`` (prints the paths).
"""
from __future__ import annotations

import json
import random
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import synthetic_repo  # noqa: E402

WORK = HERE / ".work" / "big"
VERSION = 1
PARAMS = {"version": VERSION, "commits": 20000, "files": 3000, "tests": 10000, "issues": 5000,
          "envs": ["unit", "integration"], "runs": 2}
#: the same shape at the smallest size that still runs every step (tests/test_benchmarks.py), in ``.work/big-tiny/``
TINY = {**PARAMS, "commits": 60, "files": 24, "tests": 60, "issues": 20}
FILES_PER_TEST = 8
RECORDED_PREFIX = "/home/ci/build/"
_TEST_DEF = re.compile(r"^def (test_\w+)\(", re.M)


@dataclass(frozen=True)
class BigInputs:
    repo: Path
    junit: Path
    coverage: Path
    issues: Path


def _paths(work: Path = WORK) -> BigInputs:
    return BigInputs(work / "repo", work / "junit", work / "coverage.sqlite", work / "issues.json")


def _tests(repo: Path, n: int) -> list[tuple[int, str]]:
    """(package, test function name) for ``n`` tests spread over the 20 test files, real names first."""
    per = n // synthetic_repo.PACKAGES
    out = []
    for p in range(synthetic_repo.PACKAGES):
        real = _TEST_DEF.findall((repo / "tests" / f"test_p{p:02d}.py").read_text())
        names = real + [f"test_case_{i}" for i in range(per - len(real))]
        out += [(p, name) for name in names[:per]]
    return out


def _write_junit(root: Path, tests: list[tuple[int, str]], rng: random.Random) -> None:
    flaky = {i for i in range(len(tests)) if rng.random() < 0.02}
    env_fail = {i for i in range(len(tests)) if rng.random() < 0.03}
    for env in PARAMS["envs"]:
        for run in range(1, PARAMS["runs"] + 1):
            d = root / env / f"run-{run}"
            d.mkdir(parents=True, exist_ok=True)
            by_pkg: dict[int, list[str]] = {}
            for i, (p, name) in enumerate(tests):
                fails = (i in env_fail and env == "integration") or (i in flaky and (run + i) % 2 == 0)
                line = (f'<testcase classname="tests.test_p{p:02d}" name="{name}" file="tests/test_p{p:02d}.py" '
                        f'line="{i % 400}" time="{rng.random() * 0.2:.3f}"')
                if fails:
                    line += ('><failure message="AssertionError: assert -1 &gt;= 0">tests/test_p00.py:5: '
                             "AssertionError</failure></testcase>")
                else:
                    line += "/>"
                by_pkg.setdefault(p, []).append(line)
            for p, cases in by_pkg.items():
                (d / f"test_p{p:02d}.xml").write_text(
                    '<?xml version="1.0" encoding="utf-8"?>\n<testsuites><testsuite name="pytest" errors="0" '
                    f'failures="0" skipped="0" tests="{len(cases)}" time="10.0" '
                    f'timestamp="2024-05-0{run}T10:00:00" hostname="ci-{env}">\n' + "\n".join(cases)
                    + "\n</testsuite></testsuites>\n")


def _covered_lines(repo: Path) -> dict[int, list[tuple[str, list[int]]]]:
    """package -> [(path, executable lines: def, call and return lines)] from the checked-out HEAD."""
    out: dict[int, list[tuple[str, list[int]]]] = {}
    for path in sorted((repo / "big").glob("p*/*.py")):
        if path.name == "__init__.py":
            continue
        lines = [i for i, text in enumerate(path.read_text().splitlines(), 1)
                 if text.startswith(("def ", "    y = ", "    return ", "from big"))]
        out.setdefault(int(path.parent.name[1:]), []).append((str(path.relative_to(repo)), lines))
    return out


def _package_deps(repo: Path, by_pkg: dict[int, list[tuple[str, list[int]]]]) -> dict[int, list[int]]:
    deps: dict[int, set[int]] = {p: set() for p in by_pkg}
    for p, files in by_pkg.items():
        for rel, _ in files[:40]:
            deps[p] |= {int(q) for q in re.findall(r"^from big\.p(\d\d) import", (repo / rel).read_text(), re.M)}
    return {p: sorted(d - {p}) for p, d in deps.items()}


def _write_coverage(target: Path, repo: Path, tests: list[tuple[int, str]], rng: random.Random) -> None:
    import coverage

    by_pkg = _covered_lines(repo)
    deps = _package_deps(repo, by_pkg)
    tmp = target.with_suffix(".partial")
    tmp.unlink(missing_ok=True)
    data = coverage.CoverageData(basename=str(tmp))
    for p, name in tests:
        data.set_context(f"tests/test_p{p:02d}.py::{name}|run")
        pool = by_pkg[p]
        chosen = rng.sample(pool, min(FILES_PER_TEST - 2, len(pool)))
        for q in deps[p][:2]:
            chosen.append(rng.choice(by_pkg[q]))
        data.add_lines({RECORDED_PREFIX + rel: set(lines) for rel, lines in chosen})
    data.write()
    tmp.replace(target)


def _write_issues(target: Path, n: int, rng: random.Random) -> None:
    start = 1420070400  # the synthetic history starts 2015-01-01 and spans about nine years
    items = []
    for i in range(1, n + 1):
        created = start + int((i / n) * 9 * 365 * 86400) + rng.randint(0, 86400)
        closed = created + rng.randint(3600, 60 * 86400) if rng.random() < 0.8 else None
        kind = rng.choices(["bug", "enhancement", "question"], [0.7, 0.25, 0.05])[0]
        pkg = rng.randrange(synthetic_repo.PACKAGES)
        iso = lambda t: f"{__import__('datetime').datetime.utcfromtimestamp(t):%Y-%m-%dT%H:%M:%SZ}"  # noqa: E731
        items.append({
            "number": i, "title": f"p{pkg:02d}: {kind} in the pipeline step {rng.randint(0, 20)}",
            "body": f"Calling big.p{pkg:02d} from another package returns a wrong value.\n\n"
                    + ("Seen in production after the deploy." if rng.random() < 0.3 else "Reproduced in staging."),
            "labels": [{"name": kind}] + ([{"name": f"component:p{pkg:02d}"}] if rng.random() < 0.5 else []),
            "state": "closed" if closed else "open", "state_reason": "completed" if closed else None,
            "created_at": iso(created), "updated_at": iso(closed or created), "closed_at": iso(closed) if closed else None,
            "user": {"login": f"user{rng.randint(1, 80)}"},
            "html_url": f"https://github.com/acme/big/issues/{i}",
        })
    target.write_text(json.dumps(items))


def generate(tiny: bool = False) -> BigInputs:
    """Create (or reuse) every big input (``tiny``: the :data:`TINY` set); returns their paths."""
    params, work = (TINY, WORK.with_name("big-tiny")) if tiny else (PARAMS, WORK)
    paths = _paths(work)
    marker = work / "inputs.json"
    default = synthetic_repo.DEFAULT_PATH
    if not tiny and not paths.repo.exists() and (default / ".git" / synthetic_repo.MARKER).exists():
        shutil.copytree(default, paths.repo, symlinks=True)  # the same deterministic repository, already built
    synthetic_repo.generate(paths.repo, commits=params["commits"], files=params["files"])
    if marker.exists() and json.loads(marker.read_text()) == params:
        return paths
    marker.unlink(missing_ok=True)
    rng = random.Random(11)
    tests = _tests(paths.repo, params["tests"])
    shutil.rmtree(paths.junit, ignore_errors=True)
    _write_junit(paths.junit, tests, rng)
    _write_coverage(paths.coverage, paths.repo, tests, random.Random(12))
    _write_issues(paths.issues, params["issues"], random.Random(13))
    marker.write_text(json.dumps(params))
    return paths


if __name__ == "__main__":
    print(generate(tiny="--tiny" in sys.argv[1:]))
