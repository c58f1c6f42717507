"""Which files and classes pytest collects tests from: the ``python_files`` and ``python_classes`` of the repository's
own pytest configuration.

Read as data from the committed files at the repository's root, never executed, and chosen as pytest chooses
its configuration file: the first of :data:`CONFIG_FILES` that holds pytest configuration (``pytest.toml`` and
``pytest.ini`` always do; ``pyproject.toml`` with ``[tool.pytest]`` or ``[tool.pytest.ini_options]``,
``tox.ini`` with ``[pytest]``, ``setup.cfg`` with ``[tool:pytest]``). Without one, or without ``python_files``
in it, pytest's defaults (:data:`toolkit.vocab.components.PYTEST_PYTHON_FILES`, ``PYTEST_PYTHON_CLASSES``). What
the patterns mean: :func:`toolkit.vocab.components.is_collected_test_file`, ``is_collected_test_class``.
"""
from __future__ import annotations

import configparser
import shlex
import tomllib
from collections.abc import Iterable, Mapping

from toolkit.load.gitrepo import Repo
from toolkit.load.limits import LimitExceeded, load_toml
from toolkit.vocab.components import PYTEST_PYTHON_CLASSES, PYTEST_PYTHON_FILES

#: pytest's configuration files, in the order it prefers them (``_pytest.config.findpaths``)
CONFIG_FILES = ("pytest.toml", ".pytest.toml", "pytest.ini", ".pytest.ini", "pyproject.toml", "tox.ini", "setup.cfg")


def _toml_section(name: str, data: dict) -> dict | None:
    if name in ("pytest.toml", ".pytest.toml"):
        got = data.get("pytest")
        return got if isinstance(got, dict) else {}
    tool = data.get("tool")
    pytest = tool.get("pytest") if isinstance(tool, dict) else None
    if not isinstance(pytest, dict):
        return None
    native = {k: v for k, v in pytest.items() if k != "ini_options"}
    ini = pytest.get("ini_options")
    return native or (ini if isinstance(ini, dict) else None)


def _ini_section(name: str, text: str) -> dict | None:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.read_string(text)
    section = "tool:pytest" if name == "setup.cfg" else "pytest"
    if parser.has_section(section):
        return dict(parser.items(section))
    return {} if name in ("pytest.ini", ".pytest.ini") else None


def _patterns(value: object) -> tuple[str, ...] | None:
    if isinstance(value, str):
        try:
            return tuple(shlex.split(value))
        except ValueError:
            return tuple(value.split())
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    return None


def _section(repo_files: Mapping[str, bytes]) -> dict:
    """The pytest section of the first configuration file among ``repo_files`` that holds one ({} without one).

    A file that does not parse is passed over, as if it held no pytest configuration.
    """
    for name in CONFIG_FILES:
        raw = repo_files.get(name)
        if raw is None:
            continue
        try:
            text = raw.decode("utf-8")
            section = _toml_section(name, load_toml(text)) if name.endswith(".toml") else _ini_section(name, text)
        except (UnicodeDecodeError, tomllib.TOMLDecodeError, configparser.Error, LimitExceeded):
            continue
        if section is not None:
            return section  # the first file holding configuration is pytest's
    return {}


def collection(repo_files: Mapping[str, bytes]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(``python_files``, ``python_classes``) of the pytest configuration among ``repo_files`` (root file name ->
    bytes), read once; pytest's defaults for what it does not set (coverage.py collects ``*Test`` classes)."""
    section = _section(repo_files)
    return (_patterns(section.get("python_files")) or PYTEST_PYTHON_FILES,
            _patterns(section.get("python_classes")) or PYTEST_PYTHON_CLASSES)


def python_files(repo_files: Mapping[str, bytes]) -> tuple[str, ...]:
    """The ``python_files`` patterns of :func:`collection`."""
    return collection(repo_files)[0]


def read_collection(repo: Repo, paths: Iterable[str], rev: str | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """:func:`collection` of ``repo`` at ``rev``, whose files are ``paths``."""
    have = set(paths)
    present = [p for p in CONFIG_FILES if p in have]
    return collection(dict(repo.read_files(present, rev)) if present else {})
