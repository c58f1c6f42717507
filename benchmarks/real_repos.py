"""Audit real public repositories with default settings and print what a maintainer would check (issue 16).

Not part of ``make test``: it needs clones of real projects, which this script does not fetch. Give it
folders that hold full-history clones (one per repository; the folder name is used as the label)::

    PYTHONPATH=. python benchmarks/real_repos.py /path/to/clones/*

Each repository is audited exactly as ``seamscope audit REPO`` does (default components, no mapping), plus
an issue export derived from the repository's own changelog (towncrier fragments or changelog lines citing
``#N``, see ``links_eval.py``), so that bug-fix links exist to measure. Printed per repository:

- components (with their reasons) and the excluded code (with the reason);
- seams: all, with a call that can run, import only;
- share of history mapped: file changes to code (Python, not tests) whose file, followed across renames to
  today's path, belongs to a component now;
- share of linked fixes with a component: bugs linked to a fix commit that changed code of a component;
- call sites that cross components, and calls the ast could not resolve;
- seams whose numbers (call sites, imports, status, tests real / mocking) disagree between the tables that
  carry them (interaction coverage, ranking evidence, root causes, coupling, findings.json): must be 0;
- the top three seams a reader sees (:func:`toolkit.analyze.seam_ranking.top_of`: each pair once, naming its
  other direction), with their reason, to open at the file:line they name.
"""
from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

from toolkit.run.audit import run_audit  # noqa: E402
from toolkit.analyze.seam_ranking import other_direction, top_of  # noqa: E402
from toolkit.config import AuditConfig  # noqa: E402
from toolkit.core.findings import Findings  # noqa: E402
from toolkit.load.history import change_components, history_mapping  # noqa: E402
from toolkit.report.findings_json import dumps_findings  # noqa: E402
from toolkit.report.sections import audit_report  # noqa: E402

NUMBERS = ("call_sites", "imports", "status", "tests_real", "tests_mocking")


def _entry_texts(repo: Path, hist) -> dict[int, str]:
    """issue number -> the changelog's own words for it: the fragment file's text where the project keeps
    fragments, else the changelog line citing it (what a tracker export's title would say)."""
    from links_eval import _CITE, CHANGELOG_FILES  # noqa: PLC0415

    from toolkit.load.gitrepo import Repo  # noqa: PLC0415
    from toolkit.load.links import FRAGMENT  # noqa: PLC0415

    git = Repo.open(repo)
    fc = hist.file_changes
    num = fc["path"].astype(str).str.extract(FRAGMENT, expand=False)
    frag = fc[num.notna()].assign(num=num[num.notna()].astype(int)).drop_duplicates("num", keep="last")
    texts: dict[int, str] = {}
    blobs = git.read_blobs([(str(sha), str(path)) for sha, path in zip(frag["sha"], frag["path"])])
    for (_key, data), n in zip(blobs, frag["num"]):
        if data:
            texts[int(n)] = data.decode("utf-8", "replace").strip()[:500]
    log = git.git("log", "-p", "--no-merges", "--reverse", "--format=@@commit %H", "--unified=0", "--",
                  *CHANGELOG_FILES, text=False).stdout.decode("utf-8", "replace")
    for line in log.splitlines():
        if line.startswith("+") and not line.startswith("+++"):
            for a, b in _CITE.findall(line):
                texts.setdefault(int(a or b), line[1:].strip()[:500])
    return texts


def changelog_export(repo: Path, out: Path) -> Path | None:
    """A GitHub-style issue export of the bugs the repository's changelog names, titled with the changelog's
    words for each (None when it names none). Creation dates are unknown, so each issue is dated a year
    before its first fix."""
    from common import pr_numbers  # noqa: PLC0415
    from links_eval import _changelog_truth, _fragment_truth  # noqa: PLC0415

    from toolkit.load.history import load_history  # noqa: PLC0415

    hist = load_history(repo)
    truth = _fragment_truth(hist) or _changelog_truth(repo)
    if not truth:
        return None
    prs = pr_numbers(hist.commits)
    texts = _entry_texts(repo, hist)
    when = dict(zip(hist.commits["sha"].astype(str), hist.commits["timestamp"]))
    items = []
    for n in sorted(truth):
        fixed = min((when[s] for s in truth[n] if s in when), default=None)
        created = (fixed - pd.Timedelta(days=365)) if fixed is not None else pd.Timestamp("2000-01-01", tz="UTC")
        items.append({"number": n, "title": texts.get(n, f"changelog entry {n}"), "state": "closed",
                      "labels": [{"name": "bug"}], "created_at": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
                      "html_url": f"https://github.com/x/y/{'pull' if n in prs else 'issues'}/{n}",
                      **({"pull_request": {}} if n in prs else {})})
    path = out / "changelog_bugs.json"
    path.write_text(json.dumps(items), encoding="utf-8")
    return path


def _rows(records, cols=NUMBERS) -> dict[str, dict]:
    return {str(r["seam"]): {c: r[c] for c in cols if c in r} for r in records}


