"""Paper-answer files uploaded from the browser, kept between the preview and the confirmation.

The file lives in the database, not in the cookie session nor on one server's disk, so the
confirming request may reach any app server. A row is deleted when its file is imported and
is worthless after :data:`app.services.paper_import.UPLOAD_LIFETIME`; expired rows are
deleted whenever someone uploads again.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.models._types import utcnow


class PaperUpload(Base):
    __tablename__ = "paper_uploads"

    id: Mapped[int] = mapped_column(primary_key=True)
    # SHA-256 of the random token in the confirmation form: the token itself is never stored.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"),
                                          index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(120))
    language: Mapped[str | None] = mapped_column(String(8), default=None)
    again: Mapped[bool] = mapped_column(default=False)
    sha256: Mapped[str] = mapped_column(String(64))
    # The round's results version when the preview was shown: a closed round whose data
    # changed since must be previewed again, so what is stored is what was shown.
    results_version: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
