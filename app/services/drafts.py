"""Drafts: answers saved part-way, so a respondent can stop and come back.

A draft is keyed by a keyed hash of the respondent's secret: the access code for printed
codes, or a resume code generated for each respondent of a shared partner link. The two are
hashed with different prefixes (domain separation), so a draft's key never equals the
``code_hash`` of an access code: a database reader cannot join drafts to codes, and the code
hash appears in ``access_codes`` only.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.models import Draft
from app.services.access_codes import generate_code, hash_code, normalise_code

_CODE_PREFIX = "draft:"
_RESUME_PREFIX = "resume:"


def draft_key_for_code(code: str) -> str:
    """The draft key of a printed single-use code (normalised as typed)."""
    return hash_code(_CODE_PREFIX + normalise_code(code))


def new_resume_code() -> str:
    """A fresh resume code for a partner-link respondent: short enough to write down."""
    return generate_code()


def draft_key_for_resume(resume_code: str) -> str:
    return hash_code(_RESUME_PREFIX + normalise_code(resume_code))


def find_draft(session: Session, key_hash: str) -> Draft | None:
    return session.scalar(select(Draft).where(Draft.key_hash == key_hash))


def save_draft(session: Session, *, key_hash: str, round_id: int, partner_id: int,
               language: str, page: int, data: dict[str, Any], today: date) -> Draft:
    """Create or update the draft under ``key_hash``; flushes, never commits.

    Two tabs saving the first page at once can race to insert the same key; the loser
    updates the winner's row instead of failing.
    """
    draft = find_draft(session, key_hash)
    if draft is None:
        draft = Draft(key_hash=key_hash, round_id=round_id, partner_id=partner_id)
        try:
            with session.begin_nested():
                _fill(draft, language, page, data, today)
                session.add(draft)
        except IntegrityError:
            draft = find_draft(session, key_hash)
            if draft is None:
                raise
        else:
            return draft
    if draft.round_id != round_id or draft.partner_id != partner_id:
        raise ValueError("this draft belongs to another round or partner")
    _fill(draft, language, page, data, today)
    session.flush()
    return draft


def _fill(draft: Draft, language: str, page: int, data: dict[str, Any], today: date) -> None:
    draft.language = language
    draft.page = page
    draft.data = data
    # A day, never a time: enough to clear out stale drafts, too coarse to match to logs.
    draft.saved_on = today


def delete_draft(session: Session, key_hash: str) -> bool:
    """Delete the draft; True when this call deleted it (False: already gone)."""
    result = session.execute(delete(Draft).where(Draft.key_hash == key_hash))
    return result.rowcount == 1
