"""Immutable questionnaire objects, their canonical dict form and content hash.

A questionnaire version that a round has used must never change, so every object here is a
frozen dataclass holding tuples. :meth:`Questionnaire.to_dict` is the canonical snapshot stored
in the database; :meth:`Questionnaire.from_dict` validates a snapshot and rebuilds the object,
and ``Questionnaire.from_dict(q.to_dict()) == q`` always holds.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from app.questionnaires import schema
from app.questionnaires.schema import (
    FALLBACK_LANGUAGE,
    Problem,
    QuestionnaireError,
    format_path,
)

if TYPE_CHECKING:
    import pandas as pd

Scoring = Literal["mean", "sum"]
TotalMethod = Literal[
    "mean_of_dimensions", "mean_of_items", "sum_of_items", "sum_of_dimension_sums"
]
MissingRule = Literal["prorate", "refuse"]


def _language_order(pair: tuple[str, str]) -> tuple[bool, str]:
    return (pair[0] != FALLBACK_LANGUAGE, pair[0])


@dataclass(frozen=True)
class Text(Mapping[str, str]):
    """A text in several languages: a read-only mapping from language code to string.

    Translations are kept in a fixed order (Indonesian first, then alphabetical) so that two
    texts with the same translations are equal and serialise identically.
    """

    translations: tuple[tuple[str, str], ...]

    def __post_init__(self) -> None:
        pairs = tuple(self.translations)
        for pair in pairs:
            if not (
                isinstance(pair, tuple)
                and len(pair) == 2
                and all(isinstance(part, str) for part in pair)
            ):
                raise TypeError(f"Text translations must be (language, text) pairs, got {pair!r}")
        if not pairs:
            raise ValueError("a Text needs at least one translation")
        if len({lang for lang, _ in pairs}) != len(pairs):
            raise ValueError(f"a Text has a language twice: {pairs!r}")
        object.__setattr__(self, "translations", tuple(sorted(pairs, key=_language_order)))

    @classmethod
    def of(cls, translations: Mapping[str, str]) -> Text:
        """Build a Text from a ``{language: text}`` mapping."""
        return cls(tuple(translations.items()))

    def __getitem__(self, lang: str) -> str:
        for key, value in self.translations:
            if key == lang:
                return value
        raise KeyError(lang)

    def __iter__(self) -> Iterator[str]:
        return (lang for lang, _ in self.translations)

    def __len__(self) -> int:
        return len(self.translations)

    def get(self, lang: str, fallback: str = FALLBACK_LANGUAGE) -> str:  # type: ignore[override]
        """Return the text in ``lang``, or in ``fallback`` when it has no such translation."""
        if lang in self:
            return self[lang]
        if fallback in self:
            return self[fallback]
        raise KeyError(f"no {lang!r} or {fallback!r} translation in {dict(self.translations)!r}")

    def to_dict(self) -> dict[str, str]:
        """Return ``{language: text}`` in canonical order."""
        return dict(self.translations)


@dataclass(frozen=True)
class ScalePoint:
    """One answer option: the stored value and its label."""

    value: int
    label: Text


@dataclass(frozen=True)
class Scale:
    """An ordered response scale; ``dont_know`` is the label of the optional missing answer."""

    id: str
    points: tuple[ScalePoint, ...]
    dont_know: Text | None = None
    favourable_min: int | None = None

    @property
    def values(self) -> tuple[int, ...]:
        return tuple(p.value for p in self.points)

    @property
    def min_value(self) -> int:
        return self.points[0].value

    @property
    def max_value(self) -> int:
        return self.points[-1].value

    def label(self, value: int) -> Text:
        """Return the label of a point, so a stored answer can be shown in words."""
        for point in self.points:
            if point.value == value:
                return point.label
        raise KeyError(f"scale {self.id!r} has no value {value!r}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "points": [{"value": p.value, "label": p.label.to_dict()} for p in self.points],
            "dont_know": None if self.dont_know is None else {"label": self.dont_know.to_dict()},
            "favourable_min": self.favourable_min,
        }


@dataclass(frozen=True)
class Band:
    """A named score range such as strength, borderline or concern."""

    id: str
    label: Text
    min: float
    max: float

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "label": self.label.to_dict(), "min": self.min, "max": self.max}


def band_for(bands: tuple[Band, ...], score: float | None) -> Band | None:
    """Return the band a score falls in, or None (no bands, NaN, or outside the range).

    The rule is :func:`analysis.scoring.band_index`'s, so pages, reports and the analysis
    always agree: a shared edge belongs to the higher band; a score between gapped bands
    (84.5 between 35-84 and 85-126) goes to the nearer edge, the higher band on a tie.
    """
    if not bands or score is None or math.isnan(score):
        return None
    from analysis.scoring import band_index  # numpy stays out of this package's import

    rows = [{"label": band.id, "min": band.min, "max": band.max} for band in bands]
    found = int(band_index([score], rows)[0])
    return None if found < 0 else bands[found]


@dataclass(frozen=True)
class Item:
    """A scored question; ``dimension`` is the id of the dimension it belongs to."""

    id: str
    dimension: str
    text: Text
    scale: str
    reverse: bool = False
    required: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "text": self.text.to_dict(),
            "scale": self.scale,
            "reverse": self.reverse,
            "required": self.required,
        }


@dataclass(frozen=True)
class Dimension:
    """A scored principle (e.g. kesetaraan) with its items, bands and workshop prompts."""

    id: str
    title: Text
    items: tuple[Item, ...]
    description: Text | None = None
    scoring: Scoring = "mean"
    min_answered: float = schema.DEFAULT_MIN_ANSWERED
    bands: tuple[Band, ...] = ()
    discussion_prompts: tuple[Text, ...] = ()
    min_items: int = schema.DEFAULT_MIN_ITEMS

    def band_for(self, score: float) -> Band | None:
        """Return the band of a dimension score (see :func:`band_for`)."""
        return band_for(self.bands, score)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title.to_dict(),
            "description": None if self.description is None else self.description.to_dict(),
            "scoring": self.scoring,
            "min_answered": self.min_answered,
            "bands": [b.to_dict() for b in self.bands],
            "discussion_prompts": [p.to_dict() for p in self.discussion_prompts],
            "items": [i.to_dict() for i in self.items],
            # Written only when set, so versions stored before the key existed keep their hash.
            **({} if self.min_items == schema.DEFAULT_MIN_ITEMS else {"min_items": self.min_items}),
        }


@dataclass(frozen=True)
class Total:
    """How the overall health index is formed and banded."""

    method: TotalMethod = "mean_of_dimensions"
    bands: tuple[Band, ...] = ()
    missing: MissingRule = "prorate"
    min_answered: float | None = None
    min_items: int | None = None

    def band_for(self, score: float | None) -> Band | None:
        """Return the band of a total score (see :func:`band_for`)."""
        return band_for(self.bands, score)

    def scoring_options(self) -> dict[str, Any]:
        """Return the keyword arguments of :func:`analysis.scoring.total_scores`."""
        options: dict[str, Any] = {"method": self.method, "missing": self.missing}
        if self.min_answered is not None:
            options["min_answered"] = self.min_answered
        if self.min_items is not None:
            options["min_items"] = self.min_items
        return options

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"method": self.method, "bands": [b.to_dict() for b in self.bands]}
        # Written only when set, so versions stored before these keys existed keep their hash.
        if self.missing != "prorate":
            out["missing"] = self.missing
        if self.min_answered is not None:
            out["min_answered"] = self.min_answered
        if self.min_items is not None:
            out["min_items"] = self.min_items
        return out


@dataclass(frozen=True)
class OpenQuestion:
    """A free-text question; answers are kept apart from the scored ones."""

    id: str
    text: Text
    required: bool = False
    max_length: int = schema.MAX_TEXT_CHARS

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "text": self.text.to_dict(),
            "required": self.required,
            "max_length": self.max_length,
        }


@dataclass(frozen=True)
class PartnerRatingItem:
    """A question each partner answers about every other participating partner."""

    id: str
    text: Text
    scale: str
    dimension: str | None = None
    required: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "text": self.text.to_dict(),
            "scale": self.scale,
            "dimension": self.dimension,
            "required": self.required,
        }


@dataclass(frozen=True)
class MetaPerceptionItem:
    """"How do you think the other partners rate this?" about a scored item or dimension.

    Stored as an ordinary answer under its own id; ``target`` links it to the item or
    dimension whose actual ratings by the other partners it is compared with.
    """

    id: str
    target: str
    text: Text
    scale: str
    required: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "target": self.target,
            "text": self.text.to_dict(),
            "scale": self.scale,
            "required": self.required,
        }


@dataclass(frozen=True)
class Questionnaire:
    """A validated questionnaire version. Build it with the loader or :meth:`from_dict`."""

    slug: str
    version: int
    languages: tuple[str, ...]
    title: Text
    scales: tuple[Scale, ...]
    dimensions: tuple[Dimension, ...]
    description: Text | None = None
    total: Total | None = None
    open_questions: tuple[OpenQuestion, ...] = ()
    partner_ratings: tuple[PartnerRatingItem, ...] = ()
    meta_perceptions: tuple[MetaPerceptionItem, ...] = ()

    @property
    def items(self) -> tuple[Item, ...]:
        """All scored items, dimension by dimension, in file order."""
        return tuple(item for dim in self.dimensions for item in dim.items)

    def item(self, item_id: str) -> Item:
        return _find(self.items, item_id, "item")

    def scale(self, scale_id: str) -> Scale:
        return _find(self.scales, scale_id, "scale")

    def dimension(self, dimension_id: str) -> Dimension:
        return _find(self.dimensions, dimension_id, "dimension")

    def open_question(self, question_id: str) -> OpenQuestion:
        return _find(self.open_questions, question_id, "open question")

    def partner_rating(self, rating_id: str) -> PartnerRatingItem:
        return _find(self.partner_ratings, rating_id, "partner rating")

    def meta_perception(self, meta_id: str) -> MetaPerceptionItem:
        return _find(self.meta_perceptions, meta_id, "meta-perception")

    def meta_perceptions_on(self, dimension_id: str) -> tuple[MetaPerceptionItem, ...]:
        """Meta-perception questions about a dimension or one of its items (its page asks them)."""
        dim = self.dimension(dimension_id)
        targets = {dim.id, *(item.id for item in dim.items)}
        return tuple(m for m in self.meta_perceptions if m.target in targets)

    def target_label(self, meta: MetaPerceptionItem) -> Text:
        """The text of what a meta-perception asks about: the dimension title or item text."""
        for dim in self.dimensions:
            if dim.id == meta.target:
                return dim.title
            for item in dim.items:
                if item.id == meta.target:
                    return item.text
        raise KeyError(f"no item or dimension {meta.target!r}")

    def meta_frame(self) -> pd.DataFrame:
        """Return the meta-perception map that :mod:`analysis.metaperception` needs.

        Columns: meta_id, target, target_kind ("item" or "dimension").
        """
        import pandas as pd

        item_ids = {item.id for item in self.items}
        return pd.DataFrame(
            [
                {
                    "meta_id": m.id,
                    "target": m.target,
                    "target_kind": "item" if m.target in item_ids else "dimension",
                }
                for m in self.meta_perceptions
            ],
            columns=["meta_id", "target", "target_kind"],
        )

    def score_range(self, dimension_id: str) -> tuple[float, float]:
        """Return the lowest and highest possible score of a dimension."""
        dim = self.dimension(dimension_id)
        scale = self.scale(dim.items[0].scale)  # all items of a dimension share one range
        low, high = float(scale.min_value), float(scale.max_value)
        if dim.scoring == "sum":
            return low * len(dim.items), high * len(dim.items)
        return low, high

    def total_range(self) -> tuple[float, float]:
        """Return the lowest and highest possible total score under ``total.method``."""
        from analysis.scoring import total_range

        return total_range(self.items_frame(), self.dimensions_frame(), self.total_method)

    @property
    def total_method(self) -> TotalMethod:
        """How the total is formed: the file's ``total.method``, or the mean of dimensions."""
        return self.total.method if self.total else "mean_of_dimensions"

    def total_options(self) -> dict[str, Any]:
        """Keyword arguments of :func:`analysis.scoring.total_scores` for this questionnaire."""
        return (self.total or Total()).scoring_options()

    def respondent_scores(self, answers: pd.DataFrame) -> pd.DataFrame:
        """Score each response by this questionnaire's rules: dimensions, total and bands.

        ``answers`` is the long answers frame of :mod:`analysis` (one round of this version);
        the result is :func:`analysis.scoring.respondent_scores`' table, band columns holding
        band ids. This is what the answers export adds beside the answers.
        """
        from analysis.scoring import respondent_scores

        def rows(bands: tuple[Band, ...]) -> list[dict[str, Any]]:
            return [{"label": b.id, "min": b.min, "max": b.max} for b in bands]

        total_bands = rows(self.total.bands) if self.total and self.total.bands else None
        return respondent_scores(
            answers,
            self.items_frame(),
            self.dimensions_frame(),
            total=self.total_options(),
            bands={d.id: rows(d.bands) for d in self.dimensions if d.bands},
            total_bands=total_bands,
        )

    def to_dict(self) -> dict[str, Any]:
        """Return the canonical, JSON-able form: every key present, in a fixed order."""
        return {
            "slug": self.slug,
            "version": self.version,
            "languages": list(self.languages),
            "title": self.title.to_dict(),
            "description": None if self.description is None else self.description.to_dict(),
            "scales": [s.to_dict() for s in self.scales],
            "dimensions": [d.to_dict() for d in self.dimensions],
            "total": None if self.total is None else self.total.to_dict(),
            "open_questions": [q.to_dict() for q in self.open_questions],
            "partner_ratings": [r.to_dict() for r in self.partner_ratings],
            # Written only when set, so versions stored before the key existed keep their hash.
            **(
                {"meta_perceptions": [m.to_dict() for m in self.meta_perceptions]}
                if self.meta_perceptions
                else {}
            ),
        }

    def canonical_json(self) -> str:
        """Serialise :meth:`to_dict` deterministically (sorted keys, no spaces, UTF-8 text)."""
        return json.dumps(
            self.to_dict(),
            sort_keys=True,
            ensure_ascii=False,
            separators=(",", ":"),
            allow_nan=False,
        )

    def content_hash(self) -> str:
        """Return the sha256 hex digest of the canonical JSON, to refuse a changed version."""
        return hashlib.sha256(self.canonical_json().encode("utf-8")).hexdigest()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "<dict>") -> Questionnaire:
        """Validate a dict (a stored snapshot, or parsed JSON) and build the questionnaire.

        Raises QuestionnaireError listing every problem, located by field path.
        """
        spec, findings = schema.validate(data)
        if spec is None:
            problems = []
            for finding in findings:
                see_where = None if finding.see is None else format_path(finding.see)
                message = finding.describe(see_where)
                problems.append(Problem.of(source, None, format_path(finding.path), message))
            raise QuestionnaireError(schema.cap_problems(problems))
        return build(spec)

    def items_frame(self) -> pd.DataFrame:
        """Return the item map that ``analysis`` needs, one row per item in file order.

        Columns: item_id, dimension, scale, reverse, scale_min, scale_max, favourable_min
        (float, NaN when the scale declares none).
        """
        import pandas as pd

        rows = []
        for item in self.items:
            scale = self.scale(item.scale)
            rows.append(
                {
                    "item_id": item.id,
                    "dimension": item.dimension,
                    "scale": item.scale,
                    "reverse": item.reverse,
                    "scale_min": scale.min_value,
                    "scale_max": scale.max_value,
                    "favourable_min": (
                        math.nan if scale.favourable_min is None else float(scale.favourable_min)
                    ),
                }
            )
        return pd.DataFrame(
            rows,
            columns=[
                "item_id",
                "dimension",
                "scale",
                "reverse",
                "scale_min",
                "scale_max",
                "favourable_min",
            ],
        )

    def dimensions_frame(self) -> pd.DataFrame:
        """Return one row per dimension in file order.

        Columns: dimension, scoring, min_answered, min_items, n_items, score_min, score_max.
        """
        import pandas as pd

        rows = []
        for dim in self.dimensions:
            low, high = self.score_range(dim.id)
            rows.append(
                {
                    "dimension": dim.id,
                    "scoring": dim.scoring,
                    "min_answered": dim.min_answered,
                    "min_items": dim.min_items,
                    "n_items": len(dim.items),
                    "score_min": low,
                    "score_max": high,
                }
            )
        return pd.DataFrame(
            rows,
            columns=[
                "dimension",
                "scoring",
                "min_answered",
                "min_items",
                "n_items",
                "score_min",
                "score_max",
            ],
        )


