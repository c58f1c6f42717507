"""What sits across the boundary of a repository's code: the names a bug text or fix can point to.

A bug whose text names a library the project depends on, a platform module its
code talks through (``ssl``, ``subprocess``, ``sqlite3`` …), the Python runtime,
the operating system, a tool of the packaging ecosystem, an external service or
another of the project's components is evidence that the defect lives between two
parts (:mod:`toolkit.analyze.bug_categorization`). The vocabulary is DERIVED from
the repository, never listed per project; only the platform, runtime, OS and tool
names are generic tables (below), and the platform modules among them count only
when the project's own code imports them.

Where each kind comes from (:func:`boundary_vocabulary`, table ``boundary_terms``):

=============  ==============================================================================
kind           derived from
=============  ==============================================================================
dependency     declared requirements: ``pyproject.toml`` (``[project]`` dependencies and
               optional dependencies, ``[dependency-groups]``, Poetry tables),
               ``setup.cfg`` (``install_requires``, ``extras_require``), ``setup.py`` (the
               literal arguments of ``setup(...)``, read with :mod:`ast`, never run),
               ``requirements*.txt``/``*.in``, ``Pipfile``, and lock files (``poetry.lock``,
               ``uv.lock``, ``pdm.lock``, ``Pipfile.lock``)
third_party    top-level modules imported by production code that are neither the
               project's own nor in the standard library (``sys.stdlib_module_names``)
platform       standard-library modules in :data:`PLATFORM_MODULES` that production code
               imports (the module fronts the OS, the network, TLS, a process, a database
               or a wire format); matched by the module name and the words for what it fronts
service        the kinds of :mod:`toolkit.vocab.external_services` the code imports, by the words
               in :data:`SERVICE_WORDS`
runtime, os,   the generic tables :data:`RUNTIME_TERMS`, :data:`OS_TERMS`,
tool,          :data:`TOOL_TERMS`, :data:`PROTOCOL_TERMS` (every Python project runs on a runtime
protocol       and an OS, is built and checked by ecosystem tools, and a protocol's other side is
               another party's code); runtime also holds any standard-library module written
               as code (:func:`_stdlib_pattern`)
component      the project's components (``files.component``), when it has two or more; one whose
               name is a plain word only when written as a name (:func:`_component_pattern`)
=============  ==============================================================================

A name that is also an everyday English word (:data:`PLAIN_WORDS`: ``requests``,
``click``, ``six`` …) counts only when written as code (in backticks) or with a
version, so "requests against URLs" is not a mention of the requests library.
The project's own names (its distribution and top-level packages) never count, neither as a dependency nor as
an alternative of a generic table (pip is a tool across every project's boundary but pip's own).
A term whose name is also the name of one of the project's own modules or packages (anyio's
``_backends/_asyncio.py``, trio's ``_signals.py``, rich's ``_inspect.py`` for the standard library's ``inspect``)
carries that module in ``own_module``: the project wraps the thing in code of its own, and a bug text naming it
may mean that code (:mod:`toolkit.analyze.bug_categorization` weighs it less).
"""
from __future__ import annotations

import ast
import configparser
import json
import re
import sys
import tomllib
from collections.abc import Iterable
from pathlib import PurePosixPath

import pandas as pd

from toolkit.vocab import schema
from toolkit.vocab.components import namespace_components
from toolkit.errors import Skip, report_skip
from toolkit.vocab.external_services import external_service

__all__ = ["own_names", "named_by_own", "PLATFORM_MODULES", "RUNTIME_TERMS", "OS_TERMS", "TOOL_TERMS", "PROTOCOL_TERMS", "SERVICE_WORDS",
           "PLAIN_WORDS",
           "MAX_MANIFEST_BYTES", "boundary_vocabulary", "requirement_names", "top_alternatives"]

#: Largest manifest or lock file read (bytes); a larger one is skipped with a reason.
MAX_MANIFEST_BYTES = 4 << 20

