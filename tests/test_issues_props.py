"""Property tests: whatever bytes or JSON the issue loaders get, only InputError escapes."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toolkit.vocab import schema
from toolkit.errors import InputError
from toolkit.load.issues import load_issues

# beside the checkout (/work/main -> /work/shared) or beside the worktrees' parent
CORPUS = next((p / "shared" / "corpus" / "issues" for p in Path(__file__).resolve().parents[2:4]
               if (p / "shared" / "corpus" / "issues").is_dir()),
              Path(__file__).resolve().parents[2] / "shared" / "corpus" / "issues")
CORPUS_FILES = sorted(p for p in CORPUS.rglob("*") if p.is_file()) if CORPUS.is_dir() else []
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _load(tmp_path, data: bytes, name: str = "x.json", **kw):
    p = tmp_path / name
    p.write_bytes(data)
    try:
        df = load_issues(p, skips=[], **kw)
    except InputError as exc:
        assert str(exc)
        return None
    schema.check(df, "issues")
    return df


@SETTINGS
@given(data=st.binary(max_size=600))
def test_random_bytes(tmp_path, data):
    _load(tmp_path, data)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.sampled_from(["number", "iid", "key", "fields", "issues", "title", "state", "labels", "created_at",
                         "createdAt", "user", "author", "body", "pull_request", "summary", "comments", "x"]),
        children, max_size=6),
    max_leaves=25,
)


@SETTINGS
@given(value=json_values)
def test_random_json(tmp_path, value):
    _load(tmp_path, json.dumps(value).encode())


@SETTINGS
@given(items=st.lists(st.fixed_dictionaries({"number": st.integers(-5, 10**6)}, optional={
    "title": st.one_of(st.none(), st.text(max_size=30)), "body": st.one_of(st.none(), st.text(max_size=60)),
    "state": st.sampled_from(["open", "closed", None]), "labels": st.lists(st.text(max_size=8) | st.fixed_dictionaries({"name": st.text(max_size=8)}), max_size=3),
    "created_at": st.sampled_from(["2024-01-01T00:00:00Z", "nope", None, 5]),
    "pull_request": st.just({}), "user": st.one_of(st.none(), st.fixed_dictionaries({"login": st.text(max_size=8)})),
}), max_size=5))
def test_github_like_items(tmp_path, items):
    _load(tmp_path, json.dumps(items).encode())


@SETTINGS
@given(rows=st.lists(st.lists(st.text(max_size=15), min_size=1, max_size=6), max_size=6),
       header=st.lists(st.sampled_from(["Issue key", "Summary", "Created", "Labels", "Labels", "Resolved", "Issue Type",
                                        "Environment", ""]), min_size=1, max_size=7))
def test_random_jira_like_csv(tmp_path, rows, header):
    import csv
    import io
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(header)
    w.writerows(rows)
    _load(tmp_path, buf.getvalue().encode("utf-8", "replace"), "x.csv")


@pytest.mark.skipif(not CORPUS_FILES, reason="shared corpus absent")
@SETTINGS
@given(data=st.data())
def test_garbled_corpus_files(tmp_path, data):
    src = data.draw(st.sampled_from(CORPUS_FILES))
    raw = bytearray(src.read_bytes())
    cut = data.draw(st.integers(0, len(raw)))
    raw = raw[:cut]
    for _ in range(data.draw(st.integers(0, 5))):
        if raw:
            raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    _load(tmp_path, bytes(raw), src.name)
