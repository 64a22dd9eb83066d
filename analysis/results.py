"""A round's results in one object: every table, chart matrix and sentence, anonymity-checked.

:func:`round_results` turns a round's tidy answers into a :class:`RoundResults`, and
:func:`partnership_over_time` a partnership's rounds into an :class:`OverTimeResults`. They are
the single source for the results pages, the charts, the CSV/XLSX exports and the JSON API:
whatever a consumer shows comes out of ``to_dict()``, so the anonymity rules below are applied
once, here, and cannot drift between consumers. Every dimension score is computed once per
round and reused by all sections.

Anonymity rules
---------------
A round publishes, for the partners under the partnership total, three kinds of table: the
response counts; for every dimension and the health index the valid scores (their count,
mean, SD, median, share favourable, interval, band); and for every item the answer
distribution. ``k`` is the anonymity threshold (:mod:`analysis.privacy`).

1. **Hidden partners.** A partner is hidden when :func:`analysis.privacy.suppress` hides it
   in the response counts (fewer than ``k`` responses, or complementary suppression with the
   partnership total as parent) or in any score table. A hidden partner is hidden in *every*
   table of the round (``suppressed: true``, every number None): a partner hidden in one table
   but shown in another would let its shown counts and means fill in the hidden ones.
2. **Complementary check across tables.** Every table is then checked again with the hidden
   set of the whole round: the hidden partners that have values in the table must be at least
   two, hold at least ``k`` values together and more values than there are hidden partners
   (otherwise "each holds at least one" pins them all). A table that fails hides its smallest
   shown partner too (in every table), and the check repeats; a table with no shown partner
   left hides its partnership figures. So partnership total minus shown partners only ever
   gives the hidden partners *as one group* of at least ``k`` respondents.
3. **Partnership means.** A pooled (respondent-weighted) partnership figure minus the shown
   partners is a statistic of that hidden group, which k-anonymity allows. The mean of partner
   means is not: it would reveal the *sum* of the hidden partners' means, and together with
   the pooled mean and their counts (a coordinator sees code use) it pins each hidden mean
   when two partners are hidden. So when partners are hidden, the partner-weighted mean lets
   each hidden partner count with the pooled mean of all hidden respondents
   (``hidden_pooled: true``): every partner still weighs ``1/P``, and the figure adds
   nothing to what the pooled figures show.
4. **One reason.** Every hidden partner has the reason ``"anonymity"``. Saying which ones are
   below ``k`` and which complementary would bound their counts: with ``k = 5``, a below-k
   partner and a complementary one that hide 6 together must hold 1 and 5.
5. **Distributions** need :func:`analysis.privacy.comment_threshold` answers (8 by default,
   counting "don't know"). An item's partner distribution is shown when the partner is not
   hidden and reaches the threshold; the hidden distributions of an item must come from at
   least two partners holding the threshold together (same check as rule 2), else the
   smallest shown distribution is hidden too, else the partnership distribution. Hiding a
   distribution does not hide the partner's scores.
6. **Tests and indices** (partner differences, Dunn pairs, gaps, agreement) use shown
   partners only; item gaps use only partners whose distribution of that item is shown, so
   their item means add nothing. Reliability pools all respondents (a property of the
   questionnaire; no partner's item covariances are shown). Agreement and reliability use the
   respondents with a valid score on the dimension, the same people the scores count.
7. **Ratings** of one partner by another: a cell (rater partner, ratee, item) is shown when
   it holds at least ``k`` ratings and the rater partner is not hidden. Self-ratings are
   dropped. No totals over raters are published, so the cells need no complementary check.
8. **Over time.** A partner's figures for a round follow that round's rules (hidden there:
   hidden in the series, left out of changes and trends). A change needs ``k`` values in both
   rounds (``min_n = k``, i.e. :func:`analysis.privacy.change_allowed`). When questionnaire
   versions differ, comparisons use the items the rounds share, which can change who has a
   valid score; such a filtered group is shown only when
   :func:`analysis.privacy.safe_to_show_difference` allows it against the round's own count.

Known limit: within one *shown* partner, the tables count slightly different people (all
responses, valid scores per dimension, answers per item); differences between those counts are
not suppressed.
"""

