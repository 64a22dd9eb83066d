"""The front page, the language switch, the liveness and the readiness checks."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select, text
from sqlalchemy.exc import SQLAlchemyError

from app.auth.access import public
from app.db import discard_session, get_session
from app.extensions import REDIS_TIMEOUTS
from app.models import Membership, Partnership
from app.security import safe_next
from app.services.partnerships import can_create_partnership

bp = Blueprint("main", __name__)


@bp.get("/")
@public
def index():
    """Show staff their partnerships; show everyone else the way in for respondents."""
    partnerships: list[Partnership] = []
    can_create = False
    if current_user.is_authenticated:
        can_create = can_create_partnership(get_session(), current_user)
        query = select(Partnership).order_by(Partnership.name)
        if not current_user.is_admin:
            query = query.join(Membership).where(Membership.user_id == current_user.id)
        partnerships = list(get_session().scalars(query))
    return render_template("main/index.html", partnerships=partnerships, can_create=can_create)


@bp.post("/language")
@public
def set_language():
    """Remember the chosen language in the session and go back where the user was."""
    language = request.form.get("lang", "")
    if language not in current_app.config["LANGUAGES"]:
        abort(400)
    session["lang"] = language
    return redirect(safe_next(request.form.get("next")) or url_for("main.index"))


@bp.get("/healthz")
@public
def health():
    """Liveness: the app answers and reaches its database. Redis is not needed to live."""
    get_session().execute(text("SELECT 1"))
    return {"status": "ok"}


@bp.get("/readyz")
@public
def ready():
    """Readiness: "ready", "degraded" (Redis away, still 200) or 503 without the database.

    Degraded answers 200 on purpose: every app server shares the one Redis, so a load
    balancer that took "degraded" servers out of rotation would turn a Redis outage, which
    the app survives (limits count per worker, charts are drawn again), into a full outage.
    Monitoring should alert on the body's status instead.
    """
    checks = {"database": _database_check(), "redis": _redis_check()}
    if checks["database"] != "ok":
        return {"status": "unavailable", "checks": checks}, 503
    status = "degraded" if checks["redis"] == "unreachable" else "ready"
    return {"status": status, "checks": checks}, 200


def _database_check() -> str:
    try:
        get_session().execute(text("SELECT 1"))
    except (SQLAlchemyError, OSError):
        discard_session()
        return "unreachable"
    return "ok"


def _redis_check() -> str:
    url = current_app.config.get("REDIS_URL")
    if not url:
        return "not configured"
    import redis  # only needed when REDIS_URL is set

    client = redis.Redis.from_url(url, **REDIS_TIMEOUTS)
    try:
        client.ping()
    except (redis.RedisError, OSError):
        return "unreachable"
    finally:
        client.close()
    return "ok"