#: stdlib module -> how prose names it and what it fronts (regex, matched at word boundaries on lower-cased
#: text). Modules whose bare name is an everyday word (``warnings``, ``logging``, ``select``, ``json``) are
#: named only by their distinctive spellings; a platform module that shares its name with one of the
#: project's own modules (pytest's ``doctest`` plugin) is shadowed by it.
PLATFORM_MODULES: dict[str, str] = {
    "ssl": r"ssl|tls|openssl|libressl|sslcontext|sni|certificates?|cert verification",
    "socket": r"sockets?|ipv[46]|tcp|udp|dns",
    "selectors": r"selectors|epoll|kqueue",
    "subprocess": r"subprocess(?:es)?|child process(?:es)?",
    "multiprocessing": r"multiprocessing|fork(?:ed|ing)?",
    "asyncio": r"asyncio|event loop",
    "sqlite3": r"sqlite3?",
    "http": r"httplib|http\.client|http\.server|http\.cookiejar|cookielib",
    "urllib": r"urllib(?:\.request|\.parse)?|urllib2",
    "zlib": r"zlib|deflate",
    "gzip": r"gzip|x-gzip",
    "bz2": r"bz2",
    "lzma": r"lzma",
    "hashlib": r"hashlib|fips",
    "pickle": r"pickl\w*|unpickl\w*|cloudpickle",
    "copy": r"deepcopy|copy\.copy|deep cop(?:y|ies)|shallow cop(?:y|ies)",
    "locale": r"locales?",
    "ctypes": r"ctypes|dlls?|dylibs?|shared librar(?:y|ies)",
    "msvcrt": r"msvcrt",
    "winreg": r"winreg|registry",
    "termios": r"termios",
    "fcntl": r"fcntl",
    "faulthandler": r"faulthandler",
    "importlib": r"importlib|import (?:system|machinery|hooks?|loaders?)",
    "unittest": r"unittest|testcase",
    "readline": r"readline",
    "contextlib": r"contextlib|exitstack|contextmanager",
    "io": r"io\.\w+|rawiobase|bufferedreader|textiowrapper",
    "webbrowser": r"webbrowser",
    "netrc": r"netrc",
    "encodings": r"idna|punycode",
}
#: Python runtimes and versions (regex -> shown term).
RUNTIME_TERMS: dict[str, str] = {
    r"python ?(?:[<>=!~]=? ?)?[23](?:\.\d+)*t?|py ?[23](?:\.\d+)?|python ?version|python builds?|built without": "Python version",
    r"cpython": "CPython", r"pypy\d*(?:\.\d+)*": "PyPy", r"jython": "Jython", r"ironpython": "IronPython",
    r"graalpy": "GraalPy", r"pyodide|emscripten|wasm\w*|webassembly": "WebAssembly",
    r"-bb|-w error|pythonwarnings|pythonpath|pythonhashseed|pythonfaulthandler|pythonioencoding|pythonutf8"
    r"|-x dev|free-threaded|free-threading|gil|python -oo?|-oo|optimi[sz]ed mode"
    r"|python(?:optimize|dontwritebytecode|safepath|startup|nousersite|userbase|breakpoint|devmode|malloc"
    r"|tracemalloc|asynciodebug|coerceclocale|intmaxstrdigits|warndefaultencoding|legacywindows\w+)": "runtime flag",
    r"app ?engine|gae": "App Engine", r"bytecode|__code__|cellvars?": "interpreter internals",
    r"__del__|garbage[- ]collect\w*|weakrefs?|finali[sz]ers?|interpreter shutdown|task cancell?ations?"
    r"|cancell?ed tasks?": "object lifetime",
}
#: Operating systems, shells, consoles and their facilities (regex -> shown term).
OS_TERMS: dict[str, str] = {
    r"windows|win32|win64|cmd\.exe|nul": "Windows", r"mac ?os|os ?x|osx|darwin|big sur|catalina|monterey": "macOS",
    r"linux|glibc|musl|alpine": "Linux", r"freebsd|openbsd|netbsd|bsd|solaris|aix": "BSD/Unix",
    r"cygwin|msys2?|mingw|wsl": "Windows POSIX layer", r"android|ios": "mobile OS",
    r"bash|zsh|fish|powershell|pwsh|shells?": "shell", r"isatty|tty|ttys": "terminal",
    r"file ?systems?|symlinks?|symbolic links?|mount ?points?|permissions?|permissionerror|read-only"
    r"|nfs|fuse|squashfs\w*": "file system",
    r"environment variables?|env vars?|os\.environ": "environment variable",
    r"oserror|ioerror|errno|eacces|enoent|eperm": "OS error",
    r"signals?|sigint|sigterm|sighup|ctrl-c|control-c|keyboardinterrupt": "signal",
    r"pagers?": "pager", r"editors?": "editor",
    r"hard ?links?|junctions?|inodes?|mtimes?": "file system",
    r"platforms?|32-bit|64-bit|arm64|aarch64|x86_64|endianness|time_t": "platform",
}
#: Wire protocols and published standards a program speaks with another party (regex -> shown term): the other
#: side of a protocol sits across the boundary whatever the project (the rubric's "a service or the other side of
#: a protocol"). Only names no sentence uses as an everyday word: a header is named by its own name, not by
#: "header". Formats a project writes for a reader it does not own (HTML, LaTeX, XML) are not here: the labelled
#: set's two labellers split on them (data/labelled_bugs/README.md).
PROTOCOL_TERMS: dict[str, str] = {
    r"rfc ?\d+|:rfc:|pep ?\d+|:pep:": "published standard (RFC/PEP)",
    r"http/[0-9.]+|http ?2|h2|h11|hpack|web ?sockets?": "HTTP version",
    r"wsgi|asgi|fastcgi": "server gateway interface",
    r"hsts|cors|csrf|alpn|ocsp|oauth2?|saml|openid": "web security standard",
    r"(?:content|transfer|accept)-[a-z]+|set-cookie|user-agent|www-authenticate|x-forwarded-[a-z]+"
    r"|(?:host|location|connection|range|cookie|authorization|etag|expect|proxy-authorization) headers?": "HTTP header",
    r"gzip|x-gzip|deflate|brotli|zstd|chunked": "content coding",
}
#: Tools of the Python packaging and checking ecosystem (regex -> shown term).
TOOL_TERMS: dict[str, str] = {
    r"pip": "pip", r"setuptools|distutils|setup\.py": "setuptools", r"wheels?|\.whl|sdist|egg": "package format",
    r"packaging|packaged|installs?|installation|installed|redistributors?|vendor(?:ed|ing)?|unvendored|unbundled"
    r"|dependency markers?": "packaging",
    r"mypy|pyright|pyre|pytype|type checkers?": "type checker",
    r"coverage(?:\.py)?": "coverage.py", r"tox|nox|virtualenv|venv|conda|pipx|poetry|hatch|uv": "environment tool",
    r"cython|pyinstaller|nuitka|mypyc": "compiler",
    r"ipython|jupyter|notebook": "IPython/Jupyter",
    r"third[- ]party(?: plugins?| librar(?:y|ies)| packages?)?|backends?|downstream": "third party",
}
#: external_services kind -> words for the other side.
SERVICE_WORDS: dict[str, str] = {
    "http": r"servers?|proxy|proxies|remote hosts?|upstream",
    "db": r"databases?|db|sql",
    "cache": r"cache servers?|redis|memcached?",
    "queue": r"brokers?|message queues?",
    "email": r"smtp|mail servers?",
    "cloud": r"cloud|aws|gcp|azure|s3",
    "rpc": r"grpc|rpc",
    "process": r"child process(?:es)?|subprocess(?:es)?",
    "socket": r"sockets?|network",
}
#: Package names that are also everyday words: they count only written as code or with a version. Only words: a
#: name no sentence uses as a word (colorama, certifi, django, httpx) counts in prose (it had been listed here too:
#: on the five labelled parts the change flipped 6 decisions, 4 to right).
PLAIN_WORDS: frozenset[str] = frozenset({
    "requests", "click", "attrs", "six", "mock", "packaging", "py", "future", "black", "rich", "typing",
    "enum", "wheel", "build", "docs", "test", "tests", "sh", "trio", "markdown",
    "blinker", "cryptography", "socks",
    "sphinx", "flask", "hypothesis", "coverage", "quart",
})
_STDLIB: frozenset[str] = frozenset(sys.stdlib_module_names)
_REQ_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_SKIP_REQ_LINE = re.compile(r"^\s*(?:#|-|$|https?:|git\+|\.|/)")
_REQUIREMENTS = re.compile(r"(?:^|/)(?:requirements[^/]*\.(?:txt|in)|[^/]*requirements\.(?:txt|in)"
                           r"|requirements/[^/]+\.(?:txt|in))$")
