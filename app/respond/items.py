"""Questionnaire item types: each knows its form field, its validation and how it is stored.

A page form is assembled at runtime from these objects (see ``forms.py``, after Indico's
``make_survey_form``). While a respondent works, values live in an :class:`AnswerSheet` (the
draft); at submission every question turns its value into the rows it is stored as.

A value is an ``int`` (a point of a scale), ``None`` ("don't know": stored as NULL, never as a
number), a ``str`` (open text) or :data:`MISSING` (not answered: no row at all).
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

from flask_babel import gettext
from wtforms import RadioField, SelectChoice, TextAreaField
from wtforms.fields.core import UnboundField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from app.models import Answer, OpenAnswer, PartnerRating
from app.questionnaires import (
    Item,
    MetaPerceptionItem,
    OpenQuestion,
    PartnerRatingItem,
    Scale,
    ScalePoint,
    Text,
)


class Missing(enum.Enum):
    """The type of :data:`MISSING`, so "not answered" cannot be confused with ``None``."""

    MISSING = "missing"


MISSING = Missing.MISSING
Value = int | str | None | Missing
StoredRow = Answer | PartnerRating | OpenAnswer

# The form value of the "don't know" option; it can never collide with a scale value.
DONT_KNOW = "dk"


@dataclass
class AnswerSheet:
    """The answers given so far, in the JSON shape kept in ``Draft.data``."""

    answers: dict[str, int | None] = field(default_factory=dict)
    ratings: dict[str, dict[str, int | None]] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Any) -> AnswerSheet:
        """Read a stored draft defensively: entries of the wrong shape are dropped."""
        data = data if isinstance(data, dict) else {}
        answers = {
            key: value
            for key, value in _mapping(data.get("answers")).items()
            if isinstance(key, str) and _is_point_or_dont_know(value)
        }
        ratings = {
            key: {
                ratee: value
                for ratee, value in _mapping(rows).items()
                if isinstance(ratee, str) and _is_point_or_dont_know(value)
            }
            for key, rows in _mapping(data.get("ratings")).items()
            if isinstance(key, str)
        }
        texts = {
            key: value
            for key, value in _mapping(data.get("texts")).items()
            if isinstance(key, str) and isinstance(value, str)
        }
        return cls(answers, {k: v for k, v in ratings.items() if v}, texts)

    def to_json(self) -> dict[str, Any]:
        return {
            "answers": dict(self.answers),
            "ratings": {key: dict(rows) for key, rows in self.ratings.items() if rows},
            "texts": dict(self.texts),
        }


def _mapping(value: Any) -> dict[Any, Any]:
    return value if isinstance(value, dict) else {}


def _is_point_or_dont_know(value: Any) -> bool:
    return value is None or (isinstance(value, int) and not isinstance(value, bool))


@dataclass(frozen=True)
class StorageContext:
    """What the stored rows of one response need besides the values themselves."""

    round_id: int
    partner_id: int
    language: str


class Question(ABC):
    """One answerable thing on a page, bound to its questionnaire entry."""

    kind: ClassVar[str]
    id: str
    required: bool

    @property
    @abstractmethod
    def name(self) -> str:
        """The form field name; prefixed so it never clashes with a Form attribute."""

    @abstractmethod
    def label(self, lang: str) -> str:
        """The text a respondent reads as this question's label."""

    def summary_label(self, lang: str) -> str:
        """The label in the error summary at the top of a page."""
        return self.label(lang)

    def answered(self, sheet: AnswerSheet) -> bool:
        return self.read(sheet) is not MISSING

    @abstractmethod
    def unbound_field(self, lang: str) -> UnboundField:
        """The WTForms field, with the validators this item type needs."""

    @abstractmethod
    def read(self, sheet: AnswerSheet) -> Value:
        """The value saved in a draft, or MISSING."""

    @abstractmethod
    def write(self, sheet: AnswerSheet, value: Value) -> None:
        """Save a value in a draft; MISSING removes it."""

    @abstractmethod
    def value_from(self, data: Any) -> Value:
        """Turn a validated field's ``data`` into a value."""

    @abstractmethod
    def form_value(self, value: Value) -> str | None:
        """Turn a saved value back into what the field shows."""

    @abstractmethod
    def describe(self, value: Value, lang: str) -> str:
        """Say in words what was answered, for the review page."""

    @abstractmethod
    def rows(self, value: Value, context: StorageContext) -> list[StoredRow]:
        """The database rows that store ``value`` (none when it is MISSING)."""


