"""The front page, the language switch and the health check."""

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

from app.auth.access import public
from app.db import get_session
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
    get_session().execute(text("SELECT 1"))
    return {"status": "ok"}
