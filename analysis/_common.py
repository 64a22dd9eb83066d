"""Private helpers shared by the test modules (``compare``, ``rounds``, ``gaps``, ``agreement``).

They used to live at the bottom of ``compare.py`` and were imported from there by the other
modules; keeping them here means no statistics module depends on another one's internals.
Everything here is internal to the package: the names carry no underscore because the module
itself is private.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Sequence
from typing import Any, cast

import numpy as np
import pandas as pd

from analysis._checks import as_column_list, require_columns, require_frame, require_numeric
from analysis.multiple import PAdjust, adjust_pvalues

__all__ = [
    "ALTERNATIVES",
    "adjust_column",
    "check_choice",
    "check_min_n",
    "finite_1d",
    "iter_cells",
    "py_scalar",
    "result_frame",
    "split_by_group",
    "valid_rows",
]

ALTERNATIVES = ("two-sided", "less", "greater")


def valid_rows(df: pd.DataFrame, name: str, value: str, other: Sequence[str]) -> pd.DataFrame:
    """Validate a long frame and return the rows with a non-missing ``value``.

    Only ``value`` and the ``other`` columns are kept, so callers never copy wide frames.

    Examples
    --------
    >>> valid_rows(pd.DataFrame({"score": [1.0, None], "g": ["a", "b"]}), "scores", "score", ["g"])
       score  g
    0    1.0  a
    """
    require_frame(df, name)
    require_columns(df, [value, *other], name)
    require_numeric(df, [value], name)
    if np.isinf(df[value].to_numpy(dtype=float, na_value=np.nan)).any():
        raise ValueError(f"{name} column {value!r} contains infinite values")
    return df.loc[df[value].notna(), [value, *dict.fromkeys(other)]]


def split_by_group(
    frame: pd.DataFrame, value: str, group: str
) -> tuple[list[Hashable], list[np.ndarray]]:
    """Split ``value`` by ``group`` into arrays, groups sorted; rows without a group dropped.

    Examples
    --------
    >>> frame = pd.DataFrame({"score": [1.0, 2.0, 3.0], "g": ["b", "a", "b"]})
    >>> labels, samples = split_by_group(frame, "score", "g")
    >>> labels, [s.tolist() for s in samples]
    (['a', 'b'], [[2.0], [1.0, 3.0]])
    """
    codes, uniques = pd.factorize(frame[group], sort=True)
    values = frame[value].to_numpy(dtype=float)
    keep = codes >= 0
    codes, values = codes[keep], values[keep]
    order = np.argsort(codes, kind="stable")
    counts = np.bincount(codes, minlength=len(uniques))
    samples = np.split(values[order], np.cumsum(counts)[:-1])
    # Plain Python labels (not numpy scalars) so results serialise with the json module.
    labels = [py_scalar(u) for u in uniques]
    return labels, samples


def iter_cells(
    frame: pd.DataFrame, by_cols: list[str]
) -> Iterator[tuple[dict[str, Any], pd.DataFrame]]:
    """Yield ``({by column: value}, sub-frame)`` per cell of ``by_cols`` (one cell if empty).

    Examples
    --------
    >>> frame = pd.DataFrame({"d": ["x", "y", "x"], "score": [1, 2, 3]})
    >>> [(key, len(cell)) for key, cell in iter_cells(frame, ["d"])]
    [({'d': 'x'}, 2), ({'d': 'y'}, 1)]
    """
    if not by_cols:
        yield {}, frame
        return
    for key, cell in frame.groupby(by_cols, sort=True, observed=True, dropna=False):
        yield {column: py_scalar(k) for column, k in zip(by_cols, key, strict=True)}, cell


def py_scalar(value: Any) -> Any:
    """Return a numpy scalar as the equivalent Python scalar; anything else unchanged.

    Examples
    --------
    >>> type(py_scalar(np.int64(3))).__name__, py_scalar("a")
    ('int', 'a')
    """
    return value.item() if isinstance(value, np.generic) else value


def result_frame(
    rows: list[dict[str, Any]], columns: list[str], text: Sequence[str] = ("reason",)
) -> pd.DataFrame:
    """Build a result frame; ``text`` columns hold Python objects with ``None`` for missing.

    pandas 3 would infer its ``str`` dtype and turn ``None`` into NaN; object columns keep the
    same ``None`` under every pandas version and serialise to JSON ``null`` directly.

    Examples
    --------
    >>> result_frame([{"n": 1, "reason": None}], ["n", "reason"])["reason"].tolist()
    [None]
    """
    out = pd.DataFrame(rows, columns=columns)
    for column in text:
        values = out[column].astype(object)
        out[column] = values.where(values.notna(), None)
    return out


def adjust_column(
    out: pd.DataFrame,
    p_adjust: str,
    family: str | Sequence[str] | None,
    by_cols: list[str],
    column: str = "p_value",
) -> np.ndarray:
    """Adjust ``out[column]`` over all rows, or within each ``family`` of rows.

    Examples
    --------
    >>> out = pd.DataFrame({"d": ["x", "x", "y"], "p_value": [0.01, 0.04, 0.03]})
    >>> adjust_column(out, "holm", "d", ["d"]).tolist()
    [0.02, 0.04, 0.03]
    """
    family_cols = as_column_list(family, "family")
    unknown = [c for c in family_cols if c not in by_cols]
    if unknown:
        raise ValueError(f"family columns {unknown} must be among the by columns {by_cols}")
    p = out[column].to_numpy(dtype=float)
    method = cast("PAdjust", p_adjust)  # adjust_pvalues checks it
    if not family_cols or out.empty:
        return adjust_pvalues(p, method=method)
    adjusted = np.full(p.shape, np.nan)
    for idx in out.groupby(family_cols, sort=False, dropna=False).indices.values():
        adjusted[idx] = adjust_pvalues(p[idx], method=method)
    return adjusted


def check_min_n(min_n: int, minimum: int = 1) -> None:
    """Raise ``TypeError``/``ValueError`` unless ``min_n`` is an int of at least ``minimum``.

    Examples
    --------
    >>> check_min_n(0)
    Traceback (most recent call last):
    ...
    ValueError: min_n must be at least 1, got 0
    """
    if isinstance(min_n, bool) or not isinstance(min_n, int | np.integer):
        raise TypeError(f"min_n must be an integer, got {type(min_n).__name__}")
    if min_n < minimum:
        raise ValueError(f"min_n must be at least {minimum}, got {min_n}")


def check_choice(value: object, allowed: Sequence[str], name: str) -> None:
    """Raise ``ValueError`` unless ``value`` is one of ``allowed``.

    Examples
    --------
    >>> check_choice("both", ALTERNATIVES, "alternative")
    Traceback (most recent call last):
    ...
    ValueError: alternative must be one of ['two-sided', 'less', 'greater'], got 'both'
    """
    if value not in allowed:
        raise ValueError(f"{name} must be one of {list(allowed)}, got {value!r}")


def finite_1d(values: Any, name: str) -> np.ndarray:
    """Return a 1-D float array without NaN; raise on non-numeric, 2-D or infinite input.

    Examples
    --------
    >>> finite_1d([1, float("nan"), 3], "x").tolist()
    [1.0, 3.0]
    """
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a sequence of numbers") from None
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if np.isinf(arr).any():
        raise ValueError(f"{name} contains infinite values")
    finite: np.ndarray = arr[~np.isnan(arr)]
    return finite
