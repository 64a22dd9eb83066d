"""Write the staff audit log (never called from respondent routes)."""

from __future__ import annotations

from typing import Any

from flask import has_request_context
from sqlalchemy.orm import Session

from app.models import AuditEvent
from app.models.audit import VIA_CLI, VIA_WEB


def record(
    session: Session,
    user_id: int | None,
    action: str,
    obj: Any = None,
    *,
    partnership_id: int | None = None,
    **details: Any,
) -> AuditEvent:
    """Add an audit event for ``action`` on ``obj`` in the caller's transaction."""
    event = AuditEvent(
        user_id=user_id,
        partnership_id=partnership_id,
        action=action,
        object_type=type(obj).__name__ if obj is not None else "",
        object_id=str(getattr(obj, "id", "") or ""),
        details={key: _jsonable(value) for key, value in details.items()},
        # Outside a request nobody is signed in: the command line (or a job acting for it).
        via=VIA_WEB if has_request_context() else VIA_CLI,
    )
    session.add(event)
    return event


def _jsonable(value: Any) -> Any:
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return str(value)