from __future__ import annotations

import itertools
import math
import platform
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy

from analysis import language
from analysis._checks import require_columns, require_frame, require_numeric
from analysis._common import py_scalar
from analysis.agreement import DEFAULT_SPLIT_BELOW, DEFAULT_SPLIT_SHARE, agreement_by_partner
from analysis.compare import compare_partners, compare_partners_posthoc, mann_whitney
from analysis.describe import DEFAULT_N_RESAMPLES, MIN_N_CI, describe
from analysis.gaps import DEFAULT_PERMUTATIONS, perception_gaps
from analysis.multiple import METHODS, adjust_pvalues
from analysis.privacy import (
    comment_threshold,
    distribution_allowed,
    safe_to_show_difference,
    suppress,
)
from analysis.reliability import reliability_by_dimension
from analysis.rounds import compare_rounds, trend_test
from analysis.scoring import assign_bands, dimension_scores, total_scores

__all__ = [
    "ASYMMETRY_MIN_POINTS",
    "LARGEST_CHANGES",
    "REASON_ANONYMITY",
    "TOTAL",
    "OverTimeResults",
    "RoundResults",
    "partnership_over_time",
    "round_results",
]

#: ``dimension`` id of the health index (mean of a respondent's dimension scores).
TOTAL = "total"
#: Reason given for every hidden figure (rule 4 of the module docstring).
REASON_ANONYMITY = "anonymity"
REASON_NO_RESPONSES = "no_responses"
REASON_NOT_INTEGER = "answers_not_on_scale_points"
#: A rating pair is an asymmetry when one partner's mean rating of the other is at least this
#: many scale points below the other's rating of it: one whole answer step, a quarter of a 1-5
#: scale, large enough to be worth a conversation. The gap is a prompt, not a test result; the
#: row carries a Mann-Whitney p-value (Holm across all pairs shown) beside it.
ASYMMETRY_MIN_POINTS = 1.0
#: How many of the latest round's changes ``largest_changes`` lists.
LARGEST_CHANGES = 5
_CI_LEVEL = 0.95
# The favourable side when favourable_min is not given: the top quarter of the scale (4 and 5
# on 1-5, "agree" or better), the usual top-2-box reading of a five-point scale.
_FAVOURABLE_SHARE = 0.75
_TOTAL_LABEL = {"id": "Indeks kesehatan kemitraan", "en": "Partnership health index"}
_PARTNER_COLUMNS = ("partner_id", "name", "sector")
_RATING_COLUMNS = (
    "response_id",
    "round_id",
    "rater_partner_id",
    "ratee_partner_id",
    "item_id",
    "value",
)
_SCORE_FIELDS = ("n", "mean", "sd", "median", "share_favourable", "ci_low", "ci_high", "ci_method")


# --------------------------------------------------------------------------- result classes


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
        """Return every section as JSON-ready Python: ``json.dumps(..., allow_nan=False)``
        succeeds (NaN and NA become None, tuples lists, numpy scalars Python scalars)."""
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
        """The scores as one tidy frame (one row per dimension and partner, the partnership as
        ``partner_id`` None with its respondent-weighted figures), for a notebook."""
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


# --------------------------------------------------------------------------- configuration


@dataclass(frozen=True)
class _Config:
    k: int
    threshold: int
    partner_ids: list[Hashable]
    partners: pd.DataFrame
    names: dict[Hashable, str]
    labels: Mapping[Hashable, Any]
    bands: Mapping[Hashable, Sequence[Mapping[str, Any]]]
    total_bands: Sequence[Mapping[str, Any]] | None
    favourable_min: float | None
    dimensions: pd.DataFrame | None
    p_adjust: str
    random_state: int

    def label(self, key: Hashable) -> dict[str, str]:
        if key == TOTAL and TOTAL not in self.labels:
            return dict(_TOTAL_LABEL)
        value = self.labels.get(key)
        if value is None:
            return {"id": str(key), "en": str(key)}
        return {"id": str(value["id"]), "en": str(value["en"])}

    def partner_label(self, dimension: Hashable, partner: Hashable) -> dict[str, str]:
        """``"Dimension (Partner)"``: for sentences whose function names no partner."""
        dim = self.label(dimension)
        name = self.names[partner]
        return {lang: f"{dim[lang]} ({name})" for lang in ("id", "en")}


