"""Numbers for people (toolkit.report.format): units, p-values, days, no scientific notation."""
from __future__ import annotations

import math

import pytest

from toolkit.report.findings_json import display
from toolkit.report.format import (column_unit, format_days, format_number, format_p, format_value, format_when,
                                   metric_label, metric_unit)


@pytest.mark.parametrize("value, unit, text", [
    (73.3, "%", "73.3 %"),
    (100.0, "%", "100 %"),
    (1.0, "fraction", "100 %"),  # the backtest's top-20 share is a fraction: shown as the percentage it is
    (0.256, "fraction", "25.6 %"),
    (0.24678111587982832, "p", "0.25"),
    (0.0012345, "p", "0.0012"),
    (3e-9, "p", "< 0.0001"),
    (10.767934027777779, "days", "10.8 days"),
    (0.00833, "days", "12 min"),
    (0.5, "days", "12 h"),
    (1234567, "count", "1,234,567"),
    (0.4736842105263157, "score", "0.47"),
    (True, "bool", "yes"),
    (None, "%", "n/a"),
    (float("nan"), "count", "n/a"),
    ("coverage", None, "coverage"),
])
def test_format_value(value, unit, text):
    assert format_value(value, unit) == text


def test_no_scientific_notation_anywhere():
    for v in (0.008333333333333333, 1e-7, -0.00042, 123456.789, 2.5e-12):
        for text in (format_number(v), display(v)):
            assert "e" not in text.lower(), text
    assert format_number(0.008333333333333333) == "0.0083"
    assert display(0.008333333333333333) == "0.0083"
    assert format_number(8.020274986217041) == "8.02"


def test_p_values_keep_two_significant_digits():
    assert format_p(0.05) == "0.050"
    assert format_p(0.99) == "0.99"
    assert format_p(0.000123) == "0.00012"


def test_days_as_days():
    assert format_days(1) == "1 day"
    assert format_days(400.04) == "400 days"


def test_units_from_the_vocabulary_or_the_name():
    assert metric_unit("interaction_coverage") == "%"
    assert metric_unit("backtest_top20_share") == "%"  # the vocabulary's unit: summaries hold percentages
    assert metric_unit("some_new_share") == "fraction"  # outside the vocabulary: read from the name
    assert metric_unit("bugs_crossing_components_pct") == "%"
    assert metric_unit("env_difference_p_value") == "p"
    assert metric_unit("median_days") == "days"
    assert metric_unit("components") == "count"
    assert metric_unit("no_such_thing") is None
    assert column_unit("p_value") == "p" and column_unit("p_adj") == "p" and column_unit("mean_days") == "days"
    assert column_unit("top20_share") is None and column_unit("prefix") is None  # only p and days in tables
    assert metric_label("interfaces_documented_pct") == "interfaces documented"


def test_format_when():
    assert format_when("2026-12-04T20:06:17+01:00") == "2026-12-04 19:06 UTC"
    assert format_when("not a date") == "not a date"


def test_inputs_are_not_changed():
    v = float("nan")
    format_value(v, "%")
    assert math.isnan(v)
