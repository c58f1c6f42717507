"""Extract candidate bug-fix entries from public changelogs (run once; the output is labelled by hand).

Reads the committed changelog of each project through ``git show <commit>:<path>``
(never a work tree), splits it into top-level bullet entries, keeps the bug-fix
entries (in a "Bug fixes" section where the changelog has one, else entries that
say they fix something), strips issue links and URLs from the text (a URL would
leak project names into the text) and samples a fixed number per project with a
fixed seed. Output: ``candidates.jsonl`` (id, project, source, issue, text).

Projects in :data:`NUMBERED` (pip, aiohttp; httpx, sphinx; black, uvicorn, rich, tox; werkzeug, coverage, anyio,
scrapy; jinja, celery, starlette, trio; marshmallow, paramiko, setuptools, structlog; invoke, pylint, httpcore,
falcon: chosen for fixes that can be linked) sample only entries that name an issue number, and add their unreleased towncrier fragments
(``<dir>/<N>.bugfix.rst``, the issue number from the file name) to the pool. New projects are appended after the others, so the shared seeded sampler draws the same entries as
before for the older ones.

    python data/labelled_bugs/extract.py /tmp/rr > data/labelled_bugs/candidates.jsonl
"""
from __future__ import annotations

import json
import random
import re
import subprocess
import sys

