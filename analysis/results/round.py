"""One round's results: the entry point and the section builders (rules 4-6).

Every section reads the same :class:`analysis.results._state._RoundState`, so a dimension
score is computed once per round and the hidden partners are the same in every section.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from typing import Any, cast

import numpy as np
import pandas as pd

from analysis import language
from analysis._checks import require_frame
from analysis._common import py_scalar
from analysis.agreement import agreement_by_partner
from analysis.compare import compare_partners, compare_partners_posthoc
from analysis.gaps import perception_gaps
from analysis.privacy import distribution_allowed
from analysis.reliability import reliability_by_dimension
from analysis.results._inputs import (
    _categorical_ids,
    _check_answers,
    _Config,
    _config,
    _order,
    _positions,
    _round_positions,
)
from analysis.results._meta import _methods, _versions
from analysis.results._model import (
    _SCORE_FIELDS,
    REASON_ANONYMITY,
    REASON_NO_RESPONSES,
    REASON_NOT_INTEGER,
    TOTAL,
    RoundResults,
    _jsonable,
    _record,
    _records,
)
from analysis.results._state import _round_state, _RoundState, _Table
from analysis.results.over_time import _over_time
from analysis.results.ratings import _ratings_sections
from analysis.results.suppression import _partner_weighted, _protect
from analysis.scoring import assign_bands

__all__ = ["round_results"]


def round_results(
    answers: pd.DataFrame,
    items: pd.DataFrame,
    *,
    round_id: Hashable,
    partners: pd.DataFrame,
    k: int,
    dimensions: pd.DataFrame | None = None,
    previous: pd.DataFrame | None = None,
    round_order: Sequence[Hashable] | None = None,
    ratings: pd.DataFrame | None = None,
    bands: Mapping[Hashable, Sequence[Mapping[str, Any]]] | None = None,
    total_bands: Sequence[Mapping[str, Any]] | None = None,
    favourable_min: float | None = None,
    labels: Mapping[Hashable, Any] | None = None,
    p_adjust: str = "holm",
    random_state: int = 0,
    total: Mapping[str, Any] | None = None,
) -> RoundResults:
    """Compute everything shown about one round, anonymity rules applied.

    Parameters
    ----------
    answers : pandas.DataFrame
        Long answers of the round (the package contract: ``response_id``, ``round_id``,
        ``partner_id``, ``item_id``, ``value``, optional ``dont_know``). May hold earlier
        rounds too when ``round_order`` says where ``round_id`` stands.
    items : pandas.DataFrame
        Item map (``item_id``, ``dimension``, ``reverse``, ``scale_min``, ``scale_max``). Items
        without any answer row in a round are taken to belong to another questionnaire
        version and are left out of that round (with a note).
    round_id : hashable
        The round to report.
    partners : pandas.DataFrame
        ``partner_id``, ``name``, ``sector``: every partner of the partnership, in display
        order (partners without responses are listed with n = 0).
    k : int
        Anonymity threshold (at least 3).
    dimensions : pandas.DataFrame, optional
        Per-dimension scoring rules, as in :func:`analysis.scoring.dimension_scores`.
    previous : pandas.DataFrame, optional
        Answers of earlier rounds (same columns); adds ``over_time``.
    round_order : sequence, optional
        Rounds in chronological order. Needed when ``answers`` holds several rounds; with
        ``previous`` the default is the sorted earlier rounds, then ``round_id``. Rounds after
        ``round_id`` are ignored.
    ratings : pandas.DataFrame, optional
        Ratings of partners by partners: ``response_id``, ``round_id``, ``rater_partner_id``,
        ``ratee_partner_id``, ``item_id``, ``value``.
    bands : mapping, optional
        Dimension id -> list of bands ``{"id", "label": {"id", "en"}, "min", "max"}``.
    total_bands : list, optional
        Bands of the health index, on the total's own range (35-175 for 35 summed items).
    favourable_min : float, optional
        Item-scale value from which a score counts as favourable; default the top quarter of
        the scale (4 on 1-5).
    labels : mapping, optional
        Dimension and item ids -> ``{"id": ..., "en": ...}``; the id is used otherwise. The
        key :data:`TOTAL` labels the health index.
    p_adjust : {"holm", "bh", "by", "none"}, default "holm"
        Multiplicity adjustment (families are listed in ``meta["methods"]``).
    random_state : int, default 0
        Seed of the bootstrap intervals and permutation tests: the same inputs and seed give
        the same result.
    total : mapping, optional
        How the health index is formed: keyword arguments of
        :func:`analysis.scoring.total_scores` (``method``, ``missing``, ``min_answered``,
        ``min_items``); default the mean of dimension scores, every dimension scored. The
        methods note in ``meta["methods"]["scores"]`` states the rule used.

    Returns
    -------
    RoundResults
        See the class for the sections; ``to_dict()`` is JSON-ready.

    Raises
    ------
    ValueError
        Malformed frames (see :func:`analysis.scoring.dimension_scores`), partners or rounds
        missing from ``partners`` / ``round_order``, a dimension named :data:`TOTAL`.
    TypeError
        Arguments of the wrong type.

    Notes
    -----
    The anonymity rules are in the :mod:`analysis.results` docstring. Partner-level tests use
    ``min_n = k``; the methods and their parameters are listed in ``meta["methods"]``.

    References
    ----------
    Sweeney L (2002) Int J Uncertainty Fuzziness Knowl-Based Syst 10:557. statistics.md A1,
    A3, A6-A9, A11 (project research notes).

    Examples
    --------
    >>> import pandas as pd
    >>> items = pd.DataFrame({"item_id": ["q1", "q2"], "dimension": "equality",
    ...                       "reverse": False, "scale_min": 1, "scale_max": 5})
    >>> answers = pd.DataFrame(
    ...     [(f"{p}{i}", 1, p, q, float(1 + (i + j + len(p)) % 5))
    ...      for p, n in {"ngo": 9, "clinic": 8, "farmers": 3}.items()
    ...      for i in range(n) for j, q in enumerate(["q1", "q2"])],
    ...     columns=["response_id", "round_id", "partner_id", "item_id", "value"])
    >>> partners = pd.DataFrame({"partner_id": ["ngo", "clinic", "farmers"],
    ...                          "name": ["Yayasan", "Puskesmas", "Kelompok Tani"],
    ...                          "sector": ["ngo", "government", "community"]})
    >>> result = round_results(answers, items, round_id=1, partners=partners, k=5)
    >>> [(row["partner_id"], row["n"], row["suppressed"])
    ...  for row in result.response_counts["partners"]]
    [('ngo', 9, False), ('clinic', None, True), ('farmers', None, True)]
    >>> result.scores[0]["partnership"]["partner_weighted"]["hidden_pooled"]
    True
    """
    cfg = _config(
        k, partners, labels, bands, total_bands, favourable_min, dimensions, p_adjust, random_state
    )
    _check_answers(answers, items)
    round_id = py_scalar(round_id)
    frame, order, notes = _gather_rounds(answers, previous, round_id, round_order)
    frame = _categorical_ids(frame)
    positions = _round_positions(frame)
    states = {r: _round_state(r, frame.take(positions[r]), items, cfg, total) for r in order}
    return _round_results_from(states, order, round_id, cfg, ratings, notes)


def _round_results_from(
    states: Mapping[Hashable, _RoundState],
    order: list[Hashable],
    round_id: Hashable,
    cfg: _Config,
    ratings: pd.DataFrame | None,
    notes: list[dict[str, Any]],
) -> RoundResults:
    """Build a round's sections from round states computed once (over time: ``order``)."""
    state = states[round_id]
    notes = [*notes, *_left_out_note(state)]
    rating_matrix, asymmetries, rating_notes = _ratings_sections(ratings, state, cfg)
    notes.extend(rating_notes)
    shown_dist, distributions = _distributions(state, cfg)
    scored = _scored_answer_rows(state)
    over_time = _over_time(states, order, cfg) if len(order) > 1 else None
    return RoundResults(
        meta=_meta(state, cfg),
        response_counts=_response_counts(state, cfg),
        scores=_scores_section(state, cfg),
        heatmap=_heatmap(state, cfg),
        distributions=distributions,
        partner_differences=_partner_differences(state, cfg),
        perception_gaps=_gaps_section(state, shown_dist, cfg),
        agreement=_agreement_section(state, scored, cfg),
        reliability=_reliability_section(state, scored, cfg),
        rating_matrix=rating_matrix,
        asymmetries=asymmetries,
        over_time=over_time,
        notes=_jsonable(notes),
    )


