"""Template helpers shared by every page."""

from __future__ import annotations

from flask import Flask, current_app, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.auth.access import membership_for
from app.i18n import ROLE_LABELS, ROUND_STATUS_LABELS, SECTOR_LABELS
from app.models import Role
from app.respond.markup import radio_options

# (endpoint, label, admin only); links appear once their area's blueprint is registered.
STAFF_NAV = (
    ("admin.questionnaires", _l("Questionnaires"), False),
    ("admin.users", _l("Users"), True),
    ("auth.profile", _l("Profile"), False),
)


def has_endpoint(endpoint: str) -> bool:
    return endpoint in current_app.view_functions


def staff_nav_links() -> list[tuple[str, str]]:
    links = []
    for endpoint, label, admin_only in STAFF_NAV:
        if not has_endpoint(endpoint):
            continue
        if admin_only and not getattr(current_user, "is_admin", False):
            continue
        links.append((endpoint, str(label)))
    return links


def partnership_url(partnership) -> str:
    """Coordinators land on the partnership's set-up; facilitators and observers on results."""
    endpoints = ("admin.partnership", "results.partnership")
    if _reads_results(partnership):
        endpoints = endpoints[::-1]
    for endpoint in endpoints:
        if has_endpoint(endpoint):
            return url_for(endpoint, partnership_id=partnership.id)
    return url_for("main.index")


def _reads_results(partnership) -> bool:
    """Is the signed-in user a facilitator or an observer (not a coordinator) of it?"""
    if not current_user.is_authenticated or current_user.is_admin:
        return False
    membership = membership_for(partnership.id)
    return membership is not None and membership.role in {Role.FACILITATOR, Role.OBSERVER}


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(
        has_endpoint=has_endpoint,
        radio_options=radio_options,
        staff_nav_links=staff_nav_links,
        partnership_url=partnership_url,
        SECTOR_LABELS=SECTOR_LABELS,
        ROLE_LABELS=ROLE_LABELS,
        ROUND_STATUS_LABELS=ROUND_STATUS_LABELS,
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
