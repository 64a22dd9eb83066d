"""Mitra Sehat statistics: pure functions over tidy pandas DataFrames.

This package imports only numpy, pandas and scipy (never Flask or SQLAlchemy), so it works the
same in the web app and in a notebook on a CSV export. The data contract (long ``answers``
frame, ``items`` map, respondent scores) is described in :mod:`analysis.scoring`.

Everything a results page shows comes from one call, :func:`round_results`; its
``to_dict()`` is what the pages, charts, exports and JSON API read, with the anonymity rules of
:mod:`analysis.results` already applied. The building blocks are re-exported here too.

In a notebook, on the CSV export of a round (one row per response and item)::

    import pandas as pd
    import analysis

    answers = pd.read_csv("round-answers.csv")  # response_id, round_id, partner_id, item_id, value
    items = pd.read_csv("items.csv")            # item_id, dimension, reverse, scale_min, scale_max
    partners = pd.read_csv("partners.csv")      # partner_id, name, sector
    result = analysis.round_results(answers, items, round_id=1, partners=partners, k=5)
    result.scores_frame()                       # one tidy table of all scores

A tiny, complete example (four partners; one has only two respondents, so it is hidden, and
the next smallest is hidden with it so that the total cannot give it away):

>>> import pandas as pd
>>> import analysis
>>> items = pd.DataFrame({"item_id": ["eq1", "eq2", "tr1", "tr2"],
...                       "dimension": ["equality", "equality", "transparency", "transparency"],
...                       "reverse": False, "scale_min": 1, "scale_max": 5})
>>> sizes = {"A": 8, "B": 7, "C": 6, "D": 2}
>>> answers = pd.DataFrame([
...     {"response_id": f"{p}{i}", "round_id": 1, "partner_id": p, "item_id": item,
...      "value": float(1 + (3 * i + 2 * j + len(p) * ord(p)) % 5)}
...     for p, n in sizes.items() for i in range(n) for j, item in enumerate(items["item_id"])])
>>> partners = pd.DataFrame({"partner_id": list(sizes), "name": ["Dinas", "Puskesmas",
...                          "Yayasan", "Kelompok Tani"], "sector": "ngo"})
>>> result = analysis.round_results(answers, items, round_id=1, partners=partners, k=5)
>>> [(row["partner_id"], row["n"]) for row in result.response_counts["partners"]]
[('A', 8), ('B', 7), ('C', None), ('D', None)]
>>> result.meta["n_responses"]
23
>>> table = result.scores_frame()
>>> table.loc[table["dimension"] == "equality", ["partner_id", "n", "suppressed"]]
  partner_id     n  suppressed
0       None    23       False
1          A     8       False
2          B     7       False
3          C  <NA>        True
4          D  <NA>        True
>>> import json
>>> text = json.dumps(result.to_dict(), allow_nan=False)  # ready for the JSON API

Notes: ``analysis.describe`` is the function :func:`analysis.describe.describe`; the module of
the same name is reached with ``from analysis.describe import ...``. The charts are not
re-exported, so that ``import analysis`` does not load matplotlib: use
``from analysis.charts import ...``.
"""

from analysis.agreement import (
    agreement_by_partner,
    group_icc,
    icc,
    rwg,
    rwg_j,
    rwg_j_lindell,
    uniform_null_variance,
)
from analysis.compare import (
    MannWhitneyResult,
    arrangement_sums,
    compare_partners,
    compare_partners_posthoc,
    dunn,
    kruskal_wallis,
    mann_whitney,
    n_arrangements,
)
from analysis.describe import BootstrapResult, bootstrap_mean_ci, describe
from analysis.gaps import partner_means, perception_gaps, permutations_for
from analysis.language import (
    agreement_sentence,
    change_sentence,
    effect_size_category,
    format_number,
    format_p,
    gap_sentence,
    group_sentence,
    meta_perception_sentence,
    p_method_sentence,
    partner_difference_sentence,
    rating_asymmetry_sentence,
    reliability_choice_sentence,
    reliability_sentence,
    suppressed_sentence,
    trend_sentence,
)
from analysis.metaperception import meta_perception
from analysis.multiple import adjust_pvalues
from analysis.privacy import (
    change_allowed,
    comment_groups,
    comment_threshold,
    distribution_allowed,
    safe_to_show_difference,
    suppress,
)
from analysis.prompts import (
    action_prompt,
    change_prompt,
    disagreement_share,
    gap_prompt,
    low_item_prompt,
    split_prompt,
)
from analysis.reliability import (
    AlphaResult,
    OmegaResult,
    cronbach_alpha,
    item_analysis,
    mcdonald_omega,
    reliability_by_dimension,
    which_reliability,
)
from analysis.results import (
    OverTimeResults,
    PartnershipResults,
    RoundResults,
    partnership_over_time,
    partnership_results,
    round_results,
)
from analysis.rounds import WilcoxonResult, compare_rounds, paired_wilcoxon, trend_test
from analysis.scoring import (
    assign_bands,
    band_index,
    dimension_scores,
    item_matrix,
    partnership_score,
    respondent_scores,
    reverse_code,
    total_range,
    total_scores,
)

__all__ = [
    "AlphaResult",
    "BootstrapResult",
    "MannWhitneyResult",
    "OmegaResult",
    "OverTimeResults",
    "PartnershipResults",
    "RoundResults",
    "WilcoxonResult",
    "action_prompt",
    "adjust_pvalues",
    "agreement_by_partner",
    "agreement_sentence",
    "arrangement_sums",
    "assign_bands",
    "band_index",
    "bootstrap_mean_ci",
    "change_allowed",
    "change_prompt",
    "change_sentence",
    "comment_groups",
    "comment_threshold",
    "compare_partners",
    "compare_partners_posthoc",
    "compare_rounds",
    "cronbach_alpha",
    "describe",
    "dimension_scores",
    "disagreement_share",
    "distribution_allowed",
    "dunn",
    "effect_size_category",
    "format_number",
    "format_p",
    "gap_prompt",
    "gap_sentence",
    "group_icc",
    "group_sentence",
    "icc",
    "item_analysis",
    "item_matrix",
    "kruskal_wallis",
    "low_item_prompt",
    "mann_whitney",
    "mcdonald_omega",
    "meta_perception",
    "meta_perception_sentence",
    "n_arrangements",
    "p_method_sentence",
    "paired_wilcoxon",
    "partner_difference_sentence",
    "partner_means",
    "partnership_over_time",
    "partnership_results",
    "partnership_score",
    "perception_gaps",
    "permutations_for",
    "rating_asymmetry_sentence",
    "reliability_by_dimension",
    "reliability_choice_sentence",
    "reliability_sentence",
    "respondent_scores",
    "reverse_code",
    "round_results",
    "rwg",
    "rwg_j",
    "rwg_j_lindell",
    "safe_to_show_difference",
    "split_prompt",
    "suppress",
    "suppressed_sentence",
    "total_range",
    "total_scores",
    "trend_sentence",
    "trend_test",
    "uniform_null_variance",
    "which_reliability",
]