def _gather_rounds(
    answers: pd.DataFrame,
    previous: pd.DataFrame | None,
    round_id: Hashable,
    round_order: Sequence[Hashable] | None,
) -> tuple[pd.DataFrame, list[Hashable], list[dict[str, Any]]]:
    """All answers to analyse and the rounds up to ``round_id`` in order."""
    present = [py_scalar(r) for r in pd.unique(answers["round_id"])]
    frame = answers
    if previous is not None:
        require_frame(previous, "previous")
        if present != [round_id]:
            raise ValueError(
                f"with previous=, answers must hold only round {round_id!r}; it holds {present}"
            )
        earlier = [py_scalar(r) for r in pd.unique(previous["round_id"])]
        if round_id in earlier:
            raise ValueError(f"previous also holds round {round_id!r}")
        frame = pd.concat([previous, answers], ignore_index=True)
        if round_order is None:
            round_order = [*_order(earlier, None, "round_order"), round_id]
        present = [*earlier, round_id]
    if round_id not in present:
        raise ValueError(f"answers has no rows for round_id {round_id!r}")
    if len(present) == 1:
        return frame, [round_id], []
    if round_order is None:
        raise ValueError("answers holds several rounds; pass round_order= (chronological)")
    order = _order(present, round_order, "round_order")
    position = order.index(round_id)
    notes = []
    if position < len(order) - 1:
        notes.append({"note": "later_rounds_ignored", "rounds": order[position + 1 :]})
    order = order[: position + 1]
    keep = frame["round_id"].isin(order).to_numpy()
    return (frame if keep.all() else frame.loc[keep]), order, notes