_LOCKS = ("poetry.lock", "uv.lock", "pdm.lock")


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name.strip().lower())


def requirement_names(specs: Iterable[str]) -> list[str]:
    """Distribution names of requirement strings (``"urllib3>=1.21,<3; python_version>'3'"`` → ``urllib3``)."""
    out = []
    for s in specs:
        if not isinstance(s, str) or _SKIP_REQ_LINE.match(s):
            continue
        m = _REQ_NAME.match(s)
        if m:
            out.append(_norm(m.group(1)))
    return out


def _from_pyproject(text: str) -> tuple[list[str], str | None]:
    data = tomllib.loads(text)
    names: list[str] = []
    proj = data.get("project") or {}
    names += requirement_names(proj.get("dependencies") or [])
    for specs in (proj.get("optional-dependencies") or {}).values():
        names += requirement_names(specs or [])
    for specs in (data.get("dependency-groups") or {}).values():
        names += requirement_names([s for s in specs or [] if isinstance(s, str)])
    poetry = (data.get("tool") or {}).get("poetry") or {}
    tables = [poetry.get("dependencies") or {}, poetry.get("dev-dependencies") or {}]
    tables += [(g or {}).get("dependencies") or {} for g in (poetry.get("group") or {}).values()]
    for t in tables:
        names += [_norm(n) for n in t if _norm(n) != "python"]
    own = proj.get("name") or poetry.get("name")
    return names, _norm(own) if isinstance(own, str) else None


