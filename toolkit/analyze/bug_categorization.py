"""Production issue categorization: was a bug an integration, component or environment problem?

Explainable by design: every bug gets a score per category that is a plain sum
of weighted evidence features, and the bug's ``evidence`` column lists each
feature that fired as ``"<feature> (+w → category)"``, strongest first. An
analyst's decision (the labels file, :mod:`toolkit.labels`) always wins.

Which issues
    Only bugs: ``type == "bug"`` and not a pull request. Features, tasks and
    questions are not defects, so they have no category.
Categories
    ``integration`` (the defect lived between components: each side passed its
    own tests), ``component`` (a defect inside one component), ``environment``
    (configuration, deployment or infrastructure of one environment),
    ``not_a_bug`` (closed as duplicate, won't fix, cannot reproduce, ...).
Evidence features (:data:`FEATURES`; default weights in :data:`DEFAULT_WEIGHTS`)
    * the fix: fix commits (``links``) touching >= 2 production components
      (``links.issue_components``) → integration; exactly one → component; a fix
      touching an interface file (:func:`toolkit.components.file_kind` sql,
      openapi, json_schema, protobuf, pact, graphql, avro) → integration; a fix
      touching a module another component imports (``imports``) → weak
      integration; a fix changing only configuration files → environment;
    * tests the fix added: test code (more lines added than deleted) under an
      ``integration``/``e2e``/``contract``/``acceptance``/``system`` path →
      strong integration; integration tests only edited (an expectation
      updated) → weak integration; unit test code only → weak component;
    * the tracker: its components field naming >= 2 → integration, exactly one →
      weak component; labels and tracker components whose words say integration,
      contract, api, ... → integration, config, env, deploy, infra, ... →
      environment, regression → weak integration, wontfix/duplicate/invalid →
      not_a_bug; a resolution (or GitHub ``state_reason``) of won't fix,
      duplicate, cannot reproduce, not a bug, invalid, not planned → not_a_bug;
    * words in the title, body and fix commit messages, from one vocabulary
      (:data:`VOCABULARY`: stems and short phrases, matched case-insensitively at
      word boundaries; each term counts once per bug; the text's contribution to
      one category is capped by ``text_cap``);
    * the environment: first seen in ``integrated`` (only when components run
      together) → integration; in production/staging with a configuration word →
      environment; in production with a fix spanning >= 2 components →
      integration.
Decision
    The category is the highest score; ties go to the first of
    :data:`TIE_ORDER` (``component`` first: calling something an integration bug
    needs evidence, and a bug with no evidence at all is a ``component`` bug with
    confidence 0). ``confidence`` = (best − second best) / sum of scores (0 when
    nothing fired); labelled bugs have confidence 1.
"""
from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import PurePosixPath
from typing import Any

import numpy as np
import pandas as pd

from toolkit import schema
from toolkit.components import file_kind, is_test_path, pair_name
from toolkit.environments import SYNONYMS
from toolkit.load.test_kinds import E2E, INTEGRATION, path_kind

__all__ = [
    "BugCategories", "CATEGORIES", "DEFAULT_WEIGHTS", "FEATURES", "TIE_ORDER", "VOCABULARY",
    "categorize_bugs", "bug_issues",
]

CATEGORIES: tuple[str, ...] = ("integration", "component", "environment", "not_a_bug")
#: Order used to break ties between equal scores (most conservative first).
TIE_ORDER: tuple[str, ...] = ("component", "integration", "environment", "not_a_bug")

