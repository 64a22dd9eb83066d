"""Input validation shared by the ``analysis`` modules.

Every public statistics function checks its input here first, so that a malformed frame fails
with one clear ``ValueError``/``TypeError`` naming the frame and the offending columns, instead
of a ``KeyError`` or a silently wrong number deep inside pandas.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "as_column_list",
    "check_ci_level",
    "check_scale_bounds",
    "check_share",
    "nan_to_none",
    "require_columns",
    "require_frame",
    "require_numeric",
]


def require_frame(df: object, name: str) -> pd.DataFrame:
    """Return ``df`` unchanged if it is a DataFrame, else raise ``TypeError``.

    Parameters
    ----------
    df : object
        The object a caller passed as a data frame.
    name : str
        The argument's name, used in the error message.

    Returns
    -------
    pandas.DataFrame
        ``df`` itself (not a copy).

    Examples
    --------
    >>> require_frame([1, 2], "answers")
    Traceback (most recent call last):
    ...
    TypeError: answers must be a pandas DataFrame, got list
    """
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{name} must be a pandas DataFrame, got {type(df).__name__}")
    return df


def require_columns(df: pd.DataFrame, columns: Iterable[str], name: str) -> None:
    """Raise ``ValueError`` naming the frame and every missing column.

    Parameters
    ----------
    df : pandas.DataFrame
        The frame to check.
    columns : iterable of str
        Column names that must be present.
    name : str
        What the frame is called in the caller's signature (``"answers"``, ``"items"``...).

    Raises
    ------
    TypeError
        If ``df`` is not a DataFrame or ``columns`` is a bare string.
    ValueError
        If one or more columns are missing; the message lists all of them, and the columns the
        frame does have, so a typo is easy to spot.

    Examples
    --------
    >>> import pandas as pd
    >>> require_columns(pd.DataFrame({"a": [1]}), ["a"], "scores")
    >>> require_columns(pd.DataFrame({"a": [1]}), ["a", "n"], "scores")
    Traceback (most recent call last):
    ...
    ValueError: scores is missing column(s) ['n']; it has ['a']
    """
    require_frame(df, name)
    if isinstance(columns, str):
        raise TypeError("columns must be an iterable of column names, not a single string")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        present = [str(c) for c in df.columns]
        raise ValueError(f"{name} is missing column(s) {missing}; it has {present}")


def require_numeric(df: pd.DataFrame, columns: Iterable[str], name: str) -> None:
    """Raise ``TypeError`` if a column is not a real-valued numeric dtype.

    Booleans are refused on purpose: a ``True`` answer value is a data error, not a 1.

    Parameters
    ----------
    df : pandas.DataFrame
        The frame to check; the columns must exist (call :func:`require_columns` first).
    columns : iterable of str
        Columns that must hold numbers (NaN allowed).
    name : str
        The frame's name for the error message.

    Examples
    --------
    >>> import pandas as pd
    >>> require_numeric(pd.DataFrame({"value": ["4"]}), ["value"], "answers")
    Traceback (most recent call last):
    ...
    TypeError: answers column 'value' must be numeric (NaN for missing), got dtype str
    """
    for column in columns:
        dtype = df[column].dtype
        if pd.api.types.is_bool_dtype(dtype) or not (
            pd.api.types.is_integer_dtype(dtype) or pd.api.types.is_float_dtype(dtype)
        ):
            raise TypeError(
                f"{name} column {column!r} must be numeric (NaN for missing), got dtype {dtype}"
            )


def check_scale_bounds(
    values: np.ndarray,
    scale_min: np.ndarray | float,
    scale_max: np.ndarray | float,
    name: str,
) -> None:
    """Raise ``ValueError`` if a scale is empty or a non-missing value lies outside it.

    A value outside the declared scale is almost always a "don't know" or "not applicable"
    code (0, 9, 99) that slipped through as a number; scoring it would silently bias means, so
    it is refused rather than clipped.

    Parameters
    ----------
    values : numpy.ndarray
        Float values; NaN means missing and is ignored.
    scale_min, scale_max : float or numpy.ndarray
        Inclusive bounds, scalars or arrays broadcastable against ``values``.
    name : str
        What the values are, for the error message.

    Examples
    --------
    >>> import numpy as np
    >>> check_scale_bounds(np.array([1.0, np.nan, 5.0]), 1, 5, "answers value")
    >>> check_scale_bounds(np.array([0.0, 3.0]), 1, 5, "answers value")
    Traceback (most recent call last):
    ...
    ValueError: answers value has 1 value(s) outside the scale (e.g. 0.0 not in [1.0, 5.0]); \
