"""Benchmark: load_test_runs over >= 200 MB of mixed-dialect JUnit XML vs junitparser.

Generates (once; idempotent) a folder of realistic reports under
``benchmarks/.work/junit``: pytest xunit1 files, Surefire per-class files with
system-out and reruns, one large jest-junit file, go-junit-report files with long
failure output, Bazel test.xml files, laid out as ``<environment>/<run>/``.

Ours: ``load_test_runs`` over the folder (the full ``test_results`` table, in
one process, then again with 2 processes). Times are the best of 3 interleaved runs. Baseline: ``junitparser`` reading
the same files and touching every case's name, classname, time and result.
Peak memory of ours is measured in a fresh subprocess (VmHWM, worker processes included).

Usage: ``python benchmarks/bench_junit.py [--quick]`` (``--quick``: ~40 MB).
"""
from __future__ import annotations

import json
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from common import WORK, main, parse_argv, peak_rss_mib, timed  # noqa: E402

VERSION = 3
REPEAT = 3
LOREM = ("the quick brown fox jumps over the lazy dog while the integration service waits for the "
         "database connection pool to return a handle before timing out ").split()


def _words(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(LOREM) for _ in range(n))


def _trace(rng: random.Random, lines: int) -> str:
    return "\n".join(f'  File "/src/app/{rng.choice(LOREM)}/mod_{rng.randint(1, 99)}.py", line {rng.randint(1, 900)}, '
                     f"in {rng.choice(LOREM)}_{rng.randint(1, 50)}\n    {_words(rng, 8)}" for _ in range(lines))


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def pytest_file(rng: random.Random, cases: int, idx: int) -> str:
    out = ['<?xml version="1.0" encoding="utf-8"?>\n<testsuites><testsuite name="pytest" errors="0" failures="0" '
           f'skipped="0" tests="{cases}" time="12.5" timestamp="2024-05-0{1 + idx % 9}T10:00:00.123456" hostname="ci">']
    for i in range(cases):
        mod = f"tests.unit.test_mod{idx}_{i // 40}"
        cls = f"{mod}.TestThing{i % 7}" if i % 3 else mod
        line = (f'<testcase classname="{cls}" name="test_case_{i}[param-{i % 5}]" '
                f'file="tests/unit/test_mod{idx}_{i // 40}.py" line="{i}" time="{rng.random():.3f}"')
        r = rng.random()
        if r < 0.03:
            out.append(f'{line}><failure message="AssertionError: {_esc(_words(rng, 6))}">'
                       f"{_esc(_trace(rng, 20))}</failure></testcase>")
        elif r < 0.08:
            out.append(f'{line}><skipped type="pytest.skip" message="{_words(rng, 4)}">/src/x.py:1: skip</skipped></testcase>')
        else:
            out.append(line + "/>")
    out.append("</testsuite></testsuites>\n")
    return "\n".join(out)


def surefire_file(rng: random.Random, cases: int, idx: int) -> str:
    cls = f"com.acme.orders.service{idx % 13}.OrderServiceIT{idx}"
    out = [f'<?xml version="1.0" encoding="UTF-8"?>\n<testsuite xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
           f'name="{cls}" time="3,456.7" tests="{cases}" errors="0" skipped="0" failures="0" '
           f'timestamp="2024-05-01T10:00:{idx % 60:02d}">\n<properties>']
    out += [f'<property name="prop.{k}" value="{_words(rng, 3)}"/>' for k in range(30)]
    out.append("</properties>")
    for i in range(cases):
        head = f'<testcase name="shouldHandleCase{i}" classname="{cls}" time="{rng.random() * 3:.3f}"'
        r = rng.random()
        if r < 0.04:
            out.append(f'{head}><failure message="expected:&lt;1&gt; but was:&lt;2&gt;" type="java.lang.AssertionError">'
                       f"{_esc(_trace(rng, 30))}</failure><rerunFailure message=\"again\"><stackTrace>x</stackTrace>"
                       f"</rerunFailure><system-out>{_esc(_words(rng, 400))}</system-out></testcase>")
        elif r < 0.07:
            out.append(f'{head}><flakyFailure message="timeout" type="java.net.SocketTimeoutException">'
                       f"<stackTrace>{_esc(_trace(rng, 10))}</stackTrace></flakyFailure></testcase>")
        else:
            out.append(f"{head}><system-out>{_esc(_words(rng, 60))}</system-out></testcase>")
    out.append(f"<system-out><![CDATA[{_words(rng, 2000)}]]></system-out>\n</testsuite>\n")
    return "\n".join(out)


def jest_file(rng: random.Random, cases: int) -> str:
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="jest tests" tests="0" failures="0" time="100">']
    per = 50
    for s in range(cases // per):
        out.append(f'<testsuite name="src/components/Widget{s}.test.tsx" errors="0" failures="0" skipped="0" '
                   f'timestamp="2024-05-01T10:00:00" time="1.2" tests="{per}">')
        for i in range(per):
            head = f'<testcase classname="Widget{s} renders variant {i}" name="Widget{s} renders variant {i}" time="0.01"'
            if rng.random() < 0.02:
                out.append(f"{head}><failure>{_esc('Error: expect(received).toBe(expected)' + _trace(rng, 40))}</failure></testcase>")
            else:
                out.append(head + "></testcase>")
        out.append("</testsuite>")
    out.append("</testsuites>\n")
    return "\n".join(out)


def go_file(rng: random.Random, cases: int, idx: int) -> str:
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n<testsuites tests="1" failures="0">',
           f'<testsuite tests="{cases}" failures="0" time="1.5" name="github.com/acme/svc/pkg{idx}" timestamp="2024-05-01T10:00:00Z">',
           '<properties><property name="go.version" value="go1.22"></property></properties>']
    for i in range(cases):
        head = f'<testcase classname="svc/pkg{idx}" name="TestHandler{i}/sub_{i % 9}" time="0.{rng.randint(0, 999):03d}"'
        if rng.random() < 0.05:
            out.append(f'{head}><failure message="Failed" type="">{_esc(_words(rng, 600))}</failure></testcase>')
        else:
            out.append(head + "></testcase>")
    out.append("</testsuite></testsuites>\n")
    return "\n".join(out)