#: project -> (clone folder, changelog path(s), section regex or None, sample size)
SOURCES: dict[str, tuple[str, str | tuple[str, ...], str | None, int]] = {
    "pytest": ("pytest-dev+pytest", "doc/en/changelog.rst", r"bug ?fix", 45),
    "urllib3": ("urllib3+urllib3", "CHANGES.rst", None, 35),
    "click": ("pallets+click", "CHANGES.md", None, 30),
    "flask": ("pallets+flask", "CHANGES.rst", None, 25),
    "attrs": ("python-attrs+attrs", "CHANGELOG.md", None, 25),
    "requests": ("psf+requests", "HISTORY.md", r"bug ?fix", 60),
    "pip": ("pypa+pip", "NEWS.rst", r"bug ?fix", 60),
    "aiohttp": ("aio-libs+aiohttp", "CHANGES.rst", r"bug ?fix", 40),
    # third held-out part (issue 17): projects no rule was looked at against; sphinx's 7.0-9.x changelogs
    # (the older ones describe code that is long gone and, before 1.3, a different tracker's numbers)
    "httpx": ("encode+httpx", "CHANGELOG.md", r"^fixed$", 60),
    "sphinx": ("sphinx-doc+sphinx", ("CHANGES.rst", "doc/changes/9.0.rst", "doc/changes/8.2.rst",
                                     "doc/changes/8.1.rst", "doc/changes/8.0.rst", "doc/changes/7.4.rst",
                                     "doc/changes/7.3.rst", "doc/changes/7.2.rst", "doc/changes/7.1.rst",
                                     "doc/changes/7.0.rst"), r"bugs? fixed", 60),
    # fourth held-out part: four more projects no rule was looked at against, of other shapes (a code formatter,
    # an ASGI server, a terminal renderer, an environment orchestrator)
    "black": ("psf+black", "CHANGES.md", None, 40),
    "uvicorn": ("encode+uvicorn", "docs/release-notes.md", r"^fixed$", 40),
    "rich": ("Textualize+rich", "CHANGELOG.md", r"^fixed$", 40),
    "tox": ("tox-dev+tox", "docs/changelog.rst", r"bug ?fix", 40),
    # fifth held-out part: four more projects of other shapes (a WSGI toolkit, a coverage tracer, an async
    # compatibility layer, a crawling framework), labelled before the abstention threshold was chosen
    "werkzeug": ("pallets+werkzeug", "CHANGES.rst", None, 40),
    "coverage": ("nedbat+coveragepy", "CHANGES.rst", None, 40),
    "anyio": ("agronholm+anyio", "docs/versionhistory.rst", None, 40),
    "scrapy": ("scrapy+scrapy", "docs/news.rst", r"bug ?fix", 40),
    # sixth held-out part: four more projects of other shapes (a template engine, a distributed task queue, an
    # ASGI framework, an async runtime)
    "jinja": ("pallets+jinja", "CHANGES.rst", None, 40),
    "celery": ("celery+celery", "Changelog.rst", None, 40),
    "starlette": ("encode+starlette", "docs/release-notes.md", r"^fixed$", 40),
    "trio": ("python-trio+trio", "docs/source/history.rst", r"bug ?fix", 40),
    # seventh held-out part: four more projects of other shapes (a serialization library, an SSH implementation, a
    # packaging/build backend, a logging library); setuptools' releases of the last five years (v58.0.0 on, see
    # :data:`_OLDEST`)
    "marshmallow": ("marshmallow-code+marshmallow", "CHANGELOG.rst", r"bug ?fix", 40),
    "paramiko": ("paramiko+paramiko", "sites/www/changelog.rst", None, 40),
    "setuptools": ("pypa+setuptools", "NEWS.rst", r"bug ?fix", 40),
    "structlog": ("hynek+structlog", "CHANGELOG.md", r"^fixed$", 40),
    # eighth held-out part: four more projects of other shapes (a task runner, a static analyser, an HTTP transport,
    # a web framework); pylint's whatsnew of the last four years (2.15, 2022-08, to 4.1), falcon's towncrier release
    # notes (2.0.0 on: the older ones name no issue)
    "invoke": ("pyinvoke+invoke", "sites/www/changelog.rst", None, 40),
    "pylint": ("pylint-dev+pylint", tuple(f"doc/whatsnew/{v[0]}/{v}/index.rst" for v in (
        "4.1", "4.0", "3.3", "3.2", "3.1", "3.0", "2.17", "2.16", "2.15")),
        r"^(?:false (?:positives|negatives) fixed|other bug fixes)$", 40),
    "httpcore": ("encode+httpcore", "CHANGELOG.md", None, 40),
    "falcon": ("falconry+falcon", tuple(f"docs/changes/{v}.rst" for v in (
        "4.4.0", "4.3.1", "4.3.0", "4.2.0", "4.1.0", "4.0.2", "4.0.1", "4.0.0", "3.1.3", "3.1.2", "3.1.1", "3.1.0",
        "3.0.1", "3.0.0", "2.0.0")), r"^fixed$", 40),
}
#: project -> folder of its towncrier fragments (None: none); these projects sample only entries with an
#: issue number
NUMBERED: dict[str, str | None] = {"pip": "news", "aiohttp": "CHANGES", "httpx": None, "sphinx": None,
                                   "black": None, "uvicorn": None, "rich": None, "tox": "docs/changelog",
                                   "werkzeug": None, "coverage": None, "anyio": None, "scrapy": None,
                                   "jinja": None, "celery": None, "starlette": None, "trio": "newsfragments",
                                   "marshmallow": None, "paramiko": None, "setuptools": "newsfragments",
                                   "structlog": None, "invoke": None, "pylint": None, "httpcore": None,
                                   "falcon": "docs/_newsfragments"}
_FRAGMENT = re.compile(r"^(\d+)\.bugfix(?:\.rst|\.md)?$")
_BULLET = re.compile(r"^(?:[-*]\s+)(.*)$")
_HEADING_RST = re.compile(r"^[=\-~^]{3,}\s*$")
_FIXY = re.compile(r"^\s*(?:fix|fixed|fixes|fixing)\b|\bbug\b|\bregression\b|\bno longer (?:fails?|crash|raises?|errors?)",
                   re.I)
#: a wider :data:`_FIXY` for the sixth part only (celery writes "Bugfix: ..."), so that older candidates stay
#: byte-identical
_FIXY_WIDE = re.compile(_FIXY.pattern + r"|\bbug ?fix", re.I)
_ISSUE = re.compile(r"(?:issues?|pull)/(\d+)|#(\d+)|[:{](?:issue|pr)[:}]`(\d+)`")


