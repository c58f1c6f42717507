"""Integration coverage of interactions: hand-built tables with hand-computed answers, then the sample's truth."""
from __future__ import annotations

import math

import pandas as pd
import pytest

from toolkit.vocab import schema
from toolkit.analyze.interaction_coverage import interaction_coverage, seam_status


def _sites() -> pd.DataFrame:
    rows = [
        # id, path, line, caller, caller_comp, callee, callee_comp
        ("a/x.py:10:b.svc.f", "a/x.py", 10, "a.x.run", "a", "b.svc.f", "b"),
        ("a/x.py:20:b.svc.g", "a/x.py", 20, "a.x.run", "a", "b.svc.g", "b"),
        ("a/y.py:5:c.m.h", "a/y.py", 5, "a.y.go", "a", "c.m.h", "c"),
        ("b/z.py:7:c.m.k", "b/z.py", 7, "b.z.do", "b", "c.m.k", "c"),
        ("c/q.py:3:a.u.v", "c/q.py", 3, "c.q.back", "c", "a.u.v", "a"),
    ]
    df = pd.DataFrame(rows, columns=["call_site_id", "path", "line", "caller", "caller_component", "callee",
                                     "callee_component"])
    df["kind"] = "call"
    df["seam"] = df["caller_component"] + "->" + df["callee_component"]
    return schema.conform(df, "call_sites")


def _exercises() -> pd.DataFrame:
    df = pd.DataFrame([("t.test_one[p1]", "a/x.py:10:b.svc.f"), ("t.test_two", "a/x.py:10:b.svc.f"),
                       ("t.test_two", "a/x.py:20:b.svc.g"), ("t.test_three", "a/y.py:5:c.m.h")],
                      columns=["test_id", "call_site_id"])
    return schema.conform(df, "test_exercises")


def _mocks(extra: list[tuple] = ()) -> pd.DataFrame:
    rows = [("tests/test_t.py", "t.test_two", 3, "patch", "b.svc", "b.svc", "b"),
            ("tests/test_t.py", "t.test_three", 9, "patch", "c.m.h", "c.m.h", "c"),
            ("tests/test_u.py", "u.test_four", 4, "patch", "c.m.k", "c.m.k", "c"), *extra]
    df = pd.DataFrame(rows, columns=["test_file", "test_id", "line", "mechanism", "target", "target_qualname",
                                     "target_component"])
    df["external_service"] = None
    return schema.conform(df, "mocks")


def test_call_site_and_seam_statuses_by_hand():
    res = interaction_coverage(_sites(), test_exercises=_exercises(), mocks=_mocks())
    schema.check(res.call_sites, "interaction_call_sites")
    schema.check(res.seams, "interaction_seams")
    assert res.basis == "coverage"
    st = dict(zip(res.call_sites["call_site_id"], res.call_sites["status"]))
    # b.svc.f: run by test_one[p1] (no mocks) and test_two (mocks b.svc, which encloses b.svc.f) -> integration
    # b.svc.g: only test_two, which mocks b.svc -> isolation_only
    # c.m.h: only test_three, which mocks c.m.h itself -> isolation_only
    # c.m.k: executed by nobody, but u.test_four mocks it -> isolation_only
    # a.u.v: executed and mocked by nobody -> untested
    assert st == {"a/x.py:10:b.svc.f": "integration", "a/x.py:20:b.svc.g": "isolation_only",
                  "a/y.py:5:c.m.h": "isolation_only", "b/z.py:7:c.m.k": "isolation_only",
                  "c/q.py:3:a.u.v": "untested"}
    f = res.call_sites.set_index("call_site_id").loc["a/x.py:10:b.svc.f"]
    assert f["tests_real"] == ["t.test_one[p1]"] and f["tests_mocked"] == ["t.test_two"]
    assert res.call_sites.set_index("call_site_id").loc["b/z.py:7:c.m.k", "tests_mocked"] == ["u.test_four"]

    s = res.seams.set_index("seam")
    # a->b: 2 call sites, 1 integration, 1 isolation_only -> 50 %, integration; real {test_one[p1]}, mocking {test_two}
    assert s.loc["a->b", ["call_sites", "integration", "isolation_only", "untested"]].tolist() == [2, 1, 1, 0]
    assert s.loc["a->b", "pct_integration"] == 50.0 and s.loc["a->b", "status"] == "integration"
    assert s.loc["a->b", "tests_real_list"] == ["t.test_one[p1]"]
    assert s.loc["a->b", "tests_mocking_list"] == ["t.test_two"]
    # a->c: only with c.m.h mocked; b->c: only mocked by u.test_four; c->a: nothing
    assert s.loc["a->c", "status"] == "mocks_only" and s.loc["a->c", "tests_mocking_list"] == ["t.test_three"]
    assert s.loc["b->c", "status"] == "mocks_only" and s.loc["b->c", "tests_mocking_list"] == ["u.test_four"]
    assert s.loc["c->a", "status"] == "untested" and s.loc["c->a", "tests_mocking"] == 0
    assert s.loc["c->a", "pct_integration"] == 0.0
    # summary: 1 of 4 seams = 25 %; 1 of 5 call sites = 20 %
    assert res.summary["pct_seams_integration"] == 25.0
    assert res.summary["pct_call_sites_integration"] == 20.0
    assert res.summary["mocks_only_seams"] == ["a->c", "b->c"]
    assert res.summary["untested_seams"] == ["c->a"]


