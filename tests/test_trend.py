"""`seamscope trend`: the headline metrics of earlier audits over time; a metric not measured is a gap, not 0."""
from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from toolkit.cli import main
from toolkit.errors import InputError
from toolkit.report.trend import markdown, metric_values, read_trend, table


def _findings(folder: Path, generated: str, rev: str, summary: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    doc = {"schema_version": "1.0", "generated": generated, "title": "t", "provenance": {"revision": rev},
           "sections": {"summary": {"title": "Executive summary", "summary": summary}}}
    (folder / "findings.json").write_text(json.dumps(doc))
    return folder / "findings.json"


@pytest.fixture
def reports(tmp_path) -> Path:
    root = tmp_path / "reports"
    # written out of order: the trend orders by when each audit ran
    _findings(root / "c", "2025-03-01T10:00:00+00:00", "c" * 40,
              {"interaction_coverage": 70.0, "untested_seams": 1, "flaky_tests": None, "coverage_basis": "coverage"})
    _findings(root / "a", "2025-01-01T10:00:00+00:00", "a" * 40,
              {"interaction_coverage": 50.0, "untested_seams": 4, "flaky_tests": 2,
               "top_risky_seams": ["x->y: ..."], "backtest_beats_baselines": True})
    _findings(root / "b", "2025-02-01T10:00:00+00:00", "b" * 40, {"untested_seams": 3})  # coverage not measured
    return root


def test_metric_values_are_the_headline_numbers_by_metric_id():
    doc = {"sections": {"summary": {"summary": {"interaction_coverage": 61, "untested_seams": None,
                                                "coverage_basis": "coverage", "backtest_beats_baselines": True,
                                                "top_risky_seams": ["x->y"], "not_a_metric": 2.5}}}}
    got = metric_values(doc)
    assert got["interaction-coverage"] == 61.0 and got["untested-seams"] is None
    assert not {"coverage-basis", "backtest-beats-baselines", "top-risky-seams", "not_a_metric"} & set(got)
    assert all(v is None for v in metric_values({"sections": {}}).values())


def test_trend_orders_audits_and_keeps_gaps(reports):
    t = read_trend([reports])
    p = t.points
    assert [r[:1] for r in p["revision"]] == ["a", "b", "c"]
    assert list(p["interaction-coverage"][:1]) == [50.0] and math.isnan(p["interaction-coverage"][1])
    assert p["interaction-coverage"][2] == 70.0
    assert math.isnan(p["flaky-tests"][1]) and math.isnan(p["flaky-tests"][2])  # absent and null: both gaps
    assert "coverage-basis" not in t.metrics and "backtest-beats-baselines" not in t.metrics
    rows = table(t).set_index("metric")
    assert list(rows.loc["interaction-coverage"])[:3] == ["50", "n/a", "70"]
    assert rows.loc["interaction-coverage", "change (first to last measured)"] == "+20"
    assert rows.loc["flaky-tests", "change (first to last measured)"] == "n/a"  # one measurement: no change
    md = markdown(t)
    assert "| untested-seams | 4 | 3 | 1 | -3 |" in md and "2025-01-01 aaaaaaa" in md


def test_cli_writes_png_table_and_page(reports, tmp_path, capsys):
    out = tmp_path / "trend"
    assert main(["trend", str(reports / "c"), str(reports / "a" / "findings.json"), str(reports / "b"),
                 "--out", str(out)]) == 0
    assert (out / "trend.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "n/a" in (out / "trend.md").read_text() and "<table>" in (out / "trend.html").read_text()
    assert str(out / "trend.html") in capsys.readouterr().out


def test_paths_without_findings_are_one_line_errors(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="holds no findings.json"):
        read_trend([tmp_path / "empty"])
    assert main(["trend", str(tmp_path / "nope"), "--out", str(tmp_path / "o")]) == 2
    assert "does not exist" in capsys.readouterr().err
    (tmp_path / "bad.json").write_text("[1, 2]")
    assert main(["trend", str(tmp_path / "bad.json"), "--out", str(tmp_path / "o")]) == 2
