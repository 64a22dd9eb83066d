"""Many tests at once: adjusted p-values (Holm, Benjamini-Hochberg, Benjamini-Yekutieli).

Define the family before adjusting (e.g. all partner pairs within one dimension and round, or
every test on one report page); the adjustment is only as meaningful as that choice.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from scipy import stats

__all__ = ["METHODS", "adjust_pvalues"]

METHODS = ("holm", "bh", "by", "none")
#: The ``p_adjust`` / ``method`` names, for type checking.
PAdjust = Literal["holm", "bh", "by", "none"]


def _holm(p: np.ndarray) -> np.ndarray:
    """Holm (1979) step-down adjusted p-values for a 1-D array without NaN."""
    m = len(p)
    order = np.argsort(p, kind="stable")
    stepped = (m - np.arange(m)) * p[order]  # (m - i + 1) * p_(i), i = 1..m
    adjusted = np.minimum(np.maximum.accumulate(stepped), 1.0)
    out = np.empty(m)
    out[order] = adjusted
    return out


def adjust_pvalues(p_values: Any, method: PAdjust = "holm") -> np.ndarray:
    """Adjust a family of p-values for multiple testing.

    Parameters
    ----------
    p_values : array-like of float
        One-dimensional p-values in [0, 1]; NaN (a test that could not be run) passes
        through as NaN and does not count toward the family size ``m``.
    method : {"holm", "bh", "by", "none"}, default "holm"
        ``"holm"``: Holm (1979) step-down, controls the family-wise error rate; use it for
        claims such as "partner X differs". ``"bh"``: Benjamini-Hochberg (1995), controls the
        false discovery rate under independence or positive dependence; use it for
        screening. ``"by"``: Benjamini-Yekutieli (2001), FDR under any dependence.
        ``"none"``: returned unchanged.

    Returns
    -------
    numpy.ndarray
        Adjusted p-values (float), in the order of the input.

    Raises
    ------
    ValueError
        Not one-dimensional, values outside [0, 1] or infinite, unknown method.
    TypeError
        Non-numeric input.

    Notes
    -----
    With the ``m`` non-missing p-values sorted ``p_(1) <= ... <= p_(m)``:

    - Holm: ``p~_(i) = min(1, max_{j <= i} (m - j + 1) p_(j))``.
    - BH: ``p~_(i) = min(1, min_{j >= i} m p_(j) / j)``.
    - BY: BH multiplied by ``c(m) = sum_{j=1..m} 1/j`` (capped at 1).

    BH and BY are computed by :func:`scipy.stats.false_discovery_control`; Holm, which
    SciPy does not provide, is computed here. The results match R ``p.adjust``.

    References
    ----------
    Holm S (1979) Scand J Stat 6:65. Benjamini Y, Hochberg Y (1995) JRSS B 57:289.
    Benjamini Y, Yekutieli D (2001) Ann Stat 29:1165.

    Examples
    --------
    >>> adjust_pvalues([0.01, 0.04, 0.03, float("nan")], method="holm").tolist()
    [0.03, 0.06, 0.06, nan]
    >>> adjust_pvalues([0.01, 0.04, 0.03], method="bh").round(6).tolist()
    [0.03, 0.04, 0.04]
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    raw = np.asarray(p_values)
    if raw.dtype == bool or not (
        np.issubdtype(raw.dtype, np.number) or raw.dtype == object or raw.size == 0
    ):
        raise TypeError(f"p_values must be numbers, got dtype {raw.dtype}")
    try:
        p = raw.astype(float)
    except (TypeError, ValueError):
        raise TypeError("p_values must be numbers (NaN for a missing p-value)") from None
    if p.ndim != 1:
        raise ValueError(f"p_values must be one-dimensional, got shape {p.shape}")
    present = ~np.isnan(p)
    if np.any((p[present] < 0) | (p[present] > 1)):
        raise ValueError("p_values must lie in [0, 1] (NaN for a missing p-value)")
    out = p.copy()
    if method == "none" or not present.any():
        return out
    if method == "holm":
        out[present] = _holm(p[present])
    else:
        out[present] = stats.false_discovery_control(p[present], method=method)
    return out