def test_component_match_counts_any_mock_of_the_callee_component():
    # test_one mocks b.other.z: another symbol of b. symbol rule: b.svc.f still ran for real;
    # component rule: test_one no longer counts, so a->b has no integration call site left
    extra = [("tests/test_t.py", "t.test_one", 2, "patch", "b.other.z", "b.other.z", "b")]
    by_symbol = interaction_coverage(_sites(), test_exercises=_exercises(), mocks=_mocks(extra))
    assert by_symbol.seams.set_index("seam").loc["a->b", "status"] == "integration"
    by_comp = interaction_coverage(_sites(), test_exercises=_exercises(), mocks=_mocks(extra), match="component")
    s = by_comp.seams.set_index("seam")
    assert s.loc["a->b", "status"] == "mocks_only" and s.loc["a->b", "integration"] == 0
    assert by_comp.summary["pct_seams_integration"] == 0.0
    with pytest.raises(ValueError):
        interaction_coverage(_sites(), test_exercises=_exercises(), match="file")


def test_coverage_contradicting_a_mock_means_the_mock_did_not_act():
    # t.real executed a->b's call AND code inside b.svc.Client.make (the b->c call site there), so its mock of
    # b.svc.Client (say, applied only in another environment) did not act: the a->b call ran for real.
    # t.fake executed only the a->b call with b.svc.Client mocked.
    sites = pd.DataFrame([("a/x.py:10:b.svc.Client.make", "a/x.py", 10, "a.x.run", "a", "b.svc.Client.make", "b"),
                          ("b/svc.py:30:c.m.h", "b/svc.py", 30, "b.svc.Client.make", "b", "c.m.h", "c")],
                         columns=["call_site_id", "path", "line", "caller", "caller_component", "callee",
                                  "callee_component"])
    sites["kind"] = "call"
    sites["seam"] = sites["caller_component"] + "->" + sites["callee_component"]
    ex = schema.conform(pd.DataFrame([("t.real", "a/x.py:10:b.svc.Client.make"), ("t.real", "b/svc.py:30:c.m.h"),
                                      ("t.fake", "a/x.py:10:b.svc.Client.make")],
                                     columns=["test_id", "call_site_id"]), "test_exercises")
    mocks = pd.DataFrame([("tests/t.py", t, 1, "monkeypatch", "b.svc.Client", "b.svc.Client", "b")
                          for t in ("t.real", "t.fake")],
                         columns=["test_file", "test_id", "line", "mechanism", "target", "target_qualname",
                                  "target_component"])
    res = interaction_coverage(schema.conform(sites, "call_sites"), test_exercises=ex,
                               mocks=schema.conform(mocks, "mocks"))
    row = res.call_sites.set_index("call_site_id").loc["a/x.py:10:b.svc.Client.make"]
    assert row["status"] == "integration"
    assert row["tests_real"] == ["t.real"] and row["tests_mocked"] == ["t.fake"]
    seam = res.seams.set_index("seam").loc["a->b"]
    assert seam["tests_mocking_list"] == ["t.fake", "t.real"]  # t.real does mock b (where it acts)


def test_a_mock_patched_where_the_caller_looks_it_up_counts_for_the_seam():
    # patch("a.y.helper") resolves to c.m.other (owned by c): not a callee of a->c, but patched in a.y, the
    # module holding a->c's call site, so the test isolates a from c. It is nothing to b->c (b/z.py is b.z).
    extra = [("tests/test_v.py", "v.test_five", 2, "patch", "a.y.helper", "c.m.other", "c")]
    res = interaction_coverage(_sites(), test_exercises=_exercises(), mocks=_mocks(extra))
    s = res.seams.set_index("seam")
    assert s.loc["a->c", "tests_mocking_list"] == ["t.test_three", "v.test_five"]
    assert s.loc["b->c", "tests_mocking_list"] == ["u.test_four"]


