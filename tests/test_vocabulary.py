"""Environments, test identities and error messages: small shared definitions."""
import warnings

import pytest

from toolkit.vocab import environments, testids
from toolkit.errors import InputError, Skip, SkippedInputWarning, report_skip


@pytest.mark.parametrize("raw,env", [("Production (EU)", "production"), ("PreProd", "staging"), ("stg", "staging"),
                                     ("dev laptop", "dev"), ("QA", "test"), ("integrated", "integrated"),
                                     ("", "unknown"), (None, "unknown"), ("mars", "unknown")])
def test_environment_normalize(raw, env):
    assert environments.normalize(raw) == env


def test_environment_order():
    assert environments.rank("production") > environments.rank("staging") > environments.rank("isolated")
    assert environments.is_escape("production") and not environments.is_escape("staging")


def test_test_ids_agree_across_sources():
    a = testids.from_junit("tests.unit.test_orders.TestPlace", "test_ok[1-2]")
    b = testids.from_nodeid("tests/unit/test_orders.py::TestPlace::test_ok[1-2]|run")
    c = testids.from_source("tests/unit/test_orders.py", "TestPlace.test_ok[1-2]")
    assert a == b == c == "tests.unit.test_orders.TestPlace.test_ok[1-2]"
    assert testids.from_junit(None, "case", suite="Suite") == "Suite.case"
    assert testids.from_nodeid("tests/test_x.py") == "tests.test_x"


def test_input_error_message_names_everything():
    e = InputError("data/x.xml", "unclosed tag", line=9, hint="regenerate the report", flag="--tests")
    assert str(e) == "data/x.xml:9: unclosed tag [given by --tests]; regenerate the report"
    assert str(InputError(None, "bad", record=3)) == "<input> (record 3): bad"


def test_skips_are_collected_or_warned():
    skips: list[Skip] = []
    report_skip(skips, "a.py", "syntax error", 3)
    assert skips == [Skip("a.py", "syntax error", 3)] and str(skips[0]) == "a.py:3: syntax error"
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        report_skip(None, "b.py", "not JUnit")
    assert w and issubclass(w[0].category, SkippedInputWarning)


def test_conform_fills_an_absent_flag_with_false_and_other_columns_with_missing():
    """A table built without a newer column must not read as if every row had the flag set."""
    import pandas as pd

    from toolkit.vocab import schema

    df = pd.DataFrame({"test_file": ["tests/test_a.py", "tests/test_b.py"], "test_id": ["a", "b"]})
    out = schema.conform(df, "mocks")
    assert out["conditional"].tolist() == [False, False]
    assert out["target"].isna().all() and list(out.columns[:2]) == ["test_file", "test_id"]


def test_conform_fills_an_absent_count_with_zero_and_keeps_its_dtype():
    """int64 cannot hold NA: an absent count used to become a float column of NaN, against the schema."""
    import pandas as pd

    from toolkit.vocab import schema

    df = pd.DataFrame({"test_id": ["a", "b"], "environment": ["ci", "ci"]})
    out = schema.conform(df, "flakiness")
    schema.check(out, "flakiness")
    assert out["runs"].tolist() == [0, 0] and out["flips"].tolist() == [0, 0]
