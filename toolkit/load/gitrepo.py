"""Read-only access to a git repository, at its work tree or at any revision.

Everything that reads a repository (structure, history, mocks, interface docs)
goes through :class:`Repo`, so that

* a **git bundle** (how the sample ships) is usable: it is cloned once, bare,
  into seamscope's cache directory keyed on the bundle's content hash — the
  bundle itself is never written;
* a **past revision** is read straight from git objects (``git ls-tree`` and
  one ``git cat-file --batch`` process), never by checking out into the user's
  work tree;
* the analysed repository is never written to (no checkout, no index refresh:
  every git call runs with ``GIT_OPTIONAL_LOCKS=0``).
"""
from __future__ import annotations

import atexit
import functools
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from toolkit.errors import InputError

_GIT_ENV = {"GIT_OPTIONAL_LOCKS": "0", "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}
_ESCAPED_BYTE = re.compile(rb"\\x([89a-f][0-9a-f])")


def path_text(raw: bytes) -> str:
    """A path as every table holds it: UTF-8, each byte that is not valid UTF-8 written ``\\xNN``.

    One definition for every loader: git reports paths as bytes, a repository may hold names that are not
    UTF-8 (Latin-1 from an old system), Arrow strings cannot hold the surrogates Python would decode those to,
    and structure, history and everything joined on paths must name a file the same way.
    """
    return raw.decode("utf-8", "backslashreplace")


def path_bytes(path: str) -> bytes:
    """The bytes git knows ``path`` by: the inverse of :func:`path_text` (a valid UTF-8 name that itself holds
    a literal ``\\x80``-``\\xff`` would be misread; no real repository we know of has one)."""
    raw = path.encode("utf-8", "surrogateescape")
    return _ESCAPED_BYTE.sub(lambda m: bytes([int(m.group(1), 16)]), raw) if b"\\x" in raw else raw


def cache_dir() -> Path:
    """seamscope's cache root: ``$SEAMSCOPE_CACHE``, else ``$XDG_CACHE_HOME/seamscope``, else ``~/.cache/seamscope``."""
    root = os.environ.get("SEAMSCOPE_CACHE")
    if root:
        return Path(root)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "seamscope"


@functools.lru_cache(maxsize=1)
def _private_bundles() -> Path:
    """A private folder (0700) for bundle clones when the cache may not be used; removed when the process ends."""
    path = Path(tempfile.mkdtemp(prefix="seamscope-bundles-"))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(_GIT_ENV)
    return env


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


_OBJECT_ID = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
_RESOLVED: dict[tuple[Path, str], str] = {}  # (git dir, object id) -> commit id


@dataclass(frozen=True)
class Repo:
    """A git repository opened read-only.

    ``git_dir`` is what git commands run against; ``work_tree`` is the checkout
    the user pointed at (``None`` for bundles and bare repositories); ``origin``
    is the path the user gave, for messages.
    """

    git_dir: Path
    work_tree: Path | None
    origin: str

    @property
    def cache_id(self) -> str:
        """A short stable name for this repository's files in seamscope's cache (its git folder, hashed)."""
        return hashlib.sha1(str(self.git_dir.resolve()).encode("utf-8", "surrogateescape")).hexdigest()[:16]

    # ---- opening -------------------------------------------------------
    @classmethod
    def open(cls, path: str | os.PathLike, *, flag: str = "REPO") -> "Repo":
        """Open a work tree, a bare repository or a ``.bundle`` file.

        Raises :class:`InputError` naming ``path`` when it does not exist or is
        not a git repository.
        """
        p = Path(path)
        if not p.exists():
            raise InputError(p, "does not exist", flag=flag, hint="give the path of a git repository or a .bundle file")
        if p.is_file():
            return cls._from_bundle(p, flag)
        try:
            out = subprocess.run(
                ["git", "-C", str(p), "rev-parse", "--absolute-git-dir", "--is-bare-repository",
                 "--is-inside-work-tree"],
                capture_output=True, text=True, env=_env(), check=False,
            )
        except FileNotFoundError as exc:  # pragma: no cover - git is a documented prerequisite
            raise InputError(p, "git is not installed", hint="install git") from exc
        if out.returncode != 0:
            raise InputError(p, "is not a git repository", flag=flag,
                             hint="run seamscope on a git clone (git init/clone), or pass a .bundle file")
        lines = out.stdout.splitlines()
        git_dir = Path(lines[0])
        work_tree = None
        if lines[1].strip() != "true" and lines[2].strip() == "true":
            top = subprocess.run(["git", "-C", str(p), "rev-parse", "--show-toplevel"], capture_output=True,
                                 text=True, env=_env(), check=False)
            work_tree = Path(top.stdout.strip()).resolve() if top.returncode == 0 else None
        return cls(git_dir=git_dir, work_tree=work_tree, origin=str(p))

    @classmethod
    def _from_bundle(cls, bundle: Path, flag: str) -> "Repo":
        from toolkit import cache

        in_cache = cache.enabled()  # a refused cache folder (another user's, read-only, full) holds no clone
        target = (cache_dir() / "bundles" if in_cache else _private_bundles()) / (_file_sha256(bundle)[:20] + ".git")
        if not (target / "HEAD").exists():
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                tmp = Path(tempfile.mkdtemp(prefix=".clone-", dir=target.parent))
            except OSError as exc:
                if not in_cache:
                    raise
                cache.write_failed(exc)
                return cls._from_bundle(bundle, flag)
            res = subprocess.run(["git", "clone", "--quiet", "--bare", str(bundle.resolve()), str(tmp / "r.git")],
                                 capture_output=True, text=True, env=_env())
            if res.returncode != 0:
                shutil.rmtree(tmp, ignore_errors=True)
                if in_cache:  # perhaps the cache folder is full: try once outside it, without a cache
                    last = (res.stderr.strip().splitlines() or ["git clone failed"])[-1][-160:]
                    cache.write_failed(OSError(f"cloning a bundle into it failed: {last}"))
                    return cls._from_bundle(bundle, flag)
                raise InputError(bundle, f"is neither a git repository nor a readable git bundle: {res.stderr.strip()}",
                                 flag=flag)
            try:
                os.replace(tmp / "r.git", target)  # atomic: a concurrent run either sees all or nothing
            except OSError:
                if not (target / "HEAD").exists():
                    raise
            shutil.rmtree(tmp, ignore_errors=True)
        return cls(git_dir=target, work_tree=None, origin=str(bundle))

    # ---- plumbing --------------------------------------------------------
    def git(self, *args: str, check: bool = True, text: bool = True) -> subprocess.CompletedProcess:
        """Run a read-only git command against this repository."""
        res = subprocess.run(["git", "--git-dir", str(self.git_dir), *args], capture_output=True, text=text,
                             env=_env(), check=False)
        if check and res.returncode != 0:
            err = res.stderr if text else res.stderr.decode("utf-8", "replace")
            raise InputError(self.origin, f"git {' '.join(args[:3])} failed: {err.strip()}")
        return res

    def popen(self, *args: str) -> subprocess.Popen:
        """Start a streaming git command (stdout as bytes)."""
        return subprocess.Popen(["git", "--git-dir", str(self.git_dir), *args], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=_env())

    def resolve(self, rev: str = "HEAD") -> str | None:
        """The commit id of ``rev``, or ``None`` for an empty repository at HEAD.

        An object id always names the same commit, so its answer is remembered (readers resolve the
        revision they read at on every call); names such as branches are asked each time, as they move."""
        fixed = _OBJECT_ID.fullmatch(rev) is not None
        if fixed and (self.git_dir, rev) in _RESOLVED:
            return _RESOLVED[(self.git_dir, rev)]
        res = self.git("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}", check=False)
        if res.returncode != 0:
            if rev == "HEAD":
                return None
            raise InputError(self.origin, f"revision {rev!r} does not exist", flag="--at",
                             hint="give a commit id, tag or branch of this repository")
        commit = res.stdout.strip()
        if fixed:
            if len(_RESOLVED) > 10_000:
                _RESOLVED.clear()
            _RESOLVED[(self.git_dir, rev)] = commit
        return commit

    def is_shallow(self) -> bool:
        return self.git("rev-parse", "--is-shallow-repository").stdout.strip() == "true"

    # ---- files -----------------------------------------------------------
    def list_files(self, rev: str | None = None) -> list[str]:
        """Repository-relative paths of tracked files at ``rev`` (``None``: the work tree as it is on disk,
        tracked and untracked-but-not-ignored; HEAD for bundles and bare repositories)."""
        if rev is None and self.work_tree is not None:
            res = subprocess.run(["git", "-C", str(self.work_tree), "ls-files", "-z", "--cached", "--others",
                                  "--exclude-standard"], capture_output=True, env=_env(), check=True)
            root = os.fsencode(self.work_tree)
            isfile = os.path.isfile  # pathlib per path costs more than the stat on big trees
            return sorted({path_text(p) for p in res.stdout.split(b"\0") if p and isfile(os.path.join(root, p))})
        commit = self.resolve(rev or "HEAD")
        if commit is None:
            return []
        res = self.git("ls-tree", "-r", "-z", "--name-only", commit, text=False)
        return sorted(path_text(p) for p in res.stdout.split(b"\0") if p)

    def _on_disk(self, path: str) -> Path:
        """The work-tree file of a table path (:func:`path_text`)."""
        assert self.work_tree is not None
        return self.work_tree / os.fsdecode(path_bytes(path))

    def read_files(self, paths: Iterable[str], rev: str | None = None) -> Iterator[tuple[str, bytes]]:
        """Yield ``(path, content)`` for each path, from disk (work tree, ``rev=None``) or from git objects."""
        paths = list(paths)
        if rev is None and self.work_tree is not None:
            for p in paths:
                yield p, self._on_disk(p).read_bytes()
            return
        commit = self.resolve(rev or "HEAD")
        if commit is None:
            return
        proc = subprocess.Popen(["git", "--git-dir", str(self.git_dir), "cat-file", "--batch"],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=_env())
        assert proc.stdin and proc.stdout
        try:
            for p in paths:
                proc.stdin.write(f"{commit}:".encode() + path_bytes(p) + b"\n")
                proc.stdin.flush()
                header = proc.stdout.readline().split()
                if len(header) < 3 or header[1] == b"missing":
                    continue
                size = int(header[2])
                data = proc.stdout.read(size)
                proc.stdout.read(1)  # trailing newline
                yield p, data
        finally:
            proc.stdin.close()
            proc.stdout.close()
            proc.wait()

    def read_blobs(self, pairs: Iterable[tuple[str | None, str]]) -> Iterator[tuple[tuple[str | None, str], bytes | None]]:
        """Yield ``((rev, path), content)`` for each pair, in order; ``None`` when ``path`` does not exist at
        ``rev`` (or is not a file there).

        Every revision is read through ONE ``git cat-file --batch`` process (object names ``rev:path``;
        revisions are not resolved one by one), with requests written on a thread while answers are read, so
        thousands of revisions cost one process. ``rev=None`` reads the work tree (HEAD for bundles and bare
        repositories), as :meth:`read_files` does.
        """
        pairs = list(pairs)
        if not pairs:
            return
        on_disk = self.work_tree is not None
        batch = [(r, p) for r, p in pairs if r is not None or not on_disk]
        proc = subprocess.Popen(["git", "--git-dir", str(self.git_dir), "cat-file", "--batch"],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=_env(),
                                bufsize=1 << 16)
        assert proc.stdin and proc.stdout
        stdin = proc.stdin

        def feed() -> None:
            try:
                for r, p in batch:
                    if "\n" in p:  # cannot be named on a --batch line; asked as a name that cannot exist
                        p = "\0"
                    stdin.write(f"{r or 'HEAD'}:".encode("utf-8", "surrogateescape") + path_bytes(p) + b"\n")
                stdin.close()
            except (BrokenPipeError, ValueError):
                pass  # the reader stopped early (generator closed); nothing more to ask

        writer = threading.Thread(target=feed, daemon=True)
        writer.start()
        out = proc.stdout
        try:
            for rev, path in pairs:
                if rev is None and on_disk:
                    f = self._on_disk(path)
                    yield (rev, path), (f.read_bytes() if f.is_file() else None)
                    continue
                header = out.readline()
                if not header:
                    raise InputError(self.origin, "git cat-file --batch stopped answering")
                parts = header.split()
                if len(parts) == 3 and parts[1] in (b"blob", b"tree", b"commit", b"tag"):
                    data = out.read(int(parts[2]))
                    out.read(1)  # trailing newline
                    yield (rev, path), (data if parts[1] == b"blob" else None)
                else:  # "<name> missing" / "ambiguous"
                    yield (rev, path), None
        finally:
            out.close()
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            writer.join()
