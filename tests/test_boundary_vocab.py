"""Boundary vocabulary: derived from real small repositories (manifests read as data, imports of the code)."""
from __future__ import annotations

import pandas as pd
import pytest

from tests.gitutil import make_repo
from toolkit.vocab import schema
from toolkit.load.boundary_vocab import boundary_vocabulary, requirement_names
from toolkit.load.structure import load_structure

PYPROJECT = '''
[project]
name = "shoplib"
dependencies = ["urllib3>=1.21.1,<3", "python-dateutil ; python_version >= '3.8'", "requests>=2"]
[project.optional-dependencies]
socks = ["PySocks>=1.5.6,!=1.5.7"]
[dependency-groups]
dev = ["pytest>=8", {include-group = "lint"}]
'''


def vocab_of(repo_path):
    s = load_structure(repo_path, workers=1, cache=False, skips=[])
    skips: list = []
    v = boundary_vocabulary(repo_path, files=s.files, imports=s.imports, skips=skips)
    schema.check(v, "boundary_terms")
    return v, skips


def terms(v: pd.DataFrame, kind: str) -> set[str]:
    return set(v.loc[v["kind"] == kind, "term"])


def test_declared_dependencies_and_platform_imports_are_derived(tmp_path):
    repo = make_repo(tmp_path / "r", {
        "pyproject.toml": PYPROJECT,
        "requirements/docs.txt": "# docs\nsphinx==7.2\n-r base.txt\nfuro\n",
        "src/shoplib/__init__.py": "",
        "src/shoplib/net.py": "import ssl\nimport socket\nimport re\nimport certifi\nfrom . import util\n",
        "src/shoplib/util.py": "import subprocess\nimport typing\n",
        "tests/test_net.py": "import sqlite3\nimport pytest\n",
    })
    v, skips = vocab_of(repo)
    assert skips == []
    deps = v[v["kind"] == "dependency"].set_index("term")
    assert {"urllib3", "python-dateutil", "requests", "pysocks", "pytest", "sphinx", "furo"} <= set(deps.index)
    assert deps.loc["urllib3", "source"] == "declared in pyproject.toml"
    assert deps.loc["sphinx", "source"] == "declared in requirements/docs.txt"
    assert "shoplib" not in set(v["term"])  # the project's own name never counts
    # certifi: imported by production code but not declared; only production imports count (sqlite3 is a test's)
    assert terms(v, "third_party") == {"certifi"}
    assert terms(v, "platform") == {"ssl", "socket", "subprocess"}
    assert v.set_index("term").loc["ssl", "source"] == "src/shoplib/net.py imports ssl"
    assert {"Windows", "macOS", "Python version", "PyPy"} <= terms(v, "os") | terms(v, "runtime")


def test_setup_py_is_read_with_ast_and_never_run(tmp_path):
    canary = tmp_path / "ran"
    repo = make_repo(tmp_path / "r", {
        "setup.py": f'''
            import pathlib
            pathlib.Path({str(canary)!r}).write_text("executed")
            REQUIRES = ["idna>=2.5", "charset_normalizer>=2,<4"]
            setup(name="netlib", install_requires=REQUIRES,
                  extras_require={{"security": ["pyOpenSSL>=0.14"], "socks": "PySocks"}})
            ''',
        "setup.cfg": "[metadata]\nname = netlib\n[options]\ninstall_requires =\n    certifi>=2017\n",
        "netlib/__init__.py": "import idna\n",
    })
    v, _ = vocab_of(repo)
    assert not canary.exists()
    assert {"idna", "charset-normalizer", "pyopenssl", "pysocks", "certifi"} <= terms(v, "dependency")
    assert "idna" not in terms(v, "third_party")  # declared: shown once, as a dependency
    assert "netlib" not in set(v["term"])


def test_a_manifest_that_does_not_parse_is_a_skip_with_a_reason(tmp_path):
    repo = make_repo(tmp_path / "r", {"setup.py": "setup(install_requires=[\n", "requirements.txt": "attrs\n",
                                      "Pipfile.lock": "{not json", "pkg/__init__.py": "import os\n"})
    v, skips = vocab_of(repo)
    assert sorted(s.path for s in skips) == ["Pipfile.lock", "setup.py"]
    assert all(s.reason.startswith("dependencies not read: ") for s in skips)
    assert "attrs" in terms(v, "dependency")