def _from_setup_cfg(text: str) -> tuple[list[str], str | None]:
    cp = configparser.ConfigParser(interpolation=None)
    cp.read_string(text)
    names: list[str] = []
    if cp.has_option("options", "install_requires"):
        names += requirement_names(cp.get("options", "install_requires").splitlines())
    if cp.has_section("options.extras_require"):
        for _k, v in cp.items("options.extras_require"):
            names += requirement_names(v.splitlines())
    own = cp.get("metadata", "name", fallback=None)
    return names, _norm(own) if own else None


def _literal(node: ast.AST, assigned: dict[str, ast.AST]) -> object:
    if isinstance(node, ast.Name) and node.id in assigned:
        node = assigned[node.id]
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None


def _from_setup_py(text: str) -> tuple[list[str], str | None]:
    """The literal requirement arguments of ``setup(...)`` (module-level names resolved once); never executed."""
    tree = ast.parse(text)
    assigned = {t.id: n.value for n in tree.body if isinstance(n, ast.Assign) for t in n.targets
                if isinstance(t, ast.Name)}
    names: list[str] = []
    own = None
    for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
        fn = call.func
        if not ((isinstance(fn, ast.Name) and fn.id == "setup") or (isinstance(fn, ast.Attribute) and fn.attr == "setup")):
            continue
        for kw in call.keywords:
            value = _literal(kw.value, assigned)
            if kw.arg in ("install_requires", "tests_require", "setup_requires") and isinstance(value, (list, tuple)):
                names += requirement_names(value)
            elif kw.arg == "extras_require" and isinstance(value, dict):
                for specs in value.values():
                    names += requirement_names(specs if isinstance(specs, (list, tuple)) else [specs])
            elif kw.arg == "name" and isinstance(value, str):
                own = _norm(value)
    return names, own


def _from_lock(path: str, text: str) -> list[str]:
    if path.endswith("Pipfile.lock"):
        data = json.loads(text)
        return [_norm(n) for part in ("default", "develop") for n in (data.get(part) or {})]
    data = tomllib.loads(text)
    if PurePosixPath(path).name == "Pipfile":
        return [_norm(n) for part in ("packages", "dev-packages") for n in (data.get(part) or {})]
    return [_norm(p["name"]) for p in data.get("package") or [] if isinstance(p, dict) and isinstance(p.get("name"), str)]


def _manifests(paths: Iterable[str]) -> list[str]:
    out = []
    for p in paths:
        name = PurePosixPath(p).name
        if name in ("pyproject.toml", "setup.cfg", "setup.py", "Pipfile", "Pipfile.lock", *_LOCKS) \
                or _REQUIREMENTS.search(p):
            if "/" in p and name in ("setup.py", "setup.cfg") and p.count("/") > 1:
                continue  # vendored or example projects deep in the tree
            out.append(p)
    return out