def _clean(text: str) -> str:
    t = re.sub(r"`#\d+ <[^>]*>`_+:?", "", text)                 # pytest / urllib3 rst links
    t = re.sub(r"\(`[^`]*<https?://[^>]*>`__\)", "", t)
    t = re.sub(r"\[#?\d+\]\([^)]*\)", "", t)                    # markdown issue links
    t = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", t)               # other markdown links keep their words
    t = re.sub(r"[:{](?:issue|pr|ghsa)[:}]`[^`]*`", "", t)       # sphinx / myst roles
    t = re.sub(r"`([^`<]*?)\s*<https?://[^>]*>`_+", r"\1", t)   # rst links keep their words
    t = re.sub(r"https?://\S+", "", t)
    t = re.sub(r"\(#\d+(?:,\s*#\d+)*\)", "", t)
    t = t.replace("``", "`")
    return re.sub(r"\s+", " ", t).strip()


def _towncrier(text: str) -> str:
    """What towncrier templates add around an entry (:data:`NUMBERED` projects only, so that the older
    projects' candidates stay byte-identical): the "Related issues" line, contributor roles, and the ' , .'
    that removed issue roles leave at the end."""
    t = re.sub(r"\*Related issues and pull requests on GitHub:\*", "", text)
    t = re.sub(r"(?:--\s*)?(?:by\s+)?(?::user:`[^`]*`[,\s]*(?:and\s+)?)+\.?", "", t)
    return re.sub(r"(\S)(?:\s+[,.])+\s*$", r"\1", t.strip())


def _sphinx(text: str) -> str:
    """Sphinx's leading issue numbers (``#123, #456:``) and its closing "Patch by <names>." credit."""
    t = re.sub(r"^(?:#\d+[,\s]*)+:\s*", "", text)
    return re.sub(r"\s*Patch by\b.*$", "", t).strip()


def _httpx(text: str) -> str:
    """httpx's ``(Pull #123, #456)`` credit (the number is kept in ``issue``)."""
    return re.sub(r"\(Pull #\d+(?:,\s*#\d+)*\)", "", text).strip()


def _coverage(text: str) -> str:
    """coverage.py's ```issue N`_`` / ```pull request N`_`` references (the number is kept in ``issue``)."""
    return re.sub(r"`((?:issue|pull request) \d+)`_", r"\1", text).strip()


def _anyio(text: str) -> str:
    """anyio's ``(#N; PR by @name)`` credit left after its link is removed."""
    return re.sub(r"\(#\d+(?:,\s*#\d+)*(?:;[^)]*)?\)", "", text).strip()


def _scrapy(text: str) -> str:
    """scrapy's ``(:gh:`N`, ...)`` references (the number is kept in ``issue``)."""
    return re.sub(r"\(?(?::gh:`\d+`[,\s]*)+\)?", "", text).strip()


def _dangling(text: str) -> str:
    """A closing "... see" whose reference was removed."""
    return re.sub(r"(?:(?<=[.!?])|^)\s*[^.!?]*\b[Ss]ee\s*$", "", text).strip()


def _roles(text: str) -> str:
    """Sphinx roles (``:class:`~a.B``` shows ``B``, ``:func:`f``` shows ``f``, ``:pep:`N``` shows ``PEP N``), the
    same in the default role, directives (``.. note::``), escaped quotes and doubled backticks (jinja, trio)."""
    def shown(m: re.Match[str]) -> str:
        target = m.group(3).strip()
        if m.group(1) == "pep":
            return f"PEP {target}"
        return "`" + (target.rsplit(".", 1)[-1] if m.group(2) else target) + "`"
    t = re.sub(r"`{2,}", "`", text)
    t = re.sub(r":(?:[\w-]+:)?([\w-]+):`(~?)([^`<]*?)(?:\s*<[^>]*>)?`", shown, t)
    t = re.sub(r"`~([\w.]+)`", lambda m: f"`{m.group(1).rsplit('.', 1)[-1]}`", t)
    t = re.sub(r"`([^`<]*?)\s*<[^>`]*>`", r"`\1`", t)
    t = re.sub(r"\.\. [\w-]+::\s*", "", t).replace("\\'", "'")
    return _dangling(t)


