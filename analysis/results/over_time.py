"""A partnership's scores across its rounds: series, changes and trends (rule 8).

A partner's figures for a round follow that round's rules; comparisons of rounds whose
questionnaires differ use the items they share, and a group filtered that way is shown only
when :func:`analysis.privacy.safe_to_show_difference` allows it.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Hashable, Mapping, Sequence
from typing import Any, cast

import numpy as np
import pandas as pd

from analysis import language
from analysis._common import py_scalar
from analysis.multiple import adjust_pvalues
from analysis.privacy import safe_to_show_difference
from analysis.results._inputs import _Config, _config, _rounds_in_order
from analysis.results._meta import _methods, _versions
from analysis.results._model import (
    _SCORE_FIELDS,
    REASON_ANONYMITY,
    TOTAL,
    OverTimeResults,
    _jsonable,
    _record,
    _records,
)
from analysis.results._state import _round_state, _RoundState
from analysis.results.suppression import _partner_weighted
from analysis.rounds import compare_rounds, trend_test
from analysis.scoring import dimension_scores, total_scores

__all__ = ["LARGEST_CHANGES", "partnership_over_time"]

#: How many of the latest round's changes ``largest_changes`` lists.
LARGEST_CHANGES = 5


def partnership_over_time(
    answers: pd.DataFrame,
    items: pd.DataFrame,
    *,
    partners: pd.DataFrame,
    k: int,
    round_order: Sequence[Hashable],
    dimensions: pd.DataFrame | None = None,
    bands: Mapping[Hashable, Sequence[Mapping[str, Any]]] | None = None,
    total_bands: Sequence[Mapping[str, Any]] | None = None,
    favourable_min: float | None = None,
    labels: Mapping[Hashable, Any] | None = None,
    p_adjust: str = "holm",
    random_state: int = 0,
    total: Mapping[str, Any] | None = None,
    published: Mapping[Hashable, Mapping[str, Any]] | None = None,
) -> OverTimeResults:
    """How a partnership's scores moved across its rounds, anonymity rules applied.

    Parameters
    ----------
    answers : pandas.DataFrame
        Long answers of all rounds (package contract).
    items : pandas.DataFrame
        Item map covering every questionnaire version; items are matched by ``item_id``
        across versions, and an item without answers in a round is taken to be absent from
        that round's version.
    partners, k, dimensions, bands, total_bands, favourable_min, labels, p_adjust,
    random_state, total
        As in :func:`round_results`.
    round_order : sequence
        Round ids in chronological order; every round with answers must be in it.
    published : mapping, optional
        Round id -> that round's results as published (``RoundResults.to_dict()`` of
        :func:`round_results` with the same ``partners``, ``k`` and ``random_state``). A
        round's described scores (n, mean, SD, median, share favourable, interval) are taken
        from there instead of being bootstrapped again, table by table, whenever the published
        table describes exactly the scores found here (same favourable threshold, same hidden
        partners, same counts); anything else is computed. The result is identical either way;
        the respondent scores the changes and trends test are always computed from
        ``answers``.

    Returns
    -------
    OverTimeResults
        ``series`` (score per round with interval, partnership and partners), ``changes``
        (consecutive rounds: :func:`analysis.rounds.compare_rounds`), ``trends``
        (:func:`analysis.rounds.trend_test`, three or more rounds), ``largest_changes``,
        ``notes``.

    Notes
    -----
    Rounds are compared as independent samples (responses are anonymous). A comparison of
    two rounds whose questionnaires differ uses the items both share, and a trend the items
    all its rounds share; the left-out items are listed in ``notes``. Adjustment families:
    all partnership rows together, all partner rows together (changes and trends apart).

    Examples
    --------
    >>> import pandas as pd
    >>> items = pd.DataFrame({"item_id": ["q1", "q2"], "dimension": "equality",
    ...                       "reverse": False, "scale_min": 1, "scale_max": 5})
    >>> answers = pd.DataFrame(
    ...     [(f"{r}-{p}{i}", r, p, q, float(min(5, r + (i + j) % 3)))
    ...      for r in (1, 2, 3) for p in ("ngo", "clinic")
    ...      for i in range(6) for j, q in enumerate(["q1", "q2"])],
    ...     columns=["response_id", "round_id", "partner_id", "item_id", "value"])
    >>> partners = pd.DataFrame({"partner_id": ["ngo", "clinic"],
    ...                          "name": ["Yayasan", "Puskesmas"], "sector": "ngo"})
    >>> out = partnership_over_time(answers, items, partners=partners, k=5,
    ...                             round_order=[1, 2, 3])
    >>> [round(p["mean"], 2) for p in out.series[0]["partnership"]]
    [2.0, 3.0, 4.0]
    >>> trend = out.trends[0]
    >>> trend["partner_id"], trend["dimension"], trend["z"] > 0, trend["p_adjusted"] < 0.001
    (None, 'equality', True, True)
    """
    cfg = _config(
        k, partners, labels, bands, total_bands, favourable_min, dimensions, p_adjust, random_state
    )
    answers, positions, order = _rounds_in_order(answers, items, round_order)
    if published is not None and not isinstance(published, Mapping):
        raise TypeError("published must be a mapping of round id to a round's to_dict()")
    known = {} if published is None else {py_scalar(r): v for r, v in published.items()}
    states = {
        r: _round_state(
            r, answers.take(positions[r]), items, cfg, total, (known.get(r) or {}).get("scores")
        )
        for r in order
    }
    return _over_time(states, order, cfg)


def _over_time(
    states: Mapping[Hashable, _RoundState], order: list[Hashable], cfg: _Config
) -> OverTimeResults:
    notes: list[dict[str, Any]] = []
    for r in order:
        if states[r].left_out_items:
            notes.append(
                {"note": "items_not_in_round", "round_id": r, "items": states[r].left_out_items}
            )
    cache: dict[tuple[tuple[Hashable, ...], frozenset[Hashable]], pd.DataFrame] = {}
    change_rows: list[dict[str, Any]] = []
    for a, b in itertools.pairwise(order):
        frame, kind, left_out = _comparable_scores(states, [a, b], cfg, cache)
        if left_out:
            notes.append(
                {
                    "note": "items_not_in_both_rounds",
                    "round_from": a,
                    "round_to": b,
                    "items": left_out,
                }
            )
        change_rows.extend(_changes(states, [a, b], frame, kind, cfg))
    trend_rows: list[dict[str, Any]] = []
    if len(order) >= 3:
        frame, kind, left_out = _comparable_scores(states, order, cfg, cache)
        if left_out:
            notes.append({"note": "items_not_in_all_rounds", "rounds": order, "items": left_out})
        trend_rows = _trends(states, order, frame, kind, cfg)
    _adjust_families(change_rows, cfg)
    _adjust_families(trend_rows, cfg)
    for row in change_rows:
        row["sentence"] = language.change_sentence(row, _row_label(row, cfg))
    for row in trend_rows:
        row["sentence"] = language.trend_sentence(row, _row_label(row, cfg))
    latest = [
        row
        for row in change_rows
        if row["round_to"] == order[-1] and not _nan(row["p_value"]) and row["reason"] is None
    ]
    latest.sort(key=lambda row: -abs(row["mean_difference"]))
    meta = {
        "rounds": list(order),
        "k": cfg.k,
        "methods": {key: _methods(cfg)[key] for key in ("interval", "changes", "anonymity")},
        "versions": _versions(),
    }
    return OverTimeResults(
        meta=_jsonable(meta),
        series=_series(states, order, cfg),
        changes=_jsonable(change_rows),
        trends=_jsonable(trend_rows),
        largest_changes=_jsonable(latest[:LARGEST_CHANGES]),
        notes=_jsonable(notes),
    )


def _nan(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _row_label(row: Mapping[str, Any], cfg: _Config) -> dict[str, str]:
    if row["partner_id"] is None:
        return cfg.label(row["dimension"])
    return cfg.partner_label(row["dimension"], row["partner_id"])


def _series(
    states: Mapping[Hashable, _RoundState], order: list[Hashable], cfg: _Config
) -> list[dict[str, Any]]:
    keys: list[Hashable] = []
    for r in order:
        keys.extend(key for key in states[r].table_keys if key not in keys)
    keys.sort(key=lambda key: key == TOTAL)  # the health index last
    out = []
    for key in keys:
        partnership = []
        partners: dict[Hashable, list[dict[str, Any]]] = {pid: [] for pid in cfg.partner_ids}
        for r in order:
            state = states[r]
            if key not in state.table_keys:
                continue
            t = state.table_keys.index(key)
            if state.total_hidden[t]:
                partnership.append({"round_id": r, "suppressed": True, "reason": REASON_ANONYMITY})
            else:
                mean, n_partners, pooled = _partner_weighted(state, t)
                stats = state.pooled_stats.get(key, {})
                partnership.append(
                    {
                        "round_id": r,
                        "suppressed": False,
                        "n": int(state.table_n[t].sum()),
                        "n_partners": n_partners,
                        "partner_weighted_mean": mean,
                        "hidden_pooled": pooled,
                        **{f: stats.get(f) for f in _SCORE_FIELDS[1:]},
                    }
                )
            for i, pid in enumerate(cfg.partner_ids):
                if state.hidden[i]:
                    partners[pid].append(
                        {"round_id": r, "suppressed": True, "reason": REASON_ANONYMITY}
                    )
                    continue
                stats = state.partner_stats.get((pid, key), {"n": 0})
                partners[pid].append(
                    {"round_id": r, "suppressed": False, **{f: stats.get(f) for f in _SCORE_FIELDS}}
                )
        out.append(
            {
                "dimension": key,
                "label": cfg.label(key),
                "partnership": partnership,
                "partners": [
                    {"partner_id": pid, "name": cfg.names[pid], "rounds": rounds}
                    for pid, rounds in partners.items()
                ],
            }
        )
    return _jsonable(out)


def _comparable_scores(
    states: Mapping[Hashable, _RoundState],
    rounds: list[Hashable],
    cfg: _Config,
    cache: dict[tuple[tuple[Hashable, ...], frozenset[Hashable]], pd.DataFrame],
) -> tuple[pd.DataFrame, str, list[str]]:
    """Scores of ``rounds`` on the items they all share (each round's own when identical).

    Returns the frame, ``"own"`` or ``"common"``, and the items left out.
    """
    item_sets = [frozenset(states[r].items["item_id"]) for r in rounds]
    common = frozenset.intersection(*item_sets)
    if all(s == common for s in item_sets):
        return pd.concat([states[r].scores for r in rounds], ignore_index=True), "own", []
    left_out = sorted(map(str, frozenset.union(*item_sets) - common))
    key = (tuple(rounds), common)
    if key not in cache:
        parts = []
        for r in rounds:
            state = states[r]
            answers = state.answers.loc[state.answers["item_id"].isin(common)]
            items = state.items.loc[state.items["item_id"].isin(common)].reset_index(drop=True)
            if answers.empty:
                continue
            rules = cfg.dimensions
            if rules is not None:
                rules = rules.loc[rules["dimension"].isin(items["dimension"])]
            dims = dimension_scores(answers, items, rules)
            parts.append(dims)
            parts.append(total_scores(dims, answers=answers, items=items, dimensions=rules,
                                      label=TOTAL, **state.total_options))
        cache[key] = (
            pd.concat(parts, ignore_index=True) if parts else states[rounds[0]].scores.iloc[:0]
        )
    return cache[key], "common", left_out


def _valid_counts(frame: pd.DataFrame) -> dict[tuple[Hashable, Hashable, Hashable], int]:
    """Count valid scores per (round, partner, table) and per (round, None, table)."""
    valid = frame.loc[frame["score"].notna(), ["round_id", "partner_id", "dimension"]]
    counts: dict[tuple[Hashable, Hashable, Hashable], int] = {}
    for key, n in (
        valid.groupby(["round_id", "partner_id", "dimension"], observed=True).size().items()
    ):
        r, p, d = cast("tuple[Hashable, Hashable, Hashable]", key)
        counts[(py_scalar(r), py_scalar(p), py_scalar(d))] = int(n)
    for key, n in valid.groupby(["round_id", "dimension"], observed=True).size().items():
        r, d = cast("tuple[Hashable, Hashable]", key)
        counts[(py_scalar(r), None, py_scalar(d))] = int(n)
    return counts


def _own_count(state: _RoundState, partner: Hashable | None, key: Hashable) -> int | None:
    """Return a round's own published count of a table (None if the round has no such table)."""
    if key not in state.table_keys:
        return None
    t = state.table_keys.index(key)
    if partner is None:
        return int(state.table_n[t].sum())
    return int(state.table_n[t, state.partner_ids.index(partner)])


def _visible(state: _RoundState, partner: Hashable | None, key: Hashable) -> bool:
    """Tell whether this round's figures of a cell may be used at all (rule 8)."""
    if key not in state.table_keys:
        return True  # nothing published for it; the comparison gets too few values
    if partner is None:
        return not state.total_hidden[state.table_keys.index(key)]
    return not state.hidden[state.partner_ids.index(partner)]


def _filter_hidden(states: Mapping[Hashable, _RoundState], frame: pd.DataFrame) -> pd.DataFrame:
    """Drop score rows of partners hidden in that row's round."""
    drop = np.zeros(len(frame), dtype=bool)
    rounds = frame["round_id"].to_numpy()
    partners = frame["partner_id"]
    for r, state in states.items():
        hidden_ids = [p for p, h in zip(state.partner_ids, state.hidden, strict=True) if h]
        if hidden_ids:
            drop |= (rounds == r) & partners.isin(hidden_ids).to_numpy()
    return frame.loc[~drop]


def _withhold(row: dict[str, Any], numbers: Sequence[str]) -> None:
    for key in numbers:
        row[key] = None if key.startswith(("n", "method")) else math.nan
    row["reason"] = REASON_ANONYMITY


_CHANGE_NUMBERS = (
    "n_from",
    "n_to",
    "mean_from",
    "mean_to",
    "mean_difference",
    "u",
    "method",
    "p_value",
    "rank_biserial",
    "p_adjusted",
)
_TREND_NUMBERS = ("n", "j", "j_expected", "j_variance", "z", "p_value", "tau_b", "p_adjusted")


def _changes(
    states: Mapping[Hashable, _RoundState],
    pair: list[Hashable],
    frame: pd.DataFrame,
    kind: str,
    cfg: _Config,
) -> list[dict[str, Any]]:
    frame = frame.loc[frame["round_id"].isin(pair)]
    counts = _valid_counts(frame) if kind == "common" else {}
    rows = []
    for level, data, by in (
        ("partnership", frame, ["dimension"]),
        ("partner", _filter_hidden(states, frame), ["partner_id", "dimension"]),
    ):
        if data.empty:
            continue
        table = compare_rounds(data, order=pair, by=by, p_adjust="none", min_n=cfg.k)
        for rec in _records(table):
            row = _record(rec)
            partner = row.get("partner_id") if level == "partner" else None
            key = row["dimension"]
            ok = all(_visible(states[r], partner, key) for r in pair)
            if ok and kind == "common":
                ok = all(_safe_filtered(states[r], partner, key, counts, cfg) for r in pair)
            if not ok:
                _withhold(row, _CHANGE_NUMBERS)
            rows.append(
                {
                    "partner_id": partner,
                    "name": None if partner is None else cfg.names[partner],
                    **row,
                    "items": kind,
                }
            )
    return rows


def _safe_filtered(
    state: _RoundState,
    partner: Hashable | None,
    key: Hashable,
    counts: Mapping[tuple[Hashable, Hashable, Hashable], int],
    cfg: _Config,
) -> bool:
    """Rule 8: a group filtered to common items against the round's own published count."""
    own = _own_count(state, partner, key)
    filtered = counts.get((state.round_id, partner, key), 0)
    return own is None or bool(safe_to_show_difference(own, filtered, cfg.k))


def _trends(
    states: Mapping[Hashable, _RoundState],
    order: list[Hashable],
    frame: pd.DataFrame,
    kind: str,
    cfg: _Config,
) -> list[dict[str, Any]]:
    counts = _valid_counts(frame) if kind == "common" else {}
    # Rounds whose partnership figure of a table is hidden leave the partnership trend.
    drop = np.zeros(len(frame), dtype=bool)
    for r in order:
        state = states[r]
        for t, key in enumerate(state.table_keys):
            if state.total_hidden[t]:
                drop |= (frame["round_id"] == r).to_numpy() & (frame["dimension"] == key).to_numpy()
    rows = []
    for level, data, by in (
        ("partnership", frame.loc[~drop], ["dimension"]),
        ("partner", _filter_hidden(states, frame), ["partner_id", "dimension"]),
    ):
        if data.empty:
            continue
        table = trend_test(data, order=order, by=by, p_adjust="none", min_n=cfg.k)
        for rec in _records(table):
            row = _record(rec)
            partner = row.get("partner_id") if level == "partner" else None
            if kind == "common" and not all(
                _safe_filtered(states[r], partner, row["dimension"], counts, cfg)
                for r in row["rounds"]
            ):
                _withhold(row, _TREND_NUMBERS)
            rows.append(
                {
                    "partner_id": partner,
                    "name": None if partner is None else cfg.names[partner],
                    **row,
                    "items": kind,
                }
            )
    return rows


def _adjust_families(rows: list[dict[str, Any]], cfg: _Config) -> None:
    """Adjust p across the partnership rows, and apart across the partner rows (in place)."""
    for is_partner in (False, True):
        family = [row for row in rows if (row["partner_id"] is not None) == is_partner]
        p = [row["p_value"] if not _nan(row["p_value"]) else math.nan for row in family]
        for row, adjusted in zip(family, adjust_pvalues(p, method=cfg.p_adjust), strict=True):
            row["p_adjusted"] = float(adjusted)
