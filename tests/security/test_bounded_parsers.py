"""Bounded parsers: small hostile files (YAML alias bombs, JSON nested 1e5 deep or holding a 100,000-digit integer,
coverage data with a 2**62 id or a recursive VIEW, trace records of the wrong type) are skipped with a reason when
the audit finds them in a repository or folder, and are one line and exit 2 when the user names them; memory stays
bounded (the CLI runs under an address-space cap)."""
from __future__ import annotations

import json
import os
import resource
import sqlite3
import subprocess
import sys
from pathlib import Path

import coverage
import pytest
from hostile import APP, ROOT, all_output, one_line_error

from gitutil import make_repo
from toolkit.load.coverage_contexts import load_coverage
from toolkit.load.limits import LimitExceeded, load_json, load_toml, load_yaml
from toolkit.load.traces import load_traces

#: address space the audit may use: enough for Python, pandas and numpy, far too little for a billion nodes
CAP = 3 << 30


def lol_yaml(levels: int = 9) -> bytes:
    """An OpenAPI document of 10-fold nested aliases ("billion laughs"): ~600 bytes standing for 10**levels
    nodes, reachable from the schema the audit reads."""
    lines = ['openapi: "3.0.0"', "info: {title: lol, version: '1'}", "x-lol:",
             "  a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"  a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, levels + 1)]
    lines += ["paths:", "  /lol:", "    get:", "      responses:", "        '200':", "          content:",
              "            application/json:", "              schema:", "                type: object",
              "                properties:", f"                  laughs: {{type: array, items: *a{levels}}}"]
    return ("\n".join(lines) + "\n").encode()


DEEP_JSON = ("[" * 100_000 + "]" * 100_000).encode()
HUGE_INT = b'{"openapi": "3.0.0", "info": {"title": "t", "version": "1"}, "x-n": ' + b"7" * 100_000 + b', "paths": {}}'
GOOD_YAML = b"""openapi: "3.0.0"
info: {title: orders, version: '1'}
x-shared: &order {type: object, properties: {id: {type: string}, total: {type: number}}}
paths:
  /orders/{order_id}:
    get:
      operationId: get_order_by_id_bounded
      responses:
        '200':
          content:
            application/json:
              schema: *order
"""


def run_capped(*args: str, cache: Path, env: dict[str, str] | None = None, cap: int = CAP
               ) -> subprocess.CompletedProcess:
    """The real CLI in a fresh process whose address space is capped at ``cap`` bytes."""
    full = dict(os.environ, PYTHONPATH=str(ROOT), SEAMSCOPE_CACHE=str(cache), **(env or {}))

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    return subprocess.run([sys.executable, "-m", "toolkit.cli", "-q", *args], capture_output=True, text=True,
                          env=full, cwd=ROOT, timeout=600, preexec_fn=limit)


def test_the_alias_bomb_is_armed_for_a_plain_yaml_reader(tmp_path):
    """Without the limits, the 4 KB file exhausts the same memory cap as soon as anything walks it."""
    bomb = tmp_path / "openapi.yaml"
    bomb.write_bytes(lol_yaml())
    assert bomb.stat().st_size < 4096
    code = ("import json, sys, yaml\n"
            "doc = yaml.safe_load(open(sys.argv[1]).read())\n"
            "json.dumps(doc)\n")
    res = subprocess.run([sys.executable, "-c", code, str(bomb)], capture_output=True, text=True, timeout=600,
                         preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (CAP, CAP)))
    assert res.returncode != 0 and "MemoryError" in res.stderr


