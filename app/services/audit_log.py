"""Reading the audit log back, newest first, a page at a time."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import AuditEvent, User

PER_PAGE = 50


@dataclass(frozen=True)
class AuditPage:
    entries: list[tuple[AuditEvent, User | None]]
    page: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.page > 1


def audit_page(session: Session, page: int = 1, partnership_id: int | None = None,
               per_page: int = PER_PAGE) -> AuditPage:
    """Return one page of events with who did them; all events, or one partnership's."""
    if page < 1 or per_page < 1:
        raise ValueError("page and per_page must be positive")
    query = (select(AuditEvent, User).outerjoin(User, User.id == AuditEvent.user_id)
             .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()))
    if partnership_id is not None:
        query = query.where(AuditEvent.partnership_id == partnership_id)
    rows = session.execute(query.offset((page - 1) * per_page).limit(per_page + 1)).all()
    entries = [(event, user) for event, user in rows[:per_page]]
    return AuditPage(entries, page, has_next=len(rows) > per_page)