def _declared(repo, rev: str | None, paths: list[str], skips: list[Skip] | None) -> tuple[dict[str, str], set[str]]:
    """dependency name -> the manifest that declares it; and the project's own distribution names."""
    deps: dict[str, str] = {}
    own: set[str] = set()
    for path, data in repo.read_files(_manifests(paths), rev):
        if len(data) > MAX_MANIFEST_BYTES:
            report_skip(skips, path, f"larger than {MAX_MANIFEST_BYTES} bytes: dependencies not read from it")
            continue
        text = data.decode("utf-8", "replace")
        name = PurePosixPath(path).name
        try:
            if name == "pyproject.toml":
                names, me = _from_pyproject(text)
            elif name == "setup.cfg":
                names, me = _from_setup_cfg(text)
            elif name == "setup.py":
                names, me = _from_setup_py(text)
            elif name in ("Pipfile", "Pipfile.lock", *_LOCKS):
                names, me = _from_lock(path, text), None
            else:
                names, me = requirement_names(text.splitlines()), None
        except (tomllib.TOMLDecodeError, configparser.Error, SyntaxError, ValueError, RecursionError,
                MemoryError, AttributeError, TypeError) as exc:
            report_skip(skips, path, f"dependencies not read: {type(exc).__name__}: {exc}"[:300])
            continue
        if me:
            own.add(me)
        for n in names:
            deps.setdefault(n, path)
    return deps, own


def _variants(name: str) -> list[str]:
    """Spellings of a distribution name in prose: ``python-dateutil`` → dateutil; ``pyOpenSSL`` → openssl."""
    n = _norm(name)
    out = {n, n.replace("-", "_"), n.replace("-", " ")}
    for prefix in ("python-", "py-", "py"):
        if n.startswith(prefix) and len(n) - len(prefix) >= 4:
            out.add(n[len(prefix):])
    return sorted(out)


def top_alternatives(pattern: str) -> list[str]:
    """The top-level alternatives of a regex (``a|b(?:c|d)`` → ``a``, ``b(?:c|d)``)."""
    out, depth, cls, cur, i = [], 0, False, "", 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            cur += pattern[i:i + 2]
            i += 2
            continue
        if cls:
            cls = ch != "]"
        elif ch == "[":
            cls = True
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            out.append(cur)
            cur = ""
            i += 1
            continue
        cur += ch
        i += 1
    return [*out, cur]


def _not_own(pattern: str, own: set[str]) -> str:
    """``pattern`` without the alternatives that spell one of the project's own names: a generic table names what
    sits across every project's boundary, except the project itself (pip's bug texts name pip, which is not a
    packaging tool across pip's own boundary: on the labelled set the tool names fired for 14 integration and 7
    component pip entries before this rule, 10 and 5 after). Empty when nothing is left."""
    spellings = own | {o.replace("-", "_") for o in own} | {o.replace("-", " ") for o in own}
    return "|".join(a for a in top_alternatives(pattern) if not any(re.fullmatch(a, o) for o in spellings))


#: Standard-library modules that are never the runtime's library in a bug text (test packages, easter eggs).
_NOT_LIBRARY = frozenset({"test", "this", "antigravity", "idlelib", "turtledemo", "tkinter", "turtle"})
#: A dotted name's tail that makes it a file name, not a module's attribute (``test.py``, ``setup.cfg``).
_FILE_TAIL = r"(?:py|pyi|pyc|pyx|txt|cfg|toml|ini|json|rst|md|html|yaml|yml|lock|in|sh|bat)\b"


def _stdlib_pattern(own: set[str], only: set[str] | None = None) -> str:
    """A standard-library module written as code — a dotted name (``typing.Annotated``, ``functools.partial``) or a
    code span (```faulthandler```) —: the runtime's library, across every project's boundary (the rubric's "stdlib
    protocols such as ``io.RawIOBase``"); on the labelled set's tuning part such names were integration in 14 of 16
    entries. Written as a word ("the copy", "a signal") it is prose; a top-level package of the project shadows it
    (a submodule does not: sphinx.util.typing is not what "typing.Annotated" names)."""
    names = sorted((m for m in _STDLIB if not m.startswith("_") and len(m) >= 2 and m not in _NOT_LIBRARY
                    and m.lower() not in own and (only is None or m.lower() in only)), key=len, reverse=True)
    if not names:
        return ""
    alt = "|".join(re.escape(m.lower()) for m in names)
    # not after a dot: in ``anyio.functools.lru_cache`` or ``scrapy.http.headers`` the name is the project's own
    return rf"(?<=`)(?:{alt})(?=`)|(?<!\.)(?:{alt})\.(?!{_FILE_TAIL})[a-z_]\w*"