def _celery(text: str) -> str:
    """celery's pull-request titles: the "by @name in #N" credit, "(Issue #N)" and a closing bare "#N" (the
    number is kept in ``issue``)."""
    t = re.sub(r"\s+by @[\w-]+(?:,?\s+(?:and\s+)?@[\w-]+)*\s+in\s+#\d+\.?\s*$", "", text)
    t = re.sub(r"\s*\(Issue #\d+\)", "", t)
    t = re.sub(r"\s+([.,])", r"\1", t)
    return re.sub(r"(?<!\bby)(?<!\bin)(?<!\bof)(?<!\bsee)\s+#\d+\.?\s*$", "", t).strip()


def _starlette(text: str) -> str:
    """starlette's " - " before its links, and the "and" / "fixed via #N" left when the links are removed."""
    t = re.sub(r"\s+fixed via #\d+", "", text)
    return _dangling(re.sub(r"(?:\s+(?:-|and|,))+\s*(?:#\d+)?\.?\s*$", "", t))


#: sixth part: changelogs that list merged pull requests' titles, whose documentation, typo, test and CI changes
#: are not defects of the software
_PR_TITLES = ("celery", "starlette")
_NOT_A_DEFECT = re.compile(r"\b(?:docs|documentation|typos?|grammar|changelog|readme|docstrings?|lint(?:er|ing)?|"
                           r"flake8|codespell|workflows?|CI|copyright|examples?|tests?|smoke|pytest[\w-]*|"
                           r"mkdocs[\w-]*|readthedocs|dockerfile|github)\b", re.I)
#: sixth part: heading of the releases that carry only bug fixes (pallets' x.y.Z), whose every entry counts as a
#: fix besides the entries elsewhere that say they fix something
_FIX_RELEASE = {"jinja": r"^Version \d+\.\d+\.[1-9]\d*$"}
_SIXTH = ("jinja", "celery", "starlette", "trio")
_SEVENTH = ("marshmallow", "paramiko", "setuptools", "structlog")
#: seventh part: "Bug fixes:" lines as section headings (marshmallow) and release titles underlined with '*' or '+'
_HEADING_WIDE = re.compile(r"^[=\-~^*+]{3,}\s*$")
#: seventh part: the changelog's own bug role opens the entry (paramiko's ``:bug:`N```; :feature:/:support: are not
#: bugs), its number the entry's own issue
_FIXY_OF = {"paramiko": re.compile(r"^:bug:`")}
#: seventh part: project -> (its oldest release read, its release headings); the changelog is read down to the
#: release below that one (setuptools: the last five years, v58.0.0 of 2021-09 on; older entries describe code long
#: gone, 2to3 and easy_install, and before 2016 another tracker's numbers)
_OLDEST = {"setuptools": (r"^v58\.0\.0$", r"^v\d+\.\d+(?:\.\d+)?$")}
_EIGHTH = ("invoke", "pylint", "httpcore", "falcon")
#: eighth part: invoke's own bug role (as paramiko's); httpcore's entries that say they fix or handle something, and
#: every entry of its older releases' "Fixed" sections
_FIXY_EIGHTH = {"invoke": re.compile(r"^:bug:`"),
                "httpcore": re.compile(_FIXY.pattern + r"|^\s*handl(?:e[sd]?|ing)\b", re.I)}
_FIX_SECTION = {"httpcore": r"^Fixed$"}


def _since(text: str, oldest: tuple[str, str] | None) -> str:
    """``text`` down to the release after ``oldest``'s first regex (the whole text without it)."""
    if oldest is None:
        return text
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if re.match(oldest[0], line.strip())), None)
    if start is None:
        raise SystemExit(f"release {oldest[0]} not found")
    end = next((i for i in range(start + 1, len(lines)) if re.match(oldest[1], lines[i].strip())), len(lines))
    return "\n".join(lines[:end])


