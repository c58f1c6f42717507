"""The ``seamscope`` command line: thin — parse flags, build a config, call the library, write.

Exit codes: 0 ok, 1 a CI gate failed, 2 bad input (one line on stderr, no traceback) — including an
``OSError`` that names a path (the file system refusing a path the user gave: a name too long, a folder below a
file). Other unexpected errors still show a traceback: they are bugs to report.
"""
from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from toolkit.runtime import progress
from toolkit.errors import GateFailed, InputError, SeamscopeError
from toolkit.runtime.gcpause import collection_paused

EXIT_OK, EXIT_GATE, EXIT_INPUT = 0, 1, 2


def _out_folder(out: str, flag: str = "--out") -> Path:
    """``--out`` of a command that writes a folder: refused in one line, before any work, when it names an
    existing file (or device) rather than a folder."""
    p = Path(out)
    if p.exists() and not p.is_dir():
        raise InputError(p, "exists and is not a folder", flag=flag, hint="give a folder (it is created if missing)")
    return p


def _out_file(out: str | None, flag: str = "--out") -> None:
    """``--out`` of a command that writes one file: a folder there is refused in one line, before any work."""
    if out is not None and Path(out).is_dir():
        raise InputError(out, "is a folder", flag=flag, hint="give a file name to write the table to")


def _repo_arg(repo: str | None, flag: str = "REPO") -> None:
    """A repository argument that names a device, FIFO or socket is refused in one line (git would be run
    in it; a folder, a repository or a .bundle file is left to :meth:`Repo.open`)."""
    if repo is not None:
        p = Path(repo)
        if p.exists() and not (p.is_dir() or p.is_file()):
            raise InputError(p, "is not a folder, git repository or .bundle file", flag=flag)


def _table_out(df, fmt: str, out: str | None, skips: Sequence = ()) -> None:
    """Print what the loader skipped, then write ``df`` as CSV or JSON to ``out`` (stdout when None)."""
    for s in skips:
        print(f"skipped: {s}", file=sys.stderr)
    if fmt == "json":
        text = df.to_json(orient="records", date_format="iso", indent=1, default_handler=str)
    else:  # cells a spreadsheet would run as formulas are guarded as in the audit's own tables
        from toolkit.report.writer import csv_frame
        text = csv_frame(df).to_csv(index=False)
    if out:
        _write_out(out, text.encode("utf-8"))
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")


def _write_out(out: str, data: bytes, flag: str = "--out") -> None:
    """Write one --out file atomically: readers see the old file or the new one, and a symbolic link at that
    name is replaced, never written through (:func:`toolkit.runtime.atomic.atomic_write`)."""
    from toolkit.runtime.atomic import atomic_write, shared_file_mode

    path = Path(out)
    if path.is_dir() and not path.is_symlink():
        raise InputError(path, "is a folder", flag=flag, hint="give a file name")
    try:
        atomic_write(path, data, mode=shared_file_mode())
    except OSError as exc:
        raise InputError(path, f"cannot be written ({exc.strerror or exc})", flag=flag) from exc


def _input_flags(args: argparse.Namespace) -> dict:
    """The input paths given by --tests/--coverage/--issues, as AuditConfig changes."""
    changes: dict = {k: tuple(Path(p) for p in getattr(args, k)) for k in ("tests", "issues") if getattr(args, k)}
    if args.coverage:
        changes["coverage"] = Path(args.coverage)
    return changes


def _audit_config(args: argparse.Namespace):
    from toolkit import config as cfg

    given = {k for k in ("tests", "coverage", "issues", "labels", "repo") if getattr(args, k, None)}
    conf = cfg.resolve_config(args.config, repo=args.repo, given=given, search=not getattr(args, "no_config", False))
    changes = _input_flags(args)
    if args.repo is not None and conf.source:
        changes["repo"] = Path(args.repo)
    if args.labels:
        changes["labels"] = Path(args.labels)
    if args.at:
        changes["at"] = args.at
    if args.pseudonymize:
        changes["pseudonymize"] = True
    if args.threshold:
        given_t, _ = cfg.check_settings(_key_values(args.threshold, "--threshold", number=False), {},
                                        error=lambda k, what: InputError(None, what, flag="--threshold"))
        changes["thresholds"] = {**conf.thresholds, **given_t}
    if args.weight:
        _, given_w = cfg.check_settings({}, _key_values(args.weight, "--weight", number=True),
                                        error=lambda k, what: InputError(None, what, flag="--weight"))
        changes["weights"] = {**conf.weights, **given_w}
    if args.labels and not Path(args.labels).exists():
        raise InputError(args.labels, "does not exist", flag="--labels", hint="give the labels CSV the bug-review "
                         "widget saved, or leave --labels out")
    return cfg.with_default_labels(conf.with_(**changes) if changes else conf)


