"""The audit log of staff changes: per partnership for its coordinators, all for admins."""

from __future__ import annotations

from flask import g, render_template, request

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
    return render_template("admin/audit.html", page=page, partnership=None)


@bp.get("/partnerships/<int:partnership_id>/audit")
@partnership_role(Role.COORDINATOR)
def partnership_audit(partnership_id: int):
    page = audit_page(get_session(), page=page_number(request.args.get("page")),
                      partnership_id=partnership_id)
    return render_template("admin/audit.html", page=page, partnership=g.partnership)
