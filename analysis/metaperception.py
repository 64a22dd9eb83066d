r"""Meta-perception: how each partner thinks the others see it, against how they do.

A meta-perception question asks a respondent "how do you think the *other* partners rate
this?" about one scored item or one dimension of the questionnaire. For every partner the
prediction of its own members is set beside what the other partners actually answered on that
target: a partner whose members expect the others to rate the partnership's transparency 4.2
while the others rate it 3.1 overestimates how it is seen.

Definitions (per meta-perception question :math:`m` with target :math:`t`, partner :math:`P`):

- *predicted*: the mean of the valid answers (not "don't know") of :math:`P`'s respondents to
  :math:`m`, on the target's scale;
- *actual*: the respondent-weighted mean, over the other partners :math:`Q \ne P` that may be
  compared (see below), of their values on :math:`t`: the raw answers for an item (the
  statement as worded, reverse-coded or not: the question asks about the statement) or the
  respondents' dimension scores for a dimension (reverse coding applied, as everywhere);
- *difference* = predicted - actual: positive when :math:`P` overestimates how the others
  rate it, negative when it underestimates.

Anonymity, the rules of :mod:`analysis.results` applied to a new table:

1. Partners hidden in the round (``hidden``) take no part: no prediction, no actual value.
2. A partner's prediction is shown only when :func:`analysis.privacy.suppress` allows it in
   the table of prediction counts under the partnership's total (below ``k``, and
   complementary suppression so that the total minus the shown partners never reveals a
   hidden group). Every hidden row gets the single reason ``"anonymity"``.
3. The actual value for :math:`P` pools only partners that are shown and hold at least ``k``
   valid values on the target (for item targets, only partners whose item figures may be
   shown, ``item_partners``), so it is computed from groups whose figures the round already
   publishes and adds nothing about anyone.
4. The partnership row pools the predictions of the partners taking part and the actual
   values of the comparable partners; it is shown when the count table allows the total.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from analysis._checks import require_columns, require_frame
from analysis._common import adjust_column, check_min_n, py_scalar, result_frame
from analysis.compare import mann_whitney
from analysis.privacy import MIN_K, suppress
from analysis.scoring import dimension_scores

__all__ = ["META_COLUMNS", "REASON_ANONYMITY", "meta_perception"]

REASON_ANONYMITY = "anonymity"
#: The other partners give no comparable value (none shown with at least k values).
REASON_NO_COMPARISON = "no_comparison"
#: Nobody of this partner answered the question: shown as empty.
REASON_NO_PREDICTIONS = "no_predictions"

META_COLUMNS = [
    "meta_id",
    "target",
    "target_kind",
    "partner_id",
    "n_predicted",
    "predicted_mean",
    "n_actual",
    "n_actual_groups",
    "actual_mean",
    "difference",
    "direction",
    "rank_biserial",
    "p_value",
    "p_method",
    "p_mc_se",
    "p_adjusted",
    "suppressed",
    "reason",
]
_DECIMALS = 10


def meta_perception(
    answers: pd.DataFrame,
    items: pd.DataFrame,
    meta: pd.DataFrame,
    *,
    k: int = MIN_K,
    dimensions: pd.DataFrame | None = None,
    hidden: Collection[Hashable] = (),
    partners: Sequence[Hashable] | None = None,
    item_partners: Mapping[Hashable, Collection[Hashable]] | None = None,
    p_adjust: str = "holm",
    random_state: int | None = 0,
) -> pd.DataFrame:
    r"""Predicted against actual view of every target, per partner, anonymity applied.

    Parameters
    ----------
    answers : pandas.DataFrame
        Long answers of one round: ``response_id``, ``partner_id``, ``item_id``, ``value``
        and optional ``dont_know`` (True: "don't know", never a number). Holds the answers to
        the scored items and to the meta-perception questions (whose ``item_id`` is the
        question's id); other rows are ignored.
    items : pandas.DataFrame
        Item map of the scored items (``item_id``, ``dimension``, ``reverse``, ``scale_min``,
        ``scale_max``), as in :func:`analysis.scoring.dimension_scores`.
    meta : pandas.DataFrame
        One row per meta-perception question: ``meta_id`` and ``target`` (an item id or a
        dimension id of ``items``).
    k : int, default 3
        Anonymity threshold (the partnership's k; at least :data:`analysis.privacy.MIN_K`).
    dimensions : pandas.DataFrame, optional
        Dimension scoring rules for dimension targets, as in
        :func:`analysis.scoring.dimension_scores`. A summed dimension cannot be a target (its
        score is not on the scale a respondent predicts on).
    hidden : collection, default ()
        Partners hidden in the round (rule 1 of :mod:`analysis.results`): left out entirely,
        listed with ``suppressed`` True.
    partners : sequence, optional
        Partner order of the rows (default: sorted partners of ``answers`` and ``hidden``).
    item_partners : mapping, optional
        Item id -> partners whose answers to that item may be used for the actual value (the
        partners whose item distribution the round shows); default every shown partner.
    p_adjust : {"holm", "bh", "by", "none"}, default "holm"
        Adjustment of the partner rows' p-values within each question.
    random_state : int or None, default 0
        Seed of the Monte Carlo test, used only above the enumeration limit.

    Returns
    -------
    pandas.DataFrame
        One row per question and partner (in ``partners`` order), then one partnership row
        (``partner_id`` None), with :data:`META_COLUMNS`:

        - ``meta_id``, ``target``, ``target_kind`` (``"item"`` or ``"dimension"``);
        - ``partner_id``;
        - ``n_predicted``, ``predicted_mean``: valid predictions of the partner's members and
          their mean;
        - ``n_actual``, ``n_actual_groups``, ``actual_mean``: valid values of the other
          comparable partners on the target, how many partners they come from, their mean;
        - ``difference``: ``predicted_mean - actual_mean``;
        - ``direction``: ``"over"`` (difference > 0), ``"under"`` (< 0), ``"same"`` (0 to
          10 decimals) or None;
        - ``rank_biserial``, ``p_value``, ``p_method``, ``p_mc_se``: Mann-Whitney test of the
          partner's predictions against the others' values (:func:`analysis.compare
          .mann_whitney`: exact or permutation for small groups, with ``p_method`` saying
          which, Monte Carlo precision in ``p_mc_se``); none for the partnership row, whose
          predictions and values come from the same people;
        - ``p_adjusted``: adjusted within each question;
        - ``suppressed`` (bool) and ``reason``: ``"anonymity"`` (hidden),
          ``"no_comparison"`` (no comparable other partner), ``"no_predictions"`` (nobody
          answered) or None.

    Raises
    ------
    ValueError
        A target that is neither an item nor a dimension, a summed dimension as target, a
        question id that is also an item id, ``k`` below 3.

    Notes
    -----
    With :math:`p_i` the predictions of partner :math:`P` and :math:`a_j` the values of the
    comparable partners :math:`C \setminus \{P\}`:

    .. math::

        \hat p_P = \frac{1}{n_P}\sum_i p_i, \qquad
        \hat a_{-P} = \frac{\sum_{Q \in C \setminus \{P\}} \sum_{j \in Q} a_j}
                           {\sum_{Q \in C \setminus \{P\}} n_Q}, \qquad
        D_P = \hat p_P - \hat a_{-P}.

    The other partners are pooled by respondent, like the partnership's pooled scores. The
    test asks whether :math:`P`'s predictions tend to lie above or below the values the others
    gave; the two samples come from different people, so they are independent. No benchmark
    exists for the size of a meta-perception error; :mod:`analysis.language` calls a
    difference below a tenth of the scale range small in practice, as for other gaps.

    References
    ----------
    Laing RD, Phillipson H, Lee AR (1966) Interpersonal Perception. Tavistock (the term).
    Kenny DA, DePaulo BM (1993) Do people know how others view them? An empirical and
    theoretical account. Psychol Bull 114:145.

    Examples
    --------
    >>> import pandas as pd
    >>> items = pd.DataFrame({"item_id": ["q1"], "dimension": "trust", "reverse": False,
    ...                       "scale_min": 1, "scale_max": 5})
    >>> meta = pd.DataFrame({"meta_id": ["q1_meta"], "target": ["q1"]})
    >>> rows = [(f"a{i}", "A", "q1", 2.0) for i in range(3)]
    >>> rows += [(f"a{i}", "A", "q1_meta", 4.0) for i in range(3)]
    >>> rows += [(f"b{i}", "B", "q1", v) for i, v in enumerate([3.0, 3.0, 4.0])]
    >>> rows += [(f"b{i}", "B", "q1_meta", 3.0) for i in range(3)]
    >>> answers = pd.DataFrame(rows, columns=["response_id", "partner_id", "item_id", "value"])
    >>> out = meta_perception(answers, items, meta, k=3)
    >>> out[["partner_id", "predicted_mean", "actual_mean", "difference", "direction"]]
      partner_id  predicted_mean  actual_mean  difference direction
    0          A             4.0     3.333333    0.666667      over
    1          B             3.0     2.000000    1.000000      over
    2       None             3.5     2.666667    0.833333      over
    """
    require_frame(answers, "answers")
    require_frame(items, "items")
    require_frame(meta, "meta")
    require_columns(answers, ["response_id", "partner_id", "item_id", "value"], "answers")
    require_columns(items, ["item_id", "dimension", "reverse", "scale_min", "scale_max"], "items")
    require_columns(meta, ["meta_id", "target"], "meta")
    check_min_n(k, MIN_K)
    hidden_set = {py_scalar(p) for p in hidden}
    item_ids = {py_scalar(i) for i in items["item_id"]}
    dimension_ids = {py_scalar(d) for d in items["dimension"]}
    clash = sorted(str(m) for m in meta["meta_id"] if py_scalar(m) in item_ids)
    if clash:
        raise ValueError(f"meta-perception ids that are also item ids: {clash}")
    order = _partner_order(answers, hidden_set, partners)
    values = _valid_values(answers)
    rows: list[dict[str, Any]] = []
    for meta_id, target in zip(meta["meta_id"], meta["target"], strict=True):
        meta_id, target = py_scalar(meta_id), py_scalar(target)
        if target in item_ids:
            kind = "item"
            actual = values.loc[values["item_id"] == target, ["partner_id", "value"]]
        elif target in dimension_ids:
            kind = "dimension"
            actual = _dimension_values(answers, items, dimensions, target)
        else:
            raise ValueError(
                f"meta-perception {meta_id!r}: target {target!r} is neither an item nor a "
                "dimension of items"
            )
        allowed = None
        if kind == "item" and item_partners is not None:
            allowed = {py_scalar(p) for p in item_partners.get(target, ())}
        predicted = values.loc[values["item_id"] == meta_id, ["partner_id", "value"]]
        rows.extend(
            _question_rows(
                meta_id, target, kind, predicted, actual, order, hidden_set, allowed, k,
                random_state,
            )
        )
    out = result_frame(rows, [c for c in META_COLUMNS if c != "p_adjusted"],
                       text=("partner_id", "target_kind", "direction", "p_method", "reason"))
    out.insert(META_COLUMNS.index("p_adjusted"), "p_adjusted",
               adjust_column(out, p_adjust, "meta_id", ["meta_id"]))
    return out


def _partner_order(
    answers: pd.DataFrame, hidden: set[Hashable], partners: Sequence[Hashable] | None
) -> list[Hashable]:
    present = {py_scalar(p) for p in pd.unique(answers["partner_id"]) if not pd.isna(p)}
    if partners is None:
        return sorted(present | hidden, key=lambda p: (str(type(p)), p))
    order = [py_scalar(p) for p in partners]
    missing = present - set(order)
    if missing:
        raise ValueError(f"answers has partner(s) not in partners: {sorted(map(str, missing))}")
    return order


def _valid_values(answers: pd.DataFrame) -> pd.DataFrame:
    """Answer rows holding a number (not missing, not "don't know"), ids as Python scalars."""
    value = pd.to_numeric(answers["value"], errors="raise").astype(float)
    keep = value.notna()
    if "dont_know" in answers.columns:
        keep &= ~answers["dont_know"].eq(True)
    return pd.DataFrame(
        {
            "partner_id": [py_scalar(p) for p in answers["partner_id"][keep]],
            "item_id": [py_scalar(i) for i in answers["item_id"][keep]],
            "value": value[keep].to_numpy(),
        }
    )


def _dimension_values(
    answers: pd.DataFrame, items: pd.DataFrame, dimensions: pd.DataFrame | None, target: Hashable
) -> pd.DataFrame:
    """Respondents' scores on the target dimension (its own scoring rules)."""
    sub_items = items.loc[items["dimension"] == target]
    rules = None
    if dimensions is not None:
        rules = dimensions.loc[dimensions["dimension"] == target]
        if "scoring" in rules.columns and (rules["scoring"] == "sum").any():
            raise ValueError(
                f"dimension {target!r} is summed; a meta-perception must target a mean-scored "
                "dimension or one of its items"
            )
    sub_answers = answers.loc[answers["item_id"].isin(sub_items["item_id"]).to_numpy()]
    if sub_answers.empty:
        return pd.DataFrame({"partner_id": [], "value": []})
    scores = dimension_scores(sub_answers, sub_items.reset_index(drop=True), rules)
    scores = scores.loc[scores["score"].notna()]
    return pd.DataFrame(
        {
            "partner_id": [py_scalar(p) for p in scores["partner_id"]],
            "value": scores["score"].to_numpy(dtype=float),
        }
    )


def _by_partner(frame: pd.DataFrame) -> dict[Hashable, np.ndarray]:
    return {
        py_scalar(p): group["value"].to_numpy(dtype=float)
        for p, group in frame.groupby("partner_id", sort=False)
    }


def _question_rows(
    meta_id: Hashable,
    target: Hashable,
    kind: str,
    predicted: pd.DataFrame,
    actual: pd.DataFrame,
    order: list[Hashable],
    hidden: set[Hashable],
    allowed: set[Hashable] | None,
    k: int,
    random_state: int | None,
) -> list[dict[str, Any]]:
    preds = _by_partner(predicted)
    acts = _by_partner(actual)
    taking_part = [p for p in order if p not in hidden]
    # Rule 3: the others' values come only from shown partners with at least k values.
    comparable = [
        p for p in taking_part
        if len(acts.get(p, ())) >= k and (allowed is None or p in allowed)
    ]
    # Rule 2: suppression of the prediction counts under their total.
    counts = pd.DataFrame(
        {
            "partner_id": [*taking_part, None],
            "n": [*(len(preds.get(p, ())) for p in taking_part),
                  sum(len(preds.get(p, ())) for p in taking_part)],
        }
    )
    shown = suppress(counts, k, levels="partner_id") if taking_part else counts.assign(
        suppressed=False)
    hidden_rows = dict(zip(shown["partner_id"], shown["suppressed"], strict=True))
    base = {"meta_id": meta_id, "target": target, "target_kind": kind}
    rows = []
    for pid in order:
        row = _empty_row(base, pid)
        if pid in hidden or hidden_rows.get(pid, False):
            row.update(suppressed=True, reason=REASON_ANONYMITY)
            rows.append(row)
            continue
        mine = preds.get(pid, np.array([]))
        row.update(n_predicted=int(mine.size))
        if mine.size == 0:
            row["reason"] = REASON_NO_PREDICTIONS
            rows.append(row)
            continue
        row["predicted_mean"] = float(mine.mean())
        others = [p for p in comparable if p != pid]
        if not others:
            row["reason"] = REASON_NO_COMPARISON
            rows.append(row)
            continue
        theirs = np.concatenate([acts[p] for p in others])
        _compare(row, mine, theirs, len(others))
        test = mann_whitney(mine, theirs, random_state=random_state)
        row.update(
            rank_biserial=test.rank_biserial,
            p_value=test.p_value,
            p_method=test.p_method,
            p_mc_se=test.p_mc_se,
        )
        rows.append(row)
    total = _empty_row(base, None)
    all_preds = [preds[p] for p in taking_part if p in preds]
    n_total = int(sum(a.size for a in all_preds))
    total["n_predicted"] = n_total
    if taking_part and hidden_rows.get(None, False):
        total.update(suppressed=True, reason=REASON_ANONYMITY, n_predicted=None)
    elif n_total == 0:
        total["reason"] = REASON_NO_PREDICTIONS
    elif not comparable:
        total.update(predicted_mean=float(np.concatenate(all_preds).mean()),
                     reason=REASON_NO_COMPARISON)
    else:
        mine = np.concatenate(all_preds)
        total["predicted_mean"] = float(mine.mean())
        _compare(total, mine, np.concatenate([acts[p] for p in comparable]), len(comparable))
    rows.append(total)
    return rows


def _empty_row(base: Mapping[str, Any], pid: Hashable) -> dict[str, Any]:
    return {
        **base,
        "partner_id": pid,
        "n_predicted": None,
        "predicted_mean": np.nan,
        "n_actual": None,
        "n_actual_groups": None,
        "actual_mean": np.nan,
        "difference": np.nan,
        "direction": None,
        "rank_biserial": np.nan,
        "p_value": np.nan,
        "p_method": None,
        "p_mc_se": np.nan,
        "suppressed": False,
        "reason": None,
    }


def _compare(row: dict[str, Any], mine: np.ndarray, theirs: np.ndarray, groups: int) -> None:
    actual = float(theirs.mean())
    difference = float(mine.mean()) - actual
    rounded = round(difference, _DECIMALS)
    row.update(
        n_actual=int(theirs.size),
        n_actual_groups=int(groups),
        actual_mean=actual,
        difference=difference,
        direction="over" if rounded > 0 else ("under" if rounded < 0 else "same"),
    )
