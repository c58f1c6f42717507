"""What an audit reads and how: flags, ``seamscope.toml``, or the embedded sample.

One ``AuditConfig`` drives the CLI, the notebooks (their parameters cell) and
``audit-many``. Paths in a ``seamscope.toml`` are relative to that file.

Where the configuration comes from (:func:`find_config`, one rule for the CLI and the notebooks): ``--config``
(a notebook's ``CONFIG``) when given; else the nearest ``seamscope.toml`` or ``pyproject.toml`` with a
``[tool.seamscope]`` table, looking in the starting folder (the audited work tree, or the working directory)
and then each parent up to the top of the git work tree it lies in (the file-system root outside one). In one
folder ``seamscope.toml`` wins over ``pyproject.toml``: a file written only for seamscope is the more
deliberate choice, as ruff and mypy decide. A ``pyproject.toml`` without that table is not a configuration and
the search goes on. Either file is only parsed as TOML (bounded), never executed.

``seamscope.toml``::

    repo = "."                      # git work tree, bare repo or .bundle
    tests = ["results/"]            # JUnit folders: results/<environment>/<run>/*.xml
    coverage = ".coverage"          # coverage.py data recorded with --cov-context=test
    issues = ["jira.csv", "github_issues.json"]
    labels = "labels.csv"           # analyst labels (bug-review widget)
    at = "HEAD"                     # audit as of a revision
    contracts = ["specs/", "pacts/"] # OpenAPI/Swagger specs and Pact files
    traces = ["traces/"]            # OTLP JSON (collector file exporter) or Jaeger JSON exports
    [components]                    # glob -> component (overrides the default rules; first match wins)
    "src/app/api/**" = "api"
    "src/app/vendored/**" = "-"     # "-" (or "") excludes the files from every component
    [thresholds]
    min_revs = 5
    [weights]
    call_sites = 1.0
"""
from __future__ import annotations

import math
import os
import re
import tomllib
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from toolkit.load.component_mapping import mapping_from_toml
from toolkit.load.limits import LimitExceeded, check_input_file, load_toml as parse_toml
from toolkit.errors import ConfigError, InputError

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def _shipped(in_clone: str, name: str) -> Path:
    """``in_clone`` (a folder at the top of a clone), or the installed package's own copy of it (``setup.py``
    bundles it into the wheel as ``toolkit/_bundled/<name>``)."""
    bundled = Path(__file__).resolve().parent / "_bundled" / name
    return bundled if bundled.is_dir() else PROJECT_ROOT / in_clone


SAMPLE_DIR = _shipped("data/sample", "sample")
#: the guided notebooks (``seamscope notebooks DIR`` copies them out of an installed package)
NOTEBOOKS_DIR = _shipped("notebooks", "notebooks")


@dataclass(frozen=True)
class AuditConfig:
    repo: Path
    tests: tuple[Path, ...] = ()
    coverage: Path | None = None
    issues: tuple[Path, ...] = ()
    labels: Path | None = None
    at: str | None = None
    components: dict[str, str] | None = None
    thresholds: dict[str, Any] = field(default_factory=dict)
    weights: dict[str, float] = field(default_factory=dict)
    pseudonymize: bool = False
    name: str | None = None  # shown in the report title
    contracts: tuple[Path, ...] = ()  # OpenAPI/Swagger specs and Pact files (files or folders)
    traces: tuple[Path, ...] = ()  # OTLP JSON / Jaeger JSON trace exports (files or folders)
    source: Path | None = None  # the seamscope.toml / pyproject.toml read; None: flags only or the embedded sample

    def with_(self, **changes: Any) -> "AuditConfig":
        return replace(self, **changes)

    def check_paths(self) -> None:
        """Raise InputError naming the first missing input and the flag that pointed at it."""
        if not self.repo.exists():
            raise InputError(self.repo, "does not exist", flag="REPO", hint="give a git repository, bare repo or .bundle")
        for flag, paths in (("--tests", self.tests), ("--issues", self.issues), ("--contracts", self.contracts),
                            ("--traces", self.traces), ("--coverage", (self.coverage,) if self.coverage else ())):
            for p in paths:
                if not p.exists():
                    raise InputError(p, "does not exist", flag=flag)


