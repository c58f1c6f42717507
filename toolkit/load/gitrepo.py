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
  every git call runs with ``GIT_OPTIONAL_LOCKS=0``);
* the analysed repository is **data only**: every git command seamscope runs is built by :func:`git_command`
  and run with :func:`git_env` — no system or global config, no fsmonitor, hooks, pager, external diff,
  textconv, clean/smudge/process filters, credential helpers or signature programs, whatever the repository's
  own ``.git/config`` says (see SECURITY.md). ``git status`` is never run and no command reads work-tree
  content through git: work-tree files are read from disk as bytes (:meth:`Repo.read_files`).
"""
from __future__ import annotations

import atexit
import functools
import hashlib
import os
import re
import shutil
import stat
import subprocess
import tempfile
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from toolkit.errors import InputError, report_skip
from toolkit.runtime import cache

#: The environment every git call runs with (on top of the user's, minus every inherited ``GIT_*`` variable, so
#: a ``GIT_DIR``/``GIT_CONFIG_PARAMETERS``/``GIT_EXTERNAL_DIFF`` in the caller's environment changes nothing).
_GIT_ENV = {"GIT_OPTIONAL_LOCKS": "0", "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull, "GIT_NO_REPLACE_OBJECTS": "1", "GIT_ATTR_NOSYSTEM": "1",
            "GIT_PAGER": "cat", "PAGER": "cat", "GIT_ASKPASS": "", "SSH_ASKPASS": "", "GIT_NO_LAZY_FETCH": "1"}
#: Inherited variables git itself needs to find its helpers (the only ``GIT_*`` kept).
_GIT_ENV_KEEP = ("GIT_EXEC_PATH",)
#: ``-c`` settings of every git call: they outrank the repository's own config, so a hostile ``.git/config``
#: cannot make a read run a program (fsmonitor, hooks, pager, external diff, signatures, credentials, ssh).
_GIT_CONFIG = ("core.fsmonitor=false", "core.hooksPath=" + os.devnull, "core.pager=cat", "diff.external=",
               "core.attributesFile=" + os.devnull, "credential.helper=", "core.askPass=", "core.sshCommand=",
               "log.showSignature=false", "gpg.program=false", "core.untrackedCache=false",
               "protocol.allow=never", "protocol.file.allow=always", "uploadpack.packObjectsHook=",
               "core.alternateRefsCommand=")
#: Subcommands that may render diffs: also told never to run an external diff or a textconv driver.
_DIFFING = frozenset({"log", "diff", "show", "diff-tree", "whatchanged"})
#: Keys of repository config that name a program per driver; each found is overridden empty (never runs).
_DRIVER_KEYS = re.compile(r"^(filter\.(.+)\.(clean|smudge|process)|diff\.(.+)\.(textconv|command))$")
_OVERRIDES: dict[tuple[str, int], tuple[str, ...]] = {}  # (git dir, config mtime) -> derived -c overrides
_ESCAPED_BYTE = re.compile(rb"\\x([89a-f][0-9a-f])")


def path_text(raw: bytes) -> str:
    """A path as every table holds it: UTF-8, each byte that is not valid UTF-8 written ``\\xNN`` — one
    definition for every loader, as names may not be UTF-8 (Latin-1 from an old system), Arrow strings cannot
    hold the surrogates Python would decode those to, and everything joined on paths must name a file alike."""
    return raw.decode("utf-8", "backslashreplace")


def path_bytes(path: str) -> bytes:
    """The bytes git knows ``path`` by: the inverse of :func:`path_text` (a valid UTF-8 name that itself holds
    a literal ``\\x80``-``\\xff`` would be misread; no real repository we know of has one)."""
    raw = path.encode("utf-8", "surrogateescape")
    return _ESCAPED_BYTE.sub(lambda m: bytes([int(m.group(1), 16)]), raw) if b"\\x" in raw else raw


@functools.lru_cache(maxsize=1)
def _private_bundles() -> Path:
    """A private folder (0700) for bundle clones when the cache may not be used; removed when the process ends."""
    path = Path(tempfile.mkdtemp(prefix="seamscope-bundles-"))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def git_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of every git call: the user's minus inherited ``GIT_*`` variables, plus the hardening
    (:data:`_GIT_ENV`) and ``extra`` (the sample builder's fixed author and dates)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_") or k in _GIT_ENV_KEEP}
    return {**env, **_GIT_ENV, **(extra or {})}


def git_command(*args: str, git_dir: str | os.PathLike | None = None, work_tree: str | os.PathLike | None = None,
                safe_directory: str | os.PathLike | None = None, overrides: Iterable[str] = ()) -> list[str]:
    """The argv of a git command: the one place seamscope builds one (run it with :func:`git_env`).

    ``git_dir``/``work_tree`` select the repository (else git's discovery from the working directory);
    ``safe_directory`` is a repository the user already trusts in their own git config although another user
    owns it (:meth:`Repo.open`); ``overrides`` are extra ``-c`` settings (the repository's driver programs,
    neutralised: :func:`_driver_overrides`).
    """
    argv = ["git", "--no-pager"]
    for setting in (*_GIT_CONFIG, *overrides):
        argv += ["-c", setting]
    if safe_directory is not None:
        argv += ["-c", f"safe.directory={os.fspath(safe_directory)}"]
    if git_dir is not None:
        argv += ["--git-dir", os.fspath(git_dir)]
    if work_tree is not None:
        argv += ["--work-tree", os.fspath(work_tree)]
    if args and args[0] in _DIFFING:
        return [*argv, args[0], "--no-ext-diff", "--no-textconv", *args[1:]]
    return [*argv, *args]


def _driver_overrides(git_dir: Path, safe_directory: Path | None) -> tuple[str, ...]:
    """``-c filter.X.clean=``-style settings that empty every filter and diff driver program the repository's
    own config (with its includes and worktree config) defines. Reading config never runs anything; the
    answer is kept per git folder until its config file changes."""
    try:
        stamp = (git_dir / "config").stat().st_mtime_ns
    except OSError:
        stamp = -1
    key = (str(git_dir), stamp)
    if key not in _OVERRIDES:
        res = subprocess.run(git_command("config", "--includes", "--null", "--get-regexp", r"^(filter|diff)\.",
                                         git_dir=git_dir, safe_directory=safe_directory),
                             capture_output=True, env=git_env(), check=False)
        names = (rec.split(b"\n", 1)[0].decode("utf-8", "surrogateescape") for rec in res.stdout.split(b"\0"))
        if len(_OVERRIDES) > 1000:
            _OVERRIDES.clear()
        _OVERRIDES[key] = tuple(sorted({f"{name}=" for name in names if _DRIVER_KEYS.match(name)}))
    return _OVERRIDES[key]


def _file_hash(path: Path | bytes, h: Any = None) -> str:
    """Hex digest of the file's bytes, read in chunks, fed to ``h`` (default a fresh sha256; git's id of a
    file as a blob is ``sha1("blob <size>\\0" + bytes)``)."""
    h = h or hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


_OBJECT_ID = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
_RESOLVED: dict[tuple[Path, str], str] = {}  # (git dir, object id) -> commit id


#: One ``git ls-files --stage --debug -z`` record: mode, object id, path, then the stat data git's index holds.
_INDEX_ENTRY = re.compile(rb"(\d{6}) ([0-9a-f]{40,64}) \d\t([^\0]*)\0  ctime: \d+:\d+\n  mtime: (\d+):(\d+)\n"
                          rb"[^\n]*\n[^\n]*\n  size: (\d+)\t[^\n]*\n")


def blob_id(data: bytes) -> str:
    """git's object id of a file with this content (what ``git hash-object`` prints): the same key whether a
    file is read from disk or from git objects."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


