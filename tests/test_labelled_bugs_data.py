"""The labelled evaluation set (data/labelled_bugs): shape, sources and the held-out split."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[1] / "data" / "labelled_bugs"


def test_labelled_set_has_the_promised_shape():
    rows = [json.loads(line) for line in (DATA / "bugs.jsonl").read_text().splitlines()]
    assert len(rows) >= 150 and len({r["id"] for r in rows}) == len(rows)
    assert len({r["project"] for r in rows}) >= 3
    assert {r["label"] for r in rows} == {"integration", "component"}
    assert all(r["text"] and r["rationale"] and "@" in r["source"] for r in rows)
    held = [r for r in rows if r["split"] == "heldout"]
    assert len(held) >= 150 and {r["project"] for r in held} == {"black", "uvicorn", "rich", "tox"}
    assert not {r["project"] for r in held} & {r["project"] for r in rows if r["split"] == "tuning"}
    relabel = [json.loads(line) for line in (DATA / "relabel.jsonl").read_text().splitlines()]
    assert len(relabel) == 30 and {r["id"] for r in relabel} <= {r["id"] for r in rows}
    again = [json.loads(line) for line in (DATA / "relabel_heldout.jsonl").read_text().splitlines()]
    assert len(again) == 10 and {r["id"][:r["id"].index("-")] for r in again} == {"pip", "aiohttp"}
    third = [json.loads(line) for line in (DATA / "relabel_heldout3.jsonl").read_text().splitlines()]
    assert len(third) == 15 and {r["id"][:r["id"].index("-")] for r in third} == {"httpx", "sphinx"}
    assert {r["label"] for r in third} <= {"integration", "component"}
    # an independent second labeller, text only, on 30 random entries of the older ten projects
    second = [json.loads(line) for line in (DATA / "relabel_independent.jsonl").read_text().splitlines()]
    first = {r["id"]: r["label"] for r in rows}
    assert len(second) == 30 and {r["id"] for r in second} <= set(first)
    assert not {r["id"] for r in second} & {r["id"] for r in held}
    agree = sum(first[r["id"]] == r["label"] for r in second)
    assert agree >= 24  # two labellers agree on >= 80% (the README: 27 of 30), or the rubric is not one rubric


def test_the_numbered_parts_name_their_issue_in_every_entry():
    """pip, aiohttp, httpx and sphinx (now tuning) and black, uvicorn, rich and tox (held out) were sampled for
    linkable fixes: every entry
    names the issue its fix mentions, and no URL, contributor name or other tracker's reference is left."""
    rows = [json.loads(line) for line in (DATA / "bugs.jsonl").read_text().splitlines()]
    linked = [r for r in rows if r["project"] in ("pip", "aiohttp", "httpx", "sphinx", "black", "uvicorn", "rich", "tox")]
    assert len(linked) >= 350 and all(isinstance(r["issue"], int) for r in linked)
    assert {r["split"] for r in linked if r["project"] in ("pip", "aiohttp", "httpx", "sphinx")} == {"tuning"}
    leaks = ("://", ":user:", "Patch by", "(Pull #", "httpcore#")
    assert not [r for r in linked if any(leak in r["text"] for leak in leaks)]


@pytest.mark.parametrize("part, names", [("sixth", {"jinja", "celery", "starlette", "trio"}),
                                         ("seventh", {"marshmallow", "paramiko", "setuptools", "structlog"}),
                                         ("eighth", {"invoke", "pylint", "httpcore", "falcon"})])
def test_each_later_part_is_its_own_projects_and_two_labellers_agree(part, names):
    """The later parts are projects no other part holds (held out until measured once), and each one's
    cross-labelled 20 (each labeller also labelled 10 of the other's entries, blind) agree >= 80%."""
    rows = [json.loads(line) for line in (DATA / "bugs.jsonl").read_text().splitlines()]
    projects = {s: {r["project"] for r in rows if r["split"] == s} for s in {r["split"] for r in rows}}
    assert projects[part] == names
    for s, ps in projects.items():
        assert not ps & set().union(*(p for t, p in projects.items() if t != s)), s
    labels = {r["id"]: r["label"] for r in rows if r["split"] == part}
    assert len(labels) >= 150 and all(isinstance(r["issue"], int) for r in rows if r["split"] == part)
    second = [json.loads(line) for line in (DATA / f"relabel_{part}.jsonl").read_text().splitlines()]
    assert len(second) == 20
    both = [r for r in second if r["id"] in labels and r["label"] != "drop"]  # an entry both dropped is not here
    assert len(both) >= 15 and sum(labels[r["id"]] == r["label"] for r in both) >= 0.8 * len(both)