def _left_out_note(state: _RoundState) -> list[dict[str, Any]]:
    if not state.left_out_items:
        return []
    return [{"note": "items_not_in_round", "items": state.left_out_items}]


def _meta(state: _RoundState, cfg: _Config) -> dict[str, Any]:
    total = int(state.counts.sum())
    dims = []
    for table in state.tables:
        sub = state.items.loc[state.items["dimension"] == table.key, "item_id"]
        dims.append(
            {
                "dimension": table.key,
                "label": cfg.label(table.key),
                "items": [py_scalar(i) for i in sub] if table.key != TOTAL else [],
                "scale_min": table.scale_min,
                "scale_max": table.scale_max,
                "favourable_min": table.favourable,
            }
        )
    return _jsonable(
        {
            "round_id": state.round_id,
            "k": cfg.k,
            "comment_threshold": cfg.threshold,
            "n_responses": None if state.count_hidden else total,
            "n_partners": len(cfg.partner_ids),
            "dimensions": dims,
            "methods": _methods(
                cfg,
                state.total_options,
                (state.tables[-1].scale_min, state.tables[-1].scale_max),
            ),
            "versions": _versions(),
        }
    )


def _response_counts(state: _RoundState, cfg: _Config) -> dict[str, Any]:
    total = int(state.counts.sum())
    rows = []
    for i, pid in enumerate(cfg.partner_ids):
        hidden = bool(state.hidden[i])
        n = int(state.counts[i])
        rows.append(
            {
                "partner_id": pid,
                "name": cfg.names[pid],
                "sector": py_scalar(cfg.partners.loc[i, "sector"]),
                "n": None if hidden else n,
                "suppressed": hidden,
                "reason": REASON_ANONYMITY if hidden else (REASON_NO_RESPONSES if n == 0 else None),
                "sentence": language.suppressed_sentence(cfg.k) if hidden else None,
            }
        )
    shown = not state.count_hidden
    return _jsonable(
        {
            "partnership": {
                "n": total if shown else None,
                "suppressed": not shown,
                "reason": None if shown else REASON_ANONYMITY,
            },
            "partners": rows,
        }
    )


def _hidden_row(pid: Hashable, cfg: _Config) -> dict[str, Any]:
    return {
        "partner_id": pid,
        "name": cfg.names[pid],
        "suppressed": True,
        "reason": REASON_ANONYMITY,
        **dict.fromkeys(_SCORE_FIELDS),
        "band": None,
        "sentence": language.suppressed_sentence(cfg.k),
    }