_DUBIOUS = re.compile(r"dubious ownership in repository at '([^']+)'")
#: Bytes of one input file seamscope reads at most, unless ``SEAMSCOPE_MAX_FILE_MB`` raises it.
DEFAULT_MAX_FILE_MB = 64


def max_file_bytes() -> int:
    """The largest input file seamscope reads: ``SEAMSCOPE_MAX_FILE_MB`` megabytes (default 64)."""
    raw = os.environ.get("SEAMSCOPE_MAX_FILE_MB", "").strip()
    if not raw:
        return DEFAULT_MAX_FILE_MB << 20
    try:
        mb = float(raw)
        if not mb > 0 or mb == float("inf"):
            raise ValueError
    except ValueError:
        raise InputError("SEAMSCOPE_MAX_FILE_MB", f"{raw!r} is not a positive number of megabytes",
                         hint="unset it for the default of 64") from None
    return int(mb * (1 << 20))


def too_big(size: int, limit: int) -> str:
    """The reason a file over the size limit is refused (one wording for every reader; the skip names the file)."""
    return (f"{size / (1 << 20):.1f} MB is over the {limit / (1 << 20):g} MB limit for one input file "
            "(raise it with SEAMSCOPE_MAX_FILE_MB)")


def _trusted_elsewhere(path: str) -> bool:
    """Whether the user's own git config (global or system) lists ``path`` (or ``*``) in ``safe.directory``:
    the explicit choice to read a repository another user owns. Reading config runs nothing."""
    env = git_env()  # but the user's own global and system config: that is where the choice is made
    for var in ("GIT_CONFIG_NOSYSTEM", "GIT_CONFIG_GLOBAL"):
        env.pop(var)
        if var in os.environ:
            env[var] = os.environ[var]
    want = os.path.realpath(path)
    for scope in ("--global", "--system"):
        res = subprocess.run(git_command("config", scope, "--get-all", "safe.directory"), capture_output=True,
                             text=True, env=env, cwd="/", check=False)
        for value in res.stdout.splitlines():
            value = value.strip()
            if value == "*" or (value and os.path.realpath(os.path.expanduser(value)) == want):
                return True
    return False


