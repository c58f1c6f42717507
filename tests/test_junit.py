"""JUnit XML loader and test-run folders: dialects, errors, real-world corpus, fuzzing."""
from __future__ import annotations

import json
import math
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toolkit.vocab import schema
from toolkit.errors import InputError, Skip, SkippedInputWarning
from toolkit.load.junit import load_junit, parse_seconds
from toolkit.load.test_runs import environment_name, load_test_runs, natural_key

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
JUNIT = CORPUS / "junit"
REPO = Path(__file__).resolve().parents[1]

# upstream marks these invalid (corpus README); each must raise InputError
INVALID = {
    "pytest/corrupt-xml.xml": ("malformed or truncated", 11),
    "non-junit.xml": ("not JUnit XML", 2),
    "xml/empty.xml": ("File is empty", None),
    "xml/non-xml.xml": ("not XML", 1),
}
# valid reports that genuinely hold no <testcase>
EMPTY = {
    "no-cases.xml", "no-cases-but-tests.xml",
    "dorny-test-reporter/empty/java-junit.xml", "dorny-test-reporter/empty/jest-junit.xml",
    "dorny-test-reporter/empty/jest-junit-empty-testsuite.xml", "dorny-test-reporter/empty/phpunit-empty.xml",
}
CORPUS_RESULT: dict[str, float] = {}


def write(tmp_path: Path, text: str | bytes, name: str = "r.xml") -> Path:
    p = tmp_path / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return p


def load(tmp_path: Path, text: str | bytes, **kw) -> pd.DataFrame:
    df = load_junit(write(tmp_path, text), **kw)
    schema.check(df, "test_results")
    return df


# ---------------------------------------------------------------- dialects
def test_pytest_xunit1_with_file_line_and_skip(tmp_path):
    df = load(tmp_path, """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" timestamp="2024-05-01T10:00:00.5" errors="0" failures="1">
 <testcase classname="tests.unit.test_orders.TestPlace" name="test_ok[a]" file="tests/unit/test_orders.py" line="3" time="0.010"/>
 <testcase classname="tests.unit.test_orders" name="test_bad" file="tests/unit/test_orders.py" line="9" time="1.5">
   <failure message="AssertionError: 1 != 2">long traceback</failure><system-out>noise</system-out></testcase>
 <testcase classname="tests.unit.test_orders" name="test_skip" time="0"><skipped type="pytest.skip" message="no db">x</skipped></testcase>
</testsuite></testsuites>""", run_id="r1", environment="isolated", commit="abc")
    assert df["test_id"].tolist() == ["tests.unit.test_orders.TestPlace.test_ok[a]", "tests.unit.test_orders.test_bad",
                                      "tests.unit.test_orders.test_skip"]
    assert df["outcome"].tolist() == ["passed", "failed", "skipped"]
    assert df["message"].tolist()[1:] == ["AssertionError: 1 != 2", "no db"] and pd.isna(df["message"][0])
    assert df["file"].tolist()[:2] == ["tests/unit/test_orders.py"] * 2 and pd.isna(df["file"][2])
    assert df["duration_s"].tolist() == [0.01, 1.5, 0.0]
    assert (df["run_id"] == "r1").all() and (df["environment"] == "isolated").all() and (df["commit"] == "abc").all()
    assert df["timestamp"][0] == pd.Timestamp("2024-05-01T10:00:00.5", tz="UTC")
    assert df["suite"][0] == "pytest" and df["source"][0] == str(tmp_path / "r.xml")


def test_surefire_reruns_and_flaky(tmp_path):
    df = load(tmp_path, """<testsuite name="com.acme.OrderIT" timestamp="2024-05-01T10:00:00+02:00">
 <properties><property name="java.version" value="17"/></properties>
 <testcase name="flaky" classname="com.acme.OrderIT" time="1,234.5">
   <flakyFailure message="timeout" type="java.lang.AssertionError"><stackTrace>x</stackTrace></flakyFailure>
   <flakyError message="boom"/></testcase>
 <testcase name="broken" classname="com.acme.OrderIT" time="0,5">
   <failure message="expected 1"/><rerunFailure message="expected 1"/><rerunFailure message="expected 1"/></testcase>
 <testcase name="rerun_error_only" classname="com.acme.OrderIT"><rerunError message="npe"/></testcase>
</testsuite>""")
    assert df["outcome"].tolist() == ["passed", "failed", "error"]
    assert df["reruns"].tolist() == [2, 2, 1]
    assert df["duration_s"][0] == 1234.5 and df["duration_s"][1] == 0.5 and math.isnan(df["duration_s"][2])
    assert df["timestamp"][0] == pd.Timestamp("2024-05-01T08:00:00", tz="UTC")


