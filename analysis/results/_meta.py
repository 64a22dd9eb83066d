"""What a result records about how it was made: methods, parameters, library versions."""

from __future__ import annotations

import math
import platform
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import scipy

from analysis.agreement import DEFAULT_SPLIT_BELOW, DEFAULT_SPLIT_SHARE
from analysis.describe import DEFAULT_N_RESAMPLES, MIN_N_CI
from analysis.gaps import DEFAULT_PERMUTATIONS, LARGE_CELL, LARGE_CELL_PERMUTATIONS
from analysis.results._inputs import _Config
from analysis.results.ratings import ASYMMETRY_MIN_POINTS
from analysis.scoring import DEFAULT_MIN_ANSWERED, DEFAULT_MIN_ITEMS

_CI_LEVEL = 0.95


def _versions() -> dict[str, str]:
    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "pandas": pd.__version__,
    }


_TOTAL_TEXT = {
    "mean_of_dimensions": (
        "mean of the respondent's dimension scores",
        "rata-rata skor dimensi responden",
    ),
    "mean_of_items": (
        "mean of all the respondent's answered (reverse-coded) items",
        "rata-rata semua butir yang dijawab responden (setelah pembalikan skor)",
    ),
    "sum_of_items": (
        "sum of all (reverse-coded) items",
        "jumlah semua butir (setelah pembalikan skor)",
    ),
    "sum_of_dimension_sums": (
        "sum of the dimension sums",
        "jumlah dari jumlah skor tiap dimensi",
    ),
}
_ITEM_METHODS = ("mean_of_items", "sum_of_items")


def _num(x: float) -> str:
    return f"{x:g}"


def _total_note(options: Mapping[str, Any], score_range: tuple[float, float]) -> dict[str, str]:
    """Write the methods note on the health index in both languages: method, range, rule."""
    method = str(options.get("method", "mean_of_dimensions"))
    missing = str(options.get("missing", "prorate"))
    en, id_ = _TOTAL_TEXT[method]
    lo, hi = score_range
    span_en = span_id = ""
    if not (math.isnan(lo) or math.isnan(hi)):
        span_en = f", from {_num(lo)} to {_num(hi)}"
        # Indonesian writes a decimal comma (1,5), as the pages do.
        span_id = f", dari {_num(lo).replace('.', ',')} sampai {_num(hi).replace('.', ',')}"
    if missing == "refuse":
        rule_en = "a respondent with any unanswered item gets no health index"
        rule_id = "responden yang melewatkan satu butir pun tidak mendapat indeks kesehatan"
    elif method in _ITEM_METHODS:
        share = float(options.get("min_answered", DEFAULT_MIN_ANSWERED))
        count = int(options.get("min_items", DEFAULT_MIN_ITEMS))
        pct = f"{share * 100:g}%"
        pct_id = pct.replace(".", ",")
        if method == "sum_of_items":
            rule_en = (
                f"with unanswered items the sum is prorated (answered sum x items / answered), "
                f"when at least {pct} and {count} of the items are answered"
            )
            rule_id = (
                f"jika ada butir yang tidak dijawab, jumlahnya diproratakan (jumlah yang "
                f"dijawab x banyak butir / banyak yang dijawab), bila minimal {pct_id} dan "
                f"{count} butir dijawab"
            )
        else:
            rule_en = f"when at least {pct} and {count} of the items are answered"
            rule_id = f"bila minimal {pct_id} dan {count} butir dijawab"
    else:
        rule_en = "only when every dimension is scored under its own rule"
        rule_id = "hanya bila setiap dimensi mendapat skor menurut aturannya sendiri"
    return {
        "en": f"Health index: {en}{span_en}; {rule_en}.",
        "id": f"Indeks kesehatan: {id_}{span_id}; {rule_id}.",
    }


def _dimension_rule(dimensions: pd.DataFrame | None) -> str:
    """Describe the dimension-score rule, per dimension when the questionnaire varies it."""
    base = "mean of answered (reverse-coded) items"
    rules: dict[str, tuple[float, int]] = {}
    if dimensions is not None:
        for row in dimensions.to_dict("records"):
            share = row.get("min_answered")
            count = row.get("min_items")
            rules[str(row["dimension"])] = (
                DEFAULT_MIN_ANSWERED if share is None or pd.isna(share) else float(share),
                DEFAULT_MIN_ITEMS if count is None or pd.isna(count) else int(count),
            )
    distinct = set(rules.values()) or {(DEFAULT_MIN_ANSWERED, DEFAULT_MIN_ITEMS)}
    if distinct == {(DEFAULT_MIN_ANSWERED, DEFAULT_MIN_ITEMS)}:
        return f"{base}, at least half and two answered"
    if len(distinct) == 1:
        share, count = next(iter(distinct))
        return f"{base}, at least {share * 100:g}% and {count} answered"
    each = "; ".join(f"{d}: {s * 100:g}% and {c}" for d, (s, c) in rules.items())
    return f"{base}, answered at least ({each})"


def _methods(
    cfg: _Config,
    total: Mapping[str, Any] | None = None,
    total_span: tuple[float, float] = (math.nan, math.nan),
) -> dict[str, Any]:
    options = {"method": "mean_of_dimensions", "missing": "prorate", **(total or {})}
    method = str(options["method"])
    total_meta: dict[str, Any] = {
        "method": method,
        "missing": options["missing"],
        "scale_min": total_span[0],
        "scale_max": total_span[1],
    }
    if method in _ITEM_METHODS:
        total_meta["min_answered"] = float(options.get("min_answered", DEFAULT_MIN_ANSWERED))
        total_meta["min_items"] = int(options.get("min_items", DEFAULT_MIN_ITEMS))
    health = _TOTAL_TEXT[method][0]
    if method in ("mean_of_dimensions", "sum_of_dimension_sums"):
        health += ", all dimensions scored"
    if options["missing"] == "refuse":
        health += ", no unanswered item"
    return {
        "scores": {
            "dimension": _dimension_rule(cfg.dimensions),
            "health_index": health,
            "total": total_meta,
            "note": _total_note(options, total_span),
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
            "n_permutations_large": LARGE_CELL_PERMUTATIONS,
            "large_above": LARGE_CELL,
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