def _key_values(specs: list[str], flag: str, *, number: bool) -> dict:
    """``KEY=VALUE`` flags; values are numbers when they look like one (always for weights)."""
    out: dict = {}
    for spec in specs:
        key, eq, value = spec.partition("=")
        if not eq or not key.strip():
            raise InputError(None, f"{spec!r} is not KEY=VALUE", flag=flag)
        try:
            out[key.strip()] = int(value) if value.strip().lstrip("-").isdigit() else float(value)
        except ValueError as exc:
            if number:
                raise InputError(None, f"{spec!r} needs a number after '='", flag=flag) from exc
            out[key.strip()] = value.strip()
    return out


def _positive_int(text: str) -> int:
    """An argparse type: a whole number >= 1 (argparse turns the ValueError into one line and exit 2)."""
    n = int(text)
    if n < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a whole number >= 1")
    return n


def cmd_audit(args: argparse.Namespace) -> int:
    import time

    from toolkit.run.audit import parse_gates, raise_failed_gates, run_audit
    from toolkit.report.sections import audit_report
    from toolkit.report.writer import check_out_dir, write_report

    t_start = time.perf_counter()
    check_out_dir(args.out)  # a file or a symbolic link as --out: exit 2 before the work
    fail_under, fail_on = args.fail_under or [], args.fail_on or []
    parse_gates(fail_under, fail_on, compare=bool(args.compare))  # bad gate syntax: exit 2 before the work
    _repo_arg(args.repo)
    conf = _audit_config(args)
    if args.verbose:
        from toolkit.config import describe_source
        print(f"configuration: {describe_source(conf)}", file=sys.stderr)
    at = args.backtest  # None: no backtest; []: the flag alone
    if at == [] and args.repo is None and conf.source is None:
        from toolkit.config import sample_backtest_rev
        at = [sample_backtest_rev()]
    elif at == []:
        raise SeamscopeError("--backtest needs a revision for a repository (--backtest REV [REV ...])")
    run = run_audit(conf, only=args.only, compare=Path(args.compare) if args.compare else None,
                    verbose=args.verbose, backtest_at=at, fail_under=fail_under, fail_on=fail_on)
    ev = run.ev
    t0 = time.perf_counter()
    report = audit_report(run)
    gates = run.audit.gates if fail_under or fail_on else None
    paths = write_report(report, Path(args.out), gates=gates)  # written first: a failed gate still leaves its report
    if args.sarif:
        from toolkit.report.sarif import render_sarif
        _write_out(args.sarif, render_sarif(report).encode("utf-8"), flag="--sarif")
    ev.timings["write report"] = time.perf_counter() - t0
    if args.verbose:
        width = max(len(k) for k in ev.timings) + 2
        print("stage timings:", file=sys.stderr)
        for stage, secs in ev.timings.items():
            print(f"  {stage:<{width}} {secs:8.2f} s", file=sys.stderr)
        print(f"  {'total':<{width}} {time.perf_counter() - t_start:8.2f} s", file=sys.stderr)
    if ev.skips and not args.quiet:
        print(f"{len(ev.skips)} input part(s) skipped — listed in the report's provenance section", file=sys.stderr)
    missing = [s.title for s in report.sections if s.missing]
    if missing and not args.quiet:
        print(f"{len(missing)} section(s) without their input — the report says why: {', '.join(missing)}",
              file=sys.stderr)
    print(f"report: {paths['html']}")  # not resolved: published in place, it is a link
    raise_failed_gates(run.audit)  # evaluated in the audit, so the report shows the verdict
    return EXIT_OK