def _xrefs(raw: str, own: str) -> str:
    """Before :func:`_clean` (seventh part): links into another repository whose words name an issue there
    ("Fabric #811": :func:`_foreign_links`; other links keep their words in :func:`_clean`), a parenthesis that
    names issues ("(fixed in :issue:`N`)", "(pypa/distutils#N)": a cross-reference, its words say nothing without
    the numbers), and the project's own ``owner/repo#N``, linked or not, as ``#N`` (no repository name in the
    text)."""
    own_n = rf"\b{re.escape(own)}#(\d+)\b"
    t = re.sub(rf"`{own_n}\s*<[^>]*>`_+|\[{own_n}\]\([^)]*\)", lambda m: f"#{m.group(1) or m.group(2)}", raw)
    t = re.sub(r"`[^`<]*#\d+[^`<]*<[^>]*>`_+|\[[^\]]*#\d+[^\]]*\]\([^)]*\)",
               lambda m: _foreign_links(m.group(0), own), t)
    ref = r"(?:[:{](?:issue|pr|bug)[:}]`[^`]*`|[\w.-]+/[\w.-]+(?:#\d+|@[0-9a-f]{7,40})|(?<![\w`])#\d+)"
    t = re.sub(rf"\s*\((?=[^()]*{ref})[^()]*\)", "", t)
    return re.sub(own_n, r"#\1", t)


def _seventh(text: str) -> str:
    """The seventh part's changelog markup, after :func:`_clean`: the opening bug role (``:bug:`N major```), other
    trackers' ``owner/repo#N`` and ``owner/repo@sha`` (a repository name), a link's "#N (comment)" words, closing
    credits (", courtesy of ...", then from a later sentence that credits someone, "Thanks to ...", "Patch courtesy
    of ...", "Props to ...", "Reported by X", "Report & patch credit: ...", to the end: people's names), parentheses
    left with only the words around removed references ("(also and others)", "(reference: )"), rst-escaped
    punctuation and the space that removed references leave before it, then :func:`_roles`."""
    t = re.sub(r"^:bug:`[^`]*`\s*", "", text)
    t = re.sub(r"\b(?:per|see|in|for)?\s*\b[\w.-]+/[\w.-]+(?:#\d+|@[0-9a-f]{7,40})\b", "", t)
    t = re.sub(r"#\d+\s*\(comment\)", "", t)
    t = re.sub(r",\s*(?:courtesy of|thanks to|props to)\s+[^.!?]*[.!?]?\s*$", ".", t, flags=re.I)
    t = re.sub(r"(?s)(?<=[.!?;)])\s*(?:[\w&,' -]{0,60}?\b(?i:courtesy of|credits?:|credits? to|thanks to|props to)"
               r"|(?i:(?:big\s+|many\s+|special\s+)?(?:thanks|props|kudos))\b"
               r"|(?i:report(?:ed)?|spotted|caught|found|patch(?:ed|es)?|catch\s*(?:&|and)\s*patch)\b[^.!?]{0,40}?"
               r"\b(?:by|via)\s+(?:[A-Z]|`?@)).*$", "", t)
    t = re.sub(r"\((?:\s|[,;:&]|\b(?:also|via|see|fixed|in|solves|and|or|partially|possibly|countless|others|"
               r"which|was|a|rebase|of|related|to|cf|as|reported|such|regression|reference|by|the|should|e\.g)\b)*\)", "", t)
    t = re.sub(r"\\([.,;:])|(?<=`)\\(?=\w)", r"\1", t)
    t = re.sub(r"\s+([.,;:])(?=\s|$)", r"\1", t)
    return _roles(t.strip())


def _pylint(text: str) -> str:
    """pylint's closing "Closes #N" / "Refs #N" / "Follow-up to #N" lines (towncrier; the number is kept in
    ``issue``), then :func:`_seventh`."""
    ref = r"(?i:closes|fixes(?: part of)?|refs|follow[- ]up (?:to|of|in)|related to)\s*:?\s*#\d+"
    t = re.sub(rf"\s*\b{ref}(?:\s*(?:,|;|\band\b)\s*(?:{ref}|#\d+))*\.?", "", text)
    return _seventh(re.sub(r"\s*\(\s*`?\s*\)", "", t))


def _eighth(text: str) -> str:
    """The eighth part's other changelogs: httpx-style ``(Pull #N)`` credits (httpcore), then :func:`_seventh`."""
    return _seventh(_httpx(text))


def _protect(text: str) -> str:
    """Before :func:`_clean` (eighth part): code spans that look like a link but are not, a bare scheme (``http://``)
    and a bare placeholder (``<cwd>``), kept from the URL and link rules (:func:`_restore` puts them back)."""
    t = re.sub(r"(`+)(\w+:)//(`+)", "\\1\\2\x03\\3", text)
    return re.sub(r"(`+)<([^<>`\s]+)>(`+)", "\\1\x01\\2\x02\\3", t)


