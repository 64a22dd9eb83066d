"""Results of rounds and partnerships: computed by ``analysis``, published as snapshots.

This is the only place the web app asks ``analysis`` for results. Pages, charts, exports and
the API all read the snapshot dictionaries returned here, so every consumer shows the same,
anonymity-checked figures.

Publication rule: a closed round's snapshot follows its data exactly. An open round publishes a
new snapshot only when at least ``k`` responses arrived since the last one, so that watching the
figures between two single responses cannot reveal what one person answered. The over-time view
uses closed rounds only, for the same reason.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from analysis.results import TOTAL, partnership_over_time, round_results
from app.models import (
    Partnership,
    QuestionnaireVersion,
    Response,
    ResultSnapshot,
    Round,
    RoundStatus,
)
from app.questionnaires import Questionnaire
from app.results.rounds import closed_rounds, order_key, ordered
from app.services.answers import answers_frame, ratings_frame
from app.services.metaperception import meta_perception_section, scored_answers

ROUND = "round"
OVER_TIME = "over_time"
# Part of every snapshot's key: raise it when the analysis or the payload layout changes, so
# snapshots computed by older code are not served any more.
ANALYSIS_VERSION = 5
RANDOM_STATE = 20261123


@dataclass(frozen=True)
class Inputs:
    """What ``analysis`` needs to know about the questionnaire versions of some rounds."""

    items: pd.DataFrame
    dimensions: pd.DataFrame
    bands: dict[str, list[dict[str, Any]]]
    total_bands: list[dict[str, Any]]
    labels: dict[str, dict[str, str]]
    favourable_min: float | None
    total: dict[str, Any]  # how the total is scored (analysis.scoring.total_scores options)


def questionnaire_inputs(questionnaires: list[Questionnaire]) -> Inputs:
    """Merge the versions' item maps (items matched by id, the newest version's text wins)."""
    items_frames, dimension_frames = [], []
    bands: dict[str, list[dict[str, Any]]] = {}
    labels: dict[str, dict[str, str]] = {}
    total_bands: list[dict[str, Any]] = []
    total: dict[str, Any] = {}
    favourable: list[float] = []
    for questionnaire in sorted(questionnaires, key=lambda q: q.version):
        total = questionnaire.total_options()  # the newest version's rule wins, like bands
        items_frames.append(questionnaire.items_frame())
        dimension_frames.append(questionnaire.dimensions_frame())
        for dimension in questionnaire.dimensions:
            labels[dimension.id] = dimension.title.to_dict()
            bands[dimension.id] = [band.to_dict() for band in dimension.bands]
            for item in dimension.items:
                labels[item.id] = item.text.to_dict()
        for rating in questionnaire.partner_ratings:
            labels[rating.id] = rating.text.to_dict()
        if questionnaire.total is not None:
            total_bands = [band.to_dict() for band in questionnaire.total.bands]
        favourable.extend(s.favourable_min for s in questionnaire.scales
                          if s.favourable_min is not None)
    labels[TOTAL] = {"id": "Indeks kesehatan kemitraan", "en": "Partnership health index"}
    items = pd.concat(items_frames).drop_duplicates("item_id", keep="last")
    dimensions = pd.concat(dimension_frames).drop_duplicates("dimension", keep="last")
    return Inputs(
        items=items.reset_index(drop=True),
        dimensions=dimensions[["dimension", "scoring", "min_answered", "min_items"]]
        .reset_index(drop=True),
        bands={key: value for key, value in bands.items() if value},
        total_bands=total_bands,
        labels=labels,
        favourable_min=min(favourable) if favourable else None,
        total=total,
    )


def partners_frame(partnership: Partnership) -> pd.DataFrame:
    return pd.DataFrame(
        [(p.id, p.name, p.sector.value) for p in partnership.partners],
        columns=["partner_id", "name", "sector"],
    )


def rounds_before(session: Session, round_: Round, *, closed_only: bool = True) -> list[Round]:
    """Earlier rounds of the same partnership, oldest first (the over-time context)."""
    query = select(Round).where(Round.partnership_id == round_.partnership_id,
                                Round.id != round_.id,
                                Round.status != RoundStatus.DRAFT)
    if closed_only:
        query = query.where(Round.status == RoundStatus.CLOSED)
    earlier = [r for r in session.scalars(query) if order_key(r) < order_key(round_)]
    return ordered(earlier)


def _questionnaires(session: Session, rounds: list[Round]) -> list[Questionnaire]:
    version_ids = {r.questionnaire_version_id for r in rounds}
    versions = session.scalars(select(QuestionnaireVersion).where(
        QuestionnaireVersion.id.in_(version_ids)))
    return [Questionnaire.from_dict(v.definition) for v in versions]


def _cache_key(kind: str, partnership: Partnership, rounds: list[Round]) -> str:
    parts = {
        "analysis": ANALYSIS_VERSION,
        "kind": kind,
        "k": partnership.min_group_size,
        "rounds": [(r.id, r.results_version, r.questionnaire_version_id) for r in rounds],
        "partners": [(p.id, p.name, p.sector.value) for p in partnership.partners],
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def response_count(session: Session, round_: Round) -> int:
    return session.scalar(select(func.count()).select_from(Response).where(
        Response.round_id == round_.id)) or 0


def round_results_for(session: Session, round_: Round) -> dict[str, Any]:
    """Return the published results of ``round_``, computing a new snapshot when due."""
    partnership = round_.partnership
    key = _cache_key(ROUND, partnership, [round_])
    snapshot = _snapshot(session, ROUND, key)
    if snapshot is not None:
        return snapshot.payload
    n_now = response_count(session, round_)
    if round_.status is RoundStatus.OPEN:
        latest = _latest_round_snapshot(session, round_)
        if latest is not None and n_now - latest.n_responses < partnership.min_group_size:
            return latest.payload
    payload = compute_round_results(session, round_)
    _publish(session, ResultSnapshot(partnership_id=partnership.id, round_id=round_.id,
                                     kind=ROUND, cache_key=key, n_responses=n_now,
                                     payload=payload))
    return payload


def compute_round_results(session: Session, round_: Round) -> dict[str, Any]:
    """Run the analysis of one round on its own answers.

    Change across rounds is the over-time view's business (:func:`over_time_for`, closed
    rounds only), so a round's figures never depend on other rounds and its snapshot stays
    valid when they change.
    """
    partnership = round_.partnership
    questionnaires = _questionnaires(session, [round_])
    inputs = questionnaire_inputs(questionnaires)
    all_answers = answers_frame(session, [round_.id])
    answers = scored_answers(all_answers, inputs.items)  # meta-perceptions apart
    ratings = ratings_frame(session, [round_.id])
    result = round_results(
        answers, inputs.items, round_id=round_.id, partners=partners_frame(partnership),
        k=partnership.min_group_size, dimensions=inputs.dimensions,
        ratings=ratings if len(ratings) else None, bands=inputs.bands or None,
        total_bands=inputs.total_bands or None, favourable_min=inputs.favourable_min,
        labels=inputs.labels, random_state=RANDOM_STATE, total=inputs.total,
    )
    payload = result.to_dict()
    payload["meta_perception"] = meta_perception_section(
        questionnaires[0], all_answers, payload, dimensions=inputs.dimensions,
        random_state=RANDOM_STATE)
    # partner_ratings[].dimension: the pages and the report show each rating with it.
    rating_dimension = {r.id: r.dimension for r in questionnaires[0].partner_ratings}
    for entry in payload["rating_matrix"]:
        entry["dimension"] = rating_dimension.get(entry["item_id"])
    payload["round"] = {"id": round_.id, "name": round_.name, "status": round_.status.value,
                        "opens_on": _iso(round_.opens_on), "closes_on": _iso(round_.closes_on)}
    return payload


def over_time_for(session: Session, partnership: Partnership) -> dict[str, Any] | None:
    """Results across the partnership's closed rounds, or None with fewer than two."""
    rounds = closed_rounds(partnership)
    if len(rounds) < 2:
        return None
    key = _cache_key(OVER_TIME, partnership, rounds)
    snapshot = _snapshot(session, OVER_TIME, key)
    if snapshot is not None:
        return snapshot.payload
    inputs = questionnaire_inputs(_questionnaires(session, rounds))
    round_ids = [r.id for r in rounds]
    result = partnership_over_time(
        scored_answers(answers_frame(session, round_ids), inputs.items),
        inputs.items, partners=partners_frame(partnership),
        k=partnership.min_group_size, round_order=round_ids, dimensions=inputs.dimensions,
        bands=inputs.bands or None, total_bands=inputs.total_bands or None,
        favourable_min=inputs.favourable_min, labels=inputs.labels, random_state=RANDOM_STATE,
        total=inputs.total, published=published_rounds(session, rounds),
    )
    payload = result.to_dict()
    payload["rounds"] = [{"id": r.id, "name": r.name, "opens_on": _iso(r.opens_on)}
                         for r in rounds]
    _publish(session, ResultSnapshot(partnership_id=partnership.id, round_id=None,
                                     kind=OVER_TIME, cache_key=key,
                                     n_responses=sum(response_count(session, r) for r in rounds),
                                     payload=payload))
    return payload