def test_requirement_names():
    assert requirement_names(["urllib3[socks]>=1.26 ; python_version<'4'", "# c", "-e .", "Foo_Bar.baz==1",
                              "git+https://x/y.git", ""]) == ["urllib3", "foo-bar-baz"]


def test_plain_word_names_count_only_as_code_and_own_modules_shadow_platform_modules(tmp_path):
    from toolkit.analyze.bug_categorization import categorize_bugs
    from tests.test_bug_categorization import issue, issues

    repo = make_repo(tmp_path / "r", {
        "pyproject.toml": '[project]\nname = "proxy"\ndependencies = ["requests", "urllib3"]\n',
        "proxy/__init__.py": "import requests\nimport unittest\n",
        "proxy/unittest.py": "import unittest\n",  # the project's own unittest plugin shadows the stdlib name
        "proxy/app.py": "import subprocess\n",
    })
    v, _ = vocab_of(repo)
    assert "unittest" not in terms(v, "platform") and "subprocess" in terms(v, "platform")
    r = categorize_bugs(issues(
        issue("#1", "Fix requests against URLs with a trailing dot being rejected by the parser"),
        issue("#2", "Fix a crash with `requests` 2.32 when a session is closed twice by the caller"),
        issue("#3", "Fix the unittest plugin collecting the same class twice in one module"),
        issue("#4", "Fix hang when the subprocess exits before reading its input"),
    ), vocabulary=v)
    ev = r.bugs.set_index("key")["evidence"]
    assert not any("names dependency" in e for e in ev["#1"])  # "requests" the word, not the library
    assert 'the text names dependency "requests" (declared in pyproject.toml) (+3 → integration)' in ev["#2"]
    assert not any("names platform" in e for e in ev["#3"])
    assert any('names platform "subprocess" (proxy/app.py imports subprocess)' in e for e in ev["#4"])
    cat = r.bugs.set_index("key")["category"]
    assert (cat["#1"], cat["#2"], cat["#3"], cat["#4"]) == ("component", "integration", "component", "integration")


def _categorized_in_a_plain_project(tmp_path, text: str) -> pd.Series:
    """One bug with ``text``, categorized against the vocabulary of a project that declares and imports nothing:
    only the generic tables can fire."""
    from toolkit.analyze.bug_categorization import categorize_bugs
    from tests.test_bug_categorization import issue, issues

    v, _ = vocab_of(make_repo(tmp_path / "r", {"pkg/__init__.py": "x = 1\n"}))
    return categorize_bugs(issues(issue("#1", text)), vocabulary=v).bugs.iloc[0]


@pytest.mark.parametrize("text, kind", [
    ("Fixed a crash on Windows when the console is redirected to NUL", "os"),
    ("Fixed an error when Python is called with the -bb flag", "runtime"),
    ("Fixed import when running in optimized mode (`PYTHONOPTIMIZE=2` or `python -OO`)", "runtime"),
    ("Fixed `pip install` of the wheel on older setuptools", "tool"),
    ("Fix SecureTransport loading on macOS Big Sur", "os"),
    ("Fix crash under PyPy3 when a frozen class is pickled", "runtime"),
    ("Include an explicit Content-Length: 0 on POST when no body is sent", "protocol"),
    ("Fix RFC 2069 mode digest authentication", "protocol"),
    ("Add the missing `raw_path` to the ASGI scope", "protocol"),
    ("Support callable objects in `typing.Annotated` metadata", "runtime"),
    ("Don't warn from `__del__` on unclosed clients", "runtime"),
    ("Fix an overflow on platforms with a 32-bit time_t", "os"),
])
def test_generic_runtime_os_and_tool_names(tmp_path, text, kind):
    b = _categorized_in_a_plain_project(tmp_path, text)
    assert any(e.startswith(f"the text names {kind} ") for e in b["evidence"])
    # the name leads; where a generic component word ("crash") competes, a margin of 1.5 stays unknown, not component
    assert b["score_integration"] > b["score_component"] and b["category"] in ("integration", "unknown")
    assert b["category"] == "integration" or b["score_component"] > 0


@pytest.mark.parametrize("text", [
    "Read the options from setup.py and test.py in the project root",  # file names, not modules' attributes
    "Keep a copy of the headers when the request is retried",  # "copy" and "headers" as words
    "Fix the signal strength bar when the time is shown",
])
def test_a_standard_library_or_protocol_name_counts_only_written_as_one(tmp_path, text):
    b = _categorized_in_a_plain_project(tmp_path, text)
    assert not [e for e in b["evidence"] if "standard library" in e or "names protocol" in e]


