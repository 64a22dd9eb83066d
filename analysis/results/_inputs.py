"""Checked arguments of the entry points and the small id helpers every part uses."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import pandas as pd

from analysis._checks import require_columns, require_frame, require_numeric
from analysis._common import py_scalar
from analysis.multiple import METHODS, PAdjust
from analysis.privacy import comment_threshold
from analysis.results._model import TOTAL

_TOTAL_LABEL = {"id": "Indeks kesehatan kemitraan", "en": "Partnership health index"}
_PARTNER_COLUMNS = ("partner_id", "name", "sector")


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
    p_adjust: PAdjust
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
        p_adjust=cast("PAdjust", p_adjust),
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
    """Return a shallow copy with the id columns as categoricals.

    Every module factorises ``response_id``, ``partner_id`` and ``item_id`` again; on string ids
    that is most of the non-statistical time, on categoricals it is a look at the codes.
    """
    out = answers.copy(deep=False)
    for column in ("response_id", "partner_id", "item_id"):
        if not isinstance(out[column].dtype, pd.CategoricalDtype):
            out[column] = out[column].astype("category")
    # One row order whatever order the rows came in (a database returns them as it pleases):
    # sums over respondents then add in the same order, so the same answers give the same
    # figures to the last bit on SQLite and PostgreSQL.
    if out["response_id"].cat.ordered is False and out["item_id"].cat.ordered is False:
        codes_r = out["response_id"].cat.codes.to_numpy()
        codes_i = out["item_id"].cat.codes.to_numpy()
        key = codes_r.astype(np.int64) * (len(out["item_id"].cat.categories) + 1) + codes_i
        if len(key) > 1 and not bool(np.all(key[1:] >= key[:-1])):
            out = out.take(np.argsort(key, kind="stable"))
    return out


def _positions(values: pd.Series, index: pd.Index) -> np.ndarray:
    """Position of every value in ``index`` (-1 when absent), through a categorical's codes."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        lookup = np.append(index.get_indexer(values.cat.categories), -1)
        return lookup[values.cat.codes.to_numpy()]  # code -1 (missing) picks the appended -1
    return index.get_indexer(pd.Index(values))


def _round_positions(frame: pd.DataFrame) -> dict[Hashable, np.ndarray]:
    return {
        py_scalar(key): np.asarray(idx)
        for key, idx in frame.groupby("round_id", sort=False, observed=True).indices.items()
    }


def _rounds_in_order(
    answers: pd.DataFrame, items: pd.DataFrame, round_order: Sequence[Hashable] | None
) -> tuple[pd.DataFrame, dict[Hashable, np.ndarray], list[Hashable]]:
    """Check the answers of several rounds and find each round's rows, in round order.

    Returns the answers with categorical ids, the row positions of each round and the rounds
    in ``round_order`` (sorted ids without it); no rows at all is an error.
    """
    _check_answers(answers, items)
    frame = _categorical_ids(answers)
    positions = _round_positions(frame)
    order = _order(list(positions), round_order, "round_order")
    if not order:
        raise ValueError("answers has no rows")
    return frame, positions, order


def _order(
    present: list[Hashable], round_order: Sequence[Hashable] | None, name: str
) -> list[Hashable]:
    if round_order is None:
        try:
            return sorted(cast("list[Any]", present))
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
