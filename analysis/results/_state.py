"""What every section of one round is built from, computed once per round."""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from analysis._common import py_scalar
from analysis.describe import DEFAULT_N_RESAMPLES, describe
from analysis.results._inputs import _Config, _positions
from analysis.results._model import _SCORE_FIELDS, TOTAL, _records
from analysis.results.suppression import _hidden_partners
from analysis.scoring import dimension_scores, total_range, total_scores

# The favourable side when favourable_min is not given: the top quarter of the scale (4 and 5
# on 1-5, "agree" or better), the usual top-2-box reading of a five-point scale.
_FAVOURABLE_SHARE = 0.75


@dataclass
class _Table:
    """Scale and thresholds of one score table (a dimension or the health index)."""

    key: Hashable
    scale_min: float
    scale_max: float
    favourable: float | None
    bands: Sequence[Mapping[str, Any]] | None


@dataclass
class _RoundState:
    """What every section of one round is built from (computed once per round)."""

    round_id: Hashable
    partner_ids: list[Hashable]
    answers: pd.DataFrame
    items: pd.DataFrame
    tables: list[_Table]
    scores: pd.DataFrame  # respondent scores of every table, TOTAL included
    counts: np.ndarray  # responses per partner
    table_n: np.ndarray  # tables x partners: valid scores
    table_sums: np.ndarray  # tables x partners: sum of valid scores
    hidden_sums: np.ndarray  # per table: exactly rounded sum of the hidden partners' scores
    hidden: np.ndarray  # partners hidden in every table of the round
    total_hidden: np.ndarray  # per table: partnership figures hidden
    count_hidden: bool  # the partnership's response count is hidden
    partner_stats: dict[tuple[Hashable, Hashable], dict[str, Any]]
    pooled_stats: dict[Hashable, dict[str, Any]]
    left_out_items: list[Hashable]
    # The keyword arguments total_scores was called with (method, missing, min_answered, ...).
    total_options: dict[str, Any] = field(default_factory=dict)

    @property
    def table_keys(self) -> list[Hashable]:
        return [t.key for t in self.tables]


def _round_state(
    round_id: Hashable,
    answers: pd.DataFrame,
    items: pd.DataFrame,
    cfg: _Config,
    total: Mapping[str, Any] | None = None,
    known: Sequence[Mapping[str, Any]] | None = None,
) -> _RoundState:
    """Build what every section of a round reads.

    ``known`` is the ``scores`` section of this round's published results
    (:meth:`RoundResults.to_dict`), whose described tables are reused when they describe
    exactly the scores found here (see :func:`_reusable`).
    """
    if answers.empty:
        raise ValueError(f"answers has no rows for round {round_id!r}")
    partner_index = pd.Index(cfg.partner_ids)
    unknown = answers["partner_id"].loc[_positions(answers["partner_id"], partner_index) < 0]
    if len(unknown):
        raise ValueError(
            f"answers has partner_id(s) not in partners: {unknown.unique()[:5].tolist()}"
        )
    present = pd.Index(pd.unique(answers["item_id"]))
    in_round = items["item_id"].isin(present).to_numpy()
    round_items = items.loc[in_round].reset_index(drop=True)
    left_out = [py_scalar(i) for i in items.loc[~in_round, "item_id"]]
    dims = pd.unique(round_items["dimension"]).tolist()
    if TOTAL in dims:
        raise ValueError(f"{TOTAL!r} is reserved for the health index; rename that dimension")
    dimension_rules = cfg.dimensions
    if dimension_rules is not None:
        dimension_rules = dimension_rules.loc[dimension_rules["dimension"].isin(dims)]
    dim_scores = dimension_scores(answers, round_items, dimension_rules)
    total_options = {"method": "mean_of_dimensions", "missing": "prorate", **(total or {})}
    totals = total_scores(
        dim_scores,
        answers=answers,
        items=round_items,
        dimensions=dimension_rules,
        label=TOTAL,
        **total_options,
    )
    scores = pd.concat([dim_scores, totals], ignore_index=True)
    tables = _tables(round_items, dims, dimension_rules, cfg, total_options["method"])

    n_partners, n_tables = len(cfg.partner_ids), len(tables)
    response_partner = answers.drop_duplicates("response_id")["partner_id"]
    counts = np.bincount(_positions(response_partner, partner_index), minlength=n_partners)
    table_code = pd.Index([t.key for t in tables]).get_indexer(pd.Index(scores["dimension"]))
    partner_code = _positions(scores["partner_id"], partner_index)
    score = scores["score"].to_numpy(dtype=float)
    valid = ~np.isnan(score)
    cell = table_code * n_partners + partner_code
    size = n_tables * n_partners
    table_n = np.bincount(cell[valid], minlength=size).reshape(n_tables, n_partners)
    table_sums = np.bincount(cell[valid], weights=score[valid], minlength=size).reshape(
        n_tables, n_partners
    )
    hidden, total_hidden, count_hidden = _hidden_partners(counts, table_n, cfg)
    shown_rows = valid & ~hidden[partner_code]
    # fsum: the pooled hidden figure must not depend, even in its last bit, on how the hidden
    # respondents are split between hidden partners (rule 3).
    held = valid & hidden[partner_code]
    hidden_sums = np.array([math.fsum(score[held & (table_code == t)]) for t in range(n_tables)])
    reused = _reusable(known, tables, table_n, table_sums, hidden, total_hidden, cfg)
    # describe() is called once per favourable threshold, as without reuse: pandas' group
    # means can differ in the last bit with the other groups of the call, so a call is either
    # skipped whole (all its tables reused) or made with all its tables.
    redo = {t.favourable for t in tables if t.key not in reused}
    reused = {t.key: reused[t.key] for t in tables if t.favourable not in redo}
    partner_stats, pooled_stats = _describe_tables(
        scores, shown_rows, valid, [t for t in tables if t.favourable in redo], cfg
    )
    for key, (partners_of_table, pooled_of_table) in reused.items():
        partner_stats.update(((pid, key), stats) for pid, stats in partners_of_table.items())
        if pooled_of_table is not None:
            pooled_stats[key] = pooled_of_table
    return _RoundState(
        round_id=round_id,
        partner_ids=cfg.partner_ids,
        answers=answers,
        items=round_items,
        tables=tables,
        scores=scores,
        counts=counts,
        table_n=table_n,
        table_sums=table_sums,
        hidden_sums=hidden_sums,
        hidden=hidden,
        total_hidden=total_hidden,
        count_hidden=count_hidden,
        partner_stats=partner_stats,
        pooled_stats=pooled_stats,
        left_out_items=left_out,
        total_options=total_options,
    )