def test_the_project_is_not_across_its_own_boundary_and_plain_word_components_count_only_as_names(tmp_path):
    """pip's texts name pip: the generic tool "pip" is every other project's, not pip's own. A component named by a
    plain word (``sessions``) counts only written as a name; in prose it is a word."""
    from toolkit.analyze.bug_categorization import categorize_bugs
    from tests.test_bug_categorization import issue, issues

    repo = make_repo(tmp_path / "r", {
        "pyproject.toml": '[project]\nname = "pip"\n',
        "src/pip/__init__.py": "", "src/pip/sessions/__init__.py": "from pip.hooks import run\n",
        "src/pip/hooks/__init__.py": "def run():\n    return 1\n", "src/pip/_compat/__init__.py": "x = 1\n",
    })
    v, _ = vocab_of(repo)
    tool = v[v["term"] == "pip"]
    assert tool.empty or not tool["pattern"].str.fullmatch("pip").any()
    assert {"sessions", "hooks"} <= terms(v, "component")
    r = categorize_bugs(issues(
        issue("#1", "Deduplicate the entries pip prints for the same requirement in the report"),
        issue("#2", "Cookies set by hooks are now persisted on sessions"),
        issue("#3", "Values set by `hooks.run()` are now passed on by `sessions.get()`"),
        issue("#4", "Fix a crash importing _compat from hooks on startup"),
    ), vocabulary=v)
    ev = r.bugs.set_index("key")["evidence"]
    assert not any("names tool" in e for e in ev["#1"])
    assert not any("names components" in e for e in ev["#2"])
    assert any("names components hooks, sessions" in e for e in ev["#3"])
    assert not any("names components" in e for e in ev["#4"])  # "_compat" counts anywhere, "hooks" only as a name


def test_a_name_the_project_has_code_of_its_own_for_says_less(tmp_path):
    """A project that wraps a thing in a module of its own (an adapter ``_backends/_asyncio.py``, a ``_signals.py``)
    writes that thing's name for its own code as often as for what sits across: the name counts at
    ``own_name_factor``, and the evidence says which module; a name it has no module for counts in full."""
    from toolkit.analyze.bug_categorization import DEFAULT_WEIGHTS, categorize_bugs
    from tests.test_bug_categorization import issue, issues

    repo = make_repo(tmp_path / "r", {
        "src/loop/__init__.py": "",
        "src/loop/_backends/__init__.py": "",
        "src/loop/_backends/_asyncio.py": "import asyncio\nimport socket\n",
        "src/loop/_inspect.py": "import inspect\n",
        "src/loop/core.py": "import subprocess\n",
    })
    v, _ = vocab_of(repo)
    own = dict(zip(v["term"], v["own_module"]))
    assert own["asyncio"] == "src/loop/_backends/_asyncio.py" and pd.isna(own["subprocess"])
    assert "src/loop/_inspect.py" in set(v["own_module"].dropna())  # the stdlib's inspect, named like loop's own
    r = categorize_bugs(issues(
        issue("#1", "Fix a hang on asyncio when a task is cancelled twice"),
        issue("#2", "Fix a hang when the subprocess exits before reading its input"),
        issue("#3", "Fix `inspect` on objects with an unusual qualified name"),
        issue("#4", "Fix `loop.functools.cache` on methods"),  # the project's functools, not the stdlib's
    ), vocabulary=v)
    b = r.bugs.set_index("key")
    half = DEFAULT_WEIGHTS["names_platform"] * DEFAULT_WEIGHTS["own_name_factor"]
    assert DEFAULT_WEIGHTS["own_name_factor"] < 1
    assert any("also the name of the project's own src/loop/_backends/_asyncio.py" in e for e in b.at["#1", "evidence"])
    assert b.at["#1", "score_integration"] == pytest.approx(half)
    assert f'the text names platform "subprocess" (src/loop/core.py imports subprocess) (+{DEFAULT_WEIGHTS["names_platform"]:g}' \
        ' → integration)' in b.at["#2", "evidence"]
    assert any("own src/loop/_inspect.py" in e for e in b.at["#3", "evidence"])
    assert not any("standard library" in e for e in b.at["#4", "evidence"])


@pytest.mark.parametrize("text", ["Fix a crash on python >= 3.6.4 when a task is cancelled",
                                  "Fix the import on Python<3.8"])
def test_a_python_version_compared_names_the_runtime(tmp_path, text):
    b = _categorized_in_a_plain_project(tmp_path, text)
    assert any(e.startswith('the text names runtime "Python version"') for e in b["evidence"])