def _restore(text: str) -> str:
    return text.replace("\x03", "//").replace("\x01", "<").replace("\x02", ">")


def _foreign_links(text: str, own: str) -> str:
    """``text`` without links into another repository (their numbers are never the entry's own issue)."""
    other = rf"https?://github\.com/(?!{re.escape(own)}/)[^\s>)]*"
    t = re.sub(rf"`[^`]*<{other}>`_+", "", text)
    t = re.sub(rf"\[[^\]]*\]\({other}\)", "", t)
    return _FOREIGN.sub("", re.sub(other, "", t))


#: project -> its own changelog conventions, removed after :func:`_clean` (third held-out part only, so that
#: the older projects' candidates stay byte-identical)
_HOUSE_STYLE = {"sphinx": _sphinx, "httpx": _httpx, "black": str.strip, "uvicorn": str.strip, "rich": str.strip,
                "tox": str.strip, "werkzeug": str.strip, "coverage": _coverage, "anyio": _anyio, "scrapy": _scrapy,
                "jinja": _roles, "celery": _celery, "starlette": _starlette, "trio": _roles,
                "marshmallow": _seventh, "paramiko": _seventh, "setuptools": _seventh, "structlog": _seventh,
                "invoke": _seventh, "pylint": _pylint, "httpcore": _eighth, "falcon": _eighth}
#: project -> how its changelog names an issue where :data:`_ISSUE` does not see it
_ISSUE_OF = {"coverage": re.compile(r"`(?:issue|pull request) (\d+)`_"), "scrapy": re.compile(r":gh:`(\d+)`"),
             # celery: the pull request's own number closes the title; a number before it is what it mentions
             "celery": re.compile(r"(?s)^.*(?:\(#(\d+)\)|\bin #(\d+))\.?\s*$|#(\d+)"),
             "paramiko": re.compile(r"^:bug:`(\d+)"),
             # setuptools (towncrier): the closing "(#N)", not a pull request the text mentions
             "setuptools": re.compile(r"(?s)^.*\(#(\d+)(?:,\s*#\d+)*\)\s*$"),
             "invoke": re.compile(r"^:bug:`(\d+)"),
             # pylint: the "Closes #N" (or "Refs #N") line, not an issue the text mentions
             "pylint": re.compile(r"(?s)^(?:.*?\b(?:Closes|Fixes|Refs)\s+#(\d+)|.*?#(\d+))")}
#: ``owner/repo#N``: a number in another project's tracker, never the entry's own issue
_FOREIGN = re.compile(r"[\w.-]+/[\w.-]+#\d+")


def _tidy(text: str) -> str:
    """Leftovers of removed links: a leading ':'/',' and empty '()'."""
    t = re.sub(r"(?:^|\s)\(\s*\)", " ", text.replace("\\#", "#").replace("\\_", "_"))
    return re.sub(r"\s+", " ", re.sub(r"^[\s:,]+", "", t)).strip()


def entries(text: str, section: str | None, fixy: re.Pattern[str] = _FIXY,
            fix_release: str | None = None, underline: re.Pattern[str] = _HEADING_RST,
            colon_headings: bool = False) -> list[tuple[str, str]]:
    """(heading, raw entry) for every top-level bullet; heading = last section heading above it (a line over an
    ``underline``; with ``colon_headings`` also an unindented line ending in ':'). Without a ``section``, the
    entries that match ``fixy`` or stand under a ``fix_release`` heading."""
    lines = text.splitlines()
    out: list[tuple[str, list[str]]] = []
    heading = ""
    for i, line in enumerate(lines):
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if underline.match(nxt) and line.strip() and not _BULLET.match(line):
            heading = line.strip()
            continue
        if colon_headings and re.match(r"^\w[^:]*:\s*$", line):
            heading = line.strip().rstrip(":")
            continue
        if line.startswith("#") or re.match(r"^\*\*[^*]+\*\*\s*$", line):
            heading = line.strip("#* ").strip()
            continue
        m = _BULLET.match(line)
        if m:
            out.append((heading, [m.group(1)]))
        elif out and line.startswith((" ", "\t")) and line.strip():
            out[-1][1].append(line.strip())
        elif out and not line.strip():
            out[-1][1].append("")
    res = []
    for h, body in out:
        raw = "\n".join(body).strip()
        raw = raw.split("\n\n")[0] if section is None else raw
        if section is not None:
            if re.search(section, h, re.I):
                res.append((h, raw))
        elif fixy.search(raw) or (fix_release is not None and re.search(fix_release, h)):
            res.append((h, raw))
    return res