@pytest.mark.parametrize("text,expected", [
    ("1.5", 1.5), ("1,234.5", 1234.5), ("0,5", 0.5), ("1.234,5", 1234.5), ("1,234,567", 1234567.0),
    ("2s", 2.0), ("", None), ("abc", None), (None, None),
])
def test_parse_seconds(text, expected):
    got = parse_seconds(text)
    assert (math.isnan(got) if expected is None else got == expected)


def test_status_attributes_bazel_tst_googletest(tmp_path):
    df = load(tmp_path, """<testsuites><testsuite name="s">
 <testcase name="bazel" status="run" duration="3" time="0"/>
 <testcase name="disabled" status="disabled" time="0"/>
 <testcase name="gt_skip" status="run" result="skipped"/>
 <testcase name="notrun" status="notrun"/>
 <testcase name="tst_fail" status="failed"/>
 <testcase name="tst_err" status="errored"/>
 <testcase name="duration_only" duration="2.5"/>
</testsuite></testsuites>""")
    assert df["outcome"].tolist() == ["passed", "skipped", "skipped", "skipped", "failed", "error", "passed"]
    assert df["duration_s"][0] == 0.0 and df["duration_s"][6] == 2.5 and df["duration_s"][2:6].isna().all()
    assert df["test_id"][0] == "s.bazel"  # no classname: suite name stands in (toolkit.vocab.testids)
    assert df["classname"].isna().all()


def test_googletest_result_skipped_when_status_missing(tmp_path):
    df = load(tmp_path, '<testsuite name="g"><testcase name="a" result="skipped"/></testsuite>')
    assert df["outcome"].tolist() == ["skipped"]


def test_precedence_error_beats_failure_beats_skipped(tmp_path):
    df = load(tmp_path, """<testsuite name="s">
 <testcase name="a"><skipped/><failure message="f">F</failure><error message="e">E</error></testcase>
 <testcase name="b"><error message="e"/><skipped/><failure message="f"/></testcase>
 <testcase name="c"><skipped message="s"/><failure>text body only</failure></testcase>
 <testcase name="d"><skipped/></testcase>
</testsuite>""")
    assert df["outcome"].tolist() == ["error", "error", "failed", "skipped"]
    assert df["message"].tolist()[:3] == ["e", "e", "text body only"] and pd.isna(df["message"][3])


def test_nested_suites_innermost_name_and_file(tmp_path):
    df = load(tmp_path, """<testsuites><testsuite name="Project" timestamp="2024-01-02T03:04:05">
 <testsuite name="Tests\\Unit\\OrderTest" file="/repo/tests/Unit/OrderTest.php">
   <testsuite name="Tests\\Unit\\OrderTest::testPrice" file="/repo/tests/Unit/OrderTest.php">
     <testcase name="testPrice with data set #0" class="Tests\\Unit\\OrderTest" classname="Tests.Unit.OrderTest"/>
   </testsuite>
   <testcase name="testTotal" classname="Tests.Unit.OrderTest" file="/repo/other.php"/>
 </testsuite>
 <testsuite name="Dir" file="path/"><testcase name="x"/></testsuite>
 <testcase name="top"/>
</testsuite></testsuites>""")
    assert df["suite"].tolist() == ["Tests\\Unit\\OrderTest::testPrice", "Tests\\Unit\\OrderTest", "Dir", "Project"]
    assert df["file"].tolist()[:2] == ["/repo/tests/Unit/OrderTest.php", "/repo/other.php"]
    assert df["file"][2:].isna().all()  # a folder is not a test file
    assert (df["timestamp"] == pd.Timestamp("2024-01-02T03:04:05", tz="UTC")).all()  # inherited, naive = UTC


def test_no_attributes_at_all(tmp_path):
    df = load(tmp_path, "<testsuites><testsuite><testcase/><testcase><failure/></testcase></testsuite></testsuites>")
    assert df["outcome"].tolist() == ["passed", "failed"]
    assert df["name"].tolist() == ["", ""] and df["suite"].isna().all() and df["duration_s"].isna().all()
    assert df["message"].isna().all() and df["timestamp"].isna().all()