def _find(entries: tuple[Any, ...], wanted: str, what: str) -> Any:
    for entry in entries:
        if entry.id == wanted:
            return entry
    raise KeyError(f"no {what} with id {wanted!r}")


# --------------------------------------------------------------------------- building


def _text(value: Mapping[str, str] | None) -> Text | None:
    return None if value is None else Text.of(value)


def _bands(bands: list[schema.BandSchema]) -> tuple[Band, ...]:
    return tuple(Band(b.id, Text.of(b.label), float(b.min), float(b.max)) for b in bands)


def build(spec: schema.QuestionnaireSchema) -> Questionnaire:
    """Turn a validated schema model into domain objects (no further checks)."""
    scales = tuple(
        Scale(
            id=s.id,
            points=tuple(ScalePoint(p.value, Text.of(p.label)) for p in s.points),
            dont_know=None if s.dont_know is None else Text.of(s.dont_know.label),
            favourable_min=s.favourable_min,
        )
        for s in spec.scales
    )
    dimensions = tuple(
        Dimension(
            id=d.id,
            title=Text.of(d.title),
            description=_text(d.description),
            scoring=d.scoring,
            min_answered=float(d.min_answered),
            min_items=d.min_items,
            bands=_bands(d.bands),
            discussion_prompts=tuple(Text.of(p) for p in d.discussion_prompts),
            items=tuple(
                Item(i.id, d.id, Text.of(i.text), i.scale, i.reverse, i.required) for i in d.items
            ),
        )
        for d in spec.dimensions
    )
    total = None
    if spec.total is not None:
        total = Total(
            spec.total.method,
            _bands(spec.total.bands),
            spec.total.missing,
            None if spec.total.min_answered is None else float(spec.total.min_answered),
            spec.total.min_items,
        )
    return Questionnaire(
        slug=spec.slug,
        version=spec.version,
        languages=tuple(spec.languages),
        title=Text.of(spec.title),
        description=_text(spec.description),
        scales=scales,
        dimensions=dimensions,
        total=total,
        open_questions=tuple(
            OpenQuestion(q.id, Text.of(q.text), q.required, q.max_length)
            for q in spec.open_questions
        ),
        partner_ratings=tuple(
            PartnerRatingItem(r.id, Text.of(r.text), r.scale, r.dimension, r.required)
            for r in spec.partner_ratings
        ),
        meta_perceptions=tuple(
            MetaPerceptionItem(m.id, m.target, Text.of(m.text), m.scale, m.required)
            for m in spec.meta_perceptions
        ),
    )
