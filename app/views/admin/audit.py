"""The audit log of staff changes: per partnership for its coordinators, all for admins."""

from __future__ import annotations

from babel.dates import get_timezone_name
from flask import g, render_template, request
from flask_babel import get_locale, get_timezone

from app.auth.access import admin_required, partnership_role
from app.db import get_session
from app.models import Role
from app.services.audit_log import audit_page
from app.views.admin import bp
from app.views.admin._helpers import page_number


@bp.get("/audit")
@admin_required
def audit():
    page = audit_page(get_session(), page=page_number(request.args.get("page")))
    return _render(page, None)


@bp.get("/partnerships/<int:partnership_id>/audit")
@partnership_role(Role.COORDINATOR)
def partnership_audit(partnership_id: int):
    page = audit_page(get_session(), page=page_number(request.args.get("page")),
                      partnership_id=partnership_id)
    return _render(page, g.partnership)


def _render(page, partnership):
    """Show times in the reader's time zone, and name it, never bare UTC."""
    zone = get_timezone_name(get_timezone(), "long", locale=get_locale())
    return render_template("admin/audit.html", page=page, partnership=partnership,
                           time_zone=zone)