def test_bom_entities_astral_cdata_namespace(tmp_path):
    text = ("\ufeff<?xml version='1.0' encoding='UTF-8'?>\n"
            "<testsuites xmlns='urn:x'><testsuite name='s'>"
            "<testcase classname='c' name='q &quot;x&quot; &amp; &lt;y&gt; \U0001F600 漢字'>"
            "<failure><![CDATA[boom \U0001F4A5 <not a tag>]]></failure>"
            "<system-out><![CDATA[lots of output]]></system-out></testcase></testsuite></testsuites>")
    df = load(tmp_path, text)
    assert df["name"][0] == 'q "x" & <y> \U0001F600 漢字'
    assert df["message"][0] == "boom \U0001F4A5 <not a tag>"
    assert df["test_id"][0] == 'c.q "x" & <y> \U0001F600 漢字'


def test_message_is_truncated(tmp_path):
    df = load(tmp_path, f"<testsuite><testcase name='a'><failure>{'x' * 10000}</failure></testcase></testsuite>")
    assert len(df["message"][0]) == 4000


def test_no_testcases_gives_empty_table(tmp_path):
    df = load(tmp_path, "<testsuites/>")
    assert df.empty and list(df.columns) == schema.columns("test_results")


def test_latin1_declared_encoding(tmp_path):
    df = load(tmp_path, '<?xml version="1.0" encoding="ISO-8859-1"?><testsuite><testcase name="caf\xe9"/></testsuite>'
              .encode("latin-1"))
    assert df["name"][0] == "café"


# ---------------------------------------------------------------- errors
@pytest.mark.parametrize("content,what,line", [
    (b"", "File is empty", None),
    (b"  \n\t\r\n", "File is empty", None),
    (b"\xef\xbb\xbf", "File is empty", None),
    (b"this is not an xml file", "not XML", 1),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "not XML", 1),
    (b"<testsuites>\n<testsuite name='a'>\n<testcase name='x'>", "malformed or truncated", 3),
    (b"<testsuites>\n<testcase name='a' name='b'/></testsuites>", "malformed or truncated", 2),
    (b"<testsuites><testcase name='\x00'/></testsuites>", "malformed", 1),
    (b"<testsuites><testcase name='\xff\xfe'/></testsuites>", "malformed", 1),
    (b"<?xml version='1.0' encoding='no-such-codec'?><testsuites/>", "", 1),
    (b"<test-run><test-case/></test-run>", "NUnit 3", 1),
    (b"<assemblies/>", "xUnit.net", 1),
    (b"<TestRun xmlns='http://microsoft.com/schemas/VisualStudio/TeamTest/2010'/>", "TRX", 1),
])
def test_bad_bytes_raise_input_error_with_file_and_line(tmp_path, content, what, line):
    p = write(tmp_path, content, "bad.xml")
    with pytest.raises(InputError) as exc:
        load_junit(p)
    assert exc.value.path == str(p) and what in str(exc.value)
    assert exc.value.line == line


def test_billion_laughs_refused(tmp_path):
    bomb = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
            + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10))
            + ']><testsuites><testsuite name="&lol9;"/></testsuites>')
    with pytest.raises(InputError, match="refused: the file declares entities/DTD"):
        load_junit(write(tmp_path, bomb))


