"""Staff sign-in, sign-out and profile.

Sign-in answers an unknown address and a wrong password with the same message after the same
Argon2 work. Failed attempts are rate-limited per address-and-client and, more widely, per
account; successful ones are not counted. Sign-out and a password change bump the account's
session epoch, so a copied cookie stops working everywhere.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response as WerkzeugResponse

from app.auth.access import public, staff_required
from app.auth.forms import LoginForm, PasswordChangeForm, ProfileForm
from app.auth.passwords import MIN_LENGTH
from app.db import get_session
from app.extensions import limiter
from app.models import User
from app.security import safe_next
from app.services.users import (
    UserError,
    WrongPassword,
    change_password,
    pseudonym,
    sign_in,
    sign_out,
    update_profile,
)

bp = Blueprint("auth", __name__)

DEFAULT_ACCOUNT_RATE_LIMIT = "100 per hour"


def _login_email() -> str:
    return request.form.get("email", "")[:254]


def _client_key() -> str:
    """Failed sign-ins per (account, client address): stops guessing from one place."""
    return f"login:{pseudonym(_login_email())}:{request.remote_addr or '-'}"


def _account_key() -> str:
    """Failed sign-ins per account from anywhere: stops slow guessing from many addresses."""
    return f"login-account:{pseudonym(_login_email())}"


def _failed(response: WerkzeugResponse) -> bool:
    """Only failed attempts count: a successful sign-in answers with a redirect."""
    return response.status_code != 302


def _client_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _account_limit() -> str:
    return current_app.config.get("LOGIN_ACCOUNT_RATE_LIMIT", DEFAULT_ACCOUNT_RATE_LIMIT)


def _start_session(user: User) -> None:
    """Replace whatever the session held with a fresh sign-in tied to the current epoch."""
    session.clear()
    login_user(user)
    session["epoch"] = user.session_epoch


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(_client_limit, key_func=_client_key, methods=["POST"], deduct_when=_failed)
@limiter.limit(_account_limit, key_func=_account_key, methods=["POST"], deduct_when=_failed)
def login():
    """Show the sign-in form; sign the user in and go on to a local page."""
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        db = get_session()
        user = sign_in(db, form.email.data or "", form.password.data or "")
        if user is not None:
            db.commit()
            _start_session(user)
            current_app.logger.info("sign-in succeeded for user %s", user.id)
            return redirect(safe_next(form.next.data) or url_for("main.index"))
        db.rollback()
        current_app.logger.warning("sign-in failed for account %s",
                                   pseudonym(form.email.data or ""))
        form.password.errors.append(_l("The email address or password is not right."))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@staff_required
def logout():
    """End this and every other session of the account."""
    db = get_session()
    sign_out(db, current_user)
    db.commit()
    logout_user()
    session.clear()
    flash(_l("You have signed out."))
    return redirect(url_for("auth.login"))


def _render_profile(profile_form: ProfileForm, password_form: PasswordChangeForm,
                    status: int = 200):
    return render_template("auth/profile.html", profile_form=profile_form,
                           password_form=password_form, password_min_length=MIN_LENGTH), status


@bp.route("/profile", methods=["GET", "POST"])
@staff_required
def profile():
    """Change one's name and page language."""
    form = ProfileForm(obj=current_user)
    password_form = PasswordChangeForm(prefix="pw", formdata=None)
    if form.validate_on_submit():
        db = get_session()
        try:
            update_profile(db, current_user, name=form.name.data or "",
                           language=form.language.data or "")
        except UserError as error:
            db.rollback()
            form.name.errors.append(str(error))
            return _render_profile(form, password_form, 400)
        db.commit()
        # The profile language now applies; forget a one-off choice from the language switch.
        session.pop("lang", None)
        flash(_l("Your profile has been saved."))
        return redirect(url_for("auth.profile"))
    return _render_profile(form, password_form, 400 if form.errors else 200)


@bp.post("/profile/password")
@staff_required
def change_own_password():
    """Change one's password; other sessions end, this one continues under the new epoch."""
    form = PasswordChangeForm(prefix="pw")
    profile_form = ProfileForm(obj=current_user, formdata=None)
    if form.validate_on_submit():
        db = get_session()
        user = current_user._get_current_object()
        try:
            change_password(db, user, current=form.current_password.data or "",
                            new=form.new_password.data or "")
        except UserError as error:
            db.rollback()
            field = form.current_password if isinstance(error, WrongPassword) else form.new_password
            field.errors.append(str(error))
            return _render_profile(profile_form, form, 400)
        db.commit()
        _start_session(user)
        flash(_l("Your password has been changed. Other devices have been signed out."))
        return redirect(url_for("auth.profile"))
    return _render_profile(profile_form, form, 400)