def disagreements(report, f: Findings) -> list[str]:
    """Seams whose numbers differ between the tables that carry them (the same check as tests/test_seam_numbers)."""
    doc = json.loads(dumps_findings(report))["sections"]
    truth = _rows(f.interaction.seams.to_dict("records"))
    tables = {
        "findings interaction": _rows(doc["interaction_coverage"]["tables"]["seams"]),
        "ranking": _rows(f.ranking.table[f.ranking.table["level"] == "component"].to_dict("records")),
        "root causes": _rows(f.root_causes.mocks.to_dict("records")),
        "coupling": _rows(doc["coupling"]["tables"]["seams"], ("call_sites", "imports")),
    }
    bad = set()
    for name, got in tables.items():
        for seam, nums in got.items():
            if seam not in truth or any(v != truth[seam][c] for c, v in nums.items()):
                bad.add(f"{seam} ({name})")
    return sorted(bad)


def history_mapped(ev) -> tuple[float, int]:
    """Share of code file changes (Python, not tests) that count for a component today (the audit's own figure)."""
    hm = history_mapping(ev.history.file_changes, ev.components)
    return (float("nan") if hm["share"] is None else hm["share"]), hm["code_changes"]


def fixes_with_component(ev) -> tuple[float, int]:
    """Share of linked bugs with at least one fix commit that changed code counting for a component today."""
    if ev.links is None or ev.links.links.empty:
        return float("nan"), 0
    fc = ev.history.file_changes
    with_comp = set(fc.loc[change_components(fc, ev.components).notna().to_numpy(), "sha"].astype(str))
    by_bug = ev.links.links.groupby("issue_key")["sha"].apply(lambda s: bool(set(s.astype(str)) & with_comp))
    return float(by_bug.mean()), len(by_bug)


def audit_one(repo: Path) -> dict:
    with tempfile.TemporaryDirectory(prefix="seamscope-real-") as tmp:
        export = changelog_export(repo, Path(tmp))
        config = AuditConfig(repo=repo, issues=(export,) if export else ())
        t = time.perf_counter()
        run = run_audit(config)
        secs = time.perf_counter() - t
    report, ev = audit_report(run), run.ev
    f = Findings(ev)
    seams = f.interaction.seams
    comps = ev.structure.component_table
    excluded = ev.structure.excluded_components
    hist, n_code = history_mapped(ev)
    fixes, n_fixes = fixes_with_component(ev)
    unresolved = getattr(ev.structure, "unresolved_calls", None)
    top = top_of(f.ranking.table[f.ranking.table["level"] == "component"], 3)  # the reader's list: a pair once
    return {
        "repo": repo.name, "seconds": secs, "commits": len(ev.history.commits),
        "components": comps, "excluded": excluded,
        "seams": len(seams), "seams with calls": int((seams["call_sites"] > 0).sum()),
        "import only": int((seams["status"] == "import_only").sum()),
        "history mapped": hist, "code file changes": n_code,
        "fixes with component": fixes, "linked bugs": n_fixes,
        "call sites": len(ev.structure.call_sites),
        "unresolved calls": (int(unresolved["calls"].sum()) if isinstance(unresolved, pd.DataFrame)
                             and "calls" in unresolved else "n/a (not counted)"),
        "disagreeing seams": disagreements(report, f),
        "top": [(r.seam + (f" (also {o})" if (o := other_direction(r.seam, r.reverse_rank)) else ""), r.reason)
                for r in top.itertuples()],
    }


def _pct(x: float) -> str:
    return "n/a" if x != x else f"{100 * x:.1f}%"


def main(paths: list[str]) -> None:
    results = []
    for p in paths:
        repo = Path(p)
        if not (repo / ".git").exists() and not repo.suffix == ".git":
            print(f"{repo}: not a git clone, skipped")
            continue
        try:
            results.append(audit_one(repo))
        except Exception as exc:  # noqa: BLE001 — one failing repository must not hide the others' rows
            print(f"{repo.name}: audit failed: {type(exc).__name__}: {exc}")
    cols = ["repo", "commits", "seconds", "components", "excluded", "seams", "seams with calls", "import only",
            "history mapped", "fixes with component", "call sites", "unresolved calls", "disagreeing seams"]
    table = pd.DataFrame([{**r, "components": len(r["components"]), "excluded": len(r["excluded"]),
                           "seconds": round(r["seconds"], 1), "history mapped": _pct(r["history mapped"]),
                           "fixes with component": f"{_pct(r['fixes with component'])} of {r['linked bugs']}",
                           "disagreeing seams": len(r["disagreeing seams"])} for r in results], columns=cols)
    print(table.to_string(index=False))
    for r in results:
        print(f"\n== {r['repo']}")
        print("components: " + "; ".join(f"{c.component} ({c.files} files: {c.reason})"
                                         for c in r["components"].itertuples()))
        print("excluded: " + ("; ".join(f"{e.path} ({e.reason})" for e in r["excluded"].itertuples()) or "none"))
        for seam, reason in r["top"]:
            print(f"top seam {seam}: {reason}")
        if r["disagreeing seams"]:
            print("DISAGREEING: " + ", ".join(r["disagreeing seams"]))


if __name__ == "__main__":
    main(sys.argv[1:])