@dataclass(frozen=True)
class Repo:
    """A git repository opened read-only: ``git_dir`` is what git commands run against; ``work_tree`` the checkout
    the user pointed at (``None`` for bundles and bare repositories); ``origin`` the path the user gave, for
    messages; ``safe_directory`` the folder of a repository another user owns that the user listed in their own
    git ``safe.directory`` (else ``None``)."""

    git_dir: Path
    work_tree: Path | None
    origin: str
    safe_directory: Path | None = None

    @property
    def cache_id(self) -> str:
        """A short stable name for this repository's files in seamscope's cache (its git folder, hashed)."""
        return hashlib.sha1(str(self.git_dir.resolve()).encode("utf-8", "surrogateescape")).hexdigest()[:16]

    # ---- opening -------------------------------------------------------
    @classmethod
    def open(cls, path: str | os.PathLike, *, flag: str = "REPO") -> "Repo":
        """Open a work tree, a bare repository or a ``.bundle`` file.

        Raises :class:`InputError` naming ``path`` when it does not exist, is not a git repository, or belongs
        to another user and is not listed in the user's own git ``safe.directory``.
        """
        p = Path(path)
        if not p.exists():
            raise InputError(p, "does not exist", flag=flag, hint="give the path of a git repository or a .bundle file")
        if p.is_file():
            return cls._from_bundle(p, flag)
        ask = ("--absolute-git-dir", "--is-bare-repository", "--is-inside-work-tree")

        def rev_parse(*args: str, safe: Path | None = None) -> subprocess.CompletedProcess:
            return subprocess.run(git_command("rev-parse", *args, safe_directory=safe), cwd=p, capture_output=True,
                                  text=True, env=git_env(), check=False)

        safe = None
        try:
            out = rev_parse(*ask)
            dubious = _DUBIOUS.search(out.stderr) if out.returncode != 0 else None
            if dubious:
                owned = dubious.group(1)
                if not _trusted_elsewhere(owned):
                    raise InputError(p, "belongs to another user, and git refuses to read a repository it cannot "
                                     "trust", flag=flag, hint=f"if you trust it, run `git config --global --add "
                                     f"safe.directory {owned}` (seamscope then reads it as data only)")
                safe = Path(owned)
                out = rev_parse(*ask, safe=safe)
        except FileNotFoundError as exc:  # pragma: no cover - git is a documented prerequisite
            raise InputError(p, "git is not installed", hint="install git") from exc
        if out.returncode != 0:
            raise InputError(p, "is not a git repository", flag=flag,
                             hint="run seamscope on a git clone (git init/clone), or pass a .bundle file")
        lines = out.stdout.splitlines()
        git_dir = Path(lines[0])
        work_tree = None
        if lines[1].strip() != "true" and lines[2].strip() == "true":
            top = rev_parse("--show-toplevel", safe=safe)
            work_tree = Path(top.stdout.strip()).resolve() if top.returncode == 0 else None
        return cls(git_dir=git_dir, work_tree=work_tree, origin=str(p), safe_directory=safe)

    @classmethod
    def _from_bundle(cls, bundle: Path, flag: str) -> "Repo":
        try:
            with open(bundle, "rb") as fh:
                signature = fh.readline(64)
        except OSError as exc:
            raise InputError(bundle, f"cannot be read: {exc.strerror}", flag=flag) from None
        if signature.rstrip(b"\n") not in (b"# v2 git bundle", b"# v3 git bundle"):
            raise InputError(bundle, "is neither a git repository nor a git bundle (no bundle signature on its first "
                             "line)", flag=flag, hint="give a git work tree, a bare repository or a .bundle file")
        in_cache = cache.enabled()  # a refused cache folder (another user's, read-only, full) holds no clone
        target = (cache.root() / "bundles" if in_cache else _private_bundles()) / (_file_hash(bundle)[:20] + ".git")
        if not (target / "HEAD").exists():
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                tmp = Path(tempfile.mkdtemp(prefix=".clone-", dir=target.parent))
            except OSError as exc:
                if not in_cache:
                    raise
                cache.write_failed(exc)
                return cls._from_bundle(bundle, flag)
            res = subprocess.run(git_command("clone", "--quiet", "--bare", "--no-local", str(bundle.resolve()),
                                             str(tmp / "r.git")), capture_output=True, text=True, env=git_env())
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
    def command(self, *args: str, work_tree: bool = False) -> list[str]:
        """The hardened argv of ``git args`` against this repository (:func:`git_command`), with every filter
        and diff driver its own config defines emptied; ``work_tree``: also name the work tree."""
        return git_command(*args, git_dir=self.git_dir, work_tree=self.work_tree if work_tree else None,
                           safe_directory=self.safe_directory,
                           overrides=_driver_overrides(self.git_dir, self.safe_directory))

    def git(self, *args: str, check: bool = True, text: bool = True,
            work_tree: bool = False) -> subprocess.CompletedProcess:
        """Run a read-only git command against this repository (``work_tree``: in and naming its work tree)."""
        res = subprocess.run(self.command(*args, work_tree=work_tree), cwd=self.work_tree if work_tree else None,
                             capture_output=True, text=text, env=git_env(), check=False)
        if check and res.returncode != 0:
            err = res.stderr if text else res.stderr.decode("utf-8", "replace")
            raise InputError(self.origin, f"git {' '.join(args[:3])} failed: {err.strip()}")
        return res

    def popen(self, *args: str, stdin: int | None = None, stderr: int = subprocess.PIPE) -> subprocess.Popen:
        """Start a streaming git command (stdout as bytes)."""
        return subprocess.Popen(self.command(*args), stdin=stdin, stdout=subprocess.PIPE, stderr=stderr,
                                env=git_env(), bufsize=1 << 16)

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
    def list_files(self, rev: str | None = None, *, skips: list | None = None) -> list[str]:
        """Repository-relative paths of tracked files at ``rev`` (``None``: the work tree as it is on disk,
        tracked and untracked-but-not-ignored; HEAD for bundles and bare repositories).

        Symbolic links are links, not files: never listed, so never followed (a committed link to a file outside
        the repository is read by nobody). A work-tree link that points outside the work tree is also reported
        in ``skips`` (else warned), with where it points."""
        max_file_bytes()  # a bad limit is said before any file is listed
        if rev is None and self.work_tree is not None:
            res = self.git("ls-files", "-z", "--cached", "--others", "--exclude-standard", work_tree=True, text=False)
            root = os.fsencode(self.work_tree)
            lstat, S_ISREG, S_ISLNK = os.lstat, stat.S_ISREG, stat.S_ISLNK  # pathlib per path costs more on big trees
            found = set()
            for p in filter(None, res.stdout.split(b"\0")):
                try:
                    mode = lstat(os.path.join(root, p)).st_mode
                except OSError:  # listed in the index, deleted on disk
                    continue
                if S_ISREG(mode):
                    found.add(path_text(p))
                elif S_ISLNK(mode) and not self._inside(os.path.join(root, p)):
                    report_skip(skips, path_text(p), "a symbolic link to "
                                f"{os.readlink(os.path.join(root, p)).decode('utf-8', 'backslashreplace')} outside "
                                "the repository: not followed")
            return sorted(found)
        commit = self.resolve(rev or "HEAD")
        return [] if commit is None else sorted(self.list_blobs(commit))

    def list_blobs(self, commit: str) -> dict[str, str]:
        """Path -> blob id of each file at ``commit`` (regular files, 100644/100755: not links or submodules)."""
        out = {}
        for rec in self.git("ls-tree", "-r", "-z", "--full-tree", commit, text=False).stdout.split(b"\0"):
            meta, _, p = rec.partition(b"\t")
            if p and meta.startswith(b"100"):
                out[path_text(p)] = meta.split()[2].decode()
        return out

    def work_tree_state(self) -> str:
        """A content key of the work tree's files (tracked and untracked-not-ignored regular files), without
        ``git status``: a file whose size and modification time still match what git's index recorded (and was
        not modified in the same instant as the index) counts as the blob the index names; any other file is
        hashed here, as git would hash it (``blob <size>\\0<bytes>``, no filter ever runs). The same content
        gives the same key in any clone; links are not files (:meth:`list_files`) and are left out."""
        assert self.work_tree is not None
        staged = self.git("ls-files", "-z", "--cached", "--stage", "--debug", text=False).stdout
        others = self.git("ls-files", "-z", "--others", "--exclude-standard", work_tree=True, text=False,
                          check=False).stdout
        try:
            index_mtime = os.stat(self.git_dir / "index").st_mtime_ns
        except OSError:
            index_mtime = 0
        known = {m.group(3): (m.group(2), int(m.group(4)), int(m.group(5)), int(m.group(6)))
                 for m in _INDEX_ENTRY.finditer(staged)}
        root = os.fsencode(self.work_tree)
        h = hashlib.sha256()
        for rel in sorted(set(known) | {p for p in others.split(b"\0") if p}):
            full = os.path.join(root, rel)
            try:
                st = os.lstat(full)
            except OSError:
                h.update(rel + b"\0-\0")  # deleted
                continue
            if not stat.S_ISREG(st.st_mode):
                continue
            entry = known.get(rel)
            if entry is not None and st.st_size == entry[3] and st.st_mtime_ns < index_mtime and (
                    st.st_mtime_ns // 1_000_000_000 == entry[1] and (entry[2] == 0 or st.st_mtime_ns % 1_000_000_000 == entry[2])):
                oid = entry[0]
            else:
                oid = _file_hash(full, hashlib.sha1(b"blob %d\0" % st.st_size)).encode()
            h.update(rel + b"\0" + oid + b"\0")
        return h.hexdigest()

    def _inside(self, path: str | bytes) -> bool:
        """Whether ``path`` (a link in the work tree) resolves to somewhere inside the work tree."""
        assert self.work_tree is not None
        real = os.path.realpath(os.fsdecode(path))
        top = str(self.work_tree)
        return real == top or real.startswith(top.rstrip(os.sep) + os.sep)

    def _on_disk(self, path: str) -> Path:
        """The work-tree file of a table path (:func:`path_text`)."""
        assert self.work_tree is not None
        return self.work_tree / os.fsdecode(path_bytes(path))

    def _read_disk(self, path: str, limit: int, skips: list | None) -> bytes | None:
        """A work-tree file's bytes, read as data: ``None`` (reported) when it is a link, not a regular file,
        or over ``limit`` bytes. Opened without following a final link (``O_NOFOLLOW``) and checked on the open
        descriptor, so a file swapped for a link after listing is still not followed."""
        f = self._on_disk(path)
        try:
            fd = os.open(f, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
        except OSError as exc:
            if os.path.islink(f):
                report_skip(skips, path, "a symbolic link: not followed")
            elif f.exists():
                report_skip(skips, path, f"cannot be read: {exc.strerror}")
            return None
        with os.fdopen(fd, "rb") as fh:
            st = os.fstat(fh.fileno())
            if not stat.S_ISREG(st.st_mode):
                report_skip(skips, path, "not a regular file: not read")
                return None
            if st.st_size > limit:
                report_skip(skips, path, too_big(st.st_size, limit))
                return None
            return fh.read(limit + 1)

    def read_files(self, paths: Iterable[str], rev: str | None = None, *,
                   skips: list | None = None) -> Iterator[tuple[str, bytes]]:
        """Yield ``(path, content)`` for each path, from disk (work tree, ``rev=None``) or from git objects.

        A path that is a link or larger than :func:`max_file_bytes` is left out and reported in ``skips``
        (else warned), naming the file and the limit."""
        paths = list(paths)
        limit = max_file_bytes()
        if rev is None and self.work_tree is not None:
            for p in paths:
                data = self._read_disk(p, limit, skips)
                if data is not None:
                    yield p, data
            return
        commit = self.resolve(rev or "HEAD")
        if commit is None:
            return
        for (_, p), data in self.read_blobs(((commit, p) for p in paths), skips=skips, limit=limit):
            if data is not None:
                yield p, data

    def read_blobs(self, pairs: Iterable[tuple[str | None, str]], *, skips: list | None = None,
                   limit: int | None = None) -> Iterator[tuple[tuple[str | None, str], bytes | None]]:
        """Yield ``((rev, path), content)`` for each pair, in order; ``None`` when ``path`` is no file at ``rev``
        (missing, a link, a folder) or is over the size limit (reported in ``skips``). ``rev=None`` reads the work
        tree (HEAD for bundles and bare repositories), as :meth:`read_files` does.

        All revisions go through ONE ``git cat-file --batch`` process (object names ``rev:path``), requests
        written on a thread while answers are read, so thousands of revisions cost one process."""
        pairs = list(pairs)
        if not pairs:
            return
        limit = max_file_bytes() if limit is None else limit
        on_disk = self.work_tree is not None
        batch = [(r, p) for r, p in pairs if r is not None or not on_disk]
        proc = self.popen("cat-file", "--batch", stdin=subprocess.PIPE, stderr=subprocess.DEVNULL) if batch else None
        writer = None
        if proc is not None:
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
        try:
            for rev, path in pairs:
                if rev is None and on_disk:
                    yield (rev, path), self._read_disk(path, limit, skips) if self._on_disk(path).is_file() else None
                    continue
                assert proc is not None and proc.stdout is not None
                out = proc.stdout
                header = out.readline()
                if not header:
                    raise InputError(self.origin, "git cat-file --batch stopped answering")
                parts = header.split()
                data = None  # also for "<name> missing" / "ambiguous"
                if len(parts) == 3 and parts[1] in (b"blob", b"tree", b"commit", b"tag"):
                    size = left = int(parts[2])
                    if size > limit:
                        while left > 0:  # drain the answer without holding it
                            left -= len(out.read(min(left, 1 << 20)) or b"\0" * left)
                        if parts[1] == b"blob":
                            report_skip(skips, path, too_big(size, limit) + f" (at {rev})")
                    else:
                        data = out.read(size)
                    out.read(1)  # trailing newline
                    # git never follows a link here: a committed link's blob is the name it points at
                    data = data if parts[1] == b"blob" else None
                yield (rev, path), data
        finally:
            if proc is not None:
                assert proc.stdout is not None
                proc.stdout.close()
                if proc.poll() is None:
                    proc.kill()
                proc.wait()
            if writer is not None:
                writer.join()