def test_xxe_does_not_read_local_files(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    xxe = (f'<?xml version="1.0"?><!DOCTYPE t [<!ENTITY xxe SYSTEM "file://{secret}">]>'
           '<testsuites><testsuite name="s"><testcase name="&xxe;"/></testsuite></testsuites>')
    with pytest.raises(InputError) as exc:
        load_junit(write(tmp_path, xxe))
    assert "refused" in str(exc.value) and "TOP-SECRET" not in str(exc.value)


def test_external_dtd_is_not_fetched(tmp_path):
    # an external DTD subset is never loaded (expat does not fetch it); the report itself is read
    df = load(tmp_path, '<?xml version="1.0"?><!DOCTYPE testsuites SYSTEM "http://127.0.0.1:9/x.dtd">'
                        '<testsuites><testsuite><testcase name="a"/></testsuite></testsuites>')
    assert df["name"].tolist() == ["a"]


def test_folder_and_missing_file(tmp_path):
    with pytest.raises(InputError, match="folder"):
        load_junit(tmp_path)
    with pytest.raises(InputError, match="cannot read"):
        load_junit(tmp_path / "nope.xml")


# ---------------------------------------------------------------- real-world corpus
needs_corpus = pytest.mark.skipif(not JUNIT.is_dir(), reason="../shared/corpus not present")


@needs_corpus
def test_corpus_junit_parse_rate():
    files = sorted(p for p in JUNIT.rglob("*.xml"))
    assert len(files) >= 50
    valid_ok = valid = 0
    for p in files:
        rel = p.relative_to(JUNIT).as_posix()
        if rel in INVALID:
            what, line = INVALID[rel]
            with pytest.raises(InputError) as exc:
                load_junit(p)
            assert exc.value.path == str(p) and what in exc.value.what and exc.value.line == line, rel
            continue
        valid += 1
        df = load_junit(p)
        schema.check(df, "test_results")
        if rel in EMPTY:
            assert df.empty, rel
        else:
            assert len(df) > 0, rel
            assert df["outcome"].isin(["passed", "failed", "error", "skipped"]).all()
        valid_ok += 1
    rate = 100.0 * valid_ok / valid
    CORPUS_RESULT.update(valid=valid, loaded=valid_ok, rate=rate)
    print(f"corpus parse rate: {valid_ok}/{valid} valid files = {rate:.1f}%")
    assert rate >= 99


@needs_corpus
def test_corpus_known_counts():
    """Counts that the reports themselves state (tests=/failures=/...)."""
    tst = load_junit(JUNIT / "tst/disabled.xml")["outcome"].value_counts().to_dict()
    assert tst == {"failed": 19, "passed": 6, "skipped": 5, "error": 1}
    jest = load_junit(JUNIT / "dorny-test-reporter/external/jest/jest-test-results.xml")
    assert len(jest) == 4239
    multi = load_junit(JUNIT / "junit.multiresult.xml")
    assert multi["outcome"].tolist() == ["error", "failed", "skipped", "passed"]
    bazel = load_junit(JUNIT / "bazel/suite-logs.xml")
    assert bazel["outcome"].tolist() == ["error"] and bazel["message"][0] == "exited with error code 1"
    xunit = load_junit(JUNIT / "xunit/xunit.xml")  # starts with a BOM
    assert xunit["name"][0] == "mytestapp.Tests.AttriubteTests.SetTestNoFeature"
    pytest_ = load_junit(JUNIT / "pytest/junit.fail.xml")
    assert pytest_["file"].notna().all() and pytest_["timestamp"].notna().all()


@needs_corpus
def test_corpus_other_formats_only_input_error():
    files = sorted(p for p in (CORPUS / "other_formats").rglob("*") if p.suffix.lower() in (".xml", ".trx"))
    assert files
    for p in files:
        try:
            schema.check(load_junit(p), "test_results")
        except InputError as e:
            assert e.path == str(p)


@needs_corpus
def test_corpus_xxe_probes_refused():
    probes = sorted((CORPUS / "other_formats").rglob("NUnit-sec1752-*.xml"))
    assert len(probes) == 2
    for p in probes:
        with pytest.raises(InputError, match="refused") as exc:
            load_junit(p)
        assert exc.value.line is not None


# ---------------------------------------------------------------- fuzzing: only InputError escapes
def _corpus_bytes() -> list[bytes]:
    if not JUNIT.is_dir():
        return [b"<testsuites><testsuite name='s'><testcase name='a'><failure message='m'/></testcase></testsuite></testsuites>"]
    return [p.read_bytes() for p in sorted(JUNIT.rglob("*.xml")) if 0 < p.stat().st_size < 20000][:40]


_SEEDS = _corpus_bytes()
_tags = st.sampled_from(["testsuites", "testsuite", "testcase", "failure", "error", "skipped", "properties",
                         "system-out", "rerunFailure", "flakyFailure", "x"])
_attrs = st.dictionaries(st.sampled_from(["name", "classname", "time", "file", "timestamp", "status", "message",
                                          "duration", "result"]), st.text(max_size=12), max_size=4)


def _tree(depth: int = 0):
    children = st.lists(st.deferred(lambda: _tree(depth + 1)), max_size=3) if depth < 4 else st.just([])
    return st.builds(lambda t, a, c, txt: (t, a, c, txt), _tags, _attrs, children, st.text(max_size=10))


def _render(node) -> str:
    from xml.sax.saxutils import escape, quoteattr
    tag, attrs, children, text = node
    a = "".join(f" {k}={quoteattr(v)}" for k, v in attrs.items())
    return f"<{tag}{a}>{escape(text)}{''.join(_render(c) for c in children)}</{tag}>"


def _assert_only_input_error(path: Path) -> None:
    try:
        schema.check(load_junit(path), "test_results")
    except InputError as e:
        assert e.path == str(path)


_fuzz = settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))