def test_the_limits_refuse_each_bomb_and_keep_ordinary_documents():
    with pytest.raises(LimitExceeded, match="aliases limit of 100000.*SEAMSCOPE_PARSE_LIMITS=aliases=N"):
        load_yaml(lol_yaml())
    with pytest.raises(LimitExceeded, match="recursive YAML alias"):
        load_yaml("a: &a [1, *a]\n")
    with pytest.raises(LimitExceeded, match="depth limit"):
        load_yaml("[" * 100_000 + "]" * 100_000)
    with pytest.raises(LimitExceeded, match="depth limit"):
        load_json(DEEP_JSON)
    with pytest.raises(LimitExceeded, match="digits limit of 4300"):
        load_json(HUGE_INT)
    with pytest.raises(LimitExceeded, match="depth limit"):
        load_toml("x = " + "[" * 100_000 + "]" * 100_000 + "\n")
    assert load_toml("x = " + "[" * 900 + "1" + "]" * 900 + "\n")["x"][0][0][0]
    doc = load_yaml(GOOD_YAML)
    assert doc["paths"]["/orders/{order_id}"]["get"]["responses"]["200"]["content"]["application/json"]["schema"] \
        == doc["x-shared"]
    assert load_yaml("base: &b {x: 1}\nderived:\n  <<: *b\n  y: 2\n")["derived"] == {"x": 1, "y": 2}
    assert load_json(b'{"a": [1, 2.5, null, "' + b"9" * 5000 + b'"]}')["a"][:3] == [1, 2.5, None]


def test_limits_are_raised_by_one_environment_variable(monkeypatch):
    monkeypatch.setenv("SEAMSCOPE_PARSE_LIMITS", "digits=200000,depth=3000,aliases=2000000000")
    assert load_json(b"[" + b"7" * 100_000 + b"]")[0] % 10 == 7
    doc, depth = load_json(b"[" * 2500 + b"]" * 2500), 0  # deeper than Python's recursion limit allows by default
    while doc:
        doc, depth = doc[0], depth + 1
    assert depth == 2499
    assert load_yaml(lol_yaml(5))["x-lol"]["a5"][0][0][0][0][0] == ["lol"] * 10  # 10**5 nodes: allowed now
    monkeypatch.setenv("SEAMSCOPE_PARSE_LIMITS", "dpth=3")
    from toolkit.errors import InputError
    with pytest.raises(InputError, match="unknown limit 'dpth'"):
        load_json(b"[" * 2000 + b"]" * 2000)


@pytest.fixture(scope="module")
def hostile_repo(tmp_path_factory):
    """A committed repository holding an alias bomb, a deeply nested and a huge-integer OpenAPI document (all
    found automatically by their names) beside an ordinary spec that uses one alias."""
    root = tmp_path_factory.mktemp("bounded")
    repo = make_repo(root / "repo", {**APP, "pkg/api/openapi.yaml": lol_yaml(), "pkg/core/openapi.json": DEEP_JSON,
                                     "pkg/core/swagger.json": HUGE_INT, "pkg/api/orders-openapi.yaml": GOOD_YAML,
                                     "deploy/docker-compose.yml": lol_yaml(8)})
    return root, repo


def test_hostile_specs_in_a_repository_are_skipped_with_the_limit_and_memory_stays_bounded(hostile_repo):
    root, repo = hostile_repo
    out = root / "out"
    res = run_capped("audit", str(repo), "--out", str(out), cache=root / "cache")
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr and "MemoryError" not in res.stderr
    skipped = json.dumps(json.loads((out / "findings.json").read_text())["provenance"])
    assert "pkg/api/openapi.yaml" in skipped and "aliases limit of 100000" in skipped
    assert "pkg/core/openapi.json" in skipped and "depth limit" in skipped
    assert "pkg/core/swagger.json" in skipped and "digits limit of 4300" in skipped
    assert "deploy/docker-compose.yml" in skipped
    assert "SEAMSCOPE_PARSE_LIMITS" in skipped
    assert "get_order_by_id_bounded" in all_output(out) or "/orders/{order_id}" in all_output(out)


