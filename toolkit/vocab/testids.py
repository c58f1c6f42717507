"""One identity for a test across JUnit XML, coverage contexts and test source.

``test_id`` is the dotted module path of the test file, then the class (if any),
then the test name with its parameters: ``tests.unit.test_orders.TestPlace.test_ok[a]``.
pytest's JUnit ``classname``+``name``, pytest node ids (coverage ``--cov-context=test``)
and ``test_function`` dynamic contexts all map onto it, so one test is one row
wherever it is seen.
"""
from __future__ import annotations

from collections.abc import Iterable

from toolkit.vocab.components import SOURCE_ROOTS, module_name


def from_junit(classname: str | None, name: str, suite: str | None = None) -> str:
    """test_id from a JUnit ``<testcase classname= name=>`` (suite name when classname is missing)."""
    base = (classname or suite or "").strip()
    name = (name or "").strip()
    return f"{base}.{name}" if base else name


def from_nodeid(nodeid: str, roots: Iterable[str] = SOURCE_ROOTS) -> str:
    """test_id from a pytest node id ``tests/unit/test_x.py::TestA::test_b[p]`` (or a coverage context ``...|run``);
    ``roots``: the repository's source roots (:attr:`toolkit.vocab.components.ComponentMap.roots`)."""
    nodeid = nodeid.split("|", 1)[0]
    path, _, rest = nodeid.partition("::")
    mod = module_name(path, roots) if path.endswith(".py") else path.replace("/", ".")
    return ".".join([mod] + [p for p in rest.split("::") if p]) if rest else mod


def from_source(path: str, qualname: str, roots: Iterable[str] = SOURCE_ROOTS) -> str:
    """test_id of a test function found in source: file path + ``Class.test_name``, the path named under the
    repository's source ``roots`` (``backend/tests/test_x.py`` -> ``tests.test_x`` when ``backend/`` is one, as
    pytest run there names it)."""
    return f"{module_name(path, roots)}.{qualname}"


def base_test_id(test_id: str) -> str:
    """test_id without pytest parameters (``t.test_a[1-x]`` -> ``t.test_a``): what source-level facts match on."""
    i = test_id.find("[")
    return test_id[:i] if i >= 0 and test_id.endswith("]") else test_id
