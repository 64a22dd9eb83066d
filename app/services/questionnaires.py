"""Import validated questionnaire files as immutable versions."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import QuestionnaireVersion
from app.questionnaires import Questionnaire, load_questionnaire


class ImportRefused(Exception):
    """The file is valid but conflicts with what is already stored."""


@dataclass(frozen=True)
class ImportOutcome:
    version: QuestionnaireVersion
    created: bool


def import_questionnaire(session: Session, questionnaire: Questionnaire) -> ImportOutcome:
    """Store ``questionnaire`` unless its slug and version exist; refuse changed content."""
    content_hash = questionnaire.content_hash()
    existing = session.scalar(
        select(QuestionnaireVersion).where(
            QuestionnaireVersion.slug == questionnaire.slug,
            QuestionnaireVersion.version == questionnaire.version,
        )
    )
    if existing is not None:
        if existing.content_hash != content_hash:
            raise ImportRefused(
                f"{questionnaire.slug} v{questionnaire.version} is already imported with "
                "different content; give the changed file a new version number"
            )
        return ImportOutcome(existing, created=False)
    version = QuestionnaireVersion(
        slug=questionnaire.slug,
        version=questionnaire.version,
        title=questionnaire.title.get("id"),
        content_hash=content_hash,
        definition=questionnaire.to_dict(),
    )
    session.add(version)
    session.flush()
    return ImportOutcome(version, created=True)


def import_file(session: Session, path: Path) -> ImportOutcome:
    return import_questionnaire(session, load_questionnaire(path))


def bundled_files(directory: str | Path) -> list[Path]:
    folder = Path(directory)
    return sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])


def definition_of(version: QuestionnaireVersion) -> Questionnaire:
    """Rebuild the domain object from a stored snapshot."""
    return Questionnaire.from_dict(version.definition)
