"""Column helpers shared by the model modules."""

from __future__ import annotations

import enum
import uuid
from datetime import UTC, datetime

from sqlalchemy import Enum


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def random_id() -> str:
    """A random 32-hex identifier: reveals nothing about creation order."""
    return uuid.uuid4().hex


def enum_column(enum_cls: type[enum.Enum], name: str) -> Enum:
    """Store an enum by value as a portable VARCHAR with a CHECK constraint."""
    return Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda cls: [member.value for member in cls],
        validate_strings=True,
    )