def _component_pattern(name: str) -> str:
    """How prose names a component: a name that is a plain word (``config``, ``logging``, ``index``, ``sessions``)
    only when written as a name — in a code span, a dotted path or a file path (``"`sessions`"``, ``aiohttp.http``,
    ``index()``, ``shop/notifications/sender.py``) —, since as a word it is everyday prose ("cookies set by hooks are persisted on sessions" names no component);
    a name no sentence uses as a word (``_compat``, ``http2``) anywhere."""
    n = re.escape(name.lower())
    if not re.fullmatch(r"[a-z]+", name.lower()):
        return n
    return rf"(?<=[`./]){n}|{n}(?=`|\.\w|\(|/)"


def _dependency_pattern(dep: str, imported: set[str]) -> str:
    """How prose names a declared dependency: its name's spellings (:func:`_variants`), as code only when one is an
    everyday word (:data:`PLAIN_WORDS`). A spelling without the ``py``/``python-`` prefix (``pyright`` -> "right",
    ``pylint`` -> "lint", ``python-multipart`` -> "multipart") counts in prose only when the code imports a module of
    that name (``pyyaml`` -> ``yaml``, ``python-dateutil`` -> ``dateutil``); else it is as likely a word."""
    n = _norm(dep)
    full = {n, n.replace("-", "_"), n.replace("-", " ")}
    stripped = [v for v in _variants(dep) if v not in full]
    plain = any(v in PLAIN_WORDS for v in _variants(dep))
    sure = [v for v in stripped if v.replace("-", "_") in imported]
    pattern = _name_pattern([*full, *sure], plain)
    guarded = [v for v in stripped if v not in sure]
    return f"{pattern}|{_name_pattern(guarded, True)}" if guarded and not plain else pattern


def _name_pattern(names: Iterable[str], plain: bool) -> str:
    alt = "|".join(re.escape(v).replace(r"\-", "[-_ ]") for v in sorted(set(names), key=len, reverse=True))
    if plain:  # only as code (`name`) or with a version (name 2.x, name>=1)
        return rf"(?<=`)(?:{alt})(?=[`.\[])|(?:{alt})(?= ?(?:[<>=!~]=?|v?\d+\.\d))"
    return rf"(?:{alt})"


