"""Staff accounts, for site administrators only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l

from app.auth import two_factor
from app.auth.access import admin_required
from app.db import get_session
from app.models import User
from app.services import users as service
from app.services.users import PasswordRefused, UserError
from app.views.admin import bp
from app.views.admin._helpers import actor
from app.views.admin.forms import ConfirmForm, UserForm


@bp.get("/users")
@admin_required
def users():
    return render_template("admin/users.html", users=service.list_users(get_session()),
                           confirm=ConfirmForm())


@bp.route("/users/new", methods=["GET", "POST"])
@admin_required
def new_user():
    """Create an account; a generated password is shown on this one response only."""
    form = UserForm()
    if form.validate_on_submit():
        db = get_session()
        try:
            user, generated = service.create_user(
                db, actor(), email=form.email.data, name=form.name.data,
                is_admin=bool(form.is_admin.data), language=form.language.data,
                password=form.password.data or None)
        except UserError as error:
            db.rollback()
            field = form.password if isinstance(error, PasswordRefused) else form.email
            field.errors.append(str(error))
        else:
            db.commit()
            if generated is None:
                flash(_l("The account has been created."))
                return redirect(url_for("admin.users"))
            # Rendered, not redirected: the password must not survive in a flash or a session.
            return render_template("admin/user_created.html", user=user, password=generated)
    return render_template("admin/user_form.html", form=form), 400 if form.errors else 200


def _confirmed_user_action(user_id: int, action: Callable[[Any, User], Any],
                           refused: tuple[type[Exception], ...]) -> User | None:
    """Run a confirmed action on an account in one transaction; None when it was refused.

    Shared by the account actions of the users page: 404 for an unknown account, 400 without
    the confirmation form, the service's refusal flashed and nothing stored.
    """
    db = get_session()
    user = db.get(User, user_id)
    if user is None:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        action(db, user)
    except refused as error:
        db.rollback()
        flash(str(error), "error")
        return None
    db.commit()
    return user


@bp.post("/users/<int:user_id>/active")
@admin_required
def set_user_active(user_id: int):
    """Deactivate or reactivate an account; its sessions end either way."""
    user = _confirmed_user_action(user_id, lambda db, user: service.set_active(
        db, actor(), user, active=not user.is_active_account), (UserError,))
    if user is not None:
        flash(_l("The account has been reactivated.") if user.is_active_account
              else _l("The account has been deactivated."))
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/two-factor/reset")
@admin_required
def reset_user_two_factor(user_id: int):
    """Turn off another user's two-factor sign-in (a lost phone); their sessions end."""
    user = _confirmed_user_action(user_id, lambda db, user: two_factor.reset(db, actor(), user),
                                  (two_factor.TwoFactorError,))
    if user is not None:
        flash(_l("Two-factor sign-in has been turned off for %(email)s. They can set it up "
                 "again after signing in with their password.", email=user.email))
    return redirect(url_for("admin.users"))