def _git(repo: str, *args: str) -> str:
    return subprocess.run(["git", "-C", repo, *args], capture_output=True, text=True, check=True).stdout


def fragments(repo: str, commit: str, folder: str) -> list[tuple[str, str, str]]:
    """(path, raw text, issue number) of every bug-fix fragment ``folder/<N>.bugfix.rst`` at ``commit``."""
    out = []
    for name in _git(repo, "ls-tree", "--name-only", commit, f"{folder}/").split():
        m = _FRAGMENT.match(name.rsplit("/", 1)[-1])
        if m:
            out.append((name, _git(repo, "show", f"{commit}:{name}").strip(), m.group(1)))
    return out


def main(root: str) -> None:
    rng = random.Random(17)
    for project, (folder, path, section, k) in SOURCES.items():
        repo = f"{root}/{folder}"
        commit = _git(repo, "rev-parse", "HEAD").strip()
        paths = (path,) if isinstance(path, str) else path
        wide: tuple[re.Pattern[str], str | None, re.Pattern[str], bool] = (
            (_FIXY_WIDE, _FIX_RELEASE.get(project), _HEADING_RST, False) if project in _SIXTH
            else (_FIXY_OF.get(project, _FIXY), None, _HEADING_WIDE, True) if project in _SEVENTH
            else (_FIXY_EIGHTH.get(project, _FIXY), _FIX_SECTION.get(project), _HEADING_WIDE, False)
            if project in _EIGHTH
            else (_FIXY, None, _HEADING_RST, False))
        found: list[tuple[str, str, str | None]] = [
            (p, raw, None) for p in paths
            for _, raw in entries(_since(_git(repo, "show", f"{commit}:{p}"), _OLDEST.get(project)), section, *wide)]
        fragment_dir = NUMBERED.get(project)
        if fragment_dir:
            found += fragments(repo, commit, fragment_dir)
        seen: set[str] = set()
        uniq = []
        for where, raw, number in found:
            probe = _foreign_links(raw, folder.replace("+", "/", 1)) if project in _SIXTH + _SEVENTH + _EIGHTH else raw
            m = _ISSUE_OF.get(project, _ISSUE).search(_FOREIGN.sub("", probe) if project in _HOUSE_STYLE else probe)
            issue = number or (next((g for g in m.groups() if g), None) if m else None)
            text = _xrefs(raw, folder.replace("+", "/", 1)) if project in _SEVENTH + _EIGHTH else raw
            text = _protect(text) if project in _EIGHTH else text
            clean = _towncrier(_clean(text)) if project in NUMBERED else _clean(text)
            clean = _HOUSE_STYLE[project](clean) if project in _HOUSE_STYLE else clean
            clean = _restore(clean) if project in _EIGHTH else clean
            if project in _PR_TITLES and _NOT_A_DEFECT.search(clean):
                continue
            key = clean.casefold() if project in _SIXTH + _SEVENTH + _EIGHTH else clean
            if len(clean) < 15 or key in seen or (project in NUMBERED and issue is None):
                continue
            seen.add(key)
            uniq.append((where, issue, clean))
        for n, (where, issue, clean) in enumerate(sorted(rng.sample(uniq, min(k, len(uniq))), key=uniq.index)):
            print(json.dumps({"id": f"{project}-{n + 1:03d}", "project": project, "source": f"{where}@{commit}",
                              "issue": int(issue) if issue else None, "text": _tidy(clean), "pool": len(uniq)}))


if __name__ == "__main__":
    main(sys.argv[1])