class ChoiceQuestion(Question):
    """Pick one of a list of labelled options; stored as an Answer holding the option value."""

    kind = "choice"

    def __init__(self, question_id: str, text: Text, options: tuple[ScalePoint, ...],
                 required: bool = True) -> None:
        if not options:
            raise ValueError(f"choice question {question_id!r} needs at least one option")
        self.id = question_id
        self.text = text
        self.options = options
        self.required = required

    @property
    def name(self) -> str:
        return f"q_{self.id}"

    def label(self, lang: str) -> str:
        return self.text.get(lang)

    def choices(self, lang: str) -> list[tuple[str, str]]:
        return [(str(point.value), point.label.get(lang)) for point in self.options]

    def missing_message(self) -> str:
        return gettext("Please choose an answer.")

    def unbound_field(self, lang: str) -> UnboundField:
        presence = InputRequired(self.missing_message()) if self.required else Optional()
        return RadioField(
            self.label(lang),
            choices=[SelectChoice(value, label) for value, label in self.choices(lang)],
            validators=[presence],
            invalid_choice_message=gettext("Please choose one of the answers shown."),
        )

    def read(self, sheet: AnswerSheet) -> Value:
        return sheet.answers.get(self.id, MISSING)

    def write(self, sheet: AnswerSheet, value: Value) -> None:
        if value is MISSING:
            sheet.answers.pop(self.id, None)
        elif value is None or isinstance(value, int):
            sheet.answers[self.id] = value
        else:
            raise TypeError(f"{self.kind} {self.id!r} takes a number or None, got {value!r}")

    def value_from(self, data: Any) -> Value:
        if not data:
            return MISSING
        if data == DONT_KNOW:
            return None
        return int(data)

    def form_value(self, value: Value) -> str | None:
        if value is MISSING:
            return None
        return DONT_KNOW if value is None else str(value)

    def describe(self, value: Value, lang: str) -> str:
        if value is MISSING:
            return gettext("Not answered")
        for point in self.options:
            if point.value == value:
                return point.label.get(lang)
        return gettext("Not answered")

    def rows(self, value: Value, context: StorageContext) -> list[StoredRow]:
        if value is MISSING:
            return []
        return [Answer(item_id=self.id, value=value)]


class LikertQuestion(ChoiceQuestion):
    """A statement rated on an ordered scale, with "don't know" where the scale allows it."""

    kind = "likert"

    def __init__(self, item: Item, scale: Scale) -> None:
        super().__init__(item.id, item.text, scale.points, item.required)
        self.scale = scale

    def choices(self, lang: str) -> list[tuple[str, str]]:
        choices = super().choices(lang)
        if self.scale.dont_know is not None:
            choices.append((DONT_KNOW, self.scale.dont_know.get(lang)))
        return choices

    def missing_message(self) -> str:
        return gettext("Please choose an answer for this statement.")

    def describe(self, value: Value, lang: str) -> str:
        if value is None and self.scale.dont_know is not None:
            return self.scale.dont_know.get(lang)
        return super().describe(value, lang)


