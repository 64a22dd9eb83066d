"""Small helpers for WTForms."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from wtforms import SelectChoice


def choices(pairs: Iterable[tuple[Any, Any]]) -> list[SelectChoice]:
    """Turn ``(value, label)`` pairs into the SelectChoice objects WTForms 3.3+ expects."""
    return [SelectChoice(value, label) for value, label in pairs]