def _tables(
    items: pd.DataFrame,
    dims: list[Hashable],
    rules: pd.DataFrame | None,
    cfg: _Config,
    method: str = "mean_of_dimensions",
) -> list[_Table]:
    """Scale, favourable threshold and bands of every dimension and of the health index."""
    summed = set()
    if rules is not None and "scoring" in rules.columns:
        summed = set(rules.loc[rules["scoring"] == "sum", "dimension"])
    tables = []
    item_scales = []
    for dim in dims:
        sub = items.loc[items["dimension"] == dim]
        lows, highs = sub["scale_min"].unique(), sub["scale_max"].unique()
        lo, hi = (
            (float(lows[0]), float(highs[0])) if len(lows) == len(highs) == 1 else (math.nan,) * 2
        )
        item_scales.append((lo, hi))
        fav = cfg.favourable_min
        if fav is None and not math.isnan(lo):
            fav = lo + _FAVOURABLE_SHARE * (hi - lo)
        if dim in summed:  # a summed score lives on n_items times the item scale
            m = len(sub)
            lo, hi, fav = lo * m, hi * m, None if fav is None else fav * m
        tables.append(_Table(dim, lo, hi, fav, cfg.bands.get(dim)))
    # The health index lives on its own range (35 to 175 for 35 summed 1-5 items), so its
    # bands, charts and favourable share are read there, never on the item scale.
    same = len(set(item_scales)) == 1 and not math.isnan(item_scales[0][0])
    lo, hi = total_range(items, rules, method)  # type: ignore[arg-type]
    fav = cfg.favourable_min
    if fav is None and same:
        item_lo, item_hi = item_scales[0]
        fav = item_lo + _FAVOURABLE_SHARE * (item_hi - item_lo)
    if method in ("sum_of_items", "sum_of_dimension_sums"):
        fav = None if fav is None or not same else fav * len(items)
    elif method == "mean_of_dimensions" and summed:
        fav = None  # a mean of differently ranged dimensions has no item-scale threshold
    elif not same:
        lo, hi = math.nan, math.nan
    tables.append(_Table(TOTAL, lo, hi, fav, cfg.total_bands))
    return tables


