r"""Questionnaire files uploaded from the browser: checked in memory, stored only when valid.

The file is never written to disk and its name is used only as a label in problem messages
(reduced to a safe base name), never as a path.

PyYAML itself refuses a raw NUL or ESC byte in the file (reported as ``file:line: character
U+0000 is not allowed``), but a double-quoted YAML string may *write* one as an escape
(``"\0"``, ``"\e"``, ``"\x1b"``, ``"\u0000"``) and the parsed text then holds the control
character itself, which PostgreSQL cannot store and no respondent should be shown. Such
values are refused here with the line and field they are on.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import IO, Any

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import QuestionnaireVersion, Round, User
from app.questionnaires import MAX_FILE_BYTES, Problem, QuestionnaireError, parse_questionnaire
from app.questionnaires.loader import read_document
from app.questionnaires.schema import N_, Path, cap_problems, format_path
from app.services.audit import record
from app.services.questionnaires import ImportOutcome, import_questionnaire
from app.text_hygiene import find_forbidden

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
    invalid, its messages in the reader's language, and ImportRefused when the same slug and
    version exist with other content; in both cases nothing has been added to the session.
    """
    label = safe_label(filename)
    try:
        problems = control_character_problems(data, label)
        if problems:
            raise QuestionnaireError(cap_problems(problems))
        questionnaire = parse_questionnaire(data, label)
    except QuestionnaireError as error:
        raise QuestionnaireError(localized(error.problems)) from None
    outcome = import_questionnaire(session, questionnaire)
    if outcome.created:
        record(session, actor.id, "questionnaire.import", outcome.version,
               slug=questionnaire.slug, version=questionnaire.version,
               content_hash=outcome.version.content_hash)
        session.flush()
    return outcome


def control_character_problems(data: str | bytes, source: str) -> list[Problem]:
    """One problem per key or text value holding a control character, with its line.

    Raises QuestionnaireError, like parse_questionnaire, when the file is not readable YAML.
    """
    document = read_document(data, source)
    problems = []
    for path, text in _texts(document.data, ()):
        found = find_forbidden(text)
        if found is not None:
            problems.append(Problem.of(
                source, document.line_of(path), format_path(path),
                N_("the text holds the control character %(name)s (character %(position)s), "
                   "written as a YAML escape such as \\0 or \\e; remove it",
                   name=found.name, position=found.position)))
    return problems


def localized(problems: tuple[Problem, ...] | list[Problem]) -> list[Problem]:
    """Render every problem's message in the request's language (the upload page's reader)."""
    return [problem.localized(gettext) for problem in problems]


def _texts(value: Any, path: Path) -> Iterator[tuple[Path, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, child in value.items():
            if isinstance(key, str):
                yield (*path, key), key
            yield from _texts(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _texts(child, (*path, index))


def list_versions(session: Session) -> list[tuple[QuestionnaireVersion, int]]:
    """Imported versions with the number of rounds using each."""
    return [(version, int(rounds)) for version, rounds in session.execute(
        select(QuestionnaireVersion, func.count(Round.id))
        .outerjoin(Round, Round.questionnaire_version_id == QuestionnaireVersion.id)
        .group_by(QuestionnaireVersion.id)
        .order_by(QuestionnaireVersion.slug, QuestionnaireVersion.version.desc()))]
