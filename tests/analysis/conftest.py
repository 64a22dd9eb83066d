"""Shared fixtures for the statistics tests: the independent reference cases.

The cases live outside the repository (``../shared/reference/cases.json`` next to the
checkout); they hold published values with their sources and tolerances. Without the file
the reference tests are skipped with a clear reason, the other tests still run.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

CASES_PATH = Path(__file__).resolve().parents[3] / "shared" / "reference" / "cases.json"


def load_reference_cases() -> dict[str, dict[str, Any]]:
    """Return the reference cases keyed by id, or skip the calling test if they are absent."""
    if not CASES_PATH.is_file():
        pytest.skip(f"reference cases not found at {CASES_PATH}")
    with CASES_PATH.open(encoding="utf-8") as fh:
        document = json.load(fh)
    return {case["id"]: case for case in document["cases"]}


@pytest.fixture(scope="session")
def reference_cases() -> dict[str, dict[str, Any]]:
    """All reference cases from ``cases.json``, keyed by case id (``"C01"``, ``"S01"``...)."""
    return load_reference_cases()


@pytest.fixture(scope="session")
def case(reference_cases: dict[str, dict[str, Any]]) -> Callable[[str], dict[str, Any]]:
    """Return a lookup ``case(id)`` giving one reference case dict (skips if it is absent)."""

    def lookup(case_id: str) -> dict[str, Any]:
        if case_id not in reference_cases:
            pytest.skip(f"reference case {case_id} not in {CASES_PATH}")
        return reference_cases[case_id]

    return lookup


@pytest.fixture(scope="session")
def tolerance() -> Callable[[dict[str, Any], str], float]:
    """Return ``tolerance(case, key)``: the absolute tolerance of one expected value."""

    def lookup(case_dict: dict[str, Any], key: str) -> float:
        tol = case_dict["tolerance"]
        return float(tol[key] if isinstance(tol, dict) else tol)

    return lookup