#: feature -> (category it supports, default weight, what it means)
FEATURES: dict[str, tuple[str, float, str]] = {
    "fix_multi_component": ("integration", 3.0, "fix commits touched >= 2 production components"),
    "fix_single_component": ("component", 2.0, "fix commits touched exactly one production component"),
    "interface_file": ("integration", 2.5, "fix touched an interface file (sql/openapi/json_schema/protobuf/pact/...)"),
    "interface_module": ("integration", 0.5, "fix touched a module that another component imports"),
    "config_only_fix": ("environment", 1.5, "fix changed only configuration files"),
    "integration_tests_added": ("integration", 2.5, "fix added integration or e2e test code (more lines added than deleted)"),
    "integration_tests_changed": ("integration", 0.5, "fix only edited integration or e2e tests (no net additions)"),
    "unit_tests_only": ("component", 0.5, "fix added unit test code and no integration test code"),
    "tracker_multi_component": ("integration", 1.5, "tracker components field names >= 2 components"),
    "tracker_single_component": ("component", 0.5, "tracker components field names exactly one component"),
    "label_integration": ("integration", 2.0, "a label/tracker component says integration, contract, api, ..."),
    "label_regression": ("integration", 0.5, "a label says regression"),
    "label_environment": ("environment", 2.0, "a label/tracker component says config, env, deploy, infra, ..."),
    "label_not_a_bug": ("not_a_bug", 3.0, "a label says wontfix, duplicate, invalid, ..."),
    "resolution_not_a_bug": ("not_a_bug", 4.0, "resolved as won't fix, duplicate, cannot reproduce, not a bug, ..."),
    "text_integration": ("integration", 1.0, "per integration term in title/body/fix message (x term factor)"),
    "text_component": ("component", 1.0, "per component term in title/body/fix message (x term factor)"),
    "text_environment": ("environment", 1.0, "per environment term in title/body/fix message (x term factor)"),
    "text_not_a_bug": ("not_a_bug", 2.0, "per not-a-bug phrase in title/body (x term factor)"),
    "found_integrated": ("integration", 2.0, "first seen in the integrated environment (components wired together)"),
    "found_higher_with_config": ("environment", 1.0, "seen in production/staging and the text names configuration"),
    "production_multi_component": ("integration", 1.0, "seen in production and the fix spans >= 2 components"),
}
#: Default weight per feature, plus ``text_cap``: the most the text can add to one category.
DEFAULT_WEIGHTS: dict[str, float] = {name: w for name, (_c, w, _m) in FEATURES.items()} | {"text_cap": 4.0}


def _v(*terms: tuple[str, str, float]) -> tuple[tuple[str, str, float], ...]:
    return terms