def _reusable(
    known: Sequence[Mapping[str, Any]] | None,
    tables: list[_Table],
    table_n: np.ndarray,
    table_sums: np.ndarray,
    hidden: np.ndarray,
    total_hidden: np.ndarray,
    cfg: _Config,
) -> dict[Hashable, tuple[dict[Hashable, dict[str, Any]], dict[str, Any] | None]]:
    """Return the described tables a round's published scores section already holds.

    A published table is reused only when it was described under the same favourable
    threshold, hides the same partners and the same partnership figures, and counts the same
    valid scores with the same means (to 1e-9: the sums here are added in another order) per
    partner and in all, so scores formed under other scoring rules are never taken for these.
    :func:`analysis.describe.describe` gives every group a generator freshly seeded with
    ``random_state`` (a group's interval depends on its values and the seed only), so a
    reused figure is the very number describing these scores again would
    give; anything that does not match is described afresh.
    """
    if not known:
        return {}
    published = {py_scalar(table.get("dimension")): table for table in known}
    out: dict[Hashable, tuple[dict[Hashable, dict[str, Any]], dict[str, Any] | None]] = {}
    for t, table in enumerate(tables):
        entry = published.get(table.key)
        if entry is None or not _same_number(entry.get("favourable_min"), table.favourable):
            continue
        rows = {py_scalar(row["partner_id"]): row for row in entry.get("partners", [])}
        block = entry.get("partnership") or {}
        if [*rows] != cfg.partner_ids or bool(block.get("suppressed")) != bool(total_hidden[t]):
            continue
        partners: dict[Hashable, dict[str, Any]] = {}
        ok = True
        for i, pid in enumerate(cfg.partner_ids):
            row = rows[pid]
            if bool(row.get("suppressed")) != bool(hidden[i]):
                ok = False
                break
            if hidden[i]:
                continue
            if row.get("n") != int(table_n[t, i]) or not _same_mean(
                row.get("mean"), table_sums[t, i], table_n[t, i]
            ):
                ok = False
                break
            if table_n[t, i] > 0:
                partners[pid] = {f: row.get(f) for f in _SCORE_FIELDS}
        pooled = None
        if ok and not total_hidden[t]:
            pooled_row = block.get("respondent_weighted") or {}
            n_all = int(table_n[t].sum())
            ok = pooled_row.get("n") == n_all and _same_mean(
                pooled_row.get("mean"), float(table_sums[t].sum()), n_all
            )
            pooled = {f: pooled_row.get(f) for f in _SCORE_FIELDS}
        if ok:
            out[table.key] = (partners, pooled)
    return out


def _same_mean(published: Any, total: float, n: int) -> bool:
    if n == 0:
        return published is None or (isinstance(published, float) and math.isnan(published))
    if published is None:
        return False
    mean = float(total) / int(n)
    return abs(float(published) - mean) <= 1e-9 * max(1.0, abs(mean))


def _same_number(a: Any, b: float | None) -> bool:
    if a is None or b is None or (isinstance(b, float) and math.isnan(b)):
        return (a is None) == (b is None or math.isnan(b))
    return float(a) == float(b)


def _describe_tables(
    scores: pd.DataFrame,
    shown_rows: np.ndarray,
    valid: np.ndarray,
    tables: list[_Table],
    cfg: _Config,
) -> tuple[dict[tuple[Hashable, Hashable], dict[str, Any]], dict[Hashable, dict[str, Any]]]:
    """:func:`describe` per shown partner and table, and pooled per table (all respondents).

    Tables are described in groups sharing a favourable threshold, because ``describe`` takes
    one threshold per call (usually there is one group).
    """
    partner_stats: dict[tuple[Hashable, Hashable], dict[str, Any]] = {}
    pooled_stats: dict[Hashable, dict[str, Any]] = {}
    groups: dict[float | None, list[Hashable]] = {}
    for table in tables:
        groups.setdefault(table.favourable, []).append(table.key)
    kwargs: dict[str, Any] = {"n_resamples": DEFAULT_N_RESAMPLES, "random_state": cfg.random_state}
    for favourable, keys in groups.items():
        in_group = scores["dimension"].isin(keys).to_numpy()
        part = scores.loc[in_group & shown_rows, ["partner_id", "dimension", "score"]]
        out = describe(part, ["partner_id", "dimension"], favourable_min=favourable, **kwargs)
        for rec in _records(out):
            partner_stats[(py_scalar(rec["partner_id"]), py_scalar(rec["dimension"]))] = rec
        pooled = scores.loc[in_group & valid, ["dimension", "score"]]
        out = describe(pooled, "dimension", favourable_min=favourable, **kwargs)
        for rec in _records(out):
            pooled_stats[py_scalar(rec["dimension"])] = rec
    return partner_stats, pooled_stats
