"""Every round of a partnership and its change over time, each round computed once.

:func:`partnership_results` is what a full analysis of a partnership costs when done once:
the round states (respondent scores, suppression, described tables with their bootstrap
intervals) are built one time per round and read both by that round's own results and by the
series over time. It returns exactly what :func:`analysis.results.round_results` for every
round on its own and :func:`analysis.results.partnership_over_time` over all of them return.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from analysis.results._inputs import _config, _rounds_in_order
from analysis.results._model import OverTimeResults, RoundResults
from analysis.results._state import _round_state
from analysis.results.over_time import _over_time
from analysis.results.round import _round_results_from

__all__ = ["PartnershipResults", "partnership_results"]


@dataclass(frozen=True)
class PartnershipResults:
    """Results of every round of a partnership and across them.

    Attributes
    ----------
    rounds : dict
        Round id -> :class:`RoundResults` of that round on its own (no ``over_time``).
    over_time : OverTimeResults or None
        Across all rounds; None with a single round.
    """

    rounds: dict[Hashable, RoundResults]
    over_time: OverTimeResults | None


def partnership_results(
    answers: pd.DataFrame,
    items: pd.DataFrame,
    *,
    partners: pd.DataFrame,
    k: int,
    round_order: Sequence[Hashable],
    ratings: pd.DataFrame | None = None,
    dimensions: pd.DataFrame | None = None,
    bands: Mapping[Hashable, Sequence[Mapping[str, Any]]] | None = None,
    total_bands: Sequence[Mapping[str, Any]] | None = None,
    favourable_min: float | None = None,
    labels: Mapping[Hashable, Any] | None = None,
    p_adjust: str = "holm",
    random_state: int = 0,
    total: Mapping[str, Any] | None = None,
) -> PartnershipResults:
    """Compute every round's results and the results over time, each round once.

    Parameters
    ----------
    answers : pandas.DataFrame
        Long answers of all rounds (package contract).
    items, partners, k, dimensions, bands, total_bands, favourable_min, labels, p_adjust,
    random_state, total
        As in :func:`analysis.results.round_results`.
    round_order : sequence
        Round ids in chronological order; every round with answers must be in it.
    ratings : pandas.DataFrame, optional
        Ratings of partners by partners, of any of the rounds (each round reads its own).

    Returns
    -------
    PartnershipResults
        ``rounds[r]`` equals ``round_results(answers of r, ..., round_id=r)`` and
        ``over_time`` equals ``partnership_over_time(answers, ...)`` (None for one round),
        figure for figure: the same states feed both.

    Notes
    -----
    The round states are the expensive part (bootstrap intervals of every partner and table);
    calling :func:`round_results` per round and :func:`partnership_over_time` as well builds
    each of them twice.

    Examples
    --------
    >>> import pandas as pd
    >>> items = pd.DataFrame({"item_id": ["q1", "q2"], "dimension": "equality",
    ...                       "reverse": False, "scale_min": 1, "scale_max": 5})
    >>> answers = pd.DataFrame(
    ...     [(f"{r}-{p}{i}", r, p, q, float(min(5, r + (i + j) % 3)))
    ...      for r in (1, 2) for p in ("ngo", "clinic")
    ...      for i in range(6) for j, q in enumerate(["q1", "q2"])],
    ...     columns=["response_id", "round_id", "partner_id", "item_id", "value"])
    >>> partners = pd.DataFrame({"partner_id": ["ngo", "clinic"],
    ...                          "name": ["Yayasan", "Puskesmas"], "sector": "ngo"})
    >>> out = partnership_results(answers, items, partners=partners, k=5, round_order=[1, 2])
    >>> sorted(out.rounds), [p["mean"] for p in out.over_time.series[0]["partnership"]]
    ([1, 2], [2.0, 3.0])
    """
    cfg = _config(
        k, partners, labels, bands, total_bands, favourable_min, dimensions, p_adjust, random_state
    )
    frame, positions, order = _rounds_in_order(answers, items, round_order)
    states = {r: _round_state(r, frame.take(positions[r]), items, cfg, total) for r in order}
    rounds = {
        r: _round_results_from({r: states[r]}, [r], r, cfg, ratings, []) for r in order
    }
    over_time = _over_time(states, order, cfg) if len(order) > 1 else None
    return PartnershipResults(rounds=rounds, over_time=over_time)