#: The one vocabulary: category -> (term shown in evidence, regex without boundaries, factor).
#: Patterns are matched on lower-cased text with ``\\b`` before and after (stems end in ``\\w*``).
VOCABULARY: dict[str, tuple[tuple[str, str, float], ...]] = {
    "integration": _v(
        ("mismatch", r"mismatch\w*", 1.0),
        ("contract", r"contracts?", 1.0),
        ("schema", r"schemas?|schemata", 1.0),
        ("(de)serialization", r"(?:de|un)?seriali[sz]\w*|(?:un)?marshal\w*", 1.0),
        ("format", r"formats?|formatted", 0.5),
        ("payload", r"payloads?", 1.0),
        ("renamed/removed field",
         r"(?:renamed?|removed|missing|unknown|unexpected) (?:field|attribute|key|column|parameter|property|properties)s?"
         r"|(?:field|attribute|column|parameter|property)s? (?:was |were |got |has been |have been )?(?:renamed|removed)",
         1.0),
        ("interface", r"interfaces?", 1.0),
        ("incompatible", r"incompatib\w*|not compatible|backwards?[- ]compat\w*|breaking changes?", 1.0),
        ("version", r"versions?|versioning", 0.5),
        ("api", r"apis?|endpoints?", 0.5),
        ("protocol", r"protocols?", 1.0),
        ("timeout", r"time[- ]?outs?|timed[- ]out", 1.0),
        ("latency", r"latenc\w*", 0.5),
        ("retry", r"retr(?:y|ies|ied|ying)", 1.0),
        ("idempotency", r"idempoten\w*", 1.0),
        ("handshake", r"handshakes?", 1.0),
        ("connection error", r"connection (?:refused|reset|error|errors|closed|dropped|lost)|connect errors?", 1.0),
        ("upstream/downstream", r"upstream|downstream", 1.0),
        ("third-party service", r"third[- ]party|external (?:service|system|api|provider)s?", 1.0),
        ("encoding", r"encod\w*|decod\w*|charsets?", 0.5),
        ("interface error", r"has no attribute|unexpected keyword(?: argument)?|missing \d+ required"
                            r"|takes \d+ positional|wrong (?:number of )?arguments?|signature", 1.0),
        ("works in isolation", r"works? (?:fine |well |correctly |ok |okay )?(?:in isolation|on its own|separately"
                               r"|individually|locally)|in isolation", 1.0),
        ("tests pass", r"(?:unit |all |the |our )?tests? (?:are |is |all |still )?(?:green|pass(?:es|ed|ing)?)"
                       r"|pass(?:es|ed)? (?:their|its|all|the) (?:own )?(?:unit )?tests", 1.0),
        ("end-to-end", r"end[- ]to[- ]end|e2e", 1.0),
        ("integration", r"integrat\w*", 1.0),
        ("propagation", r"propagat\w*", 1.0),
        ("between components", r"between (?:the )?[a-z][\w-]* and (?:the )?[a-z][\w-]* (?:services?|components?"
                               r"|modules?|systems?|apps?|applications?|layers?|teams?)", 1.0),
    ),
    "environment": _v(
        ("config", r"config\w*|misconfig\w*", 1.0),
        ("env var", r"env(?:ironment)?[ _-]?var(?:iable)?s?", 1.0),
        ("setting", r"settings?", 1.0),
        ("missing in <env>", r"(?:missing|absent|not set|undefined|unset) (?:in|on) (?:prod\w*|staging|stage|live|uat)",
         1.0),
        ("<env> only", r"only (?:in|on) (?:prod\w*|staging|stage|live|preprod|uat)|(?:prod|production|staging|live)[- ]only",
         1.0),
        ("<other env> is fine", r"(?:staging|stage|qa|dev|test|uat|preprod) (?:is|was|works?|worked) (?:fine|ok|okay)",
         1.0),
        ("certificate", r"certificates?|certs?|ssl|tls", 1.0),
        ("dns", r"dns|hostnames?", 1.0),
        ("permission", r"permissions?|access denied", 1.0),
        ("secret", r"secrets?|credentials?", 1.0),
        ("feature flag", r"feature[ -]?(?:flag|toggle)s?", 1.0),
        ("deploy", r"deploy\w*|rollouts?|roll[- ]out", 1.0),
        ("infrastructure", r"infra\w*|kubernetes|k8s|helm|terraform|docker\w*", 1.0),
        ("resources", r"disk (?:space|full)|out of memory|quotas?", 0.5),
    ),
    "component": _v(
        ("typo", r"typos?|misspel\w*", 1.0),
        ("off-by-one", r"off[- ]by[- ]one|fencepost", 1.0),
        ("rounding", r"rounding|rounded|rounds? (?:up|down|half)|truncat\w*", 1.0),
        ("null/None", r"null ?pointer\w*|npe|nonetype|null reference|undefined is not", 1.0),
        ("crash", r"crash\w*", 0.5),
        ("validation", r"validat\w*", 1.0),
        ("regex", r"regex\w*|regexps?|regular expressions?", 1.0),
        ("edge case", r"edge[- ]cases?|corner[- ]cases?", 1.0),
        ("index error", r"index ?out ?of ?(?:range|bounds)|indexerror|out of bounds", 1.0),
        ("calculation", r"calculat\w*|miscalculat\w*", 0.5),
        ("failing unit test", r"unit tests? (?:fails?|failed|failing|is red|are red|broke\w*)", 0.5),
    ),
    "not_a_bug": _v(
        ("works as intended", r"works as (?:intended|designed|expected)|by design|expected behaviou?r", 1.0),
        ("not a bug", r"not a bug", 1.0),
        ("duplicate", r"duplicate of|dup(?:e|licate)? of #?\w+", 1.0),
        ("cannot reproduce", r"(?:cannot|can't|can not|could not|couldn't|unable to) reproduce|not reproducible", 1.0),
        ("user error", r"user error|pebkac", 1.0),
    ),
}
_TEXT_FEATURE = {"integration": "text_integration", "component": "text_component",
                 "environment": "text_environment", "not_a_bug": "text_not_a_bug"}
