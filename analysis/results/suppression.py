"""Suppression across the tables of a round (rules 1-3 of :mod:`analysis.results`).

A partner hidden in one table is hidden in every table of the round, and every table is
checked again with the hidden set of the whole round (:func:`_protect`), so that a partnership
figure minus the shown partners only ever describes the hidden partners as one group of at
least ``k``. The partner-weighted partnership mean pools the hidden partners
(:func:`_partner_weighted`).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from analysis.privacy import suppress
from analysis.results._inputs import _Config

if TYPE_CHECKING:
    from analysis.results._state import _RoundState

__all__: list[str] = []


def _hidden_partners(
    counts: np.ndarray, table_n: np.ndarray, cfg: _Config
) -> tuple[np.ndarray, np.ndarray, bool]:
    """Apply rules 1 and 2 to a round.

    Returns the partners hidden in every table, the score tables whose partnership figures
    are hidden, and whether the partnership's response count is hidden.
    """
    ids = cfg.partner_ids
    frame = pd.DataFrame(
        {
            "table": -1,
            "partner_id": [*ids, None],
            "n": [*counts.tolist(), int(counts.sum())],
        }
    )
    parts = [frame]
    for t, row in enumerate(table_n):
        parts.append(pd.DataFrame({"table": t, "partner_id": [*ids, None], "n": [*row, row.sum()]}))
    stacked = pd.concat(parts, ignore_index=True)
    decided = suppress(stacked, cfg.k, levels="partner_id", by="table")
    partner_rows = decided["partner_id"].notna().to_numpy()
    position = pd.Index(ids).get_indexer(pd.Index(decided.loc[partner_rows, "partner_id"]))
    forced = np.zeros(len(ids), dtype=bool)
    np.logical_or.at(forced, position, decided.loc[partner_rows, "suppressed"].to_numpy(bool))
    all_n = np.vstack([counts, table_n])
    hidden, total_hidden = _protect(all_n, forced, cfg.k)
    count_hidden = bool(total_hidden[0]) or int(counts.sum()) < cfg.k
    return hidden, total_hidden[1:] | count_hidden, count_hidden


def _protect(n: np.ndarray, forced: np.ndarray, threshold: int) -> tuple[np.ndarray, np.ndarray]:
    """Grow the hidden set until every table (row of ``n``) passes rule 2.

    Returns the hidden partners and, per table, whether its total must be hidden because no
    shown partner is left to hide. Partners are hidden smallest first, ties in partner order.
    """
    hidden = forced | ((n > 0) & (n < threshold)).any(axis=0)
    total_hidden = np.zeros(n.shape[0], dtype=bool)
    changed = True
    while changed:
        changed = False
        for t, row in enumerate(n):
            if total_hidden[t]:
                continue
            held = hidden & (row > 0)
            h, held_sum = int(held.sum()), int(row[held].sum())
            if h == 0 or (h >= 2 and held_sum >= threshold and held_sum > h):
                continue
            candidates = np.flatnonzero(~hidden & (row > 0))
            if candidates.size:
                hidden[candidates[np.argmin(row[candidates])]] = True
                changed = True
            else:
                total_hidden[t] = True
    return hidden, total_hidden


def _partner_weighted(state: _RoundState, t: int) -> tuple[float, int, bool]:
    """Rule 3: mean of partner means, hidden partners counting with their pooled mean."""
    n, sums = state.table_n[t], state.table_sums[t]
    present = n > 0
    shown = present & ~state.hidden
    held = present & state.hidden
    n_partners = int(present.sum())
    if n_partners == 0:
        return math.nan, 0, False
    total = math.fsum(sums[shown] / n[shown])
    if held.any():
        total += int(held.sum()) * (float(state.hidden_sums[t]) / int(n[held].sum()))
    return total / n_partners, n_partners, bool(held.any())