def boundary_vocabulary(
    repo,
    rev: str | None = None,
    *,
    files: pd.DataFrame | None = None,
    imports: pd.DataFrame | None = None,
    skips: list[Skip] | None = None,
) -> pd.DataFrame:
    """The boundary terms of ``repo`` at ``rev`` (schema ``boundary_terms``); see the module docstring.

    ``repo``: a :class:`toolkit.load.gitrepo.Repo` (or a path). ``files`` / ``imports``: the structure's tables
    (schema ``files``, ``imports``) — the imports of production code and the project's components; without them
    only declared dependencies and the generic tables are used. Manifests that do not parse are skipped with
    a reason in ``skips``. Nothing of the repository is executed.
    """
    from toolkit.load.gitrepo import Repo
    if not isinstance(repo, Repo):
        repo = Repo.open(repo)
    rows: list[dict[str, object]] = []

    def add(term: str, kind: str, pattern: str, source: str, own_module: str | None = None) -> None:
        rows.append({"term": term, "kind": kind, "pattern": pattern, "source": source, "own_module": own_module})

    paths = repo.list_files(rev)
    own_pkgs: set[str] = set()
    own_modules: set[str] = set()
    components: list[str] = []
    facades: set[str] = set()  # components of __init__/dunder files only: a package's namespace
    if files is not None and len(files):
        prod = files[~files["is_test"].fillna(False).astype(bool)] if "is_test" in files else files
        own_pkgs = {str(m).split(".")[0].lower() for m in prod["module"].dropna()}
        own_modules = {str(m).rsplit(".", 1)[-1].lower() for m in prod["module"].dropna()}
        components = sorted({str(c) for c in prod["component"].dropna()})
        owned = prod[prod["component"].notna()]
        facades = namespace_components(zip(owned["path"].astype(str), owned["component"].astype(str)))
    deps, own = _declared(repo, rev, paths, skips)
    own |= {_norm(p) for p in own_pkgs}

    third: dict[str, str] = {}
    platform: dict[str, str] = {}
    services: dict[str, str] = {}
    service_module: dict[str, str] = {}
    if imports is not None and len(imports):
        im = imports[imports["component"].notna() & imports["target_component"].isna()]
        if "is_type_checking" in im:
            im = im[~im["is_type_checking"].fillna(False).astype(bool)]
        for mod, path in zip(im["target_module"].astype(str), im["path"].astype(str)):
            top = mod.split(".")[0]
            kind = external_service(mod)
            if kind and kind not in services:
                services[kind] = f"{path} imports {mod}"
                service_module[kind] = top
            if top in _STDLIB:
                if top in PLATFORM_MODULES and top not in platform:
                    platform[top] = f"{path} imports {mod}"
            elif not top.startswith("_") and top.lower() not in own_pkgs and top.lower() not in ("test", "tests", "conftest"):
                third.setdefault(top, f"{path} imports {mod}")

    imported = {_norm(m).replace("-", "_") for m in third}
    for dep, src in sorted(deps.items()):
        if dep in own:
            continue
        add(dep, "dependency", _dependency_pattern(dep, imported), f"declared in {src}")
    declared = {v for d in deps for v in _variants(d)}
    for mod, src in sorted(third.items()):
        if _norm(mod) in declared or _norm(mod) in own:
            continue
        plain = _norm(mod) in PLAIN_WORDS
        add(mod, "third_party", _name_pattern([_norm(mod)], plain), src)
    for mod, src in sorted(platform.items()):
        if mod in own_modules:
            continue
        add(mod, "platform", PLATFORM_MODULES[mod], src)
    for kind, src in sorted(services.items()):
        if service_module[kind] in platform and service_module[kind] not in own_modules:
            continue  # the platform module it talks through (socket, subprocess) is named already: one thing, once
        add(f"{kind} service", "service", SERVICE_WORDS.get(kind, re.escape(kind)), f"{src} (toolkit.vocab.external_services)")
    generic = ((RUNTIME_TERMS, "runtime"), (OS_TERMS, "os"), (TOOL_TERMS, "tool"), (PROTOCOL_TERMS, "protocol"))
    for table, kind in generic:
        for pattern, term in table.items():
            if kept := _not_own(pattern, own):
                add(term, kind, kept, "generic table (toolkit.load.boundary_vocab)")
    names_of_own = own_names(owned["path"].astype(str)) if files is not None and len(files) else {}
    # a standard-library module the project has a module of its own named after (rich's _inspect.py, anyio's
    # functools.py) may be named for that module: a term of its own, so that own_module can say so
    shadowed = {m.lower() for m in _STDLIB} & set(names_of_own)
    add("standard library", "runtime", _stdlib_pattern(own | shadowed),
        "a standard-library module written as code (sys.stdlib_module_names)")
    for name in sorted(shadowed):
        if pattern := _stdlib_pattern(own, only={name}):
            add("standard library", "runtime", pattern, f"standard-library module {name} written as code",
                names_of_own[name])
    if len(components) >= 2:
        for c in components:
            if _norm(c) in PLAIN_WORDS or len(c) < 3 or (c in facades and _norm(c) in own):
                continue  # a package's namespace named like the project: its name names the whole project
            add(c, "component", _component_pattern(c), "a component of this repository (files.component)")
    for row in rows:
        if row["own_module"] is None and row["kind"] != "component":
            row["own_module"] = named_by_own(str(row["pattern"]), names_of_own)
    return schema.conform(pd.DataFrame(rows, columns=["term", "kind", "pattern", "source", "own_module"]),
                          "boundary_terms") if rows else schema.empty("boundary_terms")


def own_names(paths: Iterable[str]) -> dict[str, str]:
    """The project's own module and package names, read as prose (``_backends/_asyncio.py`` -> "backends",
    "asyncio"; ``shell_completion.py`` -> "shell completion"), each with the first path that carries it."""
    out: dict[str, str] = {}
    for path in sorted(paths):
        parts = path.split("/")
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if last and not part.endswith(".py"):
                continue
            stem = part[:-3] if last else part
            name = stem.strip("_").replace("_", " ").lower()
            if name and name not in ("init", "main", "src"):
                out.setdefault(name, path if last else "/".join(parts[:i + 1]) + "/")
    return out


def named_by_own(pattern: str, names: dict[str, str]) -> str | None:
    """The first of the project's own modules or packages whose name the term's ``pattern`` matches: the project
    wraps that thing in code of its own (anyio's ``_backends/_asyncio.py``, trio's ``_signals.py``), so a text
    naming it may mean that code, not what sits across."""
    if not names:
        return None
    rx = re.compile(rf"(?<![\w-])(?:{pattern})(?![\w])")
    return next((path for name, path in names.items() if rx.fullmatch(name)), None)