def sample_backtest_rev(sample_dir: Path = SAMPLE_DIR) -> str:
    """The revision the sample's backtest runs at by default: after the document-metadata bug was introduced and
    before it or the charge-before-reservation bug was fixed (recorded by the sample builder in truth.json)."""
    import json

    truth = sample_dir / "truth.json"
    try:
        return str(json.loads(truth.read_text(encoding="utf-8"))["backtest_rev"])
    except (OSError, ValueError, KeyError) as exc:
        raise InputError(truth, f"cannot read the sample's backtest revision: {exc}",
                         hint="rebuild the sample with `seamscope sample data/sample`") from None


def sample_config(sample_dir: Path = SAMPLE_DIR) -> AuditConfig:
    """The embedded sample system: the default of every command."""
    if not (sample_dir / "repo.bundle").exists():
        raise InputError(sample_dir, "the embedded sample is missing",
                         hint="run seamscope from a clone of the seamscope repository, or `seamscope sample DIR`")
    def present(*paths: Path) -> tuple[Path, ...]:
        return tuple(p for p in paths if p.exists())

    issues = tuple(sorted(p for p in (sample_dir / "issues").glob("*") if p.suffix in (".csv", ".json")))
    return AuditConfig(
        repo=sample_dir / "repo.bundle", tests=(sample_dir / "results",), coverage=sample_dir / "coverage" / ".coverage",
        issues=issues, labels=next(iter(present(sample_dir / "labels.csv")), None),
        name="seamscope sample system (shop)", contracts=present(sample_dir / "contracts"),
        traces=present(sample_dir / "traces"))


#: Keys of ``[thresholds]`` whose value is a number (finite, not negative), and the other kinds.
_THRESHOLD_TEXT = ("lower_environment", "higher_environment")
_THRESHOLD_LISTS = ("test_environments", "production_environments")


def _numeric_thresholds() -> tuple[str, ...]:
    """Every numeric threshold an analysis reads (their own defaults, one definition each)."""
    from toolkit.analyze.root_causes import THRESHOLDS
    from toolkit.analyze.change_coupling import COMPONENT_COUPLING_DEFAULTS

    return (*COMPONENT_COUPLING_DEFAULTS, "recurrence_months", "max_drift_commits", *THRESHOLDS)