def _scores_section(state: _RoundState, cfg: _Config) -> list[dict[str, Any]]:
    out = []
    for t, table in enumerate(state.tables):
        label = cfg.label(table.key)
        scale = _scale_kwargs(table)
        shown = {}
        for i, pid in enumerate(cfg.partner_ids):
            if not state.hidden[i]:
                stats = state.partner_stats.get((pid, table.key))
                if stats is None:  # no valid score in this table: shown as empty
                    stats = {"n": 0, "mean": math.nan, **dict.fromkeys(_SCORE_FIELDS[2:])}
                shown[pid] = {f: stats.get(f) for f in _SCORE_FIELDS}
        weighted = _partner_weighted(state, t)
        pooled = {f: state.pooled_stats.get(table.key, {"n": 0}).get(f) for f in _SCORE_FIELDS}
        means = [row["mean"] for row in shown.values()]
        *partner_bands, weighted_band, pooled_band = _bands(
            table, [*means, weighted[0], pooled["mean"]]
        )
        bands = dict(zip(shown, partner_bands, strict=True))
        partners = []
        for pid in cfg.partner_ids:
            if pid not in shown:
                partners.append(_hidden_row(pid, cfg))
                continue
            row, band = shown[pid], bands[pid]
            partners.append(
                {
                    "partner_id": pid,
                    "name": cfg.names[pid],
                    "suppressed": False,
                    "reason": REASON_NO_RESPONSES if row["n"] == 0 else None,
                    **row,
                    "band": band,
                    "sentence": language.group_sentence(
                        {**row, "band": band}, cfg.partner_label(table.key, pid), band, **scale
                    ),
                }
            )
        if state.total_hidden[t]:
            partnership = {
                "suppressed": True,
                "reason": REASON_ANONYMITY,
                "n": None,
                "n_partners": None,
                "partner_weighted": None,
                "respondent_weighted": None,
                "sentence": language.suppressed_sentence(cfg.k),
            }
        else:
            n_total = int(state.table_n[t].sum())
            mean, n_partners, hidden_pooled = weighted
            partnership = {
                "suppressed": False,
                "reason": None,
                "n": n_total,
                "n_partners": n_partners,
                "partner_weighted": {
                    "mean": mean,
                    "band": weighted_band,
                    "hidden_pooled": hidden_pooled,
                    "sentence": language.group_sentence(
                        {"n": n_total, "mean": mean}, label, weighted_band, **scale
                    ),
                },
                "respondent_weighted": {
                    **pooled,
                    "band": pooled_band,
                    "sentence": language.group_sentence(pooled, label, pooled_band, **scale),
                },
            }
        out.append(
            {
                "dimension": table.key,
                "label": label,
                "scale_min": table.scale_min,
                "scale_max": table.scale_max,
                "favourable_min": table.favourable,
                "partnership": partnership,
                "partners": partners,
            }
        )
    return _jsonable(out)


def _heatmap(state: _RoundState, cfg: _Config) -> dict[str, Any]:
    dims = [t for t in state.tables if t.key != TOTAL]
    means, ns, hidden = [], [], []
    for i, pid in enumerate(cfg.partner_ids):
        row_mean, row_n = [], []
        for table in dims:
            stats = None if state.hidden[i] else state.partner_stats.get((pid, table.key))
            row_mean.append(None if stats is None else stats["mean"])
            row_n.append(None if state.hidden[i] else (0 if stats is None else stats["n"]))
        means.append(row_mean)
        ns.append(row_n)
        hidden.append(bool(state.hidden[i]))
    partnership = []
    for t, table in enumerate(state.tables):
        if table.key == TOTAL:
            continue
        partnership.append(None if state.total_hidden[t] else _partner_weighted(state, t)[0])
    scales = {(t.scale_min, t.scale_max) for t in dims}
    lo, hi = scales.pop() if len(scales) == 1 else (None, None)
    return _jsonable(
        {
            "dimensions": [t.key for t in dims],
            "labels": [cfg.label(t.key) for t in dims],
            "partners": list(cfg.partner_ids),
            "names": [cfg.names[p] for p in cfg.partner_ids],
            "mean": means,
            "n": ns,
            "suppressed": hidden,
            "partnership": partnership,
            "scale_min": lo,
            "scale_max": hi,
        }
    )