def cmd_audit_many(args: argparse.Namespace) -> int:
    from toolkit.run.many import audit_many, executor_for, read_targets
    from toolkit.report.index import index_report, write_index
    from toolkit.report.writer import check_out_dir, write_audit

    out = check_out_dir(_out_folder(args.out))  # a file or a symbolic link: refused before any repository
    targets = read_targets(Path(args.root))
    with executor_for(args.scheduler, args.workers) as pool:
        repos = audit_many(targets, out, write=write_audit, executor=pool)
    paths = write_index(index_report(repos), out)
    failed = [r for r in repos if r["error"]]
    for r in failed:
        print(f"seamscope: {r['name']}: {r['error']}", file=sys.stderr)
    print(f"index: {Path(paths['html']).resolve()} ({len(repos) - len(failed)} audited, {len(failed)} failed)")
    return EXIT_OK


def cmd_sample(args: argparse.Namespace) -> int:
    from toolkit.sample import build

    summary = build(_out_folder(args.dir, flag="DIR"))
    print(f"sample written to {Path(args.dir).resolve()} ({summary.get('commits', '?')} commits)")
    return EXIT_OK


def cmd_notebooks(args: argparse.Namespace) -> int:
    """Copy the guided notebooks (and their README) into DIR: from a clone or from the installed package."""
    from toolkit.config import NOTEBOOKS_DIR
    from toolkit.runtime.atomic import atomic_write, shared_file_mode

    dest = _out_folder(args.dir, flag="DIR")
    src = sorted(p for p in NOTEBOOKS_DIR.glob("*") if p.suffix in (".ipynb", ".md") and p.is_file())
    if not src:
        raise InputError(NOTEBOOKS_DIR, "holds no notebooks", hint="reinstall seamscope (the wheel ships them)")
    clash = [dest / p.name for p in src if (dest / p.name).exists() and
             ((dest / p.name).is_dir() or (dest / p.name).read_bytes() != p.read_bytes())]
    if clash and not args.force:
        raise InputError(clash[0], "exists and differs from seamscope's copy", flag="DIR",
                         hint="pass --force to overwrite it, or choose another folder")
    for p in src:
        if (dest / p.name).is_dir():
            raise InputError(dest / p.name, "is a folder", flag="DIR", hint="choose another folder")
        atomic_write(dest / p.name, p.read_bytes(), mode=shared_file_mode())
    print(f"{sum(p.suffix == '.ipynb' for p in src)} notebooks copied to {dest.resolve()}: "
          f"start with `jupyter lab {dest}` and 00_overview.ipynb")
    return EXIT_OK


def cmd_coupling(args: argparse.Namespace) -> int:
    from toolkit.analyze.change_coupling import logical_coupling
    from toolkit.load.gitrepo import Repo
    from toolkit.load.history import load_history
    from toolkit.load.structure import load_structure

    _out_file(args.out)
    _repo_arg(args.repo)
    repo = Repo.open(args.repo)
    if args.kind == "logical":
        if args.format == "graphml":
            raise SeamscopeError("--format graphml needs --kind structural (the graph joins both kinds)")
        components = load_structure(repo).components if args.level == "component" else None
        df = logical_coupling(load_history(repo, renames=not args.no_renames), level=args.level, components=components)
        _table_out(df, args.format, args.out)
        return EXIT_OK
    from toolkit.analyze.structural_coupling import seam_table, structural_coupling
    structure = load_structure(repo)
    if args.format != "graphml":
        _table_out(seam_table(structure) if args.level == "component" else structural_coupling(structure),
                   args.format, args.out)
        return EXIT_OK
    import io

    import networkx as nx

    from toolkit.analyze.coupling_graph import coupling_graph
    history = load_history(repo)
    g = coupling_graph(seam_table(structure), logical_coupling(history, level="component",
                       components=structure.components), history=history, components=structure.components)
    buf = io.BytesIO()
    nx.write_graphml(g, buf)  # what to_graphml writes, into memory: then one atomic file (or stdout)
    if args.out:
        _write_out(args.out, buf.getvalue())
    else:
        sys.stdout.buffer.write(buf.getvalue())
    return EXIT_OK


