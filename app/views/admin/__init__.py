"""Administration: partnerships, partners, members, rounds, questionnaires, users, audit log.

One blueprint, one module per area. Each module registers its views on ``bp``, so the modules
are imported after ``bp`` exists.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("admin", __name__)

from app.views.admin import (  # noqa: E402, F401  (route modules register on bp)
    audit,
    partnerships,
    questionnaires,
    rounds,
    users,
)