code "don't know" as NaN, never as a number
    """
    lo = np.asarray(scale_min, dtype=float)
    hi = np.asarray(scale_max, dtype=float)
    if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))):
        raise ValueError(f"{name}: scale_min and scale_max must be finite numbers")
    if np.any(lo >= hi):
        raise ValueError(f"{name}: scale_min must be smaller than scale_max")
    vals = np.asarray(values, dtype=float)
    lo_b, hi_b = np.broadcast_to(lo, vals.shape), np.broadcast_to(hi, vals.shape)
    with np.errstate(invalid="ignore"):
        bad = ~np.isnan(vals) & ((vals < lo_b) | (vals > hi_b))
    if np.any(bad):
        first = int(np.flatnonzero(bad.ravel())[0])
        raise ValueError(
            f"{name} has {int(bad.sum())} value(s) outside the scale (e.g. "
            f"{vals.ravel()[first]} not in [{lo_b.ravel()[first]}, {hi_b.ravel()[first]}]); "
            'code "don\'t know" as NaN, never as a number'
        )
    if np.any(np.isinf(vals)):
        raise ValueError(f"{name} contains infinite values")


def check_share(value: float, name: str) -> float:
    """Return ``value`` as a float if it is a share in [0, 1], else raise ``ValueError``.

    Examples
    --------
    >>> check_share(0.5, "min_answered")
    0.5
    """
    if isinstance(value, bool) or not isinstance(value, int | float | np.number):
        raise TypeError(f"{name} must be a number in [0, 1], got {type(value).__name__}")
    share = float(value)
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"{name} must be in [0, 1], got {value}")
    return share


def check_ci_level(ci_level: float) -> float:
    """Return ``ci_level`` as a float if it lies strictly between 0 and 1.

    Examples
    --------
    >>> check_ci_level(0.95)
    0.95
    """
    if isinstance(ci_level, bool) or not isinstance(ci_level, int | float | np.number):
        raise TypeError(f"ci_level must be a number in (0, 1), got {type(ci_level).__name__}")
    level = float(ci_level)
    if not 0.0 < level < 1.0:
        raise ValueError(f"ci_level must be strictly between 0 and 1, got {ci_level}")
    return level


def as_column_list(columns: str | Sequence[str] | None, name: str) -> list[str]:
    """Normalise a column argument (one name, a list of names or ``None``) to a list.

    Examples
    --------
    >>> as_column_list("partner_id", "by")
    ['partner_id']
    >>> as_column_list(None, "by")
    []
    """
    if columns is None:
        return []
    if isinstance(columns, str):
        return [columns]
    try:
        out = list(columns)
    except TypeError:
        raise TypeError(f"{name} must be a column name or a list of column names") from None
    if len(set(out)) != len(out):
        raise ValueError(f"{name} lists a column twice: {out}")
    return out


def nan_to_none(record: Mapping[str, Any]) -> dict[str, Any]:
    """Map NaN (and numpy scalars) to JSON-friendly Python values, recursing into containers.

    Parameters
    ----------
    record : mapping
        A result's fields, e.g. ``dataclasses.asdict(result)``.

    Returns
    -------
    dict
        A copy with NaN as None, numpy scalars as Python scalars and tuples as lists.

    Examples
    --------
    >>> nan_to_none({"alpha": float("nan"), "n": np.int64(3), "items": [np.float64(0.5)]})
    {'alpha': None, 'n': 3, 'items': [0.5]}
    """
    return {k: _plain(v) for k, v in record.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value
