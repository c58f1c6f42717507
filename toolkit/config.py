"""What an audit reads and how: flags, ``seamscope.toml``, or the embedded sample.

One ``AuditConfig`` drives the CLI, the notebooks (their parameters cell) and
``audit-many``. Paths in a ``seamscope.toml`` are relative to that file.

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

import os
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from toolkit.components import mapping_from_toml
from toolkit.errors import ConfigError, InputError

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SAMPLE_DIR = PROJECT_ROOT / "data" / "sample"


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

    def with_(self, **changes: Any) -> "AuditConfig":
        return replace(self, **changes)

    def check_paths(self) -> None:
        """Raise InputError naming the first missing input and the flag that pointed at it."""
        if not self.repo.exists():
            raise InputError(self.repo, "does not exist", flag="REPO", hint="give a git repository, bare repo or .bundle")
        for flag, paths in (("--tests", self.tests), ("--issues", self.issues), ("--contracts", self.contracts),
                            ("--traces", self.traces)):
            for p in paths:
                if not p.exists():
                    raise InputError(p, "does not exist", flag=flag)
        for flag, p in (("--coverage", self.coverage),):
            if p is not None and not p.exists():
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
    issues = tuple(sorted(p for p in (sample_dir / "issues").glob("*") if p.suffix in (".csv", ".json")))
    labels = sample_dir / "labels.csv"
    contracts = tuple(p for p in (sample_dir / "contracts",) if p.exists())
    traces = tuple(p for p in (sample_dir / "traces",) if p.exists())
    return AuditConfig(
        repo=sample_dir / "repo.bundle",
        tests=(sample_dir / "results",),
        coverage=sample_dir / "coverage" / ".coverage",
        issues=issues,
        labels=labels if labels.exists() else None,
        name="seamscope sample system (shop)",
        contracts=contracts,
        traces=traces,
    )


def load_toml(path: Path) -> AuditConfig:
    """Read an audit configuration from ``seamscope.toml``."""
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except FileNotFoundError as exc:
        raise InputError(path, "does not exist", flag="--config") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(path, f"is not valid TOML: {exc}", flag="--config") from exc
    base = path.parent

    def p(v: str) -> Path:
        return (base / os.path.expanduser(v)).resolve()

    def many(key: str) -> tuple[Path, ...]:
        v = data.get(key, [])
        return tuple(p(x) for x in ([v] if isinstance(v, str) else v))

    known = {"repo", "tests", "coverage", "issues", "labels", "at", "components", "thresholds", "weights",
             "pseudonymize", "name", "contracts", "traces"}
    unknown = set(data) - known
    if unknown:
        raise ConfigError(path, f"unknown keys {sorted(unknown)}", hint=f"known keys: {sorted(known)}")
    return AuditConfig(
        repo=p(data.get("repo", ".")),
        tests=many("tests"),
        coverage=p(data["coverage"]) if "coverage" in data else None,
        issues=many("issues"),
        labels=p(data["labels"]) if "labels" in data else None,
        at=data.get("at"),
        components=mapping_from_toml(data, text, str(path), ("components",)),
        thresholds=dict(data.get("thresholds", {})),
        weights={k: float(v) for k, v in data.get("weights", {}).items()},
        pseudonymize=bool(data.get("pseudonymize", False)),
        name=data.get("name"),
        contracts=many("contracts"),
        traces=many("traces"),
    )
