"""Small real git repositories for tests: one way to run git, write files and commit.

Every git call gets a fixed author and date (default 2024-01-01 12:00 UTC, author "Ann"), so commits, shas and
the dates the loaders read are the same on every run and every machine, whatever the user's git config says.
"""
from __future__ import annotations

import os
import subprocess
import textwrap
from pathlib import Path


def when(day: int = 1, month: int = 1, hour: int = 12) -> str:
    """An ISO timestamp in 2024, UTC: the date a commit made with ``git(..., date=when(day))`` carries."""
    return f"2024-{month:02d}-{day:02d}T{hour:02d}:00:00+00:00"


def git(repo: Path, *args: str, date: str | None = None, author: str = "Ann", input: bytes | None = None) -> str:
    """Run ``git -C repo *args`` as ``author`` at ``date``; its stdout (UTF-8). A failing git fails the test."""
    date = date or when()
    email = f"{author.lower()}@example.com"
    env = dict(os.environ, GIT_AUTHOR_DATE=date, GIT_COMMITTER_DATE=date, GIT_AUTHOR_NAME=author,
               GIT_AUTHOR_EMAIL=email, GIT_COMMITTER_NAME=author, GIT_COMMITTER_EMAIL=email)
    res = subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env=env, input=input)
    return res.stdout.decode()


def write(root: Path, files: dict[str, str | bytes]) -> None:
    """Write ``files`` (relative path -> content) under ``root``, creating folders.

    Text is dedented and loses its leading newlines, so a test can indent a file's body in a triple-quoted string
    that opens on its own line; bytes are written as they are.
    """
    for rel, content in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(textwrap.dedent(content).lstrip("\n"))


def commit(repo: Path, message: str = "change", files: dict[str, str | bytes] | None = None, *,
           date: str | None = None, author: str = "Ann") -> str:
    """Write ``files`` (if any), stage everything and commit; the new commit's sha."""
    if files:
        write(repo, files)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message, date=date, author=author)
    return git(repo, "rev-parse", "HEAD").strip()


def make_repo(path: Path, files: dict[str, str | bytes] | None = None, *, message: str = "init",
              date: str | None = None) -> Path:
    """A new repository at ``path`` on branch main; with ``files``, one commit holding them. Returns ``path``."""
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    if files:
        commit(path, message, files, date=date)
    return path
