"""The ``seamscope`` command line: thin — parse flags, build a config, call the library, write.

Exit codes: 0 ok, 1 a CI gate failed, 2 bad input (one line on stderr, no traceback).
Unexpected errors still show a traceback: they are bugs to report.
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from toolkit import progress
from toolkit.errors import GateFailed, SeamscopeError

EXIT_OK, EXIT_GATE, EXIT_INPUT = 0, 1, 2


def _table_out(df, fmt: str, out: str | None) -> None:
    if fmt == "json":
        text = df.to_json(orient="records", date_format="iso", indent=1, default_handler=str)
    else:
        text = df.to_csv(index=False)
    if out:
        Path(out).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")


def _audit_config(args: argparse.Namespace):
    from toolkit import config as cfg

    if args.config:
        conf = cfg.load_toml(Path(args.config))
    elif args.repo is None:
        conf = cfg.sample_config()
    else:
        conf = cfg.AuditConfig(repo=Path(args.repo))
    changes = {}
    if args.repo is not None and args.config:
        changes["repo"] = Path(args.repo)
    if args.tests:
        changes["tests"] = tuple(Path(p) for p in args.tests)
    if args.coverage:
        changes["coverage"] = Path(args.coverage)
    if args.issues:
        changes["issues"] = tuple(Path(p) for p in args.issues)
    if args.labels:
        changes["labels"] = Path(args.labels)
    if args.at:
        changes["at"] = args.at
    if args.pseudonymize:
        changes["pseudonymize"] = True
    return conf.with_(**changes) if changes else conf


def cmd_audit(args: argparse.Namespace) -> int:
    from toolkit.audit import run_audit
    from toolkit.report.writer import write_report

    conf = _audit_config(args)
    report, ev = run_audit(conf, only=args.only, compare=Path(args.compare) if args.compare else None,
                           verbose=args.verbose)
    paths = write_report(report, Path(args.out))
    if args.verbose:
        print("stage timings:", file=sys.stderr)
        for stage, secs in ev.timings.items():
            print(f"  {stage:<28} {secs:8.2f} s", file=sys.stderr)
    if ev.skips and not args.quiet:
        print(f"{len(ev.skips)} input part(s) skipped — listed in the report's provenance section", file=sys.stderr)
    if args.fail_under or args.fail_on:
        from toolkit.audit import check_gates
        check_gates(report, fail_under=args.fail_under or [], fail_on=args.fail_on or [])
    print(f"report: {Path(paths['html']).resolve()}")
    return EXIT_OK


def cmd_sample(args: argparse.Namespace) -> int:
    from toolkit.sample import build

    summary = build(Path(args.dir))
    print(f"sample written to {Path(args.dir).resolve()} ({summary.get('commits', '?')} commits)")
    return EXIT_OK


def cmd_coupling(args: argparse.Namespace) -> int:
    from toolkit.analyze.change_coupling import logical_coupling
    from toolkit.load.gitrepo import Repo
    from toolkit.load.history import load_history

    repo = Repo.open(args.repo)
    if args.kind == "logical":
        history = load_history(repo, renames=not args.no_renames)
        components = None
        if args.level == "component":
            from toolkit.load.structure import load_structure
            components = load_structure(repo).components
        df = logical_coupling(history, level=args.level, components=components)
    else:
        from toolkit.analyze.structural_coupling import seam_table, structural_coupling
        from toolkit.load.structure import load_structure
        structure = load_structure(repo)
        if args.format == "graphml":
            from toolkit.analyze.coupling_graph import coupling_graph, to_graphml
            history = load_history(repo)
            g = coupling_graph(seam_table(structure), logical_coupling(history, level="component",
                               components=structure.components), history=history, components=structure.components)
            to_graphml(g, args.out or sys.stdout.buffer)
            return EXIT_OK
        df = seam_table(structure) if args.level == "component" else structural_coupling(structure)
    if args.format == "graphml":
        raise SeamscopeError("--format graphml needs --kind structural (the graph joins both kinds)")
    _table_out(df, args.format, args.out)
    return EXIT_OK


def cmd_tests(args: argparse.Namespace) -> int:
    import pandas as pd

    from toolkit.load.test_runs import load_test_runs

    skips: list = []
    df = pd.concat([load_test_runs(p, skips=skips) for p in args.paths], ignore_index=True)
    for s in skips:
        print(f"skipped: {s}", file=sys.stderr)
    _table_out(df, args.format, args.out)
    return EXIT_OK


def cmd_issues(args: argparse.Namespace) -> int:
    from toolkit.load.issues import load_issues

    skips: list = []
    df = load_issues(args.files, pseudonymize=args.pseudonymize, skips=skips)
    for s in skips:
        print(f"skipped: {s}", file=sys.stderr)
    _table_out(df, args.format, args.out)
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="seamscope", description="Find where integration testing is inadequate.")
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress bars")
    sub = parser.add_subparsers(dest="command", required=True)

    a = sub.add_parser("audit", help="audit a repository (default: the embedded sample) and write reports")
    a.add_argument("repo", nargs="?", help="git work tree, bare repository or .bundle (default: the sample)")
    a.add_argument("--config", help="seamscope.toml with all inputs")
    a.add_argument("--tests", nargs="+", metavar="PATH", help="JUnit XML files or folders <environment>/<run>/*.xml")
    a.add_argument("--coverage", metavar="FILE", help="coverage.py data file recorded with --cov-context=test")
    a.add_argument("--issues", nargs="+", metavar="FILE", help="issue-tracker exports (GitHub/Jira/GitLab/CSV)")
    a.add_argument("--labels", metavar="FILE", help="analyst labels (from the bug-review widget)")
    a.add_argument("--at", metavar="REV", help="audit as of this revision")
    a.add_argument("--out", default="seamscope-report", help="output folder (default: %(default)s)")
    a.add_argument("--only", nargs="+", metavar="METHOD", help="run only these detection methods")
    a.add_argument("--compare", metavar="FINDINGS_JSON", help="a previous findings.json to compare with")
    a.add_argument("--fail-under", action="append", metavar="METRIC=VALUE", help="CI gate, e.g. interaction-coverage=60")
    a.add_argument("--fail-on", action="append", metavar="CONDITION", help="CI gate, e.g. new-untested-seam")
    a.add_argument("--pseudonymize", action="store_true", help="replace reporter names by stable pseudonyms")
    a.add_argument("--verbose", "-v", action="store_true", help="print a stage breakdown with timings")
    a.add_argument("--quiet", "-q", action="store_true", dest="quiet_sub", help="no progress bars")
    a.set_defaults(func=cmd_audit)

    s = sub.add_parser("sample", help="(re)build the sample system into DIR")
    s.add_argument("dir")
    s.set_defaults(func=cmd_sample)

    c = sub.add_parser("coupling", help="structural or logical (change) coupling of a repository")
    c.add_argument("repo")
    c.add_argument("--level", choices=["component", "file"], default="component")
    c.add_argument("--kind", choices=["logical", "structural"], default="logical")
    c.add_argument("--format", choices=["csv", "json", "graphml"], default="csv")
    c.add_argument("--no-renames", action="store_true", help="read history as code-maat's recommended git log does")
    c.add_argument("--out", help="write here instead of stdout")
    c.set_defaults(func=cmd_coupling)

    t = sub.add_parser("tests", help="load JUnit XML into one table")
    t.add_argument("paths", nargs="+")
    t.add_argument("--format", choices=["csv", "json"], default="csv")
    t.add_argument("--out")
    t.set_defaults(func=cmd_tests)

    i = sub.add_parser("issues", help="load issue-tracker exports into one table")
    i.add_argument("files", nargs="+")
    i.add_argument("--format", choices=["csv", "json"], default="csv")
    i.add_argument("--pseudonymize", action="store_true")
    i.add_argument("--out")
    i.set_defaults(func=cmd_issues)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.quiet = bool(args.quiet or getattr(args, "quiet_sub", False))
    progress.set_enabled(False if args.quiet else None)
    try:
        return args.func(args)
    except GateFailed as exc:
        print(f"seamscope: gate failed: {exc}", file=sys.stderr)
        return EXIT_GATE
    except SeamscopeError as exc:
        print(f"seamscope: error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("seamscope: interrupted; no partial report was written", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