def test_a_library_name_that_is_no_word_counts_in_prose_and_an_interaction_word_named_like_own_code_says_less(tmp_path):
    """``colorama`` is no English word: "initializes Colorama lazily" names the library (``rich`` is a word and counts
    only as code). An interaction word the project names a module by (a serialization library's ``schema.py``) counts
    at ``own_name_factor``; where the project has no such module it counts in full."""
    from toolkit.analyze.bug_categorization import DEFAULT_WEIGHTS, categorize_bugs
    from tests.test_bug_categorization import issue, issues

    files = {"src/logz/__init__.py": "", "src/logz/dev.py": "import colorama\nimport rich\n",
             "src/logz/schema.py": "x = 1\n"}
    repo = make_repo(tmp_path / "r", files)
    s = load_structure(repo, workers=1, cache=False, skips=[])
    v = boundary_vocabulary(repo, files=s.files, imports=s.imports, skips=[])
    bugs = issues(issue("#1", "The console renderer initializes Colorama lazily"),
                  issue("#2", "The console renderer looks rich again"),
                  issue("#3", "Fix the schema of nested records"))
    b = categorize_bugs(bugs, vocabulary=v, files=s.files).bugs.set_index("key")
    assert any('names third-party "colorama"' in e for e in b.at["#1", "evidence"])
    assert not any("names" in e and "rich" in e for e in b.at["#2", "evidence"])
    half = DEFAULT_WEIGHTS["text_integration"] * DEFAULT_WEIGHTS["own_name_factor"]
    assert 'word "schema" in title/body, also the name of the project\'s own src/logz/schema.py' \
           f' (x{DEFAULT_WEIGHTS["own_name_factor"]:g}) (+{half:g} → integration)' in b.at["#3", "evidence"]
    plain = categorize_bugs(bugs, vocabulary=v).bugs.set_index("key")  # no files: no own names known
    assert f'word "schema" in title/body (+{DEFAULT_WEIGHTS["text_integration"]:g} → integration)' \
        in plain.at["#3", "evidence"]


def test_a_dependency_spelled_without_its_py_prefix_counts_in_prose_only_when_the_code_imports_that_name(tmp_path):
    """``pyright`` declared: "right" in prose is a word, not the type checker; ``pyyaml`` declared and ``yaml``
    imported: "yaml" in prose names the library."""
    repo = make_repo(tmp_path / "r", {
        "pyproject.toml": '[project]\nname = "cfgkit"\ndependencies = ["pyyaml"]\n'
                          '[dependency-groups]\ndev = ["pyright", "pylint"]\n',
        "cfgkit/__init__.py": "import yaml\n",
    })
    b = _categorize_with(repo, "The result is right when lint warnings are shown",
                         "Fix loading yaml files with anchors", "Fix a false positive of `pyright` on the loader")
    assert not any("names dependency" in e for e in b.at["#1", "evidence"])
    assert any('names dependency "pyyaml"' in e for e in b.at["#2", "evidence"])
    assert any('names dependency "pyright"' in e for e in b.at["#3", "evidence"])


def _categorize_with(repo, *texts: str) -> pd.DataFrame:
    from toolkit.analyze.bug_categorization import categorize_bugs
    from tests.test_bug_categorization import issue, issues

    v, _ = vocab_of(repo)
    return categorize_bugs(issues(*(issue(f"#{i + 1}", t) for i, t in enumerate(texts))),
                           vocabulary=v).bugs.set_index("key")


def test_one_thing_named_once_counts_once(tmp_path):
    """``socket`` imported is a platform module and, through the same import, a "socket service": one thing, one
    name. "third party" is a boundary name (a tool across) and an interaction word: one phrase, one piece of
    evidence."""
    repo = make_repo(tmp_path / "r", {"netkit/__init__.py": "import socket\n", "netkit/io.py": "x = 1\n"})
    v, _ = vocab_of(repo)
    assert "socket" in terms(v, "platform") and not terms(v, "service")
    b = _categorize_with(repo, "Close sockets when reads fail", "Fix the message for third party imports")
    assert [e for e in b.at["#1", "evidence"] if "names" in e] == [
        'the text names platform "socket" (netkit/__init__.py imports socket) (+2 → integration)']
    assert any('names tool "third party"' in e for e in b.at["#2", "evidence"])
    assert not any('word "third-party service"' in e for e in b.at["#2", "evidence"])