def _distributions(state: _RoundState, cfg: _Config) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """Build the answer distributions (rule 5).

    Returns which (item, partner) distributions are shown (items x partners, item-map order)
    and the section.
    """
    answers, items = state.answers, state.items
    n_items, n_partners = len(items), len(cfg.partner_ids)
    item = _positions(answers["item_id"], pd.Index(items["item_id"]))
    partner = _positions(answers["partner_id"], pd.Index(cfg.partner_ids))
    value = answers["value"].to_numpy(dtype=float)
    has_dk = "dont_know" in answers.columns
    dk = answers["dont_know"].eq(True).to_numpy() if has_dk else np.zeros(len(value), dtype=bool)
    valid = ~np.isnan(value) & ~dk
    smin = items["scale_min"].to_numpy(dtype=float)
    smax = items["scale_max"].to_numpy(dtype=float)
    steps = np.rint(smax - smin).astype(int) + 1
    width = int(steps.max())
    offset = value[valid] - smin[item[valid]]
    binned = np.rint(offset).astype(int)
    off_scale = np.bincount(
        item[valid], weights=np.abs(offset - binned) > 1e-9, minlength=n_items
    ).astype(bool)
    cell = item * n_partners + partner
    counts = np.bincount(
        cell[valid] * width + binned, minlength=n_items * n_partners * width
    ).reshape(n_items, n_partners, width)
    dont_know = np.bincount(cell[dk], minlength=n_items * n_partners).reshape(n_items, n_partners)
    people = counts.sum(axis=2) + dont_know  # rule 5 counts "don't know" too

    shown = np.zeros((n_items, n_partners), dtype=bool)
    out = []
    for j in range(n_items):
        item_id = py_scalar(items.loc[j, "item_id"])
        entry: dict[str, Any] = {
            "item_id": item_id,
            "dimension": py_scalar(items.loc[j, "dimension"]),
            "label": cfg.label(item_id),
            "reverse": bool(items.loc[j, "reverse"]),
            "values": [float(smin[j] + s) for s in range(steps[j])],
        }
        if off_scale[j]:
            entry.update(partnership=None, partners=[], reason=REASON_NOT_INTEGER)
            out.append(entry)
            continue
        too_few = (people[j] > 0) & ~distribution_allowed(people[j], cfg.k)
        hidden, total_hidden = _protect(people[j][None, :], state.hidden | too_few, cfg.threshold)
        total = int(people[j].sum())
        total_shown = not total_hidden[0] and total >= cfg.threshold
        entry["partnership"] = {
            "n": total if total_shown else None,
            "counts": counts[j].sum(axis=0)[: steps[j]].tolist() if total_shown else None,
            "dont_know": (int(dont_know[j].sum()) if has_dk else None) if total_shown else None,
            "suppressed": not total_shown,
        }
        rows = []
        for i, pid in enumerate(cfg.partner_ids):
            show = not hidden[i]
            shown[j, i] = show and people[j, i] > 0
            rows.append(
                {
                    "partner_id": pid,
                    "n": int(people[j, i]) if show else None,
                    "counts": counts[j, i, : steps[j]].tolist() if show else None,
                    "dont_know": (int(dont_know[j, i]) if has_dk else None) if show else None,
                    "suppressed": not show,
                    "reason": None if show else REASON_ANONYMITY,
                }
            )
        entry["partners"] = rows
        out.append(entry)
    return shown, _jsonable(out)


def _shown_scores(state: _RoundState, keys: Sequence[Hashable]) -> pd.DataFrame:
    """Return the valid scores of shown partners in the given tables."""
    scores = state.scores
    hidden_ids = [p for p, h in zip(state.partner_ids, state.hidden, strict=True) if h]
    keep = (
        scores["dimension"].isin(keys)
        & scores["score"].notna()
        & ~scores["partner_id"].isin(hidden_ids)
    )
    return scores.loc[keep, ["partner_id", "dimension", "score"]]


def _dimension_keys(state: _RoundState) -> list[Hashable]:
    return [t.key for t in state.tables if t.key != TOTAL]