@_fuzz
@given(st.binary(max_size=300))
def test_fuzz_random_bytes(tmp_path_factory, data):
    _assert_only_input_error(write(tmp_path_factory.mktemp("f"), data))


@_fuzz
@given(st.sampled_from(range(len(_SEEDS))), st.integers(0, 20000), st.binary(max_size=8), st.booleans())
def test_fuzz_garbled_corpus(tmp_path_factory, i, cut, junk, truncate):
    seed = _SEEDS[i]
    cut %= max(1, len(seed))
    data = seed[:cut] if truncate else seed[:cut] + junk + seed[cut + len(junk):]
    _assert_only_input_error(write(tmp_path_factory.mktemp("g"), data))


@_fuzz
@given(_tree())
def test_fuzz_random_trees(tmp_path_factory, tree):
    text = "\ufeff" + _render(tree) if tree[0] == "x" else _render(tree)
    _assert_only_input_error(write(tmp_path_factory.mktemp("t"), text))


# ---------------------------------------------------------------- folders of runs
CASE = "<testsuite name='s' timestamp='{ts}'><testcase classname='t.m' name='{n}'>{body}</testcase></testsuite>"


def run_file(root: Path, rel: str, name: str = "test_a", body: str = "", ts: str = "2024-01-01T00:00:00") -> None:
    write(root, CASE.format(n=name, body=body, ts=ts), rel)


def test_folder_convention(tmp_path):
    run_file(tmp_path, "integration/run-10/a/TEST-a.xml")
    run_file(tmp_path, "integration/run-10/b/TEST-b.xml", name="test_b", body="<failure/>")
    run_file(tmp_path, "integration/run-2/TEST-a.xml")
    run_file(tmp_path, "unit/1.xml")
    run_file(tmp_path, "unit/2.xml")
    run_file(tmp_path, "perf-lab/r1/x.xml")
    run_file(tmp_path, "lone.xml")
    (tmp_path / "integration" / "run-2" / "notes.txt").write_text("not xml")
    df = load_test_runs(tmp_path)
    schema.check(df, "test_results")
    runs = df.drop_duplicates("run_id").set_index("run_id")
    assert runs["environment"].to_dict() == {
        "integration/run-2": "integrated", "integration/run-10": "integrated", "unit/1": "isolated",
        "unit/2": "isolated", "perf-lab/r1": "perf-lab", "lone": "unknown"}
    assert runs.loc["integration/run-2", "run_seq"] == 1 and runs.loc["integration/run-10", "run_seq"] == 2
    assert len(df[df["run_id"] == "integration/run-10"]) == 2
    assert df["commit"].isna().all()


def test_manifest_overrides_environment_commit_and_order(tmp_path):
    run_file(tmp_path, "ci/a/r.xml")
    run_file(tmp_path, "ci/b/r.xml")
    run_file(tmp_path, "ci/c.xml")
    (tmp_path / "manifest.json").write_text(json.dumps({"runs": {
        "ci/a": {"environment": "Staging EU", "commit": "c1", "run": 2},
        "ci/b": {"commit": "c1", "run": 1},
        "ci/c.xml": {"environment": "prod"}}}))
    df = load_test_runs(tmp_path).drop_duplicates("run_id").set_index("run_id")
    assert df.loc["ci/a", "environment"] == "staging" and df.loc["ci/a", "commit"] == "c1"
    assert df.loc["ci/b", "environment"] == "test" and df.loc["ci/b", "run_seq"] == 1
    assert df.loc["ci/a", "run_seq"] == 2 and df.loc["ci/c", "environment"] == "production"


@pytest.mark.parametrize("manifest,what", [
    ("{not json", "not JSON"),
    ('{"runs": []}', "manifest must be"),
    ('{"runs": {"ci/a": {"comit": "x"}}}', "unknown manifest fields"),
    ('{"runs": {"ci/zz": {"commit": "x"}}}', "does not exist"),
    ('{"runs": {"ci/a": {"run": "one"}}}', "integer"),
])
def test_manifest_errors(tmp_path, manifest, what):
    run_file(tmp_path, "ci/a/r.xml")
    (tmp_path / "m.json").write_text(manifest)
    with pytest.raises(InputError, match=what):
        load_test_runs(tmp_path, manifest=tmp_path / "m.json")


