"""Shared fixtures for the statistics tests: the independent reference cases.

The cases live in the repository, in ``tests/analysis/reference/cases.json``, each with its
source beside it (``reference/README.md`` lists them). A missing file, an unreadable file or a
missing case *fails* the test that needs it, naming the path: a reference test must never be
skipped silently, or a broken checkout would look green.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

REFERENCE_DIR = Path(__file__).resolve().parent / "reference"
CASES_PATH = REFERENCE_DIR / "cases.json"


def load_reference_cases(path: Path = CASES_PATH) -> dict[str, dict[str, Any]]:
    """Return the reference cases keyed by id; fail the calling test if the file is unusable."""
    if not path.is_file():
        pytest.fail(f"reference cases not found at {path}", pytrace=False)
    try:
        with path.open(encoding="utf-8") as fh:
            document = json.load(fh)
        cases = {case["id"]: case for case in document["cases"]}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        pytest.fail(f"reference cases at {path} are unreadable: {exc!r}", pytrace=False)
    for case_id, case in cases.items():
        missing = [key for key in ("expected", "tolerance", "source") if key not in case]
        if missing:
            pytest.fail(f"reference case {case_id} in {path} lacks {missing}", pytrace=False)
    return cases


@pytest.fixture(scope="session")
def reference_cases() -> dict[str, dict[str, Any]]:
    """All reference cases from ``cases.json``, keyed by case id (``"C01"``, ``"S01"``...)."""
    return load_reference_cases()


@pytest.fixture(scope="session")
def case(reference_cases: dict[str, dict[str, Any]]) -> Callable[[str], dict[str, Any]]:
    """Return a lookup ``case(id)`` giving one reference case dict (fails if it is absent)."""

    def lookup(case_id: str) -> dict[str, Any]:
        if case_id not in reference_cases:
            pytest.fail(f"reference case {case_id} not in {CASES_PATH}", pytrace=False)
        return reference_cases[case_id]

    return lookup


@pytest.fixture(scope="session")
def tolerance() -> Callable[[dict[str, Any], str], float]:
    """Return ``tolerance(case, key)``: the absolute tolerance of one expected value."""

    def lookup(case_dict: dict[str, Any], key: str) -> float:
        tol = case_dict["tolerance"]
        return float(tol[key] if isinstance(tol, dict) else tol)

    return lookup