def _partner_differences(state: _RoundState, cfg: _Config) -> list[dict[str, Any]]:
    dims = _dimension_keys(state)
    shown = _shown_scores(state, dims)
    tests = compare_partners(shown, by="dimension", p_adjust=cfg.p_adjust, min_n=cfg.k)
    posthoc = compare_partners_posthoc(shown, by="dimension", p_adjust=cfg.p_adjust, min_n=cfg.k)
    by_dim = {py_scalar(r["dimension"]): _record(r) for r in _records(tests)}
    pairs: dict[Hashable, list[dict[str, Any]]] = {}
    for rec in _records(posthoc):
        pair = _record(rec)
        pairs.setdefault(pair.pop("dimension"), []).append(pair)
    out = []
    for dim in dims:
        row = by_dim.get(dim)
        if row is None:  # no shown partner has a score here
            row = {
                "dimension": dim,
                "test": None,
                "n_groups": 0,
                "groups": (),
                "excluded": (),
                "n": 0,
                "statistic": math.nan,
                "df": math.nan,
                "method": None,
                "p_value": math.nan,
                "effect_size": math.nan,
                "effect_size_name": None,
                "p_adjusted": math.nan,
                "reason": f"fewer than two partners with at least {cfg.k} values",
            }
        means = {
            pid: state.partner_stats[(pid, dim)]["mean"]
            for pid in row["groups"]
            if (pid, dim) in state.partner_stats
        }
        label = cfg.label(dim)
        out.append(
            {
                **row,
                "label": label,
                "pairs": pairs.get(dim, []),
                "partner_means": [{"partner_id": p, "mean": m} for p, m in means.items()],
                "sentence": language.partner_difference_sentence(row, means, label, cfg.names),
            }
        )
    return _jsonable(out)


def _gap_rows(
    frame: pd.DataFrame,
    value: str,
    by: str,
    cfg: _Config,
    tables: Mapping[Hashable, _Table],
    reversed_items: frozenset[Hashable] | None = None,
) -> list[dict[str, Any]]:
    gaps = perception_gaps(
        frame,
        value=value,
        by=by,
        random_state=cfg.random_state,
        min_n=cfg.k,
        p_adjust=cfg.p_adjust,
    )
    out = []
    for rec in _records(gaps):
        row = _record(rec)
        label = cfg.label(row[by])
        table = tables[row[by]]
        spoken = label if reversed_items is None else _quoted(label, row[by] in reversed_items)
        out.append(
            {
                **row,
                "label": label,
                "sentence": language.gap_sentence(row, spoken, cfg.names, **_scale_kwargs(table)),
            }
        )
    return out


def _quoted(label: Mapping[str, str], reverse: bool) -> dict[str, str]:
    """Quote an item's statement so that it can stand inside a sentence.

    Quoted, without its full stop, and saying when its scores were reversed (a high mean then
    means disagreement).
    """
    out = {}
    for lang, note in (("id", " (skor dibalik)"), ("en", " (reverse-scored)")):
        text = str(label.get(lang) or label.get("id") or label.get("en") or "").strip()
        out[lang] = f"\u201c{text.rstrip('.')}\u201d" + (note if reverse else "")
    return out


def _gaps_section(state: _RoundState, shown_dist: np.ndarray, cfg: _Config) -> dict[str, Any]:
    dims = _dimension_keys(state)
    tables = {t.key: t for t in state.tables}
    by_dimension = _gap_rows(_shown_scores(state, dims), "score", "dimension", cfg, tables)
    # Item gaps: reverse-coded answers ("high" is favourable), partners whose item
    # distribution is shown (rule 6), so the item means add nothing to what is shown.
    answers, items = state.answers, state.items
    item = _positions(answers["item_id"], pd.Index(items["item_id"]))
    partner = _positions(answers["partner_id"], pd.Index(state.partner_ids))
    value = answers["value"].to_numpy(dtype=float, copy=True)
    if "dont_know" in answers.columns:
        value[answers["dont_know"].eq(True).to_numpy()] = np.nan
    smin = items["scale_min"].to_numpy(dtype=float)[item]
    smax = items["scale_max"].to_numpy(dtype=float)[item]
    reverse = items["reverse"].astype(bool).to_numpy()[item]
    value = np.where(reverse, smin + smax - value, value)
    keep = shown_dist[item, partner] & ~np.isnan(value)
    frame = pd.DataFrame(
        {
            "item_id": answers["item_id"].to_numpy()[keep],
            "partner_id": answers["partner_id"].to_numpy()[keep],
            "value": value[keep],
        }
    )
    item_tables = {
        # The item's own scale values (int or float as given), as the sentences print them.
        py_scalar(item_id): _Table(item_id, cast(float, lo), cast(float, hi), None, None)
        for item_id, lo, hi in zip(
            items["item_id"], items["scale_min"], items["scale_max"], strict=True
        )
    }
    reversed_items = frozenset(
        py_scalar(i) for i in items.loc[items["reverse"].astype(bool), "item_id"]
    )
    by_item = _gap_rows(frame, "value", "item_id", cfg, item_tables, reversed_items)
    dimension_of = dict(zip(items["item_id"], items["dimension"], strict=True))
    for row in by_item:
        row["dimension"] = py_scalar(dimension_of[row["item_id"]])
    return _jsonable({"dimensions": by_dimension, "items": by_item})