def _finite(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v >= 0


def check_settings(thresholds: dict[str, Any], weights: dict[str, Any], *, error: Callable[[str, str], Exception]
                   ) -> tuple[dict[str, Any], dict[str, float]]:
    """``thresholds`` and ``weights`` checked against what the analyses read: an unknown key (a typo in a CI
    threshold would otherwise be ignored), a number that is negative, infinite or NaN, or a value of the wrong
    type raises ``error(key, what)``. Returns them normalised (environment lists from ``a,b`` text)."""
    numeric = _numeric_thresholds()
    out_t: dict[str, Any] = {}
    for k, v in thresholds.items():
        if k in numeric:
            if not _finite(v):
                raise error(k, f"threshold {k} = {v!r} must be a finite number >= 0")
        elif k in _THRESHOLD_TEXT:
            if not isinstance(v, str) or not v:
                raise error(k, f"threshold {k} = {v!r} must be an environment name")
        elif k in _THRESHOLD_LISTS:
            v = [x.strip() for x in v.split(",") if x.strip()] if isinstance(v, str) else v
            if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
                raise error(k, f"threshold {k} = {v!r} must be a list of environment names")
        else:
            raise error(k, f"unknown threshold {k!r}; known: {', '.join(sorted((*numeric, *_THRESHOLD_TEXT, *_THRESHOLD_LISTS)))}")
        out_t[k] = v
    from toolkit.analyze.seam_ranking import DEFAULT_WEIGHTS

    known = tuple(DEFAULT_WEIGHTS)
    for k, v in weights.items():
        if k not in known:
            raise error(k, f"unknown weight {k!r}; known: {', '.join(known)}")
        if not _finite(v):
            raise error(k, f"weight {k} = {v!r} must be a finite number >= 0")
    return out_t, {k: float(v) for k, v in weights.items()}


def enclosing_repository(folder: Path) -> Path | None:
    """The nearest folder at or above ``folder`` that holds a ``.git`` entry (a work tree), else ``None``;
    found without running git."""
    for d in (folder, *folder.parents):
        if (d / ".git").exists():
            return d
    return None


#: Configuration files, in the order they win within one folder.
CONFIG_FILES = ("seamscope.toml", "pyproject.toml")
#: The analyst labels' default file name, beside the configuration (:func:`labels_path`).
LABELS_FILE = "seamscope-labels.csv"
_TOOL_TABLE = re.compile(r"^\s*\[\s*tool\s*\.\s*[\"']?seamscope[\"']?\s*[.\]]", re.MULTILINE)


def _has_tool_table(pyproject: Path) -> bool:
    """Whether a ``pyproject.toml`` holds a ``[tool.seamscope]`` table (looked for in the text: a project's
    pyproject that says nothing about seamscope is not parsed, so a broken one cannot stop an audit)."""
    try:
        check_input_file(pyproject, flag="pyproject.toml")
        return bool(_TOOL_TABLE.search(pyproject.read_text(encoding="utf-8", errors="replace")))
    except (InputError, OSError):
        return False


def find_config(start: str | os.PathLike) -> Path | None:
    """The configuration file that applies to folder ``start`` (the rule: module docstring), or ``None``."""
    here = Path(start).absolute()
    if not here.is_dir():
        return None
    for d in (here, *here.parents):
        if (d / CONFIG_FILES[0]).is_file():
            return d / CONFIG_FILES[0]
        if (d / CONFIG_FILES[1]).is_file() and _has_tool_table(d / CONFIG_FILES[1]):
            return d / CONFIG_FILES[1]
        if (d / ".git").exists():  # the top of this work tree: a folder above belongs to someone else
            return None
    return None


def resolve_config(config: str | os.PathLike | None = None, *, start: str | os.PathLike | None = None,
                   repo: str | os.PathLike | None = None, given: Collection[str] = (), search: bool = True
                   ) -> AuditConfig:
    """The configuration an audit starts from, before flags (one rule for the CLI and the notebooks): ``config``
    when given; else, when ``search``, :func:`find_config` from ``repo`` or ``start`` (default: the working
    directory); else the embedded sample, or ``repo`` alone. ``given``: keys the caller sets (not read)."""
    if config is None and search:
        folder = Path(repo) if repo is not None else Path(start if start is not None else Path.cwd())
        config = find_config(folder) if folder.is_dir() else None
    if config:
        if Path(config).exists() and not Path(config).is_dir():  # a FIFO or device: never read
            check_input_file(Path(config), flag="--config")
        return load_toml(Path(config), given=given)
    return sample_config() if repo is None else AuditConfig(repo=Path(repo))


def describe_source(config: AuditConfig) -> str:
    """Which configuration an audit used, for ``audit -v`` and the report's provenance."""
    if config.source is not None:
        return str(config.source)
    sample = config.repo == SAMPLE_DIR / "repo.bundle"
    return "none found (the embedded sample)" if sample else "none found (flags only)"


def labels_path(config: AuditConfig) -> Path:
    """Where the analyst's labels are read from and the bug-review widget saves them: ``labels`` as configured,
    else ``seamscope-labels.csv`` beside the configuration file (the working directory without one, e.g. the
    embedded sample) — kept with the project the labels are about, never in a temporary folder."""
    if config.labels is not None:
        return config.labels
    return (config.source.parent if config.source is not None else Path.cwd()) / LABELS_FILE


def with_default_labels(config: AuditConfig) -> AuditConfig:
    """``config`` reading the labels at :func:`labels_path` when none are configured and that file exists (the
    labels the review widget saved), so the CLI and the notebooks audit with the same labels."""
    if config.labels is None and labels_path(config).is_file():
        return config.with_(labels=labels_path(config))
    return config


def _line_of(text: str, key: str, section: str | None = None) -> int | None:
    """The line (1-based) where ``key`` is set in TOML ``text`` (under ``[section]``), for messages."""
    current = None
    pat = re.compile(r'^\s*["\']?' + re.escape(key) + r'["\']?\s*=')
    for n, line in enumerate(text.splitlines(), 1):
        head = re.match(r"^\s*\[([^\]]+)\]", line)
        if head:
            current = head.group(1).strip()
        elif current == section and pat.match(line):
            return n
    return None


def load_toml(path: Path, *, root: Path | None = None, given: Collection[str] = ()) -> AuditConfig:
    """Read an audit configuration from ``seamscope.toml`` or a ``pyproject.toml``'s ``[tool.seamscope]`` table;
    its paths are relative to the file, recorded as ``source``.

    A configuration that belongs to a repository is untrusted: every path it names must stay inside ``root``
    (default: the git work tree the file lies in; none outside a repository) — one escaping by ``..``, an
    absolute path or a link raises :class:`ConfigError` naming file, line and key, as do values of the wrong
    type, unknown keys and bad thresholds or weights. ``given``: keys passed as flags instead, neither read nor
    checked.
    """
    path = Path(path)
    if path.is_dir():
        raise InputError(path, "is a folder, not a seamscope.toml file", flag="--config")
    try:
        text = path.read_text(encoding="utf-8")
        data = parse_toml(text)
    except FileNotFoundError as exc:
        raise InputError(path, "does not exist", flag="--config") from exc
    except LimitExceeded as exc:
        raise ConfigError(path, exc.reason, flag="--config") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(path, f"is not valid TOML: {exc}", flag="--config") from exc
    except OSError as exc:
        raise InputError(path, f"cannot be read: {exc.strerror}", flag="--config") from exc
    prefix: tuple[str, ...] = ()
    full = data
    if path.name == CONFIG_FILES[1]:  # pyproject.toml: only its [tool.seamscope] table is ours
        prefix = ("tool", "seamscope")
        data = data.get("tool", {}).get("seamscope") if isinstance(data.get("tool"), dict) else None
        if not isinstance(data, dict):
            raise ConfigError(path, "has no [tool.seamscope] table", flag="--config",
                              hint="add [tool.seamscope] with the keys of seamscope.toml, or give a seamscope.toml")
    base = path.resolve().parent
    if root is None:
        root = enclosing_repository(base)
    top = None if root is None else Path(root).resolve()

    def bad(key: str, what: str, section: str | None = None) -> ConfigError:
        at = ".".join((*prefix, *([section] if section else []))) or None
        return ConfigError(path, what, line=_line_of(text, key, at))

    known = {f.name for f in fields(AuditConfig)} - {"source"}
    unknown = set(data) - known
    if unknown:
        first = min((n for n in (_line_of(text, k, ".".join(prefix) or None) for k in unknown) if n), default=None)
        raise ConfigError(path, f"unknown keys {sorted(unknown)}", line=first, hint=f"known keys: {sorted(known)}")

    def p(key: str, v: Any) -> Path:
        if not isinstance(v, str) or not v:
            raise bad(key, f"{key} = {v!r} must be a path (a string)")
        if top is None:
            return (base / os.path.expanduser(v)).resolve()
        where = (base / v).resolve()
        if not where.is_relative_to(top):
            raise bad(key, f"{key} = {v!r} points outside the repository {top} this file belongs to (by '..', "
                      "an absolute path or a link); pass such inputs on the command line instead")
        return where

    def many(key: str) -> tuple[Path, ...]:
        if key in given:
            return ()
        v = data.get(key, [])
        if not isinstance(v, (str, list)):
            raise bad(key, f"{key} = {v!r} must be a path or a list of paths")
        return tuple(p(key, x) for x in ([v] if isinstance(v, str) else v))

    def one(key: str) -> Path | None:
        return p(key, data[key]) if key in data and key not in given else None

    for key, kind in (("at", str), ("name", str), ("pseudonymize", bool), ("components", dict),
                      ("thresholds", dict), ("weights", dict)):
        if key in data and not isinstance(data[key], kind):
            raise bad(key, f"{key} = {data[key]!r} must be a {'table' if kind is dict else kind.__name__}")

    thresholds, _ = check_settings(dict(data.get("thresholds", {})), {},
                                   error=lambda key, what: bad(key, what, "thresholds"))
    _, weights = check_settings({}, dict(data.get("weights", {})), error=lambda key, what: bad(key, what, "weights"))
    return AuditConfig(
        repo=one("repo") or base, tests=many("tests"), coverage=one("coverage"), issues=many("issues"),
        labels=one("labels"), at=data.get("at"),
        components=mapping_from_toml(full, text, str(path), (*prefix, "components")),
        thresholds=thresholds, weights=weights, pseudonymize=bool(data.get("pseudonymize", False)),
        name=data.get("name"), contracts=many("contracts"), traces=many("traces"), source=path)