def bazel_file(rng: random.Random, idx: int) -> str:
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n'
            f'<testsuite name="//svc/pkg{idx}:test" tests="1" failures="0" errors="0">\n'
            f'<testcase name="//svc/pkg{idx}:test" status="run" duration="{rng.randint(1, 60)}" time="{rng.randint(1, 60)}"/>\n'
            f"<system-out><![CDATA[{_words(rng, 5000)}]]></system-out>\n</testsuite>\n</testsuites>\n")


def generate(quick: bool = False, tiny: bool = False) -> Path:
    """Write the data set once; a marker with the parameters makes re-runs free."""
    scale = 0.005 if tiny else 0.2 if quick else 1.0
    root = WORK / ("junit-tiny" if tiny else "junit-quick" if quick else "junit")
    marker = root / ".generated.json"
    params = {"version": VERSION, "scale": scale}
    if marker.is_file() and json.loads(marker.read_text()) == params:
        return root
    rng = random.Random(42)
    for env, runs in (("isolated", 3), ("integrated", 3), ("staging", 1)):
        for r in range(1, runs + 1):
            d = root / env / f"run-{r}"
            d.mkdir(parents=True, exist_ok=True)
            if env == "isolated":
                for i in range(max(1, int(16 * scale))):
                    (d / f"pytest-{i}.xml").write_text(pytest_file(rng, 8000, i), encoding="utf-8")
                for i in range(max(1, int(20 * scale))):
                    (d / f"bazel-{i}.xml").write_text(bazel_file(rng, i), encoding="utf-8")
            elif env == "integrated":
                for i in range(max(1, int(240 * scale))):
                    (d / "surefire-reports" / f"TEST-OrderServiceIT{i}.xml").parent.mkdir(exist_ok=True)
                    (d / "surefire-reports" / f"TEST-OrderServiceIT{i}.xml").write_text(
                        surefire_file(rng, 120, i), encoding="utf-8")
                for i in range(max(1, int(10 * scale))):
                    (d / f"go-{i}.xml").write_text(go_file(rng, 800, i), encoding="utf-8")
            else:
                (d / "jest-junit.xml").write_text(jest_file(rng, int(200000 * scale)), encoding="utf-8")
    marker.write_text(json.dumps(params))
    return root


def xml_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.xml"))


def baseline_junitparser(files: list[Path]) -> int:
    from junitparser import JUnitXml, TestSuite

    n = 0
    for f in files:
        xml = JUnitXml.fromfile(str(f))
        suites = [xml] if isinstance(xml, TestSuite) else list(xml)
        for suite in suites:
            for case in suite:
                _ = (case.name, case.classname, case.time, case.result)
                n += 1
    return n


def ours(root: Path, workers: int = 1) -> int:
    from toolkit.load.test_runs import load_test_runs

    if workers > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(workers) as ex:
            return len(load_test_runs(root, executor=ex))
    return len(load_test_runs(root))


def _peak_rss_mib(root: Path, workers: int) -> float:
    """Peak RSS of a fresh interpreter running ours, its worker processes included."""
    code = "from pathlib import Path; from bench_junit import ours; ours(Path(sys.argv[1]), int(sys.argv[2]))"
    return peak_rss_mib(code, str(root), str(workers), children=True)


def run(argv: list[str] | None = None) -> list[dict]:
    args = parse_argv(argv)
    root = generate(args.quick, args.tiny)
    files = xml_files(root)
    size_mb = sum(f.stat().st_size for f in files) / 1e6
    rss1 = _peak_rss_mib(root, 1)
    from toolkit.load.test_runs import load_test_runs  # noqa: F401  (import time is not parse time)
    # best of REPEAT, interleaved, so a busy machine penalises both sides alike
    ours_s = ours2_s = base_s = float("inf")
    for _ in range(1 if args.tiny else REPEAT):
        t, n_ours = timed(lambda: ours(root, 1))
        ours_s = min(ours_s, t)
        t, n_base = timed(lambda: baseline_junitparser(files))
        base_s = min(base_s, t)
        t, n_ours2 = timed(lambda: ours(root, 2))
        ours2_s = min(ours2_s, t)
    assert n_ours == n_base == n_ours2, (n_ours, n_base, n_ours2)
    rows = [
        {"name": "junit", "ours_s": ours_s, "baseline": "junitparser", "baseline_s": base_s, "ratio": ours_s / base_s,
         "cases": n_ours, "files": len(files), "mb": size_mb, "peak_mib": rss1},
        {"name": "junit-2proc", "ours_s": ours2_s, "baseline": "junitparser", "baseline_s": base_s,
         "ratio": ours2_s / base_s, "cases": n_ours2, "files": len(files), "mb": size_mb},
    ]
    return rows


if __name__ == "__main__":
    main(run)