#: Words of labels / tracker components (split on non-alphanumerics) and what they support.
LABEL_WORDS: dict[str, frozenset[str]] = {
    "label_integration": frozenset({"integration", "contract", "contracts", "api", "compat", "compatibility",
                                    "interop", "interoperability", "e2e", "interface", "breaking", "schema"}),
    "label_regression": frozenset({"regression"}),
    "label_environment": frozenset({"config", "configuration", "env", "environment", "deploy", "deployment",
                                    "infra", "infrastructure", "ops", "devops", "k8s", "settings"}),
}
#: Resolutions / labels (lower-case, letters only) that mean "not a bug".
NOT_A_BUG_WORDS = frozenset({
    "wontfix", "wontdo", "duplicate", "duplicated", "cannotreproduce", "cantreproduce", "couldnotreproduce",
    "notreproducible", "worksforme", "notabug", "invalid", "notplanned", "worksasdesigned", "worksasintended",
    "bydesign", "usererror",
})
INTERFACE_KINDS = frozenset({"sql", "openapi", "json_schema", "protobuf", "pact", "graphql", "avro"})
_CONFIG_NAMES = re.compile(
    r"(?:^|[._-])(?:config|configuration|settings|conf|env|environment|environments)(?:[._-]|$)"
    r"|^\.env|^dockerfile|^docker-compose|^compose\.ya?ml$|\.(?:ini|cfg|toml|properties|conf|env|tf|tfvars|hcl)$")
_CONFIG_DIRS = frozenset({"config", "configs", "conf", "settings", "deploy", "deployment", "deployments", "infra",
                          "k8s", "helm", "charts", "terraform", "ansible", ".github", "environments"})


@dataclass(frozen=True)
class BugCategories:
    """Result of :func:`categorize_bugs`.

    ``bugs``: schema ``bug_categories``. ``by_pair``: schema ``bugs_by_pair``.
    ``by_quarter``: schema ``bugs_by_quarter``. ``features``: per bug ``key``,
    ``text`` (title + body + fix messages, for a text model) and one float column
    per feature of :data:`FEATURES` (its contribution), input of
    :mod:`toolkit.analyze.bug_classifier`. ``summary``: counts and shares (see
    :func:`categorize_bugs`). ``rules_weights``: the weights used.
    """

    bugs: pd.DataFrame
    by_pair: pd.DataFrame
    by_quarter: pd.DataFrame
    features: pd.DataFrame
    summary: dict[str, Any] = field(default_factory=dict)
    rules_weights: dict[str, float] = field(default_factory=dict)


def bug_issues(issues: pd.DataFrame) -> pd.DataFrame:
    """The bugs among ``issues``: ``type == "bug"`` and not a pull request."""
    is_pr = issues["is_pull_request"].fillna(False).astype(bool) if "is_pull_request" in issues else False
    return issues[issues["type"].astype("string").str.lower().eq("bug").fillna(False) & ~is_pr].reset_index(drop=True)


def _weights(weights: Mapping[str, float] | None) -> dict[str, float]:
    w = dict(DEFAULT_WEIGHTS)
    if weights:
        unknown = sorted(set(weights) - set(w))
        if unknown:
            raise ValueError(f"unknown bug-categorization weights {unknown}; known: {sorted(w)}")
        w.update({k: float(v) for k, v in weights.items()})
    return w


def _compiled() -> list[tuple[str, str, str, float]]:
    """(category, term, full regex, factor) for every vocabulary entry."""
    return [(cat, term, rf"\b(?:{pat})\b", factor) for cat, terms in VOCABULARY.items() for term, pat, factor in terms]


_COMPILED = _compiled()


def _words(value: str) -> list[str]:
    return [w for w in re.split(r"[^a-z0-9]+", str(value).lower()) if w]


def _letters(value: object) -> str:
    return re.sub(r"[^a-z]", "", str(value).lower())


_ENV_NAMES = frozenset(w for words in SYNONYMS.values() for w in words) | {"env", "environment"}
_WHERE_WORDS = frozenset({"env", "environment", "found", "seen", "in", "on", "only"})


