"""Which files hold tests: pytest's ``python_files`` (the repository's own configuration, read as data)."""
from __future__ import annotations

import pytest

from gitutil import make_repo
from toolkit.load.mocks import scan_mocks
from toolkit.load.pytest_config import python_files
from toolkit.load.structure import load_structure
from toolkit.load.test_kinds import classify_tests
from toolkit.vocab.components import PYTEST_PYTHON_FILES, is_collected_test_file, is_test_path


@pytest.mark.parametrize("path, patterns, collected", [
    ("tests/test_api.py", PYTEST_PYTHON_FILES, True),
    ("tests/api_test.py", PYTEST_PYTHON_FILES, True),
    ("pkg/test_inline.py", PYTEST_PYTHON_FILES, True),
    ("tests/data/cases/comments.py", PYTEST_PYTHON_FILES, False),  # a formatter's input file: data
    ("tests/helpers.py", PYTEST_PYTHON_FILES, False),
    ("tests/conftest.py", PYTEST_PYTHON_FILES, False),
    ("pkg/api.py", PYTEST_PYTHON_FILES, False),
    ("tests/check_api.py", ("check_*.py",), True),
    ("tests/test_api.py", ("check_*.py",), False),
    ("testing/python/collect.py", ("test_*.py", "testing/python/*.py"), True),  # a pattern with / matches the path
    ("testing/other/collect.py", ("test_*.py", "testing/python/*.py"), False),
    ("tests/conftest.py", ("*.py",), False),
])
def test_collected_test_file(path, patterns, collected):
    assert is_collected_test_file(path, patterns) is collected
    if collected:
        assert is_test_path(path)  # a collected file is always part of the test suite


def test_support_and_data_files_stay_test_code():
    """The narrower predicate leaves the meaning of is_test_path alone: data and helpers are still not shipped."""
    assert is_test_path("tests/data/cases/comments.py") and is_test_path("tests/helpers.py")


@pytest.mark.parametrize("files, expected", [
    ({}, PYTEST_PYTHON_FILES),
    ({"pyproject.toml": b"[tool.black]\nline-length = 88\n"}, PYTEST_PYTHON_FILES),
    ({"pyproject.toml": b'[tool.pytest.ini_options]\npython_files = "check_*.py  *_check.py"\n'},
     ("check_*.py", "*_check.py")),
    ({"pyproject.toml": b'[tool.pytest.ini_options]\npython_files = ["check_*.py"]\n'}, ("check_*.py",)),
    ({"pyproject.toml": b'[tool.pytest]\npython_files = ["test_*.py", "testing/python/*.py"]\n'},
     ("test_*.py", "testing/python/*.py")),
    ({"pyproject.toml": b'[tool.pytest]\nini_options.python_files = "t_*.py"\n'}, ("t_*.py",)),
    ({"pytest.ini": b"[pytest]\npython_files =\n    check_*.py\n    example_*.py\n"}, ("check_*.py", "example_*.py")),
    ({"tox.ini": b"[tox]\nenvlist = py3\n[pytest]\npython_files = t_*.py\n"}, ("t_*.py",)),
    ({"setup.cfg": b"[tool:pytest]\npython_files = t_*.py\n"}, ("t_*.py",)),
    ({"setup.cfg": b"[metadata]\nname = x\n"}, PYTEST_PYTHON_FILES),
    # the first file that holds pytest configuration is pytest's, even without python_files
    ({"pytest.ini": b"[pytest]\naddopts = -q\n", "setup.cfg": b"[tool:pytest]\npython_files = t_*.py\n"},
     PYTEST_PYTHON_FILES),
    # one without pytest configuration is passed over
    ({"pyproject.toml": b"[tool.ruff]\n", "tox.ini": b"[pytest]\npython_files = t_*.py\n"}, ("t_*.py",)),
    ({"pyproject.toml": b"[tool.pytest\nbroken", "setup.cfg": b"[tool:pytest]\npython_files = t_*.py\n"}, ("t_*.py",)),
])
def test_python_files_from_the_repository_configuration(files, expected):
    assert python_files(files) == expected


DATA_DRIVEN = {
    "fmt/__init__.py": "",
    "fmt/core/__init__.py": "def format_str(s):\n    return s\n",
    "fmt/files/__init__.py": "def find_root(p):\n    return p\n",
    "tests/__init__.py": "",
    "tests/test_format.py": """\
        from fmt import core, files


        def test_format():
            core.format_str(files.find_root("x"))
        """,
    # an input file of the data-driven tests: pytest never collects it, so its functions are no tests
    "tests/data/cases/functions.py": """\
        from unittest.mock import patch


        @patch("fmt.files.find_root")
        def test_like_name(find_root):
            pass
        """,
}


def test_data_files_under_tests_are_not_tests(tmp_path):
    root = make_repo(tmp_path / "data", DATA_DRIVEN)
    st = load_structure(root, cache=False)
    kinds = classify_tests(st, root, skips=[])
    assert list(kinds["test_id"]) == ["tests.test_format.test_format"]
    mocks = scan_mocks(st, root, skips=[])
    assert mocks.empty  # the data file's patch decorates no test


def test_the_repository_python_files_decide(tmp_path):
    files = {**DATA_DRIVEN, "tests/check_more.py": "def test_more():\n    pass\n",
             "pyproject.toml": '[tool.pytest.ini_options]\npython_files = ["check_*.py"]\n'}
    root = make_repo(tmp_path / "configured", files)
    st = load_structure(root, cache=False)
    assert st.python_files == ("check_*.py",)
    assert list(classify_tests(st, root, skips=[])["test_id"]) == ["tests.check_more.test_more"]


COVERAGE_STYLE = {
    "pkg/__init__.py": "", "pkg/config.py": "def read():\n    return 1\n",
    "tests/base.py": "class CoverageTest:\n    pass\n",
    "tests/test_config.py": ("import unittest\nfrom pkg import config\nfrom tests.base import CoverageTest\n\n\n"
                             "class ConfigTest(CoverageTest):\n    def test_read(self):\n        assert config.read()\n\n"
                             "    class NestedTest:\n        def test_inner(self):\n            pass\n\n\n"
                             "class Helper:\n    def test_not_collected(self):\n        pass\n\n\n"
                             "class Legacy(unittest.TestCase):\n    def test_old(self):\n        pass\n\n\n"
                             "class TestPlain:\n    def test_plain(self):\n        pass\n"),
}


def test_the_repository_python_classes_decide(tmp_path):
    """coverage.py collects ``*Test`` classes (``python_classes = ["*Test"]``): its ConfigTest methods are tests,
    which seamscope missed (no test of its config seams was seen); a unittest.TestCase is collected either way."""
    root = make_repo(tmp_path / "default", COVERAGE_STYLE)
    st = load_structure(root, cache=False)
    assert st.python_classes == ("Test",)
    assert sorted(classify_tests(st, root, skips=[])["test_id"]) == [
        "tests.test_config.Legacy.test_old", "tests.test_config.TestPlain.test_plain"]
    root = make_repo(tmp_path / "configured", {**COVERAGE_STYLE, "pyproject.toml":
                                              '[tool.pytest.ini_options]\npython_classes = ["*Test"]\n'})
    st = load_structure(root, cache=False)
    assert st.python_classes == ("*Test",)
    assert sorted(classify_tests(st, root, skips=[])["test_id"]) == [
        "tests.test_config.ConfigTest.NestedTest.test_inner", "tests.test_config.ConfigTest.test_read",
        "tests.test_config.Legacy.test_old"]
