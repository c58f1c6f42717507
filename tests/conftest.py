"""Fixtures shared by several test files: the embedded sample system, loaded once per test process."""
from __future__ import annotations

import json

import pytest

from toolkit.config import SAMPLE_DIR


@pytest.fixture(scope="session")
def sample_truth() -> dict:
    """data/sample/truth.json: what the sample system plants. Tests must not change it (it is shared)."""
    path = SAMPLE_DIR / "truth.json"
    if not path.exists():
        pytest.skip("the sample system is not generated (python -m toolkit.sample data/sample)")
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def sample_evidence(sample_truth, tmp_path_factory):
    """Every input of the sample, loaded as ``seamscope audit`` loads it (an ``Evidence``), with a cache of its own.

    Loading takes about a second, so one object serves every test of a process; tests must not change it.
    """
    if not (SAMPLE_DIR / "repo.bundle").exists():
        pytest.skip("the sample system is not generated (python -m toolkit.sample data/sample)")
    from toolkit.config import sample_config
    from toolkit.core.evidence import load_evidence

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SEAMSCOPE_CACHE", str(tmp_path_factory.mktemp("sample-cache")))
        return load_evidence(sample_config())
