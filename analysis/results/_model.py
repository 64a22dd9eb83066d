"""The result classes, the names every section shares, and the JSON conversion.

:class:`RoundResults` and :class:`OverTimeResults` are what :func:`analysis.results.round_results`
and :func:`analysis.results.partnership_over_time` return; ``to_dict()`` is what every consumer
reads.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast, overload

import numpy as np
import pandas as pd

from analysis._common import py_scalar

__all__ = ["REASON_ANONYMITY", "TOTAL", "OverTimeResults", "RoundResults"]

#: ``dimension`` id of the health index (mean of a respondent's dimension scores).
TOTAL = "total"
#: Reason given for every hidden figure (rule 4 of the :mod:`analysis.results` docstring).
REASON_ANONYMITY = "anonymity"
REASON_NO_RESPONSES = "no_responses"
REASON_NOT_INTEGER = "answers_not_on_scale_points"
_SCORE_FIELDS = ("n", "mean", "sd", "median", "share_favourable", "ci_low", "ci_high", "ci_method")


@dataclass(frozen=True)
class OverTimeResults:
    """A partnership's results across rounds (see :func:`partnership_over_time`).

    Attributes
    ----------
    meta : dict
        ``rounds`` (in order), ``k``, ``methods`` and library ``versions``.
    series : list of dict
        Per dimension (and the health index): the partnership and every partner per round:
        ``n``, ``mean``, ``ci_low``, ``ci_high``, ``ci_method``, ``suppressed``.
    changes : list of dict
        Rows of :func:`analysis.rounds.compare_rounds` between consecutive rounds, for the
        partnership and for every partner, with ``partner_id`` (None for the partnership),
        ``label``, ``items`` (``"own"`` or ``"common"``) and ``sentence``.
    trends : list of dict
        Rows of :func:`analysis.rounds.trend_test` over all rounds (three or more), same extras.
    largest_changes : list of dict
        The changes into the latest round with the largest absolute mean difference.
    notes : list of dict
        Items left out of comparisons because a questionnaire version lacks them, rounds
        without answers.
    """

    meta: dict[str, Any]
    series: list[dict[str, Any]]
    changes: list[dict[str, Any]]
    trends: list[dict[str, Any]]
    largest_changes: list[dict[str, Any]]
    notes: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Return every field as JSON-ready Python (NaN and NA become None)."""
        return _jsonable(
            {
                "meta": self.meta,
                "series": self.series,
                "changes": self.changes,
                "trends": self.trends,
                "largest_changes": self.largest_changes,
                "notes": self.notes,
            }
        )