def _config(
    k: int,
    partners: pd.DataFrame,
    labels: Mapping[Hashable, Any] | None,
    bands: Mapping[Hashable, Sequence[Mapping[str, Any]]] | None,
    total_bands: Sequence[Mapping[str, Any]] | None,
    favourable_min: float | None,
    dimensions: pd.DataFrame | None,
    p_adjust: str,
    random_state: int,
) -> _Config:
    threshold = comment_threshold(k)  # also validates k (an int of at least privacy.MIN_K)
    require_frame(partners, "partners")
    require_columns(partners, _PARTNER_COLUMNS, "partners")
    if partners["partner_id"].isna().any():
        raise ValueError("partners has a missing partner_id")
    if partners["partner_id"].duplicated().any():
        dup = partners.loc[partners["partner_id"].duplicated(), "partner_id"].iloc[0]
        raise ValueError(f"partners lists partner_id {dup!r} more than once")
    if p_adjust not in METHODS:
        raise ValueError(f"p_adjust must be one of {METHODS}, got {p_adjust!r}")
    if isinstance(random_state, bool) or not isinstance(random_state, int | np.integer):
        raise TypeError("random_state must be an int (results must be reproducible)")
    if favourable_min is not None and (
        isinstance(favourable_min, bool) or not isinstance(favourable_min, int | float | np.number)
    ):
        raise TypeError("favourable_min must be a number or None")
    labels = {} if labels is None else labels
    if not isinstance(labels, Mapping):
        raise TypeError("labels must be a mapping of dimension and item ids to {'id', 'en'}")
    for key, value in labels.items():
        if not isinstance(value, Mapping) or not {"id", "en"} <= set(value):
            raise ValueError(f"labels[{key!r}] must be a mapping with 'id' and 'en' texts")
    bands = {} if bands is None else bands
    if not isinstance(bands, Mapping):
        raise TypeError("bands must be a mapping of dimension id to a list of band dicts")
    for key, band_list in bands.items():
        _check_bands(band_list, f"bands[{key!r}]")
    if total_bands is not None:
        _check_bands(total_bands, "total_bands")
    if dimensions is not None:
        require_frame(dimensions, "dimensions")
        require_columns(dimensions, ["dimension"], "dimensions")
    ids = [py_scalar(p) for p in partners["partner_id"]]
    return _Config(
        k=int(k),
        threshold=threshold,
        partner_ids=ids,
        partners=partners.reset_index(drop=True),
        names=dict(zip(ids, partners["name"].astype(str), strict=True)),
        labels=labels,
        bands=bands,
        total_bands=total_bands,
        favourable_min=None if favourable_min is None else float(favourable_min),
        dimensions=dimensions,
        p_adjust=p_adjust,
        random_state=int(random_state),
    )


def _check_bands(bands: Any, name: str) -> None:
    if isinstance(bands, Mapping | str) or not isinstance(bands, Sequence):
        raise TypeError(f"{name} must be a list of band dicts")
    for band in bands:
        if not isinstance(band, Mapping) or not {"id", "label", "min", "max"} <= set(band):
            raise ValueError(
                f"{name}: each band needs 'id', 'label', 'min' and 'max', got {band!r}"
            )
        label = band["label"]
        if not isinstance(label, Mapping) or not {"id", "en"} <= set(label):
            raise ValueError(f"{name}: band {band['id']!r} needs a label {{'id': ..., 'en': ...}}")


# --------------------------------------------------------------------------- one round's core


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

    @property
    def table_keys(self) -> list[Hashable]:
        return [t.key for t in self.tables]


def _round_state(
    round_id: Hashable, answers: pd.DataFrame, items: pd.DataFrame, cfg: _Config
) -> _RoundState:
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
    scores = pd.concat([dim_scores, total_scores(dim_scores, label=TOTAL)], ignore_index=True)
    tables = _tables(round_items, dims, dimension_rules, cfg)

    n_partners, n_tables = len(cfg.partner_ids), len(tables)
    response_partner = answers.drop_duplicates("response_id")["partner_id"]
    counts = np.bincount(_positions(response_partner, partner_index), minlength=n_partners)
    table_code = pd.Index([t.key for t in tables]).get_indexer(scores["dimension"])
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
    partner_stats, pooled_stats = _describe_tables(scores, shown_rows, valid, tables, cfg)
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
    )


