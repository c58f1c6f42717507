"""The labelled evaluation set (data/labelled_bugs): shape, sources and the split (all tuning since the third
review: the held-out projects were measured twice; a fresh held-out part is labelled blind elsewhere)."""
from __future__ import annotations

import json
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "data" / "labelled_bugs"


def test_labelled_set_has_the_promised_shape():
    rows = [json.loads(line) for line in (DATA / "bugs.jsonl").read_text().splitlines()]
    assert len(rows) >= 150 and len({r["id"] for r in rows}) == len(rows)
    assert len({r["project"] for r in rows}) >= 3
    assert {r["label"] for r in rows} == {"integration", "component"}
    assert all(r["text"] and r["rationale"] and "@" in r["source"] for r in rows)
    assert {r["split"] for r in rows} <= {"tuning", "heldout"}
    held = [r for r in rows if r["split"] == "heldout"]
    assert not {r["project"] for r in held} & {r["project"] for r in rows if r["split"] == "tuning"}
    assert {"requests", "pip", "aiohttp", "pytest"} <= {r["project"] for r in rows}
    relabel = [json.loads(line) for line in (DATA / "relabel.jsonl").read_text().splitlines()]
    assert len(relabel) == 30 and {r["id"] for r in relabel} <= {r["id"] for r in rows}
    again = [json.loads(line) for line in (DATA / "relabel_heldout.jsonl").read_text().splitlines()]
    assert len(again) == 10 and {r["id"] for r in again} <= {r["id"] for r in rows if r["project"] in ("pip", "aiohttp")}


def test_the_second_held_out_part_names_its_issue_in_every_entry():
    """pip and aiohttp were sampled for linkable fixes: every entry names the issue its fix mentions."""
    rows = [json.loads(line) for line in (DATA / "bugs.jsonl").read_text().splitlines()]
    linked = [r for r in rows if r["project"] in ("pip", "aiohttp")]
    assert len(linked) >= 90 and all(isinstance(r["issue"], int) for r in linked)
    assert not [r for r in linked if "://" in r["text"] or ":user:" in r["text"]]  # URLs and names stripped
