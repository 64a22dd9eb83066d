"""Meta-perception results of a round: predicted against actual view, per partner.

The answers to "how do you think the other partners rate this?" are stored as ordinary answers
under the question's own id. This module keeps them out of the scored answers and turns them
into the round snapshot's ``meta_perception`` section, with the round's own anonymity decisions
(hidden partners, item distributions shown) passed to :func:`analysis.metaperception
.meta_perception`, so the new table cannot reveal what the other tables hide.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from analysis import language
from analysis.metaperception import meta_perception
from app.questionnaires import Questionnaire

# The name of the partnership row in the sentences.
PARTNERS_TOGETHER = {"id": "Para mitra secara keseluruhan", "en": "The partners together"}


def scored_answers(answers: pd.DataFrame, items: pd.DataFrame) -> pd.DataFrame:
    """Return the answers to scored items only (meta-perception answers left out)."""
    keep = answers["item_id"].isin(items["item_id"]).to_numpy()
    return answers if keep.all() else answers.loc[keep].reset_index(drop=True)


def meta_perception_section(
    questionnaire: Questionnaire,
    answers: pd.DataFrame,
    payload: Mapping[str, Any],
    *,
    dimensions: pd.DataFrame | None,
    random_state: int,
) -> list[dict[str, Any]]:
    """Build the snapshot section: one entry per meta-perception question of the round.

    ``answers`` are all the round's answers (scored and meta); ``payload`` is the round's
    results so far, whose hidden partners and shown item distributions are reused.
    """
    if not questionnaire.meta_perceptions:
        return []
    k = int(payload["meta"]["k"])
    counts = payload["response_counts"]["partners"]
    names = {row["partner_id"]: row["name"] for row in counts}
    hidden = [row["partner_id"] for row in counts if row["suppressed"]]
    item_partners = {
        entry["item_id"]: [row["partner_id"] for row in entry.get("partners") or []
                           if not row["suppressed"] and (row["n"] or 0) > 0]
        for entry in payload.get("distributions") or []
    }
    items = questionnaire.items_frame()
    table = meta_perception(
        answers,
        items,
        questionnaire.meta_frame(),
        k=k,
        dimensions=dimensions,
        hidden=hidden,
        partners=list(names),
        item_partners=item_partners,
        random_state=random_state,
    )
    out = []
    for meta in questionnaire.meta_perceptions:
        scale = questionnaire.scale(meta.scale)
        target = questionnaire.target_label(meta).to_dict()
        spoken = target if meta.target in {d.id for d in questionnaire.dimensions} else _quoted(
            target)
        rows = table.loc[table["meta_id"] == meta.id]
        partners, partnership = [], None
        for record in rows.to_dict("records"):
            pid = _plain(record["partner_id"])
            row = {key: _plain(value) for key, value in record.items()}
            if row["suppressed"]:
                row["sentence"] = language.suppressed_sentence(k)
            else:
                who = PARTNERS_TOGETHER if pid is None else names.get(pid, str(pid))
                row["sentence"] = language.meta_perception_sentence(
                    row, spoken, who, min_n=k, scale_min=scale.min_value,
                    scale_max=scale.max_value)
            if pid is None:
                partnership = row
            else:
                row["name"] = names.get(pid, str(pid))
                partners.append(row)
        out.append(
            {
                "meta_id": meta.id,
                "target": meta.target,
                "target_kind": "item" if meta.target in set(items["item_id"]) else "dimension",
                "label": meta.text.to_dict(),
                "target_label": target,
                "scale_min": scale.min_value,
                "scale_max": scale.max_value,
                "partners": partners,
                "partnership": partnership,
            }
        )
    return out


def _quoted(text: Mapping[str, str]) -> dict[str, str]:
    return {lang: f"\u201c{value.strip().rstrip('.')}\u201d" for lang, value in text.items()}


def _plain(value: Any) -> Any:
    """A JSON-ready cell: numpy scalars as Python, NaN as None."""
    if hasattr(value, "item") and not isinstance(value, str | bytes | Sequence):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    return value