def _tables(
    items: pd.DataFrame, dims: list[Hashable], rules: pd.DataFrame | None, cfg: _Config
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
    same = len(set(item_scales)) == 1 and not summed and not math.isnan(item_scales[0][0])
    lo, hi = item_scales[0] if same else (math.nan, math.nan)
    fav = cfg.favourable_min
    if fav is None and same:
        fav = lo + _FAVOURABLE_SHARE * (hi - lo)
    tables.append(_Table(TOTAL, lo, hi, fav, cfg.total_bands))
    return tables


def _hidden_partners(
    counts: np.ndarray, table_n: np.ndarray, cfg: _Config
) -> tuple[np.ndarray, np.ndarray, bool]:
    """Rules 1 and 2: partners hidden in every table, the score tables whose partnership
    figures are hidden, and whether the partnership's response count is hidden."""
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
    position = pd.Index(ids).get_indexer(decided.loc[partner_rows, "partner_id"])
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
    kwargs = {"n_resamples": DEFAULT_N_RESAMPLES, "random_state": cfg.random_state}
    for favourable, keys in groups.items():
        in_group = scores["dimension"].isin(keys).to_numpy()
        part = scores.loc[in_group & shown_rows, ["partner_id", "dimension", "score"]]
        out = describe(part, ["partner_id", "dimension"], favourable_min=favourable, **kwargs)
        for rec in out.to_dict("records"):
            partner_stats[(py_scalar(rec["partner_id"]), py_scalar(rec["dimension"]))] = rec
        pooled = scores.loc[in_group & valid, ["dimension", "score"]]
        out = describe(pooled, "dimension", favourable_min=favourable, **kwargs)
        for rec in out.to_dict("records"):
            pooled_stats[py_scalar(rec["dimension"])] = rec
    return partner_stats, pooled_stats


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


# --------------------------------------------------------------------------- helpers


def _jsonable(value: Any) -> Any:
    """JSON-ready copy: NaN/inf/NA -> None, numpy scalars -> Python, tuples -> lists."""
    if isinstance(value, Mapping):
        return {str(k) if not isinstance(k, str) else k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _record(row: Mapping[str, Any]) -> dict[str, Any]:
    """A frame record as plain Python (numpy scalars unwrapped, NaN kept for the sentences)."""
    return {key: py_scalar(value) for key, value in row.items()}


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


def _versions() -> dict[str, str]:
    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "pandas": pd.__version__,
    }


def _methods(cfg: _Config) -> dict[str, Any]:
    return {
        "scores": {
            "dimension": "mean of answered (reverse-coded) items, at least half and two answered",
            "health_index": "mean of the respondent's dimension scores, all dimensions scored",
            "partnership_default": "partner_weighted",
        },
        "interval": {
            "method": "bca",
            "level": _CI_LEVEL,
            "n_resamples": DEFAULT_N_RESAMPLES,
            "min_n": MIN_N_CI,
            "random_state": cfg.random_state,
        },
        "partner_differences": {
            "test": "kruskal_wallis (3+ partners) or mann_whitney (2)",
            "effect_size": "epsilon_squared or rank_biserial",
            "posthoc": "dunn",
            "p_adjust": cfg.p_adjust,
            "family": "dimensions (posthoc: partner pairs within a dimension)",
            "min_n": cfg.k,
        },
        "perception_gaps": {
            "statistic": "highest minus lowest partner mean",
            "test": "permutation",
            "n_permutations": DEFAULT_PERMUTATIONS,
            "random_state": cfg.random_state,
            "p_adjust": cfg.p_adjust,
            "min_n": cfg.k,
            "items": "reverse-coded answers, partners whose distribution is shown",
        },
        "agreement": {
            "index": "rwg_j (uniform null)",
            "split_below": DEFAULT_SPLIT_BELOW,
            "split_share": DEFAULT_SPLIT_SHARE,
            "min_n": cfg.k,
        },
        "reliability": {"index": "cronbach_alpha", "interval": "feldt", "nan_policy": "pairwise"},
        "ratings": {
            "asymmetry_min_points": ASYMMETRY_MIN_POINTS,
            "test": "mann_whitney",
            "p_adjust": cfg.p_adjust,
            "min_n": cfg.k,
        },
        "changes": {
            "test": "mann_whitney (consecutive rounds, independent samples)",
            "trend": "jonckheere_terpstra",
            "p_adjust": cfg.p_adjust,
            "family": "partnership rows; partner rows",
            "min_n": cfg.k,
        },
        "anonymity": {
            "k": cfg.k,
            "distribution_threshold": cfg.threshold,
            "rules": "analysis.results module docstring",
        },
    }


def _check_answers(answers: pd.DataFrame, items: pd.DataFrame) -> None:
    require_frame(answers, "answers")
    require_frame(items, "items")
    require_columns(
        answers, ["response_id", "round_id", "partner_id", "item_id", "value"], "answers"
    )
    require_columns(items, ["item_id", "dimension", "reverse", "scale_min", "scale_max"], "items")
    require_numeric(answers, ["value"], "answers")
    if answers["round_id"].isna().any():
        raise ValueError("answers has a missing round_id")


def _categorical_ids(answers: pd.DataFrame) -> pd.DataFrame:
    """A shallow copy with the id columns as categoricals.

    Every module factorises ``response_id``, ``partner_id`` and ``item_id`` again; on string ids
    that is most of the non-statistical time, on categoricals it is a look at the codes.
    """
    out = answers.copy(deep=False)
    for column in ("response_id", "partner_id", "item_id"):
        if not isinstance(out[column].dtype, pd.CategoricalDtype):
            out[column] = out[column].astype("category")
    return out


def _positions(values: pd.Series, index: pd.Index) -> np.ndarray:
    """Position of every value in ``index`` (-1 when absent), through a categorical's codes."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        lookup = np.append(index.get_indexer(values.cat.categories), -1)
        return lookup[values.cat.codes.to_numpy()]  # code -1 (missing) picks the appended -1
    return index.get_indexer(values)


def _round_positions(frame: pd.DataFrame) -> dict[Hashable, np.ndarray]:
    return {
        py_scalar(key): np.asarray(idx)
        for key, idx in frame.groupby("round_id", sort=False, observed=True).indices.items()
    }


def _order(
    present: list[Hashable], round_order: Sequence[Hashable] | None, name: str
) -> list[Hashable]:
    if round_order is None:
        try:
            return sorted(present)
        except TypeError:
            raise TypeError(f"round ids cannot be sorted; pass {name}= explicitly") from None
    if isinstance(round_order, str) or not isinstance(round_order, Sequence):
        raise TypeError(f"{name} must be a list of round ids")
    order = [py_scalar(r) for r in round_order]
    if len(set(order)) != len(order):
        raise ValueError(f"{name} lists a round twice: {order}")
    missing = [r for r in present if r not in order]
    if missing:
        raise ValueError(f"rounds {missing} have answers but are not in {name}={order}")
    return [r for r in order if r in present]


# --------------------------------------------------------------------------- entry points


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
        Bands of the health index.
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
    The anonymity rules are in the module docstring. Partner-level tests use ``min_n = k``;
    the methods and their parameters are listed in ``meta["methods"]``.

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
    states = {r: _round_state(r, frame.take(positions[r]), items, cfg) for r in order}
    state = states[round_id]
    notes.extend(_left_out_note(state))
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
    random_state
        As in :func:`round_results`.
    round_order : sequence
        Round ids in chronological order; every round with answers must be in it.

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
    _check_answers(answers, items)
    answers = _categorical_ids(answers)
    positions = _round_positions(answers)
    order = _order(list(positions), round_order, "round_order")
    if not order:
        raise ValueError("answers has no rows")
    states = {r: _round_state(r, answers.take(positions[r]), items, cfg) for r in order}
    return _over_time(states, order, cfg)


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
            "methods": _methods(cfg),
            "versions": _versions(),
        }
    )


# --------------------------------------------------------------------------- sections


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
    """Rule 5. Returns which (item, partner) distributions are shown (items x partners, item-map
    order) and the section."""
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
    """Valid scores of shown partners in the given tables."""
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
    by_dim = {py_scalar(r["dimension"]): _record(r) for r in tests.to_dict("records")}
    pairs: dict[Hashable, list[dict[str, Any]]] = {}
    for rec in posthoc.to_dict("records"):
        rec = _record(rec)
        pairs.setdefault(rec.pop("dimension"), []).append(rec)
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
    for rec in gaps.to_dict("records"):
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
    """An item's statement as it can stand inside a sentence: quoted, without its full stop,
    and saying when its scores were reversed (a high mean then means disagreement)."""
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
        py_scalar(row.item_id): _Table(row.item_id, row.scale_min, row.scale_max, None, None)
        for row in items.itertuples()
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
    ok[_positions(valid["response_id"], responses), dims.get_indexer(valid["dimension"])] = True
    item_dim = dims.get_indexer(items["dimension"])
    item = _positions(answers["item_id"], pd.Index(items["item_id"]))
    return ok[_positions(ids, responses), item_dim[item]]


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
    for rec in out.to_dict("records"):
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
    for rec in out.to_dict("records"):
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


# --------------------------------------------------------------------------- ratings


def _check_ratings(ratings: pd.DataFrame, state: _RoundState, cfg: _Config) -> pd.DataFrame:
    require_frame(ratings, "ratings")
    require_columns(ratings, _RATING_COLUMNS, "ratings")
    require_numeric(ratings, ["value"], "ratings")
    frame = ratings.loc[ratings["round_id"] == state.round_id, list(_RATING_COLUMNS)]
    values = frame["value"].to_numpy(dtype=float)
    if np.isinf(values).any():
        raise ValueError("ratings column 'value' contains infinite values")
    partner_index = pd.Index(cfg.partner_ids)
    for column in ("rater_partner_id", "ratee_partner_id"):
        unknown = frame[column].loc[partner_index.get_indexer(frame[column]) < 0]
        if len(unknown):
            raise ValueError(f"ratings has {column}(s) not in partners: {unknown.unique()[:5]}")
    if frame.duplicated(["response_id", "ratee_partner_id", "item_id"]).any():
        raise ValueError("ratings has more than one rating by a response of a partner on an item")
    own = state.answers.drop_duplicates("response_id").set_index("response_id")["partner_id"]
    known = frame["response_id"].isin(own.index)
    mismatch = known & (
        frame["response_id"].map(own).to_numpy() != frame["rater_partner_id"].to_numpy()
    )
    if mismatch.any():
        rid = frame.loc[mismatch, "response_id"].iloc[0]
        raise ValueError(f"ratings gives response {rid!r} a rater partner other than its own")
    return frame


def _ratings_sections(
    ratings: pd.DataFrame | None, state: _RoundState, cfg: _Config
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """Rule 7: the rater x ratee matrix per rating item and the asymmetric pairs."""
    if ratings is None:
        return [], [], []
    frame = _check_ratings(ratings, state, cfg)
    notes = []
    own = frame["rater_partner_id"].to_numpy() == frame["ratee_partner_id"].to_numpy()
    if own.any():
        notes.append({"note": "self_ratings_dropped"})
        frame = frame.loc[~own]
    frame = frame.loc[frame["value"].notna()]
    hidden = dict(zip(state.partner_ids, state.hidden, strict=True))
    samples = {
        (py_scalar(key[0]), py_scalar(key[1]), py_scalar(key[2])): grp["value"].to_numpy(float)
        for key, grp in frame.groupby(
            ["item_id", "rater_partner_id", "ratee_partner_id"], sort=True, observed=True
        )
    }
    matrix: dict[Hashable, list[dict[str, Any]]] = {}
    shown: dict[tuple[Hashable, Hashable, Hashable], np.ndarray] = {}
    for (item, rater, ratee), values in samples.items():
        visible = not hidden[rater] and values.size >= cfg.k
        if visible:
            shown[(item, rater, ratee)] = values
        matrix.setdefault(item, []).append(
            {
                "rater_partner_id": rater,
                "ratee_partner_id": ratee,
                "n": values.size if visible else None,
                "mean": float(values.mean()) if visible else None,
                "suppressed": not visible,
                "reason": None if visible else REASON_ANONYMITY,
            }
        )
    candidates = []
    for (item, a, b), ab in shown.items():
        ba = shown.get((item, b, a))
        if ba is None or cfg.partner_ids.index(a) > cfg.partner_ids.index(b):
            continue  # each unordered pair once
        if ab.mean() > ba.mean():  # orient: A is the partner giving the lower rating
            a, b, ab, ba = b, a, ba, ab
        test = mann_whitney(ab, ba) if np.ptp(np.concatenate([ab, ba])) > 0 else None
        candidates.append(
            {
                "item_id": item,
                "rater": a,
                "ratee": b,
                "mean_ab": float(ab.mean()),
                "mean_ba": float(ba.mean()),
                "n_ab": int(ab.size),
                "n_ba": int(ba.size),
                "difference": float(ab.mean()) - float(ba.mean()),
                "p_value": math.nan if test is None else test.p_value,
                "rank_biserial": 0.0 if test is None else test.rank_biserial,
            }
        )
    adjusted = adjust_pvalues([c["p_value"] for c in candidates], method=cfg.p_adjust)
    asymmetries = []
    for row, p in zip(candidates, adjusted, strict=True):
        row["p_adjusted"] = float(p)
        if row["difference"] <= -ASYMMETRY_MIN_POINTS:
            label = cfg.label(row["item_id"])
            row["label"] = label
            row["sentence"] = language.rating_asymmetry_sentence(row, label, cfg.names, min_n=cfg.k)
            asymmetries.append(row)
    items = [
        {"item_id": item, "label": cfg.label(item), "cells": cells}
        for item, cells in matrix.items()
    ]
    return _jsonable(items), _jsonable(asymmetries), notes


# --------------------------------------------------------------------------- over time


def _over_time(
    states: Mapping[Hashable, _RoundState], order: list[Hashable], cfg: _Config
) -> OverTimeResults:
    notes: list[dict[str, Any]] = []
    for r in order:
        if states[r].left_out_items:
            notes.append(
                {"note": "items_not_in_round", "round_id": r, "items": states[r].left_out_items}
            )
    cache: dict[tuple[tuple[Hashable, ...], frozenset], pd.DataFrame] = {}
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
        partners = {pid: [] for pid in cfg.partner_ids}
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
    cache: dict[tuple[tuple[Hashable, ...], frozenset], pd.DataFrame],
) -> tuple[pd.DataFrame, str, list[Hashable]]:
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
            parts.append(total_scores(dims, label=TOTAL))
        cache[key] = (
            pd.concat(parts, ignore_index=True) if parts else states[rounds[0]].scores.iloc[:0]
        )
    return cache[key], "common", left_out


def _valid_counts(frame: pd.DataFrame) -> dict[tuple[Hashable, Hashable, Hashable], int]:
    """Valid scores per (round, partner, table) and per (round, None, table)."""
    valid = frame.loc[frame["score"].notna(), ["round_id", "partner_id", "dimension"]]
    counts = {}
    for key, n in (
        valid.groupby(["round_id", "partner_id", "dimension"], observed=True).size().items()
    ):
        counts[(py_scalar(key[0]), py_scalar(key[1]), py_scalar(key[2]))] = int(n)
    for key, n in valid.groupby(["round_id", "dimension"], observed=True).size().items():
        counts[(py_scalar(key[0]), None, py_scalar(key[1]))] = int(n)
    return counts


def _own_count(state: _RoundState, partner: Hashable | None, key: Hashable) -> int | None:
    """A round's own published count of a table (None if the round has no such table)."""
    if key not in state.table_keys:
        return None
    t = state.table_keys.index(key)
    if partner is None:
        return int(state.table_n[t].sum())
    return int(state.table_n[t, state.partner_ids.index(partner)])


def _visible(state: _RoundState, partner: Hashable | None, key: Hashable) -> bool:
    """Rule 8: may this round's figures of a cell be used at all?"""
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
        for rec in table.to_dict("records"):
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
        for rec in table.to_dict("records"):
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