def cmd_tests(args: argparse.Namespace) -> int:
    import pandas as pd

    from toolkit.load.test_runs import load_test_runs

    _out_file(args.out)
    skips: list = []
    df = pd.concat([load_test_runs(p, skips=skips) for p in args.paths], ignore_index=True)
    _table_out(df, args.format, args.out, skips)
    return EXIT_OK


def cmd_issues(args: argparse.Namespace) -> int:
    from toolkit.load.issues import load_issues

    _out_file(args.out)
    skips: list = []
    df = load_issues(args.files, pseudonymize=args.pseudonymize, skips=skips)
    _table_out(df, args.format, args.out, skips)
    return EXIT_OK


def cmd_backtest(args: argparse.Namespace) -> int:
    import json as _json

    from toolkit import config as cfg
    from toolkit.analyze.backtest import by_revision
    from toolkit.run.backtest import backtest_many
    from toolkit.report.findings_json import json_safe

    _repo_arg(args.repo)
    if args.repo is None:
        conf, revisions = cfg.sample_config(), args.at or [cfg.sample_backtest_rev()]
    else:
        if not args.at:
            raise SeamscopeError("--at REV is required for a repository (the revision to rank seams at)")
        conf, revisions = cfg.AuditConfig(repo=Path(args.repo)), args.at
    changes = _input_flags(args)
    results = backtest_many(conf.with_(**changes) if changes else conf, revisions, k=args.k)
    if args.format == "json":
        docs = [json_safe({"at": r.at, "scores": r.scores, "later_fixes": r.later_fixes, "unplaced": r.unplaced,
                           "notes": r.notes, "beats_baselines": r.beats_baselines()}) for r in results]
        doc = docs[0] if len(docs) == 1 else {"results": docs, "by_revision": json_safe(by_revision(results))}
        sys.stdout.write(_json.dumps(doc, indent=1) + "\n")
    else:
        sys.stdout.write("\n\n".join(r.text() for r in results) + "\n")
        if len(results) > 1:
            sys.stdout.write("\n" + by_revision(results).to_string(index=False) + "\n")
    return EXIT_OK


def cmd_init(args: argparse.Namespace) -> int:
    from toolkit.run.init_config import write_config

    repo = Path(args.repo)
    if not repo.is_dir():
        raise InputError(repo, "is not a folder", flag="REPO", hint="give the git work tree to configure")
    _out_file(args.out)
    path = write_config(repo, Path(args.out) if args.out else None, force=args.force)
    print(f"wrote {path} — review its [components] and inputs, then run: seamscope audit {args.repo}")
    return EXIT_OK


def cmd_trend(args: argparse.Namespace) -> int:
    from toolkit.report.trend import read_trend, write_trend

    out = _out_folder(args.out)
    paths = write_trend(read_trend(args.paths), out)
    print(f"trend: {paths['html']} ({paths['png'].name}, {paths['md'].name})")
    return EXIT_OK


