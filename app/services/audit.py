"""Write the staff audit log (never called from respondent routes)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.models import AuditEvent


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