class PartnerRatingQuestion(LikertQuestion):
    """One row of a partner rating: this respondent's view of one other partner."""

    kind = "partner_rating"

    def __init__(self, item: PartnerRatingItem, scale: Scale, ratee_id: int,
                 ratee_name: str) -> None:
        as_item = Item(item.id, item.dimension or "", item.text, item.scale,
                       required=item.required)
        super().__init__(as_item, scale)
        self.rating = item
        self.ratee_id = ratee_id
        self.ratee_name = ratee_name

    @property
    def name(self) -> str:
        return f"r_{self.id}__{self.ratee_id}"

    def label(self, lang: str) -> str:
        return self.ratee_name

    def summary_label(self, lang: str) -> str:
        return f"{self.text.get(lang)} ({self.ratee_name})"

    def missing_message(self) -> str:
        return gettext("Please choose an answer for this partner.")

    def read(self, sheet: AnswerSheet) -> Value:
        return sheet.ratings.get(self.id, {}).get(str(self.ratee_id), MISSING)

    def write(self, sheet: AnswerSheet, value: Value) -> None:
        rows = sheet.ratings.setdefault(self.id, {})
        if value is MISSING:
            rows.pop(str(self.ratee_id), None)
        elif value is None or isinstance(value, int):
            rows[str(self.ratee_id)] = value
        else:
            raise TypeError(f"rating {self.id!r} takes a number or None, got {value!r}")
        if not rows:
            sheet.ratings.pop(self.id, None)

    def rows(self, value: Value, context: StorageContext) -> list[StoredRow]:
        if value is MISSING:
            return []
        return [PartnerRating(item_id=self.id, ratee_partner_id=self.ratee_id, value=value)]


class MetaPerceptionQuestion(LikertQuestion):
    """"How do you think the other partners rate this?": the answer the respondent expects.

    Stored as an ordinary Answer under the question's own id; the questionnaire links that id
    to its target item or dimension, so no table or column is needed for it.
    """

    kind = "meta_perception"

    def __init__(self, meta: MetaPerceptionItem, scale: Scale) -> None:
        as_item = Item(meta.id, "", meta.text, meta.scale, required=meta.required)
        super().__init__(as_item, scale)
        self.meta = meta

    def missing_message(self) -> str:
        return gettext("Please choose the answer you expect the other partners to give.")


class TextQuestion(Question):
    """An open question; stored apart from the response so it cannot be joined to scores."""

    kind = "text"

    def __init__(self, question: OpenQuestion) -> None:
        self.id = question.id
        self.question = question
        self.required = question.required
        self.max_length = question.max_length

    @property
    def name(self) -> str:
        return f"t_{self.id}"

    def label(self, lang: str) -> str:
        return self.question.text.get(lang)

    def unbound_field(self, lang: str) -> UnboundField:
        presence = (DataRequired(gettext("Please write an answer to this question."))
                    if self.required else Optional())
        too_long = gettext("Please shorten your answer to at most %(max)d characters.",
                           max=self.max_length)
        return TextAreaField(
            self.label(lang),
            validators=[presence, Length(max=self.max_length, message=too_long)],
            filters=[_strip],
        )

    def read(self, sheet: AnswerSheet) -> Value:
        return sheet.texts.get(self.id, MISSING)

    def write(self, sheet: AnswerSheet, value: Value) -> None:
        if value is MISSING:
            sheet.texts.pop(self.id, None)
        elif isinstance(value, str):
            sheet.texts[self.id] = value
        else:
            raise TypeError(f"open question {self.id!r} takes text, got {value!r}")

    def value_from(self, data: Any) -> Value:
        text = (data or "").strip()
        return text if text else MISSING

    def form_value(self, value: Value) -> str | None:
        return value if isinstance(value, str) else None

    def describe(self, value: Value, lang: str) -> str:
        return value if isinstance(value, str) else gettext("Not answered")

    def rows(self, value: Value, context: StorageContext) -> list[StoredRow]:
        if not isinstance(value, str) or not value:
            return []
        # Deliberately no response id: free text must not be joinable to the scores.
        return [OpenAnswer(round_id=context.round_id, partner_id=context.partner_id,
                           question_id=self.id, language=context.language, text=value)]


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


# The registry: item type name -> class. Templates pick a macro by ``question.kind``.
ITEM_TYPES: dict[str, type[Question]] = {
    cls.kind: cls
    for cls in (LikertQuestion, ChoiceQuestion, TextQuestion, PartnerRatingQuestion,
                MetaPerceptionQuestion)
}