def test_hostile_files_named_by_the_user_are_one_line_and_exit_2(hostile_repo, tmp_path):
    root, repo = hostile_repo
    (tmp_path / "openapi.yaml").write_bytes(lol_yaml())
    (tmp_path / "deep.json").write_bytes(DEEP_JSON)
    (tmp_path / "huge.json").write_bytes(b'[{"number": ' + b"7" * 100_000 + b', "title": "t"}]')
    (tmp_path / "labels.json").write_bytes(b'{"k": ' * 100_000 + b"1" + b"}" * 100_000)
    cases = [
        ([f'contracts = ["{tmp_path / "openapi.yaml"}"]'], [], "aliases limit"),
        ([f'traces = ["{tmp_path / "deep.json"}"]'], [], "depth limit"),
        ([], ["--compare", str(tmp_path / "deep.json")], "depth limit"),
        ([], ["--issues", str(tmp_path / "huge.json")], "digits limit"),
        ([], ["--issues", str(tmp_path / "deep.json")], "depth limit"),
        ([], ["--labels", str(tmp_path / "labels.json")], "depth limit"),
    ]
    for n, (toml, flags, needle) in enumerate(cases):
        cfg = tmp_path / f"seamscope-{n}.toml"
        cfg.write_text(f'repo = "{repo}"\n' + "\n".join(toml) + "\n")
        res = run_capped("audit", "--config", str(cfg), *flags, "--out", str(tmp_path / f"out-{n}"),
                         cache=root / "cache")
        line = one_line_error(res)
        assert res.returncode == 2, (flags, toml, res.stderr)
        assert needle in line and "SEAMSCOPE_PARSE_LIMITS" in line, line
        assert str(tmp_path) in line, line
        assert not (tmp_path / f"out-{n}").exists()


# ----------------------------------------------------------------------------- coverage data
def _coverage_file(path: Path, repo_file: str, lines: list[int]) -> Path:
    data = coverage.CoverageData(basename=str(path))
    data.set_context("tests/test_views.py::test_view|run")
    data.add_lines({f"/ci/build/{repo_file}": set(lines)})
    data.write()
    return path


def test_a_context_id_of_2_to_the_62_is_looked_up_not_allocated(hostile_repo, tmp_path):
    root, repo = hostile_repo
    cov = _coverage_file(tmp_path / ".coverage", "pkg/api/views.py", [4, 5])
    con = sqlite3.connect(cov)
    con.execute("update context set id = ? where context != ''", (2 ** 62,))
    con.execute("update line_bits set context_id = ?", (2 ** 62,))
    con.commit()
    con.close()
    tl = load_coverage(cov, ["pkg/api/views.py", "pkg/core/models.py"])
    assert sorted(zip(tl["test_id"].astype(str), tl["path"].astype(str), tl["line"])) == [
        ("tests.test_views.test_view", "pkg/api/views.py", 4), ("tests.test_views.test_view", "pkg/api/views.py", 5)]
    res = run_capped("audit", str(repo), "--coverage", str(cov), "--out", str(tmp_path / "out"),
                     cache=root / "cache")
    assert res.returncode == 0 and "Traceback" not in res.stderr, res.stderr


def test_a_coverage_file_with_a_recursive_view_is_refused_not_waited_on(hostile_repo, tmp_path):
    root, repo = hostile_repo
    cov = _coverage_file(tmp_path / ".coverage", "pkg/api/views.py", [4])
    con = sqlite3.connect(cov)
    con.executescript("alter table context rename to context_real;"
                      "create view context as with recursive c(id, context) as (select 1, 'x' union all "
                      "select id + 1, context from c) select id, context from c;")
    con.commit()
    steps = [0]

    def stop() -> int:  # armed: reading the view never ends (stopped here after 10**7 steps)
        steps[0] += 1
        return 1 if steps[0] > 100 else 0

    con.set_progress_handler(stop, 100_000)
    with pytest.raises(sqlite3.OperationalError, match="interrupted"):
        con.execute("select count(*) from context").fetchone()
    con.close()
    res = run_capped("audit", str(repo), "--coverage", str(cov), "--out", str(tmp_path / "out"),
                     cache=root / "cache")
    line = one_line_error(res)
    assert res.returncode == 2 and str(cov) in line and "VIEW" in line and "'context'" in line


