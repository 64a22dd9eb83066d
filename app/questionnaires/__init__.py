"""Questionnaire definitions: YAML files, their validation and immutable domain objects.

This package imports only the standard library, PyYAML and pydantic (pandas inside
``items_frame``), so it can be used without the web application.
"""

from app.questionnaires.loader import load_questionnaire, parse_questionnaire
from app.questionnaires.model import (
    Band,
    Dimension,
    Item,
    MetaPerceptionItem,
    OpenQuestion,
    PartnerRatingItem,
    Questionnaire,
    Scale,
    ScalePoint,
    Text,
    Total,
    band_for,
)
from app.questionnaires.schema import (
    MAX_FILE_BYTES,
    MAX_QUESTIONS,
    MAX_TEXT_CHARS,
    Problem,
    QuestionnaireError,
)

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_QUESTIONS",
    "MAX_TEXT_CHARS",
    "Band",
    "Dimension",
    "Item",
    "MetaPerceptionItem",
    "OpenQuestion",
    "PartnerRatingItem",
    "Problem",
    "Questionnaire",
    "QuestionnaireError",
    "Scale",
    "ScalePoint",
    "Text",
    "Total",
    "band_for",
    "load_questionnaire",
    "parse_questionnaire",
]
