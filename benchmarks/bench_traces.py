"""Benchmark: load_traces (spans table + observed service graph) over 1,000,000 OTLP spans vs bare json.loads.

Generates (once; idempotent) ``benchmarks/.work/traces/otlp-<N>.jsonl`` as the OpenTelemetry collector's file
exporter writes it: one ``{"resourceSpans": [...]}`` batch per line, 25 services, each trace a request through
3-9 services (SERVER + CLIENT spans per hop, internal spans, a message hop now and then), attributes of both
semantic-convention generations, 1% errors, a few spans whose parent was dropped.

Ours: ``load_traces([file])`` — every span into the ``spans`` table and the ``trace_edges`` service graph,
measured in a fresh subprocess (time and peak RSS, ``ru_maxrss``). Baseline: ``json.loads`` of every line of
the same file and nothing else (the floor any reader of the format pays).

Usage: ``python benchmarks/bench_traces.py [--quick | --tiny]`` (``--quick``: 100,000 spans; ``--tiny``: 2,000).
"""
from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from common import parse_argv  # noqa: E402

WORK = ROOT / "benchmarks" / ".work" / "traces"
VERSION = 1
SERVICES = [f"svc-{n:02d}" for n in range(25)]
ROUTES = ["/orders/{id}", "/stock/{sku}", "/charges", "/users/{uid}", "/search", "/documents/{doc}/versions"]


def _a(key: str, value) -> dict:
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    return {"key": key, "value": {"stringValue": value}}


def generate(n_spans: int) -> Path:
    path = WORK / f"otlp-{n_spans}-v{VERSION}.jsonl"
    if path.exists():
        return path
    WORK.mkdir(parents=True, exist_ok=True)
    rng = random.Random(7)
    tmp = path.with_suffix(".tmp")
    written = 0
    t0 = 1_760_000_000_000_000_000
    with open(tmp, "w", encoding="utf-8") as fh:
        trace_no = 0
        while written < n_spans:
            batch: dict[str, list] = {}
            for _ in range(50):  # 50 traces per exported batch (one line)
                trace_no += 1
                tid = f"{trace_no:032x}"
                hops = rng.sample(SERVICES, rng.randint(3, 9))
                start = t0 + trace_no * 1_000_000
                parent = None
                sid = trace_no * 64
                for depth, svc in enumerate(hops):
                    sid += 1
                    server = f"{sid:016x}"
                    route = rng.choice(ROUTES)
                    err = rng.random() < 0.01
                    message = depth > 0 and rng.random() < 0.1
                    new = rng.random() < 0.5
                    attrs = [_a("http.route", route), _a("http.request.method" if new else "http.method", "GET"),
                             _a("http.response.status_code" if new else "http.status_code", 500 if err else 200)]
                    if message:
                        attrs = [_a("messaging.destination.name", "topic-" + route.split("/")[1])]
                    s = {"traceId": tid, "spanId": server, "name": f"GET {route}", "kind": 5 if message else 2,
                         "startTimeUnixNano": str(start + depth * 1000), "endTimeUnixNano": str(start + 900_000 - depth),
                         "attributes": attrs, "status": {"code": 2} if err else {}}
                    if parent is not None and rng.random() > 0.002:  # a few parents lost by sampling
                        s["parentSpanId"] = parent
                    sid += 1
                    internal = {"traceId": tid, "spanId": f"{sid:016x}", "parentSpanId": server, "name": "db.query",
                                "kind": 1, "startTimeUnixNano": str(start + depth * 1000 + 10),
                                "endTimeUnixNano": str(start + depth * 1000 + 500), "attributes": [], "status": {}}
                    spans = [s, internal]
                    if depth < len(hops) - 1:
                        sid += 1
                        client = f"{sid:016x}"
                        spans.append({"traceId": tid, "spanId": client, "parentSpanId": server,
                                      "name": "GET", "kind": 4 if rng.random() < 0.1 else 3,
                                      "startTimeUnixNano": str(start + depth * 1000 + 20),
                                      "endTimeUnixNano": str(start + 800_000), "status": {},
                                      "attributes": [_a("url.full", f"http://{hops[depth + 1]}/x"),
                                                     _a("http.request.method", "GET")]})
                        parent = client
                    batch.setdefault(svc, []).extend(spans)
                    written += len(spans)
            line = {"resourceSpans": [{"resource": {"attributes": [
                _a("service.name", svc), _a("deployment.environment.name", "production" if trace_no % 3 else "integration"),
                _a("host.name", f"{svc}-7d9f")]}, "scopeSpans": [{"scope": {"name": "opentelemetry.instrumentation"},
                                                                  "spans": spans}]} for svc, spans in batch.items()]}
            fh.write(json.dumps(line, separators=(",", ":")) + "\n")
    tmp.rename(path)
    return path


def _child(mode: str, path: str) -> None:
    import resource
    t = time.perf_counter()
    if mode == "ours":
        from toolkit.load.traces import load_traces
        tr = load_traces([path], skips=[])
        info = {"spans": len(tr.spans), "edges": len(tr.edges), "missing_parents": tr.stats["missing_parents"]}
    else:
        n = 0
        with open(path, "rb") as fh:
            for line in fh:
                n += len(json.loads(line)["resourceSpans"])
        info = {"batches": n}
    dt = time.perf_counter() - t
    print(json.dumps({"s": dt, "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, **info}))


def _measure(mode: str, path: Path) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", mode, str(path)], check=True, capture_output=True,
                         text=True, cwd=ROOT, env={"SEAMSCOPE_PROGRESS": "0", "PATH": "/usr/bin:/bin",
                                                   "PYTHONPATH": str(ROOT)}).stdout
    return json.loads(out.strip().splitlines()[-1])


def run(argv: list[str] | None = None) -> list[dict]:
    args = parse_argv(argv)
    n = 2_000 if args.tiny else 100_000 if args.quick else 1_000_000
    path = generate(n)
    ours = _measure("ours", path)
    base = _measure("baseline", path)
    mib = path.stat().st_size / 2**20
    return [{"name": f"traces ({ours['spans']} spans, {mib:.0f} MiB OTLP, {ours['edges']} edges)",
             "ours_s": ours["s"], "baseline": "json.loads", "baseline_s": base["s"], "ratio": ours["s"] / base["s"],
             "note": f"peak RSS ours {ours['rss_mib']:.0f} MiB, baseline {base['rss_mib']:.0f} MiB"}]


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _child(sys.argv[2], sys.argv[3])
    else:
        for row in run(sys.argv[1:]):
            print(f"traces: ours {row['ours_s']:.2f} s, baseline(json.loads) {row['baseline_s']:.2f} s, "
                  f"ratio {row['ratio']:.2f}  [{row['name']}; {row['note']}]")