# ----------------------------------------------------------------------------- traces
def _span(span_id: str, parent: str | None, service: str, start: object = "1000", kind: object = 2) -> dict:
    return {"traceId": "t1", "spanId": span_id, "parentSpanId": parent, "name": "op", "kind": kind,
            "startTimeUnixNano": start, "endTimeUnixNano": "2000", "attributes": []}


def _otlp(service: str, *spans: dict) -> str:
    return json.dumps({"resourceSpans": [{"resource": {"attributes": [
        {"key": "service.name", "value": {"stringValue": service}}]}, "scopeSpans": [{"spans": list(spans)}]}]})


def test_trace_records_of_the_wrong_type_or_nested_1e5_deep_are_skipped_by_line(tmp_path):
    traces = tmp_path / "traces" / "production"
    traces.mkdir(parents=True)
    lines = [
        _otlp("web", _span("a", None, "web", kind=3)),                         # 1 good: caller
        _otlp("api", _span("b", "a", "api")),                                  # 2 good: callee
        json.dumps({"resourceSpans": [["not", "an", "object"]]}),              # 3 a list where an object belongs
        _otlp("api", _span("c", "a", "api"), _span("d", "a", "api", start="soon")),  # 4 a timestamp of text
        _otlp("api", _span("e", "a", "api", kind={"k": 1})),                  # 5 an unhashable kind
        "[" * 100_000 + "]" * 100_000,                                          # 6 nested 1e5 deep
        '{"resourceSpans": [], "n": ' + "7" * 100_000 + "}",                    # 7 a 100,000-digit integer
        _otlp("api", _span("f", "a", "api", start=str(10 ** 30))),            # 8 beyond 64-bit nanoseconds
    ]
    (traces / "spans.jsonl").write_text("\n".join(lines) + "\n")
    skips: list = []
    t = load_traces([tmp_path / "traces"], skips=skips)
    assert sorted(t.spans["span_id"]) == ["a", "b"]  # line 4's good span "c" goes with its bad neighbour
    by_line = {s.line: s.reason for s in skips if s.line}
    assert set(by_line) == {3, 4, 5, 6, 7}
    assert "wrong type" in by_line[3] and "wrong type" in by_line[4] and "wrong type" in by_line[5]
    assert "depth limit" in by_line[6] and "digits limit" in by_line[7]
    assert any("64-bit" in s.reason for s in skips)
    assert list(zip(t.edges["caller_service"], t.edges["callee_service"])) == [("web", "api")]
    # the same file as one pretty-printed document named by the user: one InputError naming it
    whole = tmp_path / "deep.json"
    whole.write_text("[" * 100_000 + "\n" + "]" * 100_000)
    from toolkit.errors import InputError
    with pytest.raises(InputError, match="depth limit") as exc:
        load_traces([whole])
    assert str(whole) in str(exc.value)
    skips = []
    folder = tmp_path / "found"
    folder.mkdir()
    (folder / "deep.json").write_text("[" * 100_000 + "\n" + "]" * 100_000)
    load_traces([folder], skips=skips)  # found in a folder: a skip
    assert any("deep.json" in s.path and "depth limit" in s.reason for s in skips)


def test_a_config_nested_too_deep_is_one_line(tmp_path):
    """tomllib recurses once per nesting level: a --config nested 1e5 deep is refused naming the limit."""
    import subprocess
    import sys

    cfg = tmp_path / "seamscope.toml"
    cfg.write_text("x = " + "[" * 100_000 + "]" * 100_000 + "\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "toolkit.cli", "audit", "--config", str(cfg), "--out",
                           str(tmp_path / "out")], capture_output=True, text=True)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().count("\n") == 0 and "nested too deeply" in done.stderr
