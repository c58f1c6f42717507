"""Extract candidate bug-fix entries from public changelogs (run once; the output is labelled by hand).

Reads the committed changelog of each project through ``git show <commit>:<path>``
(never a work tree), splits it into top-level bullet entries, keeps the bug-fix
entries (in a "Bug fixes" section where the changelog has one, else entries that
say they fix something), strips issue links and URLs from the text (a URL would
leak project names into the text) and samples a fixed number per project with a
fixed seed. Output: ``candidates.jsonl`` (id, project, source, issue, text).

    python data/labelled_bugs/extract.py /tmp/rr > data/labelled_bugs/candidates.jsonl
"""
from __future__ import annotations

import json
import random
import re
import subprocess
import sys

#: project -> (clone folder, changelog path, section regex or None, sample size)
SOURCES = {
    "pytest": ("pytest-dev+pytest", "doc/en/changelog.rst", r"bug ?fix", 45),
    "urllib3": ("urllib3+urllib3", "CHANGES.rst", None, 35),
    "click": ("pallets+click", "CHANGES.md", None, 30),
    "flask": ("pallets+flask", "CHANGES.rst", None, 25),
    "attrs": ("python-attrs+attrs", "CHANGELOG.md", None, 25),
    "requests": ("psf+requests", "HISTORY.md", r"bug ?fix", 60),
}
_BULLET = re.compile(r"^(?:[-*]\s+)(.*)$")
_HEADING_RST = re.compile(r"^[=\-~^]{3,}\s*$")
_FIXY = re.compile(r"^\s*(?:fix|fixed|fixes|fixing)\b|\bbug\b|\bregression\b|\bno longer (?:fails?|crash|raises?|errors?)",
                   re.I)
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


def _tidy(text: str) -> str:
    """Leftovers of removed links: a leading ':'/',' and empty '()'."""
    t = re.sub(r"(?:^|\s)\(\s*\)", " ", text.replace("\\#", "#").replace("\\_", "_"))
    return re.sub(r"\s+", " ", re.sub(r"^[\s:,]+", "", t)).strip()


def entries(text: str, section: str | None) -> list[tuple[str, str]]:
    """(heading, raw entry) for every top-level bullet; heading = last section heading above it."""
    lines = text.splitlines()
    out: list[tuple[str, list[str]]] = []
    heading = ""
    for i, line in enumerate(lines):
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if _HEADING_RST.match(nxt) and line.strip() and not _BULLET.match(line):
            heading = line.strip()
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
        elif _FIXY.search(raw):
            res.append((h, raw))
    return res


def main(root: str) -> None:
    rng = random.Random(17)
    for project, (folder, path, section, k) in SOURCES.items():
        repo = f"{root}/{folder}"
        commit = subprocess.run(["git", "-C", repo, "rev-parse", "HEAD"], capture_output=True, text=True,
                                check=True).stdout.strip()
        text = subprocess.run(["git", "-C", repo, "show", f"{commit}:{path}"], capture_output=True, text=True,
                              check=True).stdout
        found = entries(text, section)
        seen: set[str] = set()
        uniq = []
        for h, raw in found:
            clean = _clean(raw)
            if len(clean) < 15 or clean in seen:
                continue
            seen.add(clean)
            uniq.append((raw, clean))
        for n, (raw, clean) in enumerate(sorted(rng.sample(uniq, min(k, len(uniq))), key=uniq.index)):
            m = _ISSUE.search(raw)
            issue = next((g for g in m.groups() if g), None) if m else None
            print(json.dumps({"id": f"{project}-{n + 1:03d}", "project": project, "source": f"{path}@{commit}",
                              "issue": int(issue) if issue else None, "text": _tidy(clean), "pool": len(uniq)}))


if __name__ == "__main__":
    main(sys.argv[1])