def test_test_kinds_count_integration_tests_among_the_real_ones():
    kinds = pd.DataFrame({"test_id": ["t.test_one"], "kind": ["integration"]})
    res = interaction_coverage(_sites(), test_exercises=_exercises(), mocks=_mocks(), test_kinds=kinds)
    assert res.seams.set_index("seam").loc["a->b", "integration_kind_tests"] == 1  # test_one[p1] -> base test_one


def test_no_tests_at_all_leaves_everything_untested():
    res = interaction_coverage(_sites(), test_exercises=schema.empty("test_exercises"), mocks=None)
    assert set(res.call_sites["status"]) == {"untested"}
    assert res.summary["pct_seams_integration"] == 0.0 and len(res.summary["untested_seams"]) == 4
    empty = interaction_coverage(schema.empty("call_sites"), test_exercises=schema.empty("test_exercises"))
    assert empty.seams.empty and math.isnan(empty.summary["pct_seams_integration"])
    schema.check(empty.seams, "interaction_seams")


def test_static_estimate_is_labelled_and_uses_test_file_imports():
    """A test reaches the components it names (imports) and, one step along the calls, what they call: a seam is
    exercised by a test that reaches both its caller and its callee without mocking the callee."""
    def imports_of(*rows):
        return schema.conform(pd.DataFrame([*rows, ("a/x.py", "b"), ("a/x.py", "c")],  # production imports: ignored
                                           columns=["path", "target_component"]), "imports")

    mocks = _mocks([("tests/test_ab.py", "ab.test_x", 5, "patch", "c.m.h", "c.m.h", "c"),
                    ("tests/test_ac.py", "ac.test_x", 5, "patch", "c.m.h", "c.m.h", "c")])
    res = interaction_coverage(_sites(), test_exercises=None, mocks=mocks, imports=imports_of(("tests/test_ab.py", "a")))
    assert res.basis == "static" and res.summary["basis"] == "static"
    assert "estimate" in res.summary["basis_note"]
    s = res.seams.set_index("seam")["status"].to_dict()
    # test_ab names a only: a's calls reach b (one step) -> a->b covered; it mocks c, so a->c is mocks only and
    # b->c (b reached, c mocked away) is not run for real; nothing reaches c, so c->a is untested
    assert s == {"a->b": "integration_estimated", "a->c": "mocks_only_estimated",
                 "b->c": "untested_estimated", "c->a": "untested_estimated"}
    assert all(x.endswith("_estimated") for x in res.call_sites["status"])
    # 1 of 4 seams -> 25 %; imports cannot tell call sites apart: no call-site share on this basis
    assert res.summary["pct_seams_integration"] == 25.0 and math.isnan(res.summary["pct_call_sites_integration"])
    assert res.summary["untested_seams"] == ["b->c", "c->a"] and res.summary["mocks_only_seams"] == ["a->c"]
    assert res.seams.set_index("seam").loc["a->b", "tests_real_list"] == ["tests/test_ab.py"]
    # test_ac names a and c and mocks c.m.h: c->a runs for real, and so does b->c (b reached through a's call;
    # the mock of c.m.h is not what b's call to c.m.k reaches)
    res = interaction_coverage(_sites(), test_exercises=None, mocks=mocks,
                               imports=imports_of(("tests/test_ab.py", "a"), ("tests/test_ac.py", "a"),
                                                  ("tests/test_ac.py", "c")))
    s = res.seams.set_index("seam")
    assert s["status"].to_dict() == {"a->b": "integration_estimated", "a->c": "mocks_only_estimated",
                                     "b->c": "integration_estimated", "c->a": "integration_estimated"}
    assert s.loc["b->c", "tests_real_list"] == ["tests/test_ac.py"]