@dataclass(frozen=True)
class RoundResults:
    """Everything shown about one round (see :func:`round_results`).

    Attributes
    ----------
    meta : dict
        ``round_id``, ``k``, ``comment_threshold``, ``n_responses`` (None below ``k``),
        ``n_partners``, ``dimensions`` (id, label, items, scale), ``methods`` with their
        parameters, library ``versions``.
    response_counts : dict
        ``partnership`` (``n``, ``suppressed``) and ``partners`` (``partner_id``, ``name``,
        ``sector``, ``n``, ``suppressed``, ``reason``, ``sentence`` when hidden).
    scores : list of dict
        One entry per dimension and the health index (``dimension`` = :data:`TOTAL`):
        ``label``, ``scale_min``, ``scale_max``, ``partnership`` (``n``, ``n_partners``,
        ``partner_weighted`` and ``respondent_weighted`` blocks with band and sentence) and
        ``partners`` (``n``, ``mean``, ``sd``, ``median``, ``share_favourable``,
        ``ci_low``, ``ci_high``, ``ci_method``, ``band``, ``suppressed``, ``reason``,
        ``sentence``).
    heatmap : dict
        ``partners`` x ``dimensions`` matrices ``mean`` and ``n`` (None where hidden),
        ``suppressed``, the partnership row and the scale.
    distributions : list of dict
        Per item: ``values`` (scale points) and, for the partnership and every partner,
        ``counts`` per value, ``dont_know`` and ``n``, or ``suppressed``.
    partner_differences : list of dict
        Per dimension: a row of :func:`analysis.compare.compare_partners`, its Dunn
        ``pairs``, ``partner_means`` and ``sentence``.
    perception_gaps : dict
        ``dimensions`` and ``items``: rows of :func:`analysis.gaps.perception_gaps` with
        ``label`` and ``sentence``.
    agreement : list of dict
        Rows of :func:`analysis.agreement.agreement_by_partner` with ``name``, ``label``,
        ``sentence``.
    reliability : list of dict
        Rows of :func:`analysis.reliability.reliability_by_dimension` with ``label`` and
        ``sentence``.
    rating_matrix : list of dict
        Per rating item: ``cells`` (rater, ratee, ``n``, ``mean``, ``suppressed``).
    asymmetries : list of dict
        Rating pairs where one partner rates the other at least
        :data:`ASYMMETRY_MIN_POINTS` lower than it is rated back.
    over_time : OverTimeResults or None
        When earlier rounds were given.
    notes : list of dict
        Things left out and why (items of another questionnaire version, self-ratings...).
    """

    meta: dict[str, Any]
    response_counts: dict[str, Any]
    scores: list[dict[str, Any]]
    heatmap: dict[str, Any]
    distributions: list[dict[str, Any]]
    partner_differences: list[dict[str, Any]]
    perception_gaps: dict[str, Any]
    agreement: list[dict[str, Any]]
    reliability: list[dict[str, Any]]
    rating_matrix: list[dict[str, Any]]
    asymmetries: list[dict[str, Any]]
    over_time: OverTimeResults | None = None
    notes: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Return every section as JSON-ready Python.

        ``json.dumps(..., allow_nan=False)`` succeeds: NaN and NA become None, tuples lists,
        numpy scalars Python scalars.
        """
        return _jsonable(
            {
                "meta": self.meta,
                "response_counts": self.response_counts,
                "scores": self.scores,
                "heatmap": self.heatmap,
                "distributions": self.distributions,
                "partner_differences": self.partner_differences,
                "perception_gaps": self.perception_gaps,
                "agreement": self.agreement,
                "reliability": self.reliability,
                "rating_matrix": self.rating_matrix,
                "asymmetries": self.asymmetries,
                "over_time": None if self.over_time is None else self.over_time.to_dict(),
                "notes": self.notes,
            }
        )

    def scores_frame(self) -> pd.DataFrame:
        """Return the scores as one tidy frame, for a notebook.

        One row per dimension and partner; the partnership is the row with ``partner_id``
        None and its respondent-weighted figures.
        """
        rows = []
        for table in self.scores:
            block = table["partnership"]
            pooled = block["respondent_weighted"] or {}
            rows.append(
                {
                    "dimension": table["dimension"],
                    "partner_id": None,
                    "suppressed": block["suppressed"],
                    "partner_weighted_mean": (block["partner_weighted"] or {}).get("mean"),
                    **{f: pooled.get(f) for f in _SCORE_FIELDS},
                    "n": block["n"],
                }
            )
            for row in table["partners"]:
                rows.append(
                    {
                        "dimension": table["dimension"],
                        "partner_id": row["partner_id"],
                        "suppressed": row["suppressed"],
                        "partner_weighted_mean": None,
                        **{f: row[f] for f in _SCORE_FIELDS},
                    }
                )
        out = pd.DataFrame(rows).astype({"n": "Int64"})
        # Object columns keep None for the partnership row (pandas 3 would infer str and NaN).
        for column in ("dimension", "partner_id", "ci_method"):
            out[column] = pd.Series([row[column] for row in rows], dtype=object)
        return out


@overload
def _jsonable(value: Mapping[Any, Any]) -> dict[str, Any]: ...
@overload
def _jsonable(value: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]: ...
def _jsonable(
    value: Mapping[Any, Any] | Sequence[Mapping[str, Any]],
) -> dict[str, Any] | list[dict[str, Any]]:
    """JSON-ready copy of a section: see :func:`_plain`."""
    out: dict[str, Any] | list[dict[str, Any]] = _plain(value)
    return out


def _plain(value: Any) -> Any:
    """JSON-ready copy: NaN/inf/NA -> None, numpy scalars -> Python, tuples -> lists."""
    if isinstance(value, Mapping):
        return {str(k) if not isinstance(k, str) else k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Return the rows of a frame whose column names are strings, as ``to_dict("records")``."""
    return cast("list[dict[str, Any]]", frame.to_dict("records"))


def _record(row: Mapping[str, Any]) -> dict[str, Any]:
    """Return a frame record as plain Python (numpy scalars unwrapped, NaN kept for sentences)."""
    return {key: py_scalar(value) for key, value in row.items()}