def test_bad_files_are_skipped_with_partial_results(tmp_path):
    run_file(tmp_path, "ci/r1/good.xml")
    write(tmp_path, "<testsuite><testcase name='x'>", "ci/r1/cut.xml")
    write(tmp_path, "", "ci/r1/empty.xml")
    skips: list[Skip] = []
    df = load_test_runs(tmp_path, skips=skips)
    assert len(df) == 1
    assert sorted(Path(s.path).name for s in skips) == ["cut.xml", "empty.xml"]
    assert next(s for s in skips if s.path.endswith("cut.xml")).line == 1
    with pytest.warns(SkippedInputWarning):
        load_test_runs(tmp_path)


def test_nothing_loads(tmp_path):
    with pytest.raises(InputError, match="no JUnit XML files"):
        load_test_runs(tmp_path)
    write(tmp_path, "junk", "ci/r1/a.xml")
    with pytest.raises(InputError, match="none of the 1 JUnit files"):
        load_test_runs(tmp_path, skips=[])
    with pytest.raises(InputError, match="no such"):
        load_test_runs(tmp_path / "missing")


def test_single_file_list_and_globs_and_executor(tmp_path):
    run_file(tmp_path, "x/a.xml")
    run_file(tmp_path, "x/b.xml", name="test_b")
    one = load_test_runs(tmp_path / "x" / "a.xml")
    assert one["run_id"].tolist() == ["a"] and one["environment"].tolist() == ["unknown"]
    both = load_test_runs([str(tmp_path / "x" / "*.xml")])
    assert sorted(both["run_id"]) == ["a", "b"]
    with ThreadPoolExecutor(2) as ex:
        par = load_test_runs(tmp_path, executor=ex)
    assert sorted(par["run_id"]) == ["x/a", "x/b"] and (par["environment"] == "x").all()
    with pytest.raises(InputError, match="glob matches no file"):
        load_test_runs([str(tmp_path / "nothing*.xml")])


def test_environment_name_and_natural_key():
    assert environment_name("Integration") == "integrated"
    assert environment_name("perf-lab") == "perf-lab"
    assert environment_name("unknown") == "unknown"
    assert sorted(["run-10", "run-2", "run-1"], key=natural_key) == ["run-1", "run-2", "run-10"]


@needs_corpus
def test_corpus_as_a_folder_of_runs():
    skips: list[Skip] = []
    df = load_test_runs(JUNIT, skips=skips)
    assert sorted(Path(s.path).relative_to(JUNIT).as_posix() for s in skips) == sorted(INVALID)
    assert len(df) > 5000 and set(df["environment"]) >= {"pytest", "dorny-test-reporter", "unknown"}


SAMPLE = REPO / "data" / "sample"


@pytest.mark.skipif(not (SAMPLE / "results").is_dir(), reason="sample results not generated yet")
def test_sample_results_two_environments_three_runs():
    df = load_test_runs(SAMPLE / "results")
    schema.check(df, "test_results")
    per_env = df.groupby("environment")["run_id"].nunique()
    assert len(per_env) == 2 and (per_env == 3).all(), per_env.to_dict()


@pytest.mark.parametrize("stamp,expected", [
    ("2021-03-07T10:36:56 UTC", "2021-03-07T10:36:56Z"), ("2021-03-07T10:36:56Z", "2021-03-07T10:36:56Z"),
    ("2021-03-07 12:36:56+02:00", "2021-03-07T10:36:56Z"), ("9999-12-31T00:00:00", None), ("0001-01-01", None),
    ("yesterday-ish", None), ("", None),
])
def test_suite_timestamps(tmp_path, stamp, expected):
    df = load(tmp_path, f"<testsuite timestamp='{stamp}'><testcase name='a'/></testsuite>")
    got = df["timestamp"][0]
    assert pd.isna(got) if expected is None else got == pd.Timestamp(expected)


def test_large_file_spans_several_batches(tmp_path):
    from toolkit.load import junit

    n = junit._BATCH * 2 + 7
    cases = "".join(f"<testcase classname='c' name='t{i}' time='{i % 3}'>{'<failure/>' if i % 1000 == 0 else ''}</testcase>"
                    for i in range(n))
    df = load(tmp_path, f"<testsuite name='s' timestamp='2024-01-01T00:00:00'>{cases}</testsuite>")
    assert len(df) == n and df["name"].iloc[-1] == f"t{n - 1}" and df["test_id"].iloc[junit._BATCH] == f"c.t{junit._BATCH}"
    assert (df["outcome"] == "failed").sum() == len(range(0, n, 1000))
    assert df["timestamp"].notna().all() and df["duration_s"].sum() == sum(i % 3 for i in range(n))
