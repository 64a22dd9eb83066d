"""Access rules: every view declares one, and a test fails for any view that does not.

Rules are attached as ``view.access_rule`` so the route x role matrix test can read them.
A partnership is a tenant: an object of a partnership the user has no role in is a 404, not a
403, so ids of other tenants' objects cannot be probed.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort, g
from flask_login import current_user
from sqlalchemy import select

from app.db import get_session
from app.models import Membership, Partnership, Role

F = TypeVar("F", bound=Callable[..., Any])

ALL_ROLES = (Role.COORDINATOR, Role.FACILITATOR, Role.OBSERVER)


def public(view: F) -> F:
    """Open to anyone, including anonymous respondents."""
    view.access_rule = ("public",)  # type: ignore[attr-defined]
    return view


def staff_required(view: F) -> F:
    """Any signed-in staff user."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            from app.extensions import login_manager

            return login_manager.unauthorized()
        return view(*args, **kwargs)

    wrapper.access_rule = ("staff",)  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


def admin_required(view: F) -> F:
    """Site administrators only."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            from app.extensions import login_manager

            return login_manager.unauthorized()
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    wrapper.access_rule = ("admin",)  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


def membership_for(partnership_id: int) -> Membership | None:
    return get_session().scalar(
        select(Membership).where(
            Membership.user_id == current_user.id,
            Membership.partnership_id == partnership_id,
        )
    )


def partnership_role(*roles: Role) -> Callable[[F], F]:
    """Require one of ``roles`` in the partnership named by the ``partnership_id`` URL part.

    The view receives the loaded partnership as ``g.partnership`` and the membership as
    ``g.membership``; site admins pass as coordinators.
    """
    allowed = frozenset(roles)

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                from app.extensions import login_manager

                return login_manager.unauthorized()
            partnership = get_session().get(Partnership, kwargs.get("partnership_id"))
            if partnership is None:
                abort(404)
            membership = membership_for(partnership.id)
            role = Role.COORDINATOR if current_user.is_admin else (
                membership.role if membership else None
            )
            if role is None:
                abort(404)
            if role not in allowed:
                abort(403)
            g.partnership = partnership
            g.membership = membership
            g.role = role
            return view(*args, **kwargs)

        wrapper.access_rule = ("partnership", tuple(sorted(r.value for r in allowed)))  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorator
