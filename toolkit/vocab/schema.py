"""Every table seamscope produces: its columns, dtypes and meaning, in one place.

Loaders and analyses cite these tables in their docstrings; tests call
:func:`check` on every output; ``findings.json``'s JSON Schema is derived from
the same entries. dtypes are pandas dtype names; ``object`` columns holding
lists say so in their meaning.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Column:
    name: str
    dtype: str
    meaning: str


def _t(*cols: tuple[str, str, str]) -> tuple[Column, ...]:
    return tuple(Column(*c) for c in cols)


TABLES: dict[str, tuple[Column, ...]] = {
    # ---- repository structure (toolkit.load.structure) ----
    "files": _t(
        ("path", "string", "repository-relative posix path"),
        ("component", "string", "owning component (toolkit.vocab.components); <NA> for tests and unassigned files"),
        ("module", "string", "dotted module name for Python files, <NA> otherwise"),
        ("kind", "string", "python, sql, openapi, json_schema, protobuf, pact, template, other"),
        ("is_test", "bool", "test code (toolkit.vocab.components.is_test_path)"),
        ("loc", "Int64", "non-blank lines of Python files; <NA> for other files (not read)"),
        ("is_generated", "bool", "a Python file whose first lines declare it generated (toolkit.vocab.generated): "
                                 "kept in the structure, weighs nothing in forming components"),
    ),
    "imports": _t(
        ("path", "string", "importing file"),
        ("line", "int64", "line of the import statement"),
        ("module", "string", "importing module"),
        ("component", "string", "importing component (<NA> for tests)"),
        ("target_module", "string", "imported module, absolute (relative imports resolved)"),
        ("target_symbol", "string", "imported name when `from m import name` names a symbol, else <NA>"),
        ("target_component", "string", "component owning target_module; <NA> if external or unknown"),
        ("is_relative", "bool", "written as a relative import"),
        ("is_conditional", "bool", "inside if/try"),
        ("is_type_checking", "bool", "inside code that never runs: `if TYPE_CHECKING:` (or `typing.TYPE_CHECKING`, `if False:`, the else of `if not TYPE_CHECKING:`)"),
        ("is_function_local", "bool", "inside a function body"),
    ),
    "call_sites": _t(
        ("call_site_id", "string", "stable id `path:line:callee`"),
        ("path", "string", "file holding the call"),
        ("line", "int64", "line of the call"),
        ("caller", "string", "qualified name of the enclosing function/class (module-level: the module)"),
        ("caller_component", "string", "component of path"),
        ("callee", "string", "qualified name of the called/instantiated/subclassed name"),
        ("callee_component", "string", "component owning callee"),
        ("kind", "string", "call, instantiate or subclass"),
        ("seam", "string", "caller_component->callee_component (toolkit.vocab.components.seam_name)"),
    ),
    "components": _t(
        ("component", "string", "component name (toolkit.vocab.components)"),
        ("reason", "string", "why it is one: the rule (e.g. 'module of flat package requests', 'Django app') "
                             "or 'user mapping seamscope.toml:<line>'"),
        ("files", "int64", "Python files (not tests) it holds"),
        ("lines", "Int64", "non-blank lines of those files, generated files not counted; <NA> when sizes were not read"),
    ),
    "excluded_components": _t(
        ("path", "string", "folder (ending in /), file or mapping pattern left out of every component"),
        ("reason", "string", "why: tooling, documentation, test support (imported by tests only), a mapping exclusion"),
        ("files", "int64", "Python files it holds"),
    ),
    # runnable calls the ast could not resolve (toolkit.load.python_ast; counted, never dropped silently)
    "unresolved_calls": _t(
        ("path", "string", "production file holding the calls"),
        ("component", "string", "component of path"),
        ("reason", "string", "parameter (call on/of a parameter: an injected object), attribute (on an object an "
                             "instance holds, `self.pool.urlopen()`, or a method its class does not define), local "
                             "(a variable the scan cannot trace), dynamic (through a subscript or a call result: "
                             "`HANDLERS[k]()`, `getattr(o, n)()`)"),
        ("name", "string", "the attribute called (`conn.request()`: request); <NA> for a plain name or subscript (`callback()`, `HANDLERS[k]()`)"),
        ("calls", "int64", "number of such calls in the file (>= 1)"),
    ),
    # ---- git history (toolkit.load.history) ----
    "commits": _t(
        ("sha", "string", "commit id"),
        ("author", "string", "author name"),
        ("email", "string", "author email"),
        ("timestamp", "datetime64[ns, UTC]", "author date"),
        ("message", "string", "full commit message"),
        ("parents", "object", "list of parent shas"),
        ("is_merge", "bool", "more than one parent"),
    ),
    "file_changes": _t(
        ("sha", "string", "commit id"),
        ("path", "string", "path after the change"),
        ("old_path", "string", "path before a rename, else <NA>"),
        ("added", "Int64", "lines added (<NA> for binary files)"),
        ("deleted", "Int64", "lines deleted (<NA> for binary files)"),
        ("binary", "bool", "git reported the file as binary"),
        ("latest_path", "string", "the file's newest path in the history, following git's renames"),
        ("current_path", "string", "the file's path at the loaded revision, following renames and moves (module "
         "name as fallback); <NA> when the file is gone"),
    ),
    "logical_coupling": _t(
        ("entity", "string", "file or component"),
        ("coupled", "string", "the entity it changes together with"),
        ("degree", "int64", "shared revisions / average revisions of the pair, in percent (code-maat)"),
        ("average-revs", "int64", "average number of revisions of the pair, rounded up (code-maat)"),
    ),
    "sum_of_coupling": _t(
        ("entity", "string", "file or component"),
        ("soc", "int64", "sum over commits of the other entities changed with it (code-maat soc)"),
    ),
    "structural_coupling": _t(
        ("component", "string", "component"),
        ("afferent", "int64", "Ca: components that depend on it"),
        ("efferent", "int64", "Ce: components it depends on"),
        ("instability", "float64", "Ce / (Ca + Ce); 0 when isolated"),
        ("cohesion", "float64", "share of its references (imports + import-resolved call/subclass references) that stay inside it; NaN when it has none"),
    ),
    "seams": _t(
        ("seam", "string", "caller_component->callee_component"),
        ("caller_component", "string", "component whose code imports/calls"),
        ("callee_component", "string", "component imported/called"),
        ("imports", "int64", "import statements in caller files naming a module of the callee (including `if TYPE_CHECKING:` ones)"),
        ("call_sites", "int64", "cross-component call sites on the seam (call_sites rows: runnable calls only; 0 with imports > 0 = the seam is import only)"),
        ("callees", "int64", "distinct callee names on the seam"),
        ("unresolved_calls", "int64", "unresolved calls (unresolved_calls rows) in caller files that import a callee module at run time and call, by attribute, a name the callee component defines as a function or method (`pool.urlopen()`, the callee defines `urlopen`): calls that may cross the seam but could not be resolved"),
        ("type_checking_imports", "int64", "of imports, those under `if TYPE_CHECKING:` (equal to imports: the seam exists for type checkers only)"),
    ),
    # ---- tests (toolkit.load.junit, coverage_contexts, mocks, test_kinds) ----
    "test_results": _t(
        ("run_id", "string", "one test run (folder or file stem)"),
        ("environment", "string", "toolkit.vocab.environments vocabulary"),
        ("suite", "string", "testsuite name"),
        ("classname", "string", "testcase classname (may be <NA>)"),
        ("name", "string", "testcase name"),
        ("test_id", "string", "toolkit.vocab.testids identity, stable across runs"),
        ("file", "string", "test source file if the XML says, else <NA>"),
        ("outcome", "string", "passed, failed, error or skipped"),
        ("duration_s", "float64", "seconds (NaN when absent)"),
        ("message", "string", "failure/error/skip message (<NA> when passed)"),
        ("timestamp", "datetime64[ns, UTC]", "suite timestamp when given"),
        ("reruns", "int64", "rerun/flaky entries (Surefire rerunFailure/flakyFailure)"),
        ("commit", "string", "commit the run tested, from the manifest (<NA> when unknown)"),
        ("source", "string", "the XML file the row came from"),
        ("run_seq", "Int64", "order of the run within its environment (manifest `run`, else natural order of run names; <NA> for a lone file)"),
    ),
    "flakiness": _t(
        ("test_id", "string", "test"),
        ("environment", "string", "environment"),
        ("commit", "string", "commit (<NA> when unknown: all runs compared)"),
        ("runs", "int64", "runs seen"),
        ("passed", "int64", "runs passed"),
        ("failed", "int64", "runs failed or errored"),
        ("reruns", "int64", "reruns recorded by the runner"),
        ("flips", "int64", "pass/fail changes between consecutive runs"),
        ("is_flaky", "bool", "both passed and failed at the same environment+commit, or rerun to pass"),
    ),
    "failures_by_environment": _t(
        ("environment", "string", "environment"),
        ("tests", "int64", "distinct test_ids seen"),
        ("runs", "int64", "distinct runs"),
        ("executions", "int64", "testcase rows"),
        ("failed", "int64", "rows failed"),
        ("error", "int64", "rows errored"),
        ("skipped", "int64", "rows skipped"),
        ("failure_rate", "float64", "(failed + error) / rows that ran (not skipped); NaN when none ran"),
    ),
    "test_lines": _t(
        ("test_id", "category", "test (toolkit.vocab.testids); categorical because there is a row per test per executed line"),
        ("path", "category", "repository-relative file the line is in"),
        ("line", "int32", "executed line number"),
    ),
    "test_exercises": _t(
        ("test_id", "string", "test (toolkit.vocab.testids)"),
        ("call_site_id", "string", "a cross-component call site whose line the test executed"),
    ),
    "test_components": _t(
        ("test_id", "string", "test"),
        ("component", "string", "a production component the test executed lines of"),
        ("lines", "int64", "lines executed in that component"),
    ),
    "mocks": _t(
        ("test_file", "string", "test source file"),
        ("test_id", "string", "test it applies to; a file/class-level or fixture mock is repeated for each test using it"),
        ("line", "int64", "line of the patch/stub"),
        ("mechanism", "string", "patch, patch.object, patch.dict, patch.multiple, mocker.patch[.object|.dict|.multiple], monkeypatch, assignment, autospec, magicmock_spec, fixture_mock, responses, requests_mock, respx, httpx_mock, httpretty, vcr, fake_class (toolkit.load.mocks)"),
        ("target", "string", "target as written"),
        ("target_qualname", "string", "resolved qualified name of the replaced symbol"),
        ("target_component", "string", "component owning it (<NA> when external)"),
        ("external_service", "string", "http, db, queue, ... when an external client is stubbed, else <NA>"),
        ("conditional", "bool", "applied under if/match/conditional expression/except: may not replace the target in every run"),
    ),
    "test_kinds": _t(
        ("test_id", "string", "test"),
        ("file", "string", "test source file"),
        ("kind", "string", "unit, integration or e2e"),
        ("reasons", "object", "list of reasons (str) in the order they were applied"),
        ("components", "object", "list of production components the test exercises"),
        ("mocked_components", "object", "list of components whose symbols it replaces"),
    ),
    # ---- issues (toolkit.load.issues, links) ----
    "issues": _t(
        ("tracker", "string", "github, jira, gitlab or generic"),
        ("key", "string", "issue key (`#123`, `PROJ-123`)"),
        ("title", "string", "summary (untrusted text)"),
        ("body", "string", "description (untrusted text)"),
        ("type", "string", "bug, feature, task, improvement, question, other"),
        ("labels", "object", "list of labels"),
        ("components", "object", "list of tracker components"),
        ("status", "string", "tracker status"),
        ("resolution", "string", "tracker resolution or state_reason"),
        ("priority", "string", "tracker priority"),
        ("created", "datetime64[ns, UTC]", "created"),
        ("resolved", "datetime64[ns, UTC]", "resolved/closed (NaT when open)"),
        ("environment", "string", "toolkit.vocab.environments vocabulary"),
        ("environment_evidence", "string", "where the environment came from"),
        ("reporter", "string", "reporter (pseudonymised on request)"),
        ("url", "string", "link to the issue"),
        ("is_pull_request", "bool", "GitHub pull requests exported with issues"),
        ("linked_prs", "object", "list of PR numbers the issue names"),
        ("source", "string", "file the row came from"),
        ("updated", "datetime64[ns, UTC]", "last updated (NaT when the export omits it); the newest copy wins on duplicates"),
        ("milestone", "string", "milestone or fix version (<NA> when none)"),
        ("merged", "boolean", "pull/merge requests: merged (True), closed unmerged (False), <NA> unknown or not a PR"),
        ("merge_sha", "string", "pull/merge requests: the merge or squash commit the tracker recorded"),
        ("closes", "object", "pull/merge requests: list of issue keys the tracker says it closes"),
    ),
    "links": _t(
        ("issue_key", "string", "issue"),
        ("sha", "string", "fix commit"),
        ("evidence", "string", "what links them (e.g. 'message: fixes #12')"),
        ("confidence", "string", "explicit, reference or heuristic"),
        ("kind", "string", "fragment, changelog, squash, merge, pr, message or heuristic (toolkit.load.links.KINDS)"),
    ),
    "issue_components": _t(
        ("issue_key", "string", "issue"),
        ("component", "string", "component touched by its fix commits"),
        ("files", "int64", "files of that component changed"),
        ("churn", "int64", "lines added + deleted in that component"),
    ),
    "unlinked_issues": _t(
        ("issue_key", "string", "bug issue no commit could be linked to"),
        ("reason", "string", "why: no commit, merge or changelog line names it; only a merge that brought in nothing; ..."),
    ),
    "pr_bugs": _t(
        ("key", "string", "a pull/merge request of the export that carries a bug label or type"),
        ("counted", "bool", "counted as a bug (its fix is its own commits)"),
        ("decision", "string", "why it is or is not counted"),
    ),
    # ---- what the changed lines of bug fixes do at a boundary (toolkit.load.fix_diffs) ----
    "fix_diff_facts": _t(
        ("sha", "string", "fix commit (linked to a bug)"),
        ("path", "string", "Python file it changed, as named in that commit"),
        ("component", "string", "component of path (<NA> for tests and files outside every component)"),
        ("what", "string", "cross_component_call, dependency_call, exception_translation, serialization, config,"
                           " or changed (every file read has one) (toolkit.load.fix_diffs.FACT_KINDS)"),
        ("line", "int64", "first line of the fact (new side; old side for a removed line)"),
        ("count", "int64", "facts of this kind in the file (for changed: lines added + removed)"),
        ("detail", "string", "what was seen, e.g. 'adds a call of requests.get' or 'except KeyError -> raise X'"),
    ),
    # ---- analyst decisions (toolkit.load.labels) ----
    "labels": _t(
        ("key", "string", "issue key"),
        ("category", "string", "integration, component, environment or not_a_bug (toolkit.vocab.categories.CATEGORIES)"),
        ("note", "string", "analyst's note (may be empty)"),
        ("reviewer", "string", "who decided (<NA> when unknown)"),
        ("decided_at", "datetime64[ns, UTC]", "when (NaT for hand-written JSON labels)"),
    ),
    # ---- integration coverage of interactions (toolkit.analyze.interaction_coverage) ----
    "interaction_call_sites": _t(
        ("call_site_id", "string", "call site (schema call_sites)"),
        ("path", "string", "file holding the call"),
        ("line", "int64", "line of the call"),
        ("caller", "string", "enclosing function/class"),
        ("caller_component", "string", "component of path"),
        ("callee", "string", "qualified callee"),
        ("callee_component", "string", "component owning callee"),
        ("kind", "string", "call, instantiate or subclass"),
        ("seam", "string", "caller_component->callee_component"),
        ("status", "string", "integration, isolation_only or untested (suffix _estimated on the static basis)"),
        ("tests_real", "object", "list of tests that executed it without mocking the callee"),
        ("tests_mocked", "object", "list of tests that executed it with the callee mocked, or mock that callee"),
    ),
    "interaction_seams": _t(
        ("seam", "string", "caller_component->callee_component"),
        ("caller_component", "string", "caller"),
        ("callee_component", "string", "callee"),
        ("imports", "int64", "import statements across the seam (coupling seams table; 0 when not given)"),
        ("call_sites", "int64", "call sites on the seam (0: import_only)"),
        ("unresolved_calls", "int64", "unresolved calls that may cross the seam (coupling seams table; 0 when not "
                                      "given): on an import_only seam, > 0 = no call was resolved statically, not "
                                      "none can run (toolkit.vocab.categories.import_only_words)"),
        ("integration", "int64", "call sites covered for integration"),
        ("isolation_only", "int64", "call sites exercised only with the callee mocked"),
        ("untested", "int64", "call sites no test executes or mocks"),
        ("pct_integration", "float64", "integration / call_sites x 100"),
        ("status", "string", "toolkit.vocab.categories.SEAM_STATUSES: integration, mocks_only or "
                             "untested (suffix _estimated on the static basis), or import_only (no call site)"),
        ("tests_real", "int64", "tests exercising a call site of the seam for real (static: importing both sides)"),
        ("tests_mocking", "int64", "tests replacing the callee side of the seam"),
        ("integration_kind_tests", "int64", "of tests_real, those classified integration or e2e (test_kinds)"),
        ("tests_mocking_conditional", "int64", "of tests_mocking, those that mock the seam only under a condition "
                                               "(mocks.conditional): they may exercise it for real in some runs"),
        ("tests_real_list", "object", "list of those tests"),
        ("tests_mocking_list", "object", "list of those tests"),
    ),
    # ---- deployment environments (toolkit.analyze.environment_comparison) ----
    "environment_failure_rates": _t(
        ("environment", "string", "environment"),
        ("tests", "int64", "distinct tests that ran (not skipped)"),
        ("runs", "int64", "distinct runs"),
        ("executions", "int64", "test x run outcomes that ran (a test failing any row of a run failed that run)"),
        ("failed", "int64", "of those, failed or errored"),
        ("failure_rate", "float64", "failed / executions; NaN when none ran"),
    ),
    "env_only_failures": _t(
        ("test_id", "string", "test passing in every lower-environment run and failing in most higher ones"),
        ("lower_runs", "int64", "runs in the lower environment (all passed)"),
        ("higher_runs", "int64", "runs in the higher environment"),
        ("higher_failed", "int64", "of those, failed or errored"),
        ("higher_failure_share", "float64", "higher_failed / higher_runs"),
        ("components", "object", "list of components the test executes (test_components)"),
        ("seams", "object", "list of seams whose call sites it executes (test_exercises)"),
        ("message", "string", "first failure message in the higher environment"),
    ),
    "escapes": _t(
        ("issue_key", "string", "bug first seen in production"),
        ("title", "string", "issue title (untrusted text)"),
        ("components", "object", "list of components its fix commits touched"),
        ("pairs", "object", "list of component pairs (a<->b) touched by the same fix"),
    ),
    "escapes_by_component": _t(
        ("component", "string", "component touched by bug fixes"),
        ("bugs", "int64", "bugs whose fix touched it"),
        ("escapes", "int64", "of those, first seen in production"),
        ("escape_share", "float64", "escapes / bugs"),
    ),
    "escapes_by_seam": _t(
        ("pair", "string", "component pair a<->b touched by the same fix"),
        ("bugs", "int64", "bugs whose fix touched both"),
        ("escapes", "int64", "of those, first seen in production"),
        ("escape_share", "float64", "escapes / bugs"),
    ),
    "environment_significance": _t(
        ("scope", "string", "overall, a component (tests executing it) or a seam a->b (tests executing its call sites)"),
        ("lower_failed", "int64", "failed executions in the lower environment"),
        ("lower_passed", "int64", "passed executions in the lower environment"),
        ("higher_failed", "int64", "failed executions in the higher environment"),
        ("higher_passed", "int64", "passed executions in the higher environment"),
        ("lower_rate", "float64", "lower failure rate"),
        ("higher_rate", "float64", "higher failure rate"),
        ("risk_difference", "float64", "higher_rate - lower_rate"),
        ("odds_ratio", "float64", "odds of failing higher vs lower, Haldane-corrected (+0.5 per cell)"),
        ("p_value", "float64", "two-sided Fisher's exact test, raw; NaN when not enough data"),
        ("p_adjusted", "float64", "p_value adjusted by Benjamini-Hochberg over every test of the comparison (the "
                                  "q-value); the verdict uses this one"),
        ("verdict", "string", "plain-language reading"),
    ),
    "bugs_by_environment": _t(
        ("environment", "string", "where bugs were first seen"),
        ("bugs", "int64", "bug issues"),
        ("share", "float64", "bugs / all bugs"),
    ),
    # ---- bug categorization (toolkit.analyze.bug_categorization, bug_classifier) ----
    "boundary_terms": _t(
        ("term", "string", "the name shown in evidence (a dependency, module, runtime, OS, tool, service, component)"),
        ("kind", "string", "dependency, third_party, platform, service, runtime, os, tool, protocol or component"),
        ("pattern", "string", "regex matched at word boundaries on lower-cased text"),
        ("source", "string", "where it was derived from (manifest path, importing file, generic table)"),
        ("own_module", "string", "a production module or package of the project whose name the term names (its own"
                                 " code wrapping that thing: the text may mean it), else null; never for components"),
    ),
    "bug_categories": _t(
        ("key", "string", "bug issue key (type bug, not a pull request)"),
        ("title", "string", "issue title (untrusted text)"),
        ("environment", "string", "where it was first seen (toolkit.vocab.environments)"),
        ("category", "string", "integration, component, environment, not_a_bug (toolkit.vocab.categories.CATEGORIES) or unknown"
                               " (toolkit.load.labels.UNKNOWN: evidence too weak or conflicting)"),
        ("confidence", "float64", "(best - second score) / (best score + prior); 1 for analyst labels; 0 with no "
                                  "evidence"),
        ("decided_by", "string", "who decided the category: label (analyst decision, always wins), rules (weighted "
                                 "evidence) or classifier (trained on the labels; only for bugs the rules leave unknown,"
                                 " and only when it beat the rules on the labels)"),
        ("rules_category", "string", "what the weighted evidence alone says (unknown below the decision threshold)"),
        ("undecided", "string", "for an unknown bug: why, and what would decide it; <NA> when decided"),
        ("score_integration", "float64", "sum of the weights of the integration evidence"),
        ("score_component", "float64", "sum of the weights of the component evidence"),
        ("score_environment", "float64", "sum of the weights of the environment evidence"),
        ("score_not_a_bug", "float64", "sum of the weights of the not-a-bug evidence"),
        ("evidence", "object", "list of '<feature> (+w → category)' strings, strongest first"),
        ("components", "object", "list of production components its fix commits touched"),
        ("pairs", "object", "list of component pairs a<->b its fix touched together"),
        ("fix_commits", "int64", "linked fix commits"),
        ("created", "datetime64[ns, UTC]", "created"),
        ("resolved", "datetime64[ns, UTC]", "resolved (NaT when open)"),
    ),
    "bugs_by_pair": _t(
        ("pair", "string", "component pair a<->b touched by the same fix"),
        ("bugs", "int64", "bugs whose fix touched both"),
        ("integration", "int64", "of those, categorized integration"),
        ("component", "int64", "categorized component"),
        ("environment", "int64", "categorized environment"),
        ("not_a_bug", "int64", "categorized not_a_bug"),
        ("unknown", "int64", "undecided (evidence too weak or conflicting)"),
        ("integration_share", "float64", "integration / decided bugs (NaN when none is decided)"),
    ),
    "bugs_by_quarter": _t(
        ("quarter", "string", "calendar quarter of creation, e.g. 2025Q3"),
        ("integration", "int64", "bugs categorized integration"),
        ("component", "int64", "categorized component"),
        ("environment", "int64", "categorized environment"),
        ("not_a_bug", "int64", "categorized not_a_bug"),
        ("unknown", "int64", "undecided"),
        ("bugs", "int64", "all bugs created in the quarter"),
    ),
    "classifier_evaluation": _t(
        ("category", "string", "class, or 'macro avg'"),
        ("support", "int64", "labelled bugs of the class"),
        ("model_precision", "float64", "cross-validated precision of the classifier"),
        ("model_recall", "float64", "cross-validated recall of the classifier"),
        ("model_f1", "float64", "cross-validated F1 of the classifier"),
        ("rules_precision", "float64", "precision of the weighted rules on the same labels"),
        ("rules_recall", "float64", "recall of the rules"),
        ("rules_f1", "float64", "F1 of the rules"),
    ),
    # ---- bugs whose fixes span components (toolkit.analyze.cross_component_bugs) ----
    "cross_component_pairs": _t(
        ("pair", "string", "component pair a<->b"),
        ("a", "string", "first component (sorted)"),
        ("b", "string", "second component"),
        ("bugs", "int64", "bugs whose fix touched both"),
        ("integration_bugs", "int64", "of those, integration bugs (categorized, or crossing when uncategorized)"),
        ("keys", "object", "list of those bug keys, oldest first"),
    ),
    "bug_recurrence": _t(
        ("pair", "string", "component pair a<->b"),
        ("first", "string", "bug key"),
        ("again", "string", "the next bug on the same pair"),
        ("first_created", "datetime64[ns, UTC]", "created of first"),
        ("again_created", "datetime64[ns, UTC]", "created of again"),
        ("gap_days", "float64", "days between their creation"),
    ),
    "bug_resolve_times": _t(
        ("group", "string", "integration or component"),
        ("bugs", "int64", "bugs in the group"),
        ("resolved", "int64", "of those with a resolved date"),
        ("median_days", "float64", "median days created -> resolved"),
        ("mean_days", "float64", "mean days created -> resolved"),
    ),
    # ---- interface documentation review (toolkit.analyze.interface_docs) ----
    "interface_docs": _t(
        ("interface", "string", "dotted name of the function/class/method in its defining module"),
        ("component", "string", "component defining it"),
        ("module", "string", "defining module"),
        ("qualname", "string", "name inside the module (Class.method)"),
        ("kind", "string", "function, class, method, or unresolved (not a def/class in the source)"),
        ("path", "string", "defining file"),
        ("line", "Int64", "line of the definition"),
        ("used_by", "object", "list of components calling or importing it"),
        ("call_sites", "int64", "cross-component call sites calling it"),
        ("has_docstring", "bool", "has a docstring"),
        ("params_documented", "float64", "share of parameters named in the docstring; NaN without parameters"),
        ("returns_documented", "boolean", "return value documented, or none returned"),
        ("raises_documented", "boolean", "raised exceptions documented; <NA> when the body raises nothing"),
        ("annotations_complete", "float64", "share of parameters + return annotated; NaN when nothing to annotate"),
        ("data_contract", "bool", "annotations name a repository data class, or the component has a contract file"),
        ("score", "float64", "weighted mean of the applicable checks, 0..1 (interface_docs.WEIGHTS)"),
        ("fully_documented", "bool", "docstring, parameters, return, raises documented and annotations complete"),
        ("drift_events", "int64", "rows of interface_drift for it"),
    ),
    "interface_doc_seams": _t(
        ("seam", "string", "caller_component->callee_component"),
        ("caller_component", "string", "component using the interfaces"),
        ("callee_component", "string", "component defining them"),
        ("interfaces", "int64", "interfaces of callee_component used by caller_component"),
        ("mean_score", "float64", "mean interface score"),
        ("share_fully_documented", "float64", "share of those interfaces fully documented"),
        ("drift_events", "int64", "drift events of those interfaces"),
    ),
    # ---- service-level seams (toolkit.load.services, contracts, traces; toolkit.analyze.service_seams) ----
    "service_calls": _t(
        ("path", "string", "file holding the outgoing HTTP call"),
        ("line", "int64", "line of the call"),
        ("caller_service", "string", "service of the file (component, or service_map[component])"),
        ("library", "string", "requests, httpx, aiohttp, urllib3 or urllib.request"),
        ("method", "string", "HTTP method (<NA> when not a literal)"),
        ("url_template", "string", "URL as written: literals kept, holes {name}, the base setting as {SETTING}"),
        ("path_template", "string", "the path part, normalised (toolkit.load.services.normalize_path)"),
        ("base", "string", "setting/env variable naming the callee's base URL (<NA> when none)"),
        ("base_default", "string", "literal default of that setting (os.getenv(name, default)), else <NA>"),
        ("callee_service", "string", "resolved callee service; <NA> when unresolved (see reason)"),
        ("resolved_by", "string", "deployment env, URL host or setting name evidence"),
        ("reason", "string", "why the callee is unknown (empty when resolved)"),
        ("seam", "string", "caller_service->callee_service (toolkit.vocab.components.seam_name); <NA> when unresolved"),
    ),
    "service_endpoints": _t(
        ("path", "string", "file declaring the route"),
        ("line", "int64", "line of the decorator / path() call"),
        ("service", "string", "service owning the file"),
        ("method", "string", "HTTP method, ANY for Django path()"),
        ("path_template", "string", "normalised path template with {param}s (router prefixes applied)"),
        ("framework", "string", "fastapi, flask, starlette, django, ... or decorator (in-house router)"),
        ("handler", "string", "handler function"),
    ),
    "service_messages": _t(
        ("path", "string", "file holding the publish/subscribe call"),
        ("line", "int64", "line of the call"),
        ("service", "string", "service owning the file"),
        ("direction", "string", "publish or subscribe"),
        ("topic", "string", "topic / queue / channel / exchange (<NA> when not literal)"),
        ("broker", "string", "kafka, rabbitmq, sns, sqs or redis"),
        ("library", "string", "kafka-python, confluent-kafka, pika, boto3 or redis"),
    ),
    "contract_endpoints": _t(
        ("source", "string", "spec file"),
        ("service", "string", "provider service the spec documents"),
        ("method", "string", "HTTP method"),
        ("path_template", "string", "normalised path template (basePath/servers path prefixed)"),
        ("operation_id", "string", "operationId (<NA> when absent)"),
        ("response_fields", "object", "list of dotted field paths of the success response body (a[].b for arrays)"),
        ("required_request_fields", "object", "list of required request body fields and required ?query parameters"),
        ("spec_version", "string", "openapi/swagger version as written"),
    ),
    "pact_interactions": _t(
        ("source", "string", "pact file"),
        ("consumer", "string", "consumer service"),
        ("provider", "string", "provider service"),
        ("description", "string", "interaction description"),
        ("method", "string", "HTTP method"),
        ("path_template", "string", "request path, normalised"),
        ("status", "Int64", "expected response status"),
        ("response_fields", "object", "list of dotted response body fields the consumer reads"),
        ("request_fields", "object", "list of request body fields the consumer sends"),
        ("pact_version", "string", "pact specification version"),
    ),
    "spans": _t(
        ("trace_id", "string", "trace"),
        ("span_id", "string", "span"),
        ("parent_span_id", "string", "parent span (<NA> for roots)"),
        ("service", "string", "service.name of the span's resource / Jaeger process"),
        ("environment", "string", "toolkit.vocab.environments vocabulary (deployment.environment[.name] or per file)"),
        ("kind", "string", "server, client, producer, consumer, internal or unspecified"),
        ("name", "string", "span name"),
        ("method", "string", "http.request.method / http.method"),
        ("route", "string", "http.route, else url.path / http.target (normalised), else <NA>"),
        ("destination", "string", "messaging.destination[.name] for message spans"),
        ("status_code", "Int64", "http.response.status_code / http.status_code"),
        ("is_error", "bool", "span status ERROR, error tag, or HTTP status >= 500"),
        ("start_ns", "int64", "start time, ns since the epoch"),
        ("end_ns", "int64", "end time, ns since the epoch"),
        ("source", "string", "file the span came from"),
    ),
    "trace_edges": _t(
        ("environment", "string", "environment of the calls"),
        ("seam", "string", "caller_service->callee_service"),
        ("caller_service", "string", "service of the client/producer (parent) span"),
        ("callee_service", "string", "service of the server/consumer (child) span"),
        ("kind", "string", "http (client->server), message (producer->consumer) or other"),
        ("method", "string", "HTTP method on the callee side (<NA> for messages)"),
        ("route", "string", "route on the callee side, or the message destination"),
        ("calls", "int64", "child spans on this edge"),
        ("errors", "int64", "of those, in error"),
        ("error_rate", "float64", "errors / calls"),
    ),
    "contract_findings": _t(
        ("finding", "string", "undocumented_call, unrouted_call, unused_endpoint, pact_method, pact_path, pact_required_field, "
                              "pact_missing_response_field or pact_unknown_provider"),
        ("seam", "string", "consumer->provider (<NA> for unused endpoints)"),
        ("consumer", "string", "calling service (<NA> for unused endpoints)"),
        ("provider", "string", "called service"),
        ("method", "string", "HTTP method"),
        ("path_template", "string", "path template"),
        ("field", "string", "field concerned (<NA> when none)"),
        ("detail", "string", "what disagrees, in words"),
        ("source", "string", "file:line of the call, or the spec/pact file"),
    ),
    "service_interactions": _t(
        ("seam", "string", "caller->callee service seam"),
        ("kind", "string", "http or message"),
        ("method", "string", "HTTP method; PUBLISH for messages"),
        ("path_template", "string", "path template (static) or observed route; the topic for messages"),
        ("call_sites", "int64", "static calls / publish calls of this interaction (0: only observed in traces)"),
        ("test_calls", "int64", "calls observed in traces of test environments"),
        ("production_calls", "int64", "calls observed in production traces"),
        ("exercised_by_tests", "bool", "test_calls > 0"),
        ("production_only", "bool", "observed in production, never in test traces"),
    ),
    "service_seams": _t(
        ("seam", "string", "caller->callee service seam (toolkit.vocab.components.seam_name)"),
        ("caller_component", "string", "calling service (a component, or a service_map name)"),
        ("callee_component", "string", "called service"),
        ("level", "string", "always 'service' (code seams are level 'code')"),
        ("kind", "string", "http, message or http+message"),
        ("call_sites", "int64", "static HTTP calls + publish calls on the seam"),
        ("static", "bool", "found in the code"),
        ("test_calls", "int64", "calls observed in traces of test environments"),
        ("production_calls", "int64", "calls observed in production traces"),
        ("production_errors", "int64", "of those, in error"),
        ("exercised_by_tests", "bool", "test_calls > 0"),
        ("production_only", "bool", "observed in production, never in test traces"),
        ("contract_drift", "int64", "contract_findings rows on the seam other than unused endpoints"),
        ("status", "string", "tested, untested, production_only, or not_traced (no test traces given)"),
    ),
    "definition_changes": _t(  # toolkit.load.definitions.load_definition_changes
        ("sha", "string", "commit that changed the definition's signature (compared with its first parent)"),
        ("path", "string", "file's path at the analysed revision (renames followed)"),
        ("qualname", "string", "definition in that file: function, Class or Class.method"),
        ("before", "object", "signature before: ((name, kind, annotation, default), ...), return annotation"),
        ("after", "object", "signature after, same shape"),
        ("doc_unchanged", "bool", "the docstring is identical before and after"),
    ),
    "interface_drift": _t(
        ("interface", "string", "interface (interface_docs)"),
        ("component", "string", "component defining it"),
        ("sha", "string", "commit that changed its signature"),
        ("timestamp", "datetime64[ns, UTC]", "author date of the commit"),
        ("change", "string", "'signature changed, docstring unchanged' or 'callers in other components left "
                             "unchanged in the same commit'"),
        ("detail", "string", "old => new signature (and the callers not changed)"),
    ),
    # ---- seam risk ranking (toolkit.analyze.seam_ranking) ----
    "root_cause_signals": _t(
        ("where", "string", "component, seam a->b or pair a<->b"),
        ("signal", "string", "no_integration_tests, no_integration_test, high_efferent_coupling, high_instability, low_cohesion, mock_overuse, external_service, env_only_failures, production_escapes"),
        ("value", "float64", "the measured value"),
        ("threshold", "string", "what flags it (toolkit.analyze.root_causes.THRESHOLDS)"),
        ("severity", "string", "high, medium or low"),
        ("explanation", "string", "one sentence with the numbers"),
    ),
    "seam_ranking": _t(
        ("rank", "int64", "1 = riskiest"),
        ("seam", "string", "caller->callee"),
        ("level", "string", "component, or service for extra seams"),
        ("caller_component", "string", "caller"),
        ("callee_component", "string", "callee"),
        ("score", "float64", "sum of the c_* contributions"),
        ("reason", "string", "the strongest factors, with their numbers"),
        ("recommendation", "string", "remedy mapped from the strongest factor"),
        ("imports", "int64", "import statements across the seam"),
        ("call_sites", "int64", "call sites across the seam"),
        ("coupling_degree", "float64", "code-maat change-coupling degree of the pair (0 when not coupled)"),
        ("integration_bugs", "int64", "integration bugs whose fixes touched both components (pair-level)"),
        ("escapes", "int64", "production escapes on the pair"),
        ("open_bugs", "int64", "open integration bugs whose tracker components name both sides"),
        ("env_only_failures", "int64", "tests failing only in the higher environment that execute this seam"),
        ("status", "string", "interaction-coverage status of the seam"),
        ("integration_sites", "int64", "call sites covered for integration"),
        ("tests_real", "int64", "tests exercising the seam for real"),
        ("tests_mocking", "int64", "tests mocking its callee side"),
        ("doc_score", "float64", "mean interface-documentation score of the callee's interfaces (NaN unknown)"),
        ("drift_events", "int64", "interface drift events on the seam"),
        ("recent_commits", "float64", "recent commits touching both sides (+0.5 per commit touching one side)"),
        ("generated_sites", "int64", "call sites of the seam in files that declare themselves generated (files.is_generated)"),
        ("f_structural", "float64", "factor structural, normalised 0..1 (seam_ranking docstring)"),
        ("f_change_coupling", "float64", "factor change_coupling, normalised 0..1 (seam_ranking docstring)"),
        ("f_bug_history", "float64", "factor bug_history, normalised 0..1 (seam_ranking docstring)"),
        ("f_integration_gap", "float64", "factor integration_gap, normalised 0..1 (seam_ranking docstring)"),
        ("f_mock_overuse", "float64", "factor mock_overuse, normalised 0..1 (seam_ranking docstring)"),
        ("f_doc_gap", "float64", "factor doc_gap, normalised 0..1 (seam_ranking docstring)"),
        ("f_drift", "float64", "factor drift, normalised 0..1 (seam_ranking docstring)"),
        ("f_environment", "float64", "factor environment, normalised 0..1 (seam_ranking docstring)"),
        ("f_recent_change", "float64", "factor recent_change, normalised 0..1 (seam_ranking docstring)"),
        ("c_structural", "float64", "contribution of structural: factor x weight"),
        ("c_change_coupling", "float64", "contribution of change_coupling: factor x weight"),
        ("c_bug_history", "float64", "contribution of bug_history: factor x weight"),
        ("c_integration_gap", "float64", "contribution of integration_gap: factor x weight"),
        ("c_mock_overuse", "float64", "contribution of mock_overuse: factor x weight"),
        ("c_doc_gap", "float64", "contribution of doc_gap: factor x weight"),
        ("c_drift", "float64", "contribution of drift: factor x weight"),
        ("c_environment", "float64", "contribution of environment: factor x weight"),
        ("c_recent_change", "float64", "contribution of recent_change: factor x weight"),
    ),
}


def columns(table: str) -> list[str]:
    return [c.name for c in TABLES[table]]


def list_cell(value: object) -> list:
    """The items of a list column's cell (a list, tuple, set or the array Parquet hands back); [] for a missing
    cell (None, NaN)."""
    return list(value) if isinstance(value, (list, tuple, set, np.ndarray)) else []


def empty(table: str) -> pd.DataFrame:
    """An empty DataFrame with the table's columns and dtypes."""
    return pd.DataFrame({c.name: pd.Series(dtype=c.dtype) for c in TABLES[table]})


def conform(df: pd.DataFrame, table: str) -> pd.DataFrame:
    """Order and cast ``df``'s columns to the table's schema (extra columns are kept at the end)."""
    out = df.copy()
    for c in TABLES[table]:
        if c.name not in out.columns:  # absent: nothing flagged or counted where the dtype cannot hold NA (an
            # empty bool Series would fill True, an int64 one float NaN); NA elsewhere
            fill = {"bool": False, "int64": 0}.get(c.dtype)
            out[c.name] = pd.Series(fill, index=out.index, dtype=c.dtype)
        elif str(out[c.name].dtype) != c.dtype and c.dtype != "object":
            out[c.name] = out[c.name].astype(c.dtype)
    names = columns(table)
    return out[names + [c for c in out.columns if c not in names]]


def check(df: pd.DataFrame, table: str) -> None:
    """Raise ``AssertionError`` when ``df`` lacks a column of ``table`` or has the wrong dtype."""
    for c in TABLES[table]:
        assert c.name in df.columns, f"{table}: missing column {c.name}"
        got = str(df[c.name].dtype)
        assert got == c.dtype, f"{table}.{c.name}: dtype {got}, expected {c.dtype}"
