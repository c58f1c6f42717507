"""The labelled evaluation set (data/labelled_bugs): shape, sources and the held-out split."""
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
    held = [r for r in rows if r["split"] == "heldout"]
    assert len(held) >= 50 and len({r["project"] for r in held}) == 1
    assert not {r["project"] for r in held} & {r["project"] for r in rows if r["split"] == "tuning"}
    relabel = [json.loads(line) for line in (DATA / "relabel.jsonl").read_text().splitlines()]
    assert len(relabel) == 30 and {r["id"] for r in relabel} <= {r["id"] for r in rows}