def _is_where_label(words: set[str]) -> bool:
    """``env:staging``, ``found-in-production``: says where a bug was seen (the ``environment`` column), not why."""
    return bool(words & _WHERE_WORDS) and bool(words - _WHERE_WORDS) and words <= (_ENV_NAMES | _WHERE_WORDS)


@lru_cache(maxsize=1 << 14)
def _is_config_file(path: str) -> bool:
    p = PurePosixPath(path)
    if file_kind(path) in INTERFACE_KINDS or file_kind(path) == "openapi":
        return False
    return bool(_CONFIG_NAMES.search(p.name.lower())) or any(d.lower() in _CONFIG_DIRS for d in p.parts[:-1])


def _is_integration_test(path: str) -> bool:
    """A test file that runs components together by its path (integration or e2e, toolkit.load.test_kinds)."""
    return path_kind(path) in (INTEGRATION, E2E)


def _as_list(v: object) -> list:
    if isinstance(v, (list, tuple, np.ndarray)):
        return [x for x in v if x is not None and not (isinstance(x, float) and np.isnan(x))]
    return []


def _fmt(w: float) -> str:
    return f"{w:g}"


def categorize_bugs(
    issues: pd.DataFrame,
    *,
    links: Any = None,
    file_changes: pd.DataFrame | None = None,
    files: pd.DataFrame | None = None,
    labels: pd.DataFrame | None = None,
    weights: Mapping[str, float] | None = None,
    commits: pd.DataFrame | None = None,
    imports: pd.DataFrame | None = None,
) -> BugCategories:
    """Categorize every bug in ``issues`` (schema ``issues``); see the module docstring.

    ``links``: :class:`toolkit.load.links.Links` (fix commits and the components
    they touched). ``file_changes`` (schema ``file_changes``): the files of fix
    commits, for interface, configuration and test evidence. ``files`` (schema
    ``files``) and ``imports`` (schema ``imports``): file kinds and the modules
    other components import. ``commits`` (schema ``commits``): fix commit
    messages join the text evidence. ``labels`` (schema ``labels``): analyst
    decisions, which win. ``weights``: overrides of :data:`DEFAULT_WEIGHTS`.

    ``summary``: ``bugs``, ``counts`` (category -> bugs), ``by_source``,
    ``integration_share`` (integration / bugs that are bugs, i.e. not
    ``not_a_bug``), ``production_bugs`` and ``production_integration_share``
    (the same among bugs first seen in production), ``labelled``.
    """
    w = _weights(weights)
    bugs = bug_issues(issues)
    n = len(bugs)
    keys = bugs["key"].astype(str).tolist()
    key_pos = {k: i for i, k in enumerate(keys)}
    contrib = {name: np.zeros(n) for name in FEATURES}
    evidence: list[list[tuple[float, int, str, str]]] = [[] for _ in range(n)]  # (weight, order, text, category)
    order = itertools.count()

    def add(i: int, feature: str, text: str, factor: float = 1.0) -> float:
        weight = w[feature] * factor
        if weight == 0:
            return 0.0
        cat = FEATURES[feature][0]
        contrib[feature][i] += weight
        evidence[i].append((weight, next(order), text, cat))
        return weight

    # ---- the fix: components, files, tests
    link_table = getattr(links, "links", None)
    ic = getattr(links, "issue_components", None)
    fix_shas: dict[str, list[str]] = {}
    if link_table is not None and len(link_table):
        for k, sha in zip(link_table["issue_key"].astype(str), link_table["sha"].astype(str)):
            if k in key_pos:
                fix_shas.setdefault(k, []).append(sha)
    comps_of: dict[str, list[str]] = {k: [] for k in keys}
    if ic is not None and len(ic):
        for k, c in zip(ic["issue_key"].astype(str), ic["component"].astype(str)):
            if k in comps_of and c not in comps_of[k]:
                comps_of[k].append(c)
    for k in comps_of:
        comps_of[k].sort()

    kind_of: dict[str, str] = {}
    interface_paths: set[str] = set()
    if files is not None and len(files):
        kind_of = dict(zip(files["path"].astype(str), files["kind"].astype(str)))
        if imports is not None and len(imports) and "module" in files:
            cross = imports[imports["component"].notna() & imports["target_component"].notna()
                            & (imports["component"].astype(str) != imports["target_component"].astype(str))]
            imported = set(cross["target_module"].astype(str))
            mod = files[["path", "module"]].dropna()
            interface_paths = {p for p, m in zip(mod["path"].astype(str), mod["module"].astype(str)) if m in imported}

    changed: dict[str, dict[str, int]] = {}  # issue -> path -> net lines added
    if file_changes is not None and len(file_changes) and fix_shas:
        sha_keys: dict[str, list[str]] = {}
        for k, shas in fix_shas.items():
            for s in shas:
                sha_keys.setdefault(s, []).append(k)
        fc = file_changes[file_changes["sha"].astype(str).isin(sha_keys)]
        net = (fc["added"].fillna(0).astype("int64") - fc["deleted"].fillna(0).astype("int64")).tolist()
        for s, p, d in zip(fc["sha"].astype(str), fc["path"].astype(str), net):
            for k in sha_keys[s]:
                per = changed.setdefault(k, {})
                per[p] = per.get(p, 0) + d

    messages: dict[str, str] = {}
    if commits is not None and len(commits) and fix_shas:
        msg = dict(zip(commits["sha"].astype(str), commits["message"].astype("string").fillna("").astype(str)))
        for k, shas in fix_shas.items():
            messages[k] = "\n".join(msg.get(s, "") for s in sorted(set(shas)))

    env = bugs["environment"].astype("string").fillna("unknown").astype(str).tolist() if "environment" in bugs \
        else ["unknown"] * n

    for i, k in enumerate(keys):
        comps = comps_of[k]
        if len(comps) >= 2:
            add(i, "fix_multi_component", f"fix touched {len(comps)} components: {', '.join(comps)}")
            if env[i] == "production":
                add(i, "production_multi_component", "seen in production, fix spans components")
        elif len(comps) == 1:
            add(i, "fix_single_component", f"fix touched one component: {comps[0]}")
        paths = sorted(set(changed.get(k, ())))
        if not paths:
            continue
        prod = [p for p in paths if not is_test_path(p)]
        tests = [p for p in paths if is_test_path(p)]
        iface = [p for p in prod if (kind_of.get(p) or file_kind(p)) in INTERFACE_KINDS]
        if iface:
            add(i, "interface_file", f"fix touched interface file {iface[0]}"
                + (f" (+{len(iface) - 1} more)" if len(iface) > 1 else ""))
        mods = [p for p in prod if p in interface_paths]
        if mods:
            add(i, "interface_module", f"fix touched {mods[0]}, imported by another component")
        if prod and all(_is_config_file(p) for p in prod):
            add(i, "config_only_fix", f"fix changed only configuration: {', '.join(prod[:3])}")
        grew = changed[k]
        itests = [p for p in tests if _is_integration_test(p)]
        added_i = [p for p in itests if grew[p] > 0]
        added_u = [p for p in tests if p not in itests and grew[p] > 0]
        if added_i:
            add(i, "integration_tests_added", f"fix added integration test code in {added_i[0]}")
        elif itests:
            add(i, "integration_tests_changed", f"fix edited integration test {itests[0]}")
        if added_u and not added_i:
            add(i, "unit_tests_only", f"fix added unit test code only ({added_u[0]})")

    # ---- the tracker: components, labels, resolution
    known = {c.lower() for cs in comps_of.values() for c in cs}
    if files is not None and "component" in files:
        known |= {str(c).lower() for c in files["component"].dropna().unique()}
    tracker_comps = bugs["components"].map(_as_list).tolist() if "components" in bugs else [[]] * n
    label_lists = bugs["labels"].map(_as_list).tolist() if "labels" in bugs else [[]] * n
    resolution = bugs["resolution"].astype("string").fillna("").astype(str).tolist() if "resolution" in bugs \
        else [""] * n
    for i in range(n):
        tc = sorted({str(c) for c in tracker_comps[i]})
        comp_labels = sorted({str(lb) for lb in label_lists[i] if str(lb).lower() in known} - set(tc))
        named = tc + comp_labels
        if len(named) >= 2:
            add(i, "tracker_multi_component", f"tracker names {len(named)} components: {', '.join(named)}")
        elif len(named) == 1:
            add(i, "tracker_single_component", f"tracker names one component: {named[0]}")
        done: set[str] = set()
        for lb in [*map(str, label_lists[i]), *tc]:
            words = set(_words(lb))
            if _is_where_label(words):
                continue
            for feature, vocab in LABEL_WORDS.items():
                if feature not in done and words & vocab:
                    done.add(feature)
                    add(i, feature, f"label/component {lb!r}")
            if "label_not_a_bug" not in done and (_letters(lb) in NOT_A_BUG_WORDS or words & NOT_A_BUG_WORDS):
                done.add("label_not_a_bug")
                add(i, "label_not_a_bug", f"label {lb!r}")
        if _letters(resolution[i]) in NOT_A_BUG_WORDS:
            add(i, "resolution_not_a_bug", f"resolution {resolution[i]!r}")

    # ---- words (vectorised per term), title/body plus fix messages
    title = bugs["title"].astype("string").fillna("") if n else pd.Series([], dtype="string")
    body = bugs["body"].astype("string").fillna("") if "body" in bugs and n else pd.Series([""] * n, dtype="string")
    issue_text = (title + "\n" + body).str.lower()
    fix_text = pd.Series([messages.get(k, "") for k in keys], dtype="string").str.lower()
    text_sum = {c: np.zeros(n) for c in CATEGORIES}
    env_text_hit = np.zeros(n, dtype=bool)
    if n:
        for cat, term, pattern, factor in _COMPILED:
            in_issue = issue_text.str.contains(pattern, regex=True).fillna(False).to_numpy()
            in_fix = (fix_text.str.contains(pattern, regex=True).fillna(False).to_numpy() if cat != "not_a_bug"
                      else np.zeros(n, dtype=bool))
            if cat == "environment":
                env_text_hit |= in_issue | in_fix
            for i in np.flatnonzero(in_issue | in_fix):
                feature = _TEXT_FEATURE[cat]
                if w[feature] == 0:
                    continue
                room = w["text_cap"] - text_sum[cat][i]
                weight = min(w[feature] * factor, max(room, 0.0))
                if weight <= 0:
                    continue
                text_sum[cat][i] += weight
                where = "title/body" if in_issue[i] else "fix message"
                add(i, feature, f'word "{term}" in {where}', weight / w[feature])

    for i in range(n):
        if env[i] == "integrated":
            add(i, "found_integrated", "first seen in the integrated environment")
        if env[i] in ("production", "staging") and env_text_hit[i]:
            add(i, "found_higher_with_config", f"seen in {env[i]} and the text names configuration")

    # ---- decide
    scores = {c: np.zeros(n) for c in CATEGORIES}
    for feature, (cat, _w, _m) in FEATURES.items():
        scores[cat] += contrib[feature]
    mat = np.column_stack([scores[c] for c in TIE_ORDER]) if n else np.zeros((0, len(TIE_ORDER)))
    best = mat.argmax(axis=1) if n else np.zeros(0, dtype=int)  # first maximum wins: TIE_ORDER
    rules_cat = [TIE_ORDER[b] for b in best]
    total = mat.sum(axis=1)
    srt = np.sort(mat, axis=1)
    margin = (srt[:, -1] - srt[:, -2]) if n else np.zeros(0)
    confidence = np.where(total > 0, margin / np.where(total > 0, total, 1), 0.0)

    category = list(rules_cat)
    source = ["rules"] * n
    conf = confidence.astype(float).copy()
    n_labelled = 0
    if labels is not None and len(labels):
        decided = dict(zip(labels["key"].astype(str), labels["category"].astype(str)))
        for i, k in enumerate(keys):
            if k in decided:
                category[i], source[i], conf[i] = decided[k], "label", 1.0
                n_labelled += 1

    ev_text = [[f"{t} (+{_fmt(wt)} → {c})" for wt, _o, t, c in sorted(e, key=lambda x: (-x[0], x[1]))]
               for e in evidence]
    pairs = [[pair_name(a, b) for a, b in itertools.combinations(comps_of[k], 2)] for k in keys]
    out = pd.DataFrame({
        "key": bugs["key"].astype("string"),
        "title": bugs["title"].astype("string"),
        "environment": pd.Series(env, dtype="string"),
        "category": pd.Series(category, dtype="string"),
        "confidence": conf.astype("float64"),
        "source": pd.Series(source, dtype="string"),
        "rules_category": pd.Series(rules_cat, dtype="string"),
        **{f"score_{c}": scores[c].astype("float64") for c in CATEGORIES},
        "evidence": pd.Series(ev_text, dtype=object),
        "components": pd.Series([list(comps_of[k]) for k in keys], dtype=object),
        "pairs": pd.Series(pairs, dtype=object),
        "fix_commits": pd.Series([len(set(fix_shas.get(k, ()))) for k in keys], dtype="int64"),
        "created": bugs["created"] if "created" in bugs else pd.Series(pd.NaT, index=range(n), dtype="datetime64[ns, UTC]"),
        "resolved": bugs["resolved"] if "resolved" in bugs else pd.Series(pd.NaT, index=range(n), dtype="datetime64[ns, UTC]"),
    })
    out = schema.conform(out, "bug_categories") if n else schema.empty("bug_categories")

    features = pd.DataFrame({"key": out["key"], "text": (title + "\n" + body + "\n" + fix_text).astype(str)
                             if n else pd.Series([], dtype=str),
                             **{f: contrib[f] for f in FEATURES}})
    return BugCategories(bugs=out, by_pair=_by_pair(out), by_quarter=_by_quarter(out), features=features,
                         summary=_summary(out, n_labelled), rules_weights=w)


