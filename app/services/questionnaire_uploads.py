"""Questionnaire files uploaded from the browser: checked in memory, stored only when valid.

The file is never written to disk and its name is used only as a label in problem messages
(reduced to a safe base name), never as a path.
"""

from __future__ import annotations

import re
from typing import IO

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import QuestionnaireVersion, Round, User
from app.questionnaires import MAX_FILE_BYTES, parse_questionnaire
from app.services.audit import record
from app.services.questionnaires import ImportOutcome, import_questionnaire

ALLOWED_SUFFIXES = (".yaml", ".yml")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class UploadRefused(ValueError):
    """The upload is not a file we read at all (wrong type, too large)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def safe_label(filename: str | None) -> str:
    """Reduce an uploaded file name to a harmless label such as ``kemitraan-sehat.v2.yaml``."""
    base = re.split(r"[\\/]", filename or "")[-1]
    label = _UNSAFE.sub("_", base).strip("._")[:80]
    return label or "upload.yaml"


def read_upload(stream: IO[bytes], filename: str | None) -> bytes:
    """Read at most the size limit (plus one byte to notice more) of a .yaml/.yml upload."""
    if not (filename or "").lower().endswith(ALLOWED_SUFFIXES):
        raise UploadRefused(str(_l("Upload a .yaml or .yml file.")))
    data = stream.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise UploadRefused(str(_l("The file is larger than %(kib)d KiB.",
                                   kib=MAX_FILE_BYTES // 1024)), status=413)
    if not data.strip():
        raise UploadRefused(str(_l("The file is empty.")))
    return data


def import_upload(session: Session, actor: User, data: bytes, filename: str | None
                  ) -> ImportOutcome:
    """Validate and import an uploaded questionnaire in the caller's transaction.

    Raises QuestionnaireError with every problem (line and field path) when the file is
    invalid, and ImportRefused when the same slug and version exist with other content; in
    both cases nothing has been added to the session.
    """
    questionnaire = parse_questionnaire(data, safe_label(filename))
    outcome = import_questionnaire(session, questionnaire)
    if outcome.created:
        record(session, actor.id, "questionnaire.import", outcome.version,
               slug=questionnaire.slug, version=questionnaire.version,
               content_hash=outcome.version.content_hash)
        session.flush()
    return outcome


def list_versions(session: Session) -> list[tuple[QuestionnaireVersion, int]]:
    """Imported versions with the number of rounds using each."""
    return [(version, int(rounds)) for version, rounds in session.execute(
        select(QuestionnaireVersion, func.count(Round.id))
        .outerjoin(Round, Round.questionnaire_version_id == QuestionnaireVersion.id)
        .group_by(QuestionnaireVersion.id)
        .order_by(QuestionnaireVersion.slug, QuestionnaireVersion.version.desc()))]
