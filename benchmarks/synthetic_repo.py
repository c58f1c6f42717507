"""A deterministic, realistic large git repository for benchmarks, built with ``git fast-import``.

Shape (defaults): one top-level package ``big`` with 20 subpackages (the
components), 3,000 Python modules whose contents import and call modules of
their own and of "lower" packages (plus a few back-edges), a ``tests/`` file per
package, 12 authors with skewed activity and package ownership, and 20,000
commits: Zipf-skewed hot files, co-changing clusters (some across packages),
occasional renames and occasional bulk commits (reformatting hundreds of files).

``generate(path, commits, files, seed)`` is idempotent: a marker file records
the parameters and an existing repository with the same parameters is reused.
Usable as ``python benchmarks/synthetic_repo.py [path] [--commits N] [--files N]``.
"""
from __future__ import annotations

import argparse
import bisect
import itertools
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

VERSION = 1
PACKAGES = 20
AUTHORS = [("Ada Lovelace", "ada"), ("Grace Hopper", "grace"), ("Alan Turing", "alan"), ("Edsger Dijkstra", "edsger"),
           ("Barbara Liskov", "barbara"), ("Donald Knuth", "donald"), ("Margaret Hamilton", "margaret"),
           ("Ken Thompson", "ken"), ("Frances Allen", "frances"), ("John Backus", "john"),
           ("Radia Perlman", "radia"), ("Niklaus Wirth", "niklaus")]
MARKER = ".seamscope-synthetic.json"
DEFAULT_PATH = Path(__file__).resolve().parent / ".work" / "synthetic"