AUDIT_EPILOG = """\
configuration:
  Flags override the configuration: --config FILE, else the nearest seamscope.toml or pyproject.toml with
  [tool.seamscope] in REPO (or the working directory) and its parents up to the git work tree's top
  (seamscope.toml wins in one folder; `seamscope init` writes one). Paths there are relative to the file:
    repo = "."   tests = ["results/"]   coverage = ".coverage"   issues = ["jira.csv"]
    labels = "labels.csv"   at = "HEAD"   name = "shown in the title"   pseudonymize = false
    [components]  "src/app/api/**" = "api"      glob -> component
    [thresholds]  (also --threshold KEY=VALUE)
      min_revs, min_shared_revs, min_coupling   component change coupling (defaults 3, 3, 10)
      recurrence_months                         a pair breaking again within this is recurring (6)
      max_drift_commits                         commits read for interface drift (2000)
      lower_environment, higher_environment     environments compared (default: lowest/highest seen)
      test_environments, production_environments  service-seam trace/contract environments (lists)
    [weights]     (also --weight KEY=VALUE)     seam-ranking factor weights (toolkit.analyze.seam_ranking):
      structural, change_coupling, bug_history, integration_gap, mock_overuse, doc_gap, drift,
      environment, recent_change

CI gates (the report is written before gates are checked):
  --fail-under interaction-coverage=60     any numeric metric by id (findings.json metrics;
                                           toolkit.vocab.metrics), hyphens or underscores
  --fail-on new-untested-seam              needs --compare PREVIOUS/findings.json

exit codes:
  0  ok            1  a CI gate failed            2  bad input (one line on stderr)
  130  interrupted (the previous report or the new one is left whole, never a mix)
"""


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad flag is one line on stderr (exit 2) like every other bad input, not the usage text."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(EXIT_INPUT, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _version() -> str:
    """The installed distribution's version (a clone run without installing says so)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("seamscope")
    except PackageNotFoundError:
        return "(not installed)"


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="seamscope", description="Find where integration testing is inadequate.")
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress bars")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    a = sub.add_parser("audit", help="audit a repository (default: the embedded sample) and write reports",
                       description="Audit a repository's integration testing and write report.html, report.md, "
                       "findings.json and tables/*.csv. Without arguments: the embedded sample system.",
                       epilog=AUDIT_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    a.add_argument("repo", nargs="?", help="git work tree, bare repository or .bundle (default: the sample)")
    a.add_argument("--config", metavar="FILE", help="seamscope.toml (or a pyproject.toml with [tool.seamscope]) with "
                   "all inputs (default: the nearest one found from REPO, or the working directory, up to the top "
                   "of its git work tree)")
    a.add_argument("--no-config", action="store_true",
                   help="do not look for a seamscope.toml / pyproject.toml: flags only")
    a.add_argument("--tests", nargs="+", metavar="PATH", help="JUnit XML files or folders <environment>/<run>/*.xml")
    a.add_argument("--coverage", metavar="FILE", help="coverage.py data file recorded with --cov-context=test")
    a.add_argument("--issues", nargs="+", metavar="FILE", help="issue-tracker exports (GitHub/Jira/GitLab/CSV)")
    a.add_argument("--labels", metavar="FILE", help="analyst labels (from the bug-review widget)")
    a.add_argument("--at", metavar="REV", help="audit as of this revision")
    a.add_argument("--out", default="seamscope-report", help="output folder (default: %(default)s)")
    a.add_argument("--only", nargs="+", metavar="METHOD", help="run only these detection methods")
    a.add_argument("--compare", metavar="FINDINGS_JSON", help="a previous findings.json to compare with")
    a.add_argument("--sarif", metavar="FILE", help="also write the SARIF 2.1.0 log of untested and mocks-only call "
                   "sites here (it is always written as OUT/report.sarif), e.g. for a code-scanning upload")
    a.add_argument("--backtest", nargs="*", metavar="REV",
                   help="add a backtest: rank seams as of each REV and score them against the integration-bug "
                        "fixes that came later (REV may be omitted for the sample)")
    a.add_argument("--fail-under", action="append", metavar="METRIC=VALUE",
                   help="CI gate (repeatable): exit 1 when a metric (by id, findings.json metrics) is below VALUE, "
                   "e.g. interaction-coverage=60")
    a.add_argument("--fail-on", action="append", metavar="CONDITION",
                   help="CI gate (repeatable, needs --compare): new-untested-seam or new-mocks-only-seam")
    a.add_argument("--threshold", action="append", metavar="KEY=VALUE",
                   help="override a [thresholds] entry of seamscope.toml (repeatable; keys below)")
    a.add_argument("--weight", action="append", metavar="KEY=VALUE",
                   help="override a [weights] entry of seamscope.toml (repeatable; keys below)")
    a.add_argument("--pseudonymize", action="store_true", help="replace reporter names by stable pseudonyms")
    a.add_argument("--verbose", "-v", action="store_true", help="print a stage breakdown with timings")
    a.add_argument("--quiet", "-q", action="store_true", dest="quiet_sub", help="no progress bars")
    a.set_defaults(func=cmd_audit)

    m = sub.add_parser("audit-many", help="audit many repositories (in parallel) and write an index report",
                       description="Audit every repository under ROOT (its subfolders; each may hold a seamscope.toml) "
                       "or listed in a text file (one repository or seamscope.toml path per line, # comments), "
                       "writing OUT/<name>/report.* per repository and OUT/index.{html,md,json} across them. "
                       "A repository that fails is listed in the index with its error.",
                       epilog="Exit codes: 0 done (even when some repositories failed; see the index), 2 bad input.")
    m.add_argument("root", metavar="ROOT_OR_LIST", help="folder of repositories, or a text file listing them")
    m.add_argument("--out", default="seamscope-reports", help="output folder (default: %(default)s)")
    m.add_argument("--workers", type=_positive_int, default=None, metavar="N",
                   help="local worker processes (default: CPU count)")
    m.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                   help="run on a Dask distributed cluster instead (pip install seamscope[dask]); OUT must be "
                   "on a file system the workers share")
    m.add_argument("--quiet", "-q", action="store_true", dest="quiet_sub", help="no progress bars")
    m.set_defaults(func=cmd_audit_many)

    n = sub.add_parser("init", help="write a commented seamscope.toml for a repository",
                       description="Write a commented seamscope.toml for a git work tree: its components as the "
                       "audit's default rules find them (each with why and its size; excluded code with the "
                       "reason), and the JUnit folders, coverage data and issue exports found in it. "
                       "`seamscope audit` and the notebooks find it from that folder upward.")
    n.add_argument("repo", nargs="?", default=".", help="git work tree to configure (default: the working directory)")
    n.add_argument("--out", metavar="FILE", help="file to write (default: REPO/seamscope.toml; its paths are "
                   "written relative to it)")
    n.add_argument("--force", action="store_true", help="replace an existing file (default: refuse)")
    n.set_defaults(func=cmd_init)

    r = sub.add_parser("trend", help="draw the headline metrics of earlier audits over time",
                       description="Read the findings.json of earlier audits and write trend.png (one small chart "
                       "per headline metric), trend.md and trend.html (a small table) into --out. A metric an "
                       "audit did not measure is a gap, never a 0.")
    r.add_argument("paths", nargs="+", metavar="PATH", help="findings.json files, report folders, or folders of "
                   "report folders (e.g. reports/ holding reports/2025-01/findings.json ...)")
    r.add_argument("--out", default="seamscope-trend", help="output folder (default: %(default)s)")
    r.set_defaults(func=cmd_trend)

    s = sub.add_parser("sample", help="(re)build the sample system into DIR")
    s.add_argument("dir", help="folder to write the sample into (its repo.bundle, results/, coverage/, issues/, "
                   "contracts/, traces/ and truth.json)")
    s.set_defaults(func=cmd_sample)

    n = sub.add_parser("notebooks", help="copy the guided notebooks into DIR (from an installed package too)",
                       description="Copy the guided notebooks (00_overview ... 06_audit_report) and their README into "
                       "DIR, created if missing. They read the embedded sample until you change their parameters "
                       "cell. A file in DIR that differs from seamscope's copy is refused unless --force.")
    n.add_argument("dir", help="folder to copy the notebooks into")
    n.add_argument("--force", action="store_true", help="overwrite notebooks of the same name in DIR")
    n.set_defaults(func=cmd_notebooks)

    c = sub.add_parser("coupling", help="structural or logical (change) coupling of a repository")
    c.add_argument("repo", help="git work tree, bare repository or .bundle")
    c.add_argument("--level", choices=["component", "file"], default="component",
                   help="pairs of components or of files (default: %(default)s)")
    c.add_argument("--kind", choices=["logical", "structural"], default="logical",
                   help="logical: how often two change in one commit; structural: imports and call sites "
                   "(default: %(default)s)")
    c.add_argument("--format", choices=["csv", "json", "graphml"], default="csv",
                   help="output format (default: %(default)s)")
    c.add_argument("--no-renames", action="store_true", help="read history as code-maat's recommended git log does")
    c.add_argument("--out", help="write here instead of stdout")
    c.set_defaults(func=cmd_coupling)

    t = sub.add_parser("tests", help="load JUnit XML into one table")
    t.add_argument("paths", nargs="+", help="JUnit XML files or folders (<environment>/<run>/*.xml)")
    t.add_argument("--format", choices=["csv", "json"], default="csv", help="output format (default: %(default)s)")
    t.add_argument("--out", help="write here instead of stdout")
    t.set_defaults(func=cmd_tests)

    b = sub.add_parser("backtest", help="rank seams as of a revision and score against later integration-bug fixes")
    b.add_argument("repo", nargs="?", default=None, help="repository (default: the embedded sample)")
    b.add_argument("--at", nargs="+", metavar="REV", help="revision(s) to rank at (required except for the sample)")
    b.add_argument("--tests", nargs="+", metavar="PATH", help="JUnit XML files or folders, as for audit")
    b.add_argument("--issues", nargs="+", metavar="FILE", help="issue-tracker exports: the later fixes scored")
    b.add_argument("--coverage", metavar="FILE", help="coverage.py data recorded with --cov-context=test")
    b.add_argument("--k", type=_positive_int, default=3, help="top k seams scored (default 3)")
    b.add_argument("--format", choices=["text", "json"], default="text", help="output format (default: %(default)s)")
    b.set_defaults(func=cmd_backtest)

    i = sub.add_parser("issues", help="load issue-tracker exports into one table")
    i.add_argument("files", nargs="+", help="GitHub/GitLab JSON, Jira CSV or JSON, or a generic CSV export")
    i.add_argument("--format", choices=["csv", "json"], default="csv", help="output format (default: %(default)s)")
    i.add_argument("--pseudonymize", action="store_true", help="replace reporter names by stable pseudonyms")
    i.add_argument("--out", help="write here instead of stdout")
    i.set_defaults(func=cmd_issues)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.quiet = bool(args.quiet or getattr(args, "quiet_sub", False))
    progress.set_enabled(False if args.quiet else None)
    interrupted: list[bool] = []
    published_before = len(_published())

    def on_sigint(signum, frame):  # as Python's own handler, but remembered
        interrupted.append(True)
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, on_sigint) if threading.current_thread() is threading.main_thread() \
        else None
    try:
        with interrupts_in_callbacks_kept_quiet(), collection_paused():
            done = args.func(args)
        # Ctrl-C that landed in a finalizer or weakref callback could not stop the command there; it still asked
        return _interrupted(published_before) if interrupted else done
    except KeyboardInterrupt:
        return _interrupted(published_before)
    except Exception as exc:
        # an error raised after Ctrl-C is its consequence (e.g. a C extension whose import was cut short fails
        # to import again): the user interrupted, so say that, not a traceback
        if interrupted:
            return _interrupted(published_before)
        if isinstance(exc, GateFailed):
            print(f"seamscope: gate failed: {exc}", file=sys.stderr)
            return EXIT_GATE
        if isinstance(exc, SeamscopeError):  # one line, even when the message quotes a multi-line git error
            print("seamscope: error: " + " ".join(str(exc).split()), file=sys.stderr)
            return EXIT_INPUT
        if isinstance(exc, OSError) and exc.filename is not None:
            # the file system refused a path the user gave (a name too long, a folder below a file, no space):
            # bad input, said in one line with the path, not a bug
            print(f"seamscope: error: {exc.filename}: {exc.strerror or exc}", file=sys.stderr)
            return EXIT_INPUT
        raise
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


@contextmanager
def interrupts_in_callbacks_kept_quiet() -> Iterator[None]:
    """Python cannot raise a KeyboardInterrupt that lands in a finalizer or a weakref callback: it prints
    "Exception ignored in ..." with a traceback and goes on. Inside this block that one case prints nothing (the
    SIGINT handler remembered it; the command reports the interruption); every other such error still prints."""
    previous = sys.unraisablehook

    def hook(info) -> None:
        if info.exc_type is not None and issubclass(info.exc_type, KeyboardInterrupt):
            return
        previous(info)

    sys.unraisablehook = hook
    try:
        yield
    finally:
        sys.unraisablehook = previous


def _published() -> list:
    """Report folders completely published by this process so far (the writer not imported: none)."""
    writer = sys.modules.get("toolkit.report.writer")
    return list(writer.published) if writer is not None else []


def _interrupted(before: int) -> int:
    done = _published()[before:]
    if done:  # Ctrl-C came while the report was being published: it was held back until the report was whole
        print(f"seamscope: interrupted; the report in {done[-1]} was completely written just "
              "before", file=sys.stderr)
    else:
        print("seamscope: interrupted; no partial report was written (a previous report is left as it was)",
              file=sys.stderr)
    return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