def _by_pair(bugs: pd.DataFrame) -> pd.DataFrame:
    ex = bugs[["key", "category", "pairs"]].explode("pairs").dropna(subset=["pairs"])
    if ex.empty:
        return schema.empty("bugs_by_pair")
    t = pd.crosstab(ex["pairs"], ex["category"]).reindex(columns=list(CATEGORIES), fill_value=0)
    t.insert(0, "bugs", t.sum(axis=1))
    t = t.reset_index().rename(columns={"pairs": "pair"})
    t["integration_share"] = t["integration"] / t["bugs"]
    t = t.sort_values(["integration", "bugs", "pair"], ascending=[False, False, True]).reset_index(drop=True)
    for c in ("bugs", *CATEGORIES):
        t[c] = t[c].astype("int64")
    return schema.conform(t, "bugs_by_pair")


def _by_quarter(bugs: pd.DataFrame) -> pd.DataFrame:
    dated = bugs[bugs["created"].notna()]
    if dated.empty:
        return schema.empty("bugs_by_quarter")
    q = dated["created"].dt.tz_convert("UTC").dt.tz_localize(None).dt.to_period("Q").astype(str)
    t = pd.crosstab(q, dated["category"]).reindex(columns=list(CATEGORIES), fill_value=0)
    t["bugs"] = t.sum(axis=1)
    t = t.reset_index().rename(columns={"created": "quarter", "row_0": "quarter"})
    t.columns = ["quarter", *t.columns[1:]]
    for c in ("bugs", *CATEGORIES):
        t[c] = t[c].astype("int64")
    return schema.conform(t.sort_values("quarter").reset_index(drop=True), "bugs_by_quarter")


def _summary(bugs: pd.DataFrame, n_labelled: int) -> dict[str, Any]:
    counts = {c: int((bugs["category"] == c).sum()) for c in CATEGORIES}
    real = bugs[bugs["category"] != "not_a_bug"]
    prod = real[real["environment"] == "production"]
    return {
        "bugs": int(len(bugs)),
        "counts": counts,
        "by_source": {s: int((bugs["source"] == s).sum()) for s in ("label", "rules", "model")},
        "labelled": n_labelled,
        "integration_share": float((real["category"] == "integration").mean()) if len(real) else float("nan"),
        "production_bugs": int(len(prod)),
        "production_integration_share": float((prod["category"] == "integration").mean()) if len(prod) else float("nan"),
    }