def test_static_estimate_counts_a_mock_only_against_the_seams_whose_calls_it_replaces():
    """A conftest replacing one helper of b (``b.cli.init``) leaves a's calls to ``b.svc.f``/``b.svc.g`` real:
    before, every test reaching a and b counted as mocking a->b (sphinx: 741 tests "mocking" its locale
    component because its conftest replaces ``sphinx.locale.init_console``)."""
    imports = schema.conform(pd.DataFrame([("tests/test_ab.py", "a"), ("tests/test_ab.py", "b")],
                                          columns=["path", "target_component"]), "imports")
    other = _mocks()[:0]
    other = schema.conform(pd.concat([other, _mocks([("tests/test_ab.py", "ab.test_x", 2, "assignment",
                                                      "b.cli.init", "b.cli.init", "b")]).tail(1)]), "mocks")
    s = interaction_coverage(_sites(), test_exercises=None, mocks=other, imports=imports).seams.set_index("seam")
    assert s.loc["a->b", ["status", "tests_real", "tests_mocking"]].tolist() == ["integration_estimated", 1, 0]
    # the same test replacing the module the seam's calls reach mocks the seam
    svc = schema.conform(pd.concat([other, _mocks([("tests/test_ab.py", "ab.test_x", 2, "patch", "b.svc",
                                                    "b.svc", "b")]).tail(1)]), "mocks")
    s = interaction_coverage(_sites(), test_exercises=None, mocks=svc, imports=imports).seams.set_index("seam")
    assert s.loc["a->b", ["status", "tests_real", "tests_mocking"]].tolist() == ["mocks_only_estimated", 0, 1]


def test_static_estimate_counts_tests_not_files_when_test_kinds_are_given():
    """Two tests in one file import a and b; one of them mocks b: 1 real, 1 mocking (not "1 file, covered")."""
    kinds = pd.DataFrame([("tests/test_ab.py::test_real", "tests/test_ab.py", ["a", "b"], []),
                          ("tests/test_ab.py::test_fake", "tests/test_ab.py", ["a", "b"], ["b"]),
                          ("tests/test_c.py::test_c", "tests/test_c.py", ["c"], ["a"])],
                         columns=["test_id", "file", "components", "mocked_components"])
    kinds["kind"], kinds["reasons"] = "unit", [[] for _ in range(len(kinds))]
    res = interaction_coverage(_sites(), test_exercises=None, test_kinds=kinds)
    s = res.seams.set_index("seam")
    assert s.loc["a->b", ["status", "tests_real", "tests_mocking"]].tolist() == ["integration_estimated", 1, 1]
    assert s.loc["a->b", "tests_real_list"] == ["tests/test_ab.py::test_real"]
    # b->c: test_real names b, whose call reaches c (one step) -> covered; c->a: test_c names c but mocks a, while
    # test_real reaches c through a's and b's calls and names a -> covered, with test_c mocking
    assert s.loc["b->c", "status"] == "integration_estimated"
    assert s.loc["c->a", ["status", "tests_mocking_list"]].tolist() == ["integration_estimated", ["tests/test_c.py::test_c"]]


def test_import_only_seam_is_neither_untested_nor_counted_in_the_share():
    """A seam with imports but no call site (given the coupling seams table) is ``import_only``."""
    seams = schema.conform(pd.DataFrame([("a->b", "a", "b", 1, 2, 1), ("d->a", "d", "a", 3, 0, 0)],
                                        columns=["seam", "caller_component", "callee_component", "imports",
                                                 "call_sites", "callees"]), "seams")
    for ran in (None, schema.empty("test_exercises")):
        res = interaction_coverage(_sites(), test_exercises=ran, seams=seams)
        row = res.seams.set_index("seam").loc["d->a"]
        assert row["status"] == "import_only" and row["call_sites"] == 0 and row["imports"] == 3
        assert res.seams.set_index("seam").loc["a->b", "imports"] == 1
        assert res.summary["import_only_seams"] == ["d->a"] and "d->a" not in res.summary["untested_seams"]
        assert res.summary["seams"] == 4  # the four seams with call sites; d->a is not in the denominator
    assert seam_status(0, 0, 0) == "import_only" and seam_status(0, 0, 0, basis="static") == "import_only"
    assert seam_status(2, 0, 1, basis="static") == "mocks_only_estimated"


# ----------------------------------------------------------------------------- the sample, end to end
def test_sample_matches_truth(sample_evidence, sample_truth):
    ev, truth = sample_evidence, sample_truth
    res = interaction_coverage(ev.structure.call_sites, test_exercises=ev.test_exercises, mocks=ev.mocks,
                               test_kinds=ev.test_kinds)
    seams = res.seams.set_index("seam")
    for name, entry in truth["seams"].items():
        assert name in seams.index, name
        assert (seams.loc[name, "status"] == "integration") == entry["integration_covered"], name
        sites = res.call_sites[res.call_sites["seam"] == name].set_index(["path", "line"])
        for cs in entry["call_sites"]:
            got = sites.loc[(cs["path"], cs["line"]), "status"]
            got = set(got) if isinstance(got, pd.Series) else {got}
            assert got == {cs["status"]}, (name, cs["path"], cs["line"])
    assert sorted(res.summary["untested_seams"]) == truth["untested_seams"]
    covered = sorted(seams.index[seams["status"] == "integration"])
    assert covered == truth["integration_covered_seams"]


def test_static_estimate_on_the_sample_keeps_planted_seams_mock_only():
    """Without coverage, conftest.py (which imports every component for fixtures) must not count as a test.

    payments->inventory, planted mock-only, is estimated covered: the charge tests name payments, whose calls reach
    inventory, although the code they run never makes that call; only per-test coverage (which the sample has)
    tells. The estimate's reach is one component step, not a call path."""
    from toolkit.config import SAMPLE_DIR, sample_config
    from toolkit.core.evidence import load_evidence

    if not (SAMPLE_DIR / "truth.json").exists():
        pytest.skip("sample not generated")
    ev = load_evidence(sample_config().with_(coverage=None))
    ic = interaction_coverage(ev.structure.call_sites, mocks=ev.mocks, imports=ev.structure.imports)
    status = dict(zip(ic.seams["seam"], ic.seams["status"]))
    assert ic.basis == "static"
    assert status["documents->search_index"] == "mocks_only_estimated"
    assert status["payments->inventory"] == "integration_estimated"
    real = {t for ts in ic.seams["tests_real_list"] for t in ts} | {t for ts in ic.seams["tests_mocking_list"] for t in ts}
    assert real and not [t for t in real if t.endswith("conftest.py")]


FLAT_PACKAGE = {
    # a flat package whose namespace re-exports its modules' entry points (requests-style)
    "src/lib/__init__.py": "from .api import get\nfrom .sessions import Session\n",
    "src/lib/api.py": "from . import sessions\n\ndef get(url):\n    return sessions.Session().request(url)\n",
    "src/lib/sessions.py": "from . import utils\n\nclass Session:\n    def request(self, url):\n"
                           "        return utils.clean(url) + utils.strip(url)\n",
    "src/lib/utils.py": "from . import hooks\n\ndef clean(u):\n    return hooks.run(u)\n\ndef strip(u):\n"
                        "    return u.strip()\n",
    "src/lib/hooks.py": "def run(u):\n    return u\n",
    "tests/test_public.py": "import lib\n\ndef test_get():\n    assert lib.get(' x ')\n",
    "tests/test_utils.py": "from lib import utils\n\ndef test_strip():\n    assert utils.strip(' x ') == 'x'\n",
    "src/lib/cli.py": "from . import hooks\n\ndef main():\n    return hooks.run('')\n",
}


def test_static_estimate_reaches_modules_through_the_package_namespace(tmp_path, monkeypatch):
    """Without coverage, a test importing a flat package's namespace reaches the modules it re-exports (their
    seams are estimated exercised) and, one step along the calls, what they call; a module no test names is not
    reached through another's calls."""
    from tests.gitutil import make_repo
    from toolkit.config import AuditConfig
    from toolkit.core.evidence import load_evidence
    from toolkit.core.findings import Findings

    monkeypatch.setenv("SEAMSCOPE_NO_CACHE", "1")
    repo = make_repo(tmp_path / "r", FLAT_PACKAGE)
    f = Findings(load_evidence(AuditConfig(repo=repo)))
    assert f.interaction.basis == "static"
    seams = f.interaction.seams.set_index("seam")
    # tests/test_public.py imports `lib`, which re-exports api and sessions: api->sessions is reached for real
    assert seams.loc["api->sessions", "status"] == "integration_estimated"
    assert seams.loc["api->sessions", "tests_real"] >= 1
    # utils->hooks: test_utils names utils, whose calls reach hooks: estimated covered, although test_strip never
    # runs clean's call (the estimate's reach is a component step, not a call path: per-test coverage tells)
    assert seams.loc["utils->hooks", "status"] == "integration_estimated"
    # cli->hooks: no test names cli (nor a namespace re-exporting it): not reached
    assert seams.loc["cli->hooks", "status"] == "untested_estimated"
    # the ranking says an estimate is one: no reason claims a measured count of call sites "exercised for real"
    reasons = f.ranking.table["reason"].tolist()
    assert not any("exercised for real" in r for r in reasons)
    assert any("an estimate" in r for r in reasons)