def published_rounds(session: Session, rounds: list[Round]) -> dict[int, dict[str, Any]]:
    """Return the stored, current snapshots of these rounds, by round id.

    The over-time view takes each round's described scores (intervals included) from here
    instead of bootstrapping them again; ``analysis`` reuses a table only when it describes
    exactly the scores it finds and computes what is missing, so the figures are the same with
    or without snapshots. Missing snapshots are not computed here: the over-time view needs a
    round's respondent scores, not its whole page.
    """
    out = {}
    for round_ in rounds:
        snapshot = _snapshot(session, ROUND, _cache_key(ROUND, round_.partnership, [round_]))
        if snapshot is not None:
            out[round_.id] = snapshot.payload
    return out


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _snapshot(session: Session, kind: str, key: str) -> ResultSnapshot | None:
    return session.scalar(select(ResultSnapshot).where(ResultSnapshot.kind == kind,
                                                       ResultSnapshot.cache_key == key))


def _latest_round_snapshot(session: Session, round_: Round) -> ResultSnapshot | None:
    return session.scalar(select(ResultSnapshot).where(
        ResultSnapshot.kind == ROUND, ResultSnapshot.round_id == round_.id,
    ).order_by(ResultSnapshot.id.desc()).limit(1))


def _publish(session: Session, snapshot: ResultSnapshot) -> None:
    """Store a snapshot in a short transaction of its own.

    Results are usually asked for by GET requests, whose session only reads; publishing is a
    cache write that must not depend on it. A concurrent worker may have stored the same
    snapshot first, which is fine.
    """
    bind = session.get_bind().execution_options(sqlite_begin="IMMEDIATE")
    with Session(bind=bind) as writer:
        writer.add(snapshot)
        try:
            writer.commit()
        except IntegrityError:
            writer.rollback()