class _Model:
    def __init__(self, files: int, seed: int) -> None:
        self.rng = random.Random(seed)
        rng = self.rng
        per = max(1, files // PACKAGES)
        self.modules: list[tuple[int, str]] = []  # (package, module name) — index is the file id
        for p in range(PACKAGES):
            n = per + (1 if p < files - per * PACKAGES else 0)
            self.modules += [(p, f"m{i:03d}") for i in range(n)]
        self.version = [0] * len(self.modules)
        self.alive = [True] * len(self.modules)
        # package p depends on a few lower packages (layered) and rarely a higher one (a cycle)
        self.deps = {p: sorted(set(rng.sample(range(p), min(p, rng.randint(1, 4))) if p else [])
                               | ({rng.randrange(PACKAGES)} if rng.random() < 0.15 else set()) - {p})
                     for p in range(PACKAGES)}
        by_pkg: dict[int, list[int]] = {}
        for fid, (p, _m) in enumerate(self.modules):
            by_pkg.setdefault(p, []).append(fid)
        self.by_pkg = by_pkg
        self.imports = {}
        for fid, (p, _m) in enumerate(self.modules):
            own = rng.sample(by_pkg[p], min(len(by_pkg[p]), rng.randint(1, 3)))
            others = [rng.choice(by_pkg[q]) for q in self.deps[p] if rng.random() < 0.6]
            self.imports[fid] = [t for t in own + others if t != fid]
        # Zipf-skewed change frequency over a shuffled file order
        order = list(range(len(self.modules)))
        rng.shuffle(order)
        weights = [0.0] * len(order)
        for rank, fid in enumerate(order):
            weights[fid] = 1.0 / (rank + 1) ** 1.1
        self.cum = list(itertools.accumulate(weights))
        # co-changing clusters, most within a package, some across a dependency
        self.clusters = []
        for _ in range(max(10, len(self.modules) // 10)):
            p = rng.randrange(PACKAGES)
            members = rng.sample(by_pkg[p], min(len(by_pkg[p]), rng.randint(2, 5)))
            if self.deps[p] and rng.random() < 0.35:
                members.append(rng.choice(by_pkg[rng.choice(self.deps[p])]))
            self.clusters.append(members)
        self.owner = {p: rng.randrange(len(AUTHORS)) for p in range(PACKAGES)}
        self.author_cum = list(itertools.accumulate(1.0 / (i + 1) for i in range(len(AUTHORS))))

    def path(self, fid: int) -> str:
        p, m = self.modules[fid]
        return f"big/p{p:02d}/{m}.py"

    def module(self, fid: int) -> str:
        p, m = self.modules[fid]
        return f"big.p{p:02d}.{m}"

    def content(self, fid: int) -> bytes:
        v = self.version[fid]
        lines = [f'"""{self.module(fid)}: synthetic module, revision {v}."""', "from __future__ import annotations", ""]
        targets = self.imports[fid]
        for t in targets:
            tp, tm = self.modules[t]
            lines.append(f"from big.p{tp:02d} import {tm} as _{tp:02d}_{tm}")
        lines += ["", f"VERSION = {v}", ""]
        for k in range(3 + min(v // 8, 25)):
            lines.append(f"def func_{k}(x: int) -> int:")
            lines.append(f'    """Step {k} of the pipeline."""')
            if targets:
                t = targets[(k + v) % len(targets)]
                tp, tm = self.modules[t]
                lines.append(f"    y = _{tp:02d}_{tm}.func_{k % 3}(x + {k})")
            else:
                lines.append(f"    y = x * {k + 1}")
            lines.append(f"    return y + {(fid * 7 + k * 13 + (v if k == (v % 3) else 0)) % 97}")
            lines.append("")
        if v % 5 == 4:
            lines += [f"class Handler{v}:", "    def handle(self, x: int) -> int:", "        return func_0(x)", ""]
        return ("\n".join(lines) + "\n").encode()

    def test_content(self, p: int, v: int) -> bytes:
        mods = self.by_pkg[p][:3]
        imports = "\n".join(f"from big.p{p:02d} import {self.modules[f][1]}" for f in mods)
        tests = "\n\n".join(f"def test_{self.modules[f][1]}_{v}():\n    assert {self.modules[f][1]}.func_0(1) >= 0"
                            for f in mods)
        return f"{imports}\n\n\n{tests}\n".encode()

    def hot(self) -> int:
        while True:
            fid = bisect.bisect_left(self.cum, self.rng.random() * self.cum[-1])
            if self.alive[fid]:
                return fid

    def author(self, files: list[int]) -> tuple[str, str]:
        if files and self.rng.random() < 0.6:
            return AUTHORS[self.owner[self.modules[files[0]][0]]]
        return AUTHORS[bisect.bisect_left(self.author_cum, self.rng.random() * self.author_cum[-1])]


def _stream(out, commits: int, files: int, seed: int) -> None:
    m = _Model(files, seed)
    rng = m.rng
    ts = 1420070400  # 2015-01-01
    w = out.write

    def commit(msg: str, who: tuple[str, str], ops: list[bytes], first: bool) -> None:
        nonlocal ts
        ts += rng.randint(60, 8 * 3600)
        name, user = who
        w(b"commit refs/heads/main\n")
        ident = f"{name} <{user}@example.com> {ts} +0000\n".encode()
        w(b"author " + ident + b"committer " + ident)
        data = msg.encode()
        w(b"data %d\n%s\n" % (len(data), data))
        for op in ops:
            w(op)

    def modify(path: str, data: bytes) -> bytes:
        return b"M 100644 inline %s\ndata %d\n%s\n" % (path.encode(), len(data), data)

    n = 0
    # the initial import, one bulk commit per package
    for p in range(PACKAGES):
        ops = [modify(f"big/p{p:02d}/__init__.py", f'"""Package p{p:02d}."""\n'.encode())]
        ops += [modify(m.path(f), m.content(f)) for f in m.by_pkg[p]]
        ops.append(modify(f"tests/test_p{p:02d}.py", m.test_content(p, 0)))
        if p == 0:
            ops.append(modify("big/__init__.py", b'"""Synthetic system."""\n'))
            ops.append(modify("README.md", b"# big\n\nA synthetic repository for seamscope benchmarks.\n"))
        commit(f"Add package p{p:02d}", AUTHORS[0], ops, p == 0)
        n += 1
    renamed = 0
    while n < commits:
        r = rng.random()
        if r < 0.001:  # bulk reformatting
            chosen = sorted({rng.randrange(len(m.modules)) for _ in range(rng.randint(50, 300))})
            chosen = [f for f in chosen if m.alive[f]]
            msg = "Reformat code base"
        elif r < 0.003:  # rename a module inside its package
            fid = m.hot()
            p, name = m.modules[fid]
            old = m.path(fid)
            renamed += 1
            m.modules[fid] = (p, f"{name}_r{renamed}")
            m.version[fid] += 1
            ops = [b"R %s %s\n" % (old.encode(), m.path(fid).encode()), modify(m.path(fid), m.content(fid))]
            commit(f"Rename {old} to {m.path(fid)}", m.author([fid]), ops, False)
            n += 1
            continue
        elif r < 0.45:
            cluster = rng.choice(m.clusters)
            chosen = [f for f in cluster if rng.random() < 0.8] or cluster[:2]
            msg = "Change " + ", ".join(m.module(f).rsplit(".", 1)[-1] for f in chosen[:3])
        else:
            chosen = sorted({m.hot() for _ in range(1 + int(rng.expovariate(1.0)))})
            msg = f"Fix {m.module(chosen[0])}"
        if rng.random() < 0.15:
            msg += f"\n\nFixes #{rng.randint(1, 5000)}"
        ops = []
        for f in chosen:
            m.version[f] += 1
            ops.append(modify(m.path(f), m.content(f)))
        pkgs = {m.modules[f][0] for f in chosen}
        if rng.random() < 0.2:
            p = rng.choice(sorted(pkgs))
            ops.append(modify(f"tests/test_p{p:02d}.py", m.test_content(p, n)))
        commit(msg, m.author(chosen), ops, False)
        n += 1
    w(b"done\n")


def generate(path: str | os.PathLike | None = None, commits: int = 20000, files: int = 3000, seed: int = 0) -> Path:
    """Create (or reuse) the synthetic repository at ``path`` (default ``benchmarks/.work/synthetic`` for the
    default size, else ``benchmarks/.work/synthetic-<commits>x<files>-<seed>``, so a smaller run does not
    replace the big repository another benchmark reuses)."""
    if path is None:
        default = (commits, files, seed) == (20000, 3000, 0)
        path = DEFAULT_PATH if default else DEFAULT_PATH.with_name(f"synthetic-{commits}x{files}-{seed}")
    target = Path(path)
    params = {"version": VERSION, "commits": commits, "files": files, "seed": seed}
    marker = target / ".git" / MARKER
    if marker.exists() and json.loads(marker.read_text()) == params:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".synthetic-", dir=target.parent))
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script too
    from toolkit.load.gitrepo import git_command, git_env

    env = git_env()
    subprocess.run(git_command("init", "-q", "-b", "main", str(tmp)), check=True, env=env)
    proc = subprocess.Popen(git_command("fast-import", "--quiet", "--done"), cwd=tmp, stdin=subprocess.PIPE,
                            env=env)
    assert proc.stdin is not None
    try:
        _stream(proc.stdin, commits, files, seed)
    finally:
        proc.stdin.close()
    if proc.wait() != 0:
        shutil.rmtree(tmp, ignore_errors=True)
        raise RuntimeError("git fast-import failed")
    subprocess.run(git_command("checkout", "-q", "-f", "main"), cwd=tmp, check=True, env=env)
    (tmp / ".git" / MARKER).write_text(json.dumps(params))
    if target.exists():
        shutil.rmtree(target)
    os.replace(tmp, target)
    return target


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("path", nargs="?", default=None)
    ap.add_argument("--commits", type=int, default=20000)
    ap.add_argument("--files", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    print(generate(a.path, a.commits, a.files, a.seed))


if __name__ == "__main__":
    main()