def _scored_answer_rows(state: _RoundState) -> np.ndarray:
    """Answer rows whose respondent has a valid score on the item's dimension (rule 6)."""
    answers, items = state.answers, state.items
    dims = pd.Index(_dimension_keys(state))
    ids = answers["response_id"]
    responses = pd.Index(
        ids.cat.categories if isinstance(ids.dtype, pd.CategoricalDtype) else pd.unique(ids)
    )
    scores = state.scores.loc[state.scores["dimension"] != TOTAL]
    valid = scores.loc[scores["score"].notna()]
    ok = np.zeros((len(responses), len(dims)), dtype=bool)
    ok[
        _positions(valid["response_id"], responses),
        dims.get_indexer(pd.Index(valid["dimension"])),
    ] = True
    item_dim = dims.get_indexer(pd.Index(items["dimension"]))
    item = _positions(answers["item_id"], pd.Index(items["item_id"]))
    scored: np.ndarray = ok[_positions(ids, responses), item_dim[item]]
    return scored


def _agreement_section(
    state: _RoundState, scored: np.ndarray, cfg: _Config
) -> list[dict[str, Any]]:
    items = state.items
    one_scale = items.groupby("dimension", sort=False)[["scale_min", "scale_max"]].nunique()
    usable = one_scale.index[(one_scale <= 1).all(axis=1)]
    hidden_ids = [p for p, h in zip(state.partner_ids, state.hidden, strict=True) if h]
    answers = state.answers
    usable_items = items.loc[items["dimension"].isin(usable)]
    keep = (
        scored
        & ~answers["partner_id"].isin(hidden_ids).to_numpy()
        & answers["item_id"].isin(usable_items["item_id"]).to_numpy()
    )
    if not keep.any():
        return []
    out = agreement_by_partner(
        answers.loc[keep], usable_items, group="partner_id", by=None, min_n=cfg.k
    )
    rows = []
    for rec in _records(out):
        row = _record(rec)
        label = cfg.label(row["dimension"])
        name = cfg.names[row["partner_id"]]
        rows.append(
            {
                **row,
                "name": name,
                "label": label,
                "sentence": language.agreement_sentence(row, label, name),
            }
        )
    return _jsonable(rows)


def _reliability_section(
    state: _RoundState, scored: np.ndarray, cfg: _Config
) -> list[dict[str, Any]]:
    out = reliability_by_dimension(state.answers.loc[scored], state.items)
    item_labels = {py_scalar(i): cfg.label(i) for i in state.items["item_id"] if i in cfg.labels}
    rows = []
    for rec in _records(out):
        row = _record(rec)
        label = cfg.label(row["dimension"])
        rows.append(
            {
                **row,
                "label": label,
                "sentence": language.reliability_sentence(row, label, item_labels=item_labels),
            }
        )
    return _jsonable(rows)


def _bands(table: _Table, values: Sequence[float | None]) -> list[dict[str, Any] | None]:
    """Band of each value (one :func:`analysis.scoring.assign_bands` call per table)."""
    if table.bands is None:
        return [None] * len(values)
    plain = [{"label": b["id"], "min": b["min"], "max": b["max"]} for b in table.bands]
    numbers = [math.nan if v is None else float(v) for v in values]
    found = assign_bands(pd.DataFrame({"score": numbers}), plain)["band"].tolist()
    by_id = {b["id"]: b for b in table.bands}
    return [
        None
        if band_id is None
        else {
            "id": band_id,
            "label": dict(by_id[band_id]["label"]),
            "min": by_id[band_id]["min"],
            "max": by_id[band_id]["max"],
        }
        for band_id in found
    ]


def _scale_kwargs(table: _Table) -> dict[str, float | None]:
    if math.isnan(table.scale_min):
        return {"scale_min": None, "scale_max": None}
    return {"scale_min": table.scale_min, "scale_max": table.scale_max}
