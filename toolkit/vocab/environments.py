"""Where a test run or a bug happened — one vocabulary.

Canonical environments, from closest to the developer to closest to the user:
``dev``, ``isolated`` (tests with fakes/mocks), ``test``, ``integrated`` (tests
with components wired together), ``staging``, ``production``; ``unknown`` when
nothing says. ``normalize`` maps the many spellings teams use onto these so that
test runs and bug reports can be compared.
"""
from __future__ import annotations

import re

ORDER = ("dev", "isolated", "test", "integrated", "staging", "production")
UNKNOWN = "unknown"
SYNONYMS = {
    "dev": ("dev", "development", "local", "localhost", "developer", "sandbox"),
    "isolated": ("isolated", "unit", "mocked", "fakes"),
    "test": ("test", "testing", "qa", "ci", "sit"),
    "integrated": ("integrated", "integration", "int", "e2e"),
    "staging": ("staging", "stage", "stg", "preprod", "pre-prod", "pre-production", "uat", "acceptance"),
    "production": ("production", "prod", "prd", "live"),
}
_LOOKUP = {word: env for env, words in SYNONYMS.items() for word in words}
_WORD = re.compile(r"[a-z][a-z-]*")


def normalize(value: object) -> str:
    """Map a free-text environment name onto the canonical vocabulary.

    ``"Production (EU)"`` -> ``production``; ``"PreProd"`` -> ``staging``; unrecognised -> ``unknown``.
    """
    if value is None:
        return UNKNOWN
    text = str(value).strip().lower()
    if text in _LOOKUP:
        return _LOOKUP[text]
    for word in _WORD.findall(text):
        if word in _LOOKUP:
            return _LOOKUP[word]
    return UNKNOWN


def rank(env: str) -> int:
    """Position in ``ORDER`` (higher = closer to users); unknown ranks last-but-safe (-1)."""
    return ORDER.index(env) if env in ORDER else -1


def is_escape(found_in: str) -> bool:
    """A bug is an *escape* when it was first seen in production: no lower environment caught it."""
    return found_in == "production"
