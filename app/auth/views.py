"""Staff sign-in (password, then a TOTP code when enrolled), sign-out, profile and 2FA.

Sign-in answers an unknown address and a wrong password with the same message after the same
Argon2 work. Failed attempts are throttled by :mod:`app.auth.throttle` (growing waits that never
hold back the real user's browser or an address that has not been failing); successful ones are
not counted. Sign-out and a password change bump the account's session epoch, so a copied
cookie stops working everywhere.

With two-factor sign-in on, a right password only leaves a *pending* second step in the
session (user id, epoch, time): Flask-Login's user is not set, so no page but the second step
opens. The pending step lasts five minutes and dies with a change of the account's epoch. When
``TWO_FACTOR_REQUIRED`` is on, administrators and coordinators who have not enrolled are sent
from the password straight to enrolment, again without being signed in until it is done.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

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
from flask_babel import ngettext
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response as WerkzeugResponse

from app.auth import throttle
from app.auth import two_factor as tf
from app.auth.access import public, staff_required
from app.auth.forms import (
    DisableTwoFactorForm,
    EnrolForm,
    LoginForm,
    PasswordChangeForm,
    ProfileForm,
    RecoveryCodesForm,
    SecondFactorForm,
)
from app.auth.passwords import MIN_LENGTH
from app.db import get_session
from app.models import User
from app.security import safe_next
from app.services.audit import record
from app.services.users import (
    UserError,
    WrongPassword,
    authenticate,
    change_password,
    pseudonym,
    record_sign_in,
    sign_out,
    update_profile,
)

bp = Blueprint("auth", __name__)

PENDING_KEY = "two_factor_pending"
ENROL_KEY = "two_factor_enrol"
SETUP_KEY = "two_factor_setup"
PENDING_SECONDS = 5 * 60
ENROL_SECONDS = 15 * 60


def _start_session(user: User) -> None:
    """Replace whatever the session held with a fresh sign-in tied to the current epoch."""
    session.clear()
    login_user(user)
    session["epoch"] = user.session_epoch


def _attempt(scope: str, account: str, email: str) -> throttle.Attempt:
    return throttle.Attempt(scope=scope, account=account,
                            address=request.remote_addr or "unknown",
                            device=throttle.device_for(request, pseudonym(email)))


def wait_message(seconds: int) -> str:
    """Say how long to wait, in whole seconds or minutes (rounded up)."""
    if seconds < 60:
        wait = ngettext("%(num)d second", "%(num)d seconds", seconds)
    else:
        minutes = -(-seconds // 60)
        wait = ngettext("%(num)d minute", "%(num)d minutes", minutes)
    return str(_l("Too many failed attempts. Please wait %(wait)s and try again.", wait=wait))


def _too_soon(template: str, field: Any, seconds: int, **context: Any):
    field.errors.append(wait_message(seconds))
    response = current_app.make_response((render_template(template, **context), 429))
    response.headers["Retry-After"] = str(seconds)
    return response


def _finish_sign_in(user: User, next_url: str | None, device: str | None,
                    response: WerkzeugResponse | None = None) -> WerkzeugResponse:
    """Sign the user in and leave (or renew) this browser's device cookie for the account."""
    _start_session(user)
    current_app.logger.info("sign-in succeeded for user %s", user.id)
    if response is None:
        response = redirect(safe_next(next_url) or url_for("main.index"))
    throttle.remember_device(response, pseudonym(user.email), device)
    return response


def _pending(key: str, seconds: int) -> tuple[User, dict[str, Any]] | None:
    """Return the user of a half-finished sign-in in this session, if it is still valid."""
    state = session.get(key)
    if not isinstance(state, dict):
        return None
    started = state.get("at")
    if not isinstance(started, int) or not 0 <= time.time() - started <= seconds:
        session.pop(key, None)
        return None
    user_id = state.get("user")
    user = get_session().get(User, user_id) if isinstance(user_id, int) else None
    if user is None or not user.is_active_account or user.session_epoch != state.get("epoch"):
        session.pop(key, None)
        return None
    return user, state


def _expired():
    """The second step without a pending sign-in: start again (a page, not a redirect loop)."""
    form = LoginForm(formdata=None)
    notice = _l("Your sign-in was not finished in time. Please sign in again.")
    status = 400 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form, notice=notice), status


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    """Check the password; then sign in, or ask for the second factor, or for enrolment."""
    form = LoginForm(next=request.args.get("next", ""))
    if not form.validate_on_submit():
        return render_template("auth/login.html", form=form)
    db = get_session()
    email = form.email.data or ""
    attempt = _attempt("login", pseudonym(email), email)
    wait = throttle.seconds_to_wait(db, attempt)
    if wait:
        db.rollback()
        return _too_soon("auth/login.html", form.password, wait, form=form)
    user = authenticate(db, email, form.password.data or "")
    if user is None:
        db.rollback()
        throttle.record_failure(db, attempt)
        db.commit()
        current_app.logger.warning("sign-in failed for account %s", pseudonym(email))
        form.password.errors.append(_l("The email address or password is not right."))
        return render_template("auth/login.html", form=form)
    throttle.record_success(db, attempt)
    next_url = safe_next(form.next.data)
    if user.two_factor_enabled:
        db.commit()
        session.clear()
        session[PENDING_KEY] = {"user": user.id, "epoch": user.session_epoch,
                                "at": int(time.time()), "next": next_url}
        return redirect(url_for("auth.two_factor"))
    if tf.is_required_for(db, user):
        db.commit()
        session.clear()
        session[ENROL_KEY] = {"user": user.id, "epoch": user.session_epoch,
                              "at": int(time.time()), "next": next_url,
                              "secret": tf.encrypt_secret(tf.new_secret())}
        return redirect(url_for("auth.two_factor_enrol"))
    record_sign_in(db, user)
    db.commit()
    return _finish_sign_in(user, next_url, attempt.device)


@bp.route("/login/two-factor", methods=["GET", "POST"])
@public
def two_factor():
    """The second step: a code from the authenticator app or a recovery code."""
    pending = _pending(PENDING_KEY, PENDING_SECONDS)
    if pending is None:
        return _expired()
    user, state = pending
    form = SecondFactorForm()
    if not form.validate_on_submit():
        return render_template("auth/two_factor.html", form=form), 400 if form.errors else 200
    db = get_session()
    attempt = _attempt("totp", f"user:{user.id}", user.email)
    wait = throttle.seconds_to_wait(db, attempt)
    if wait:
        db.rollback()
        return _too_soon("auth/two_factor.html", form.code, wait, form=form)
    method = tf.verify_second_factor(db, user, form.code.data or "")
    if method is None:
        db.rollback()
        throttle.record_failure(db, attempt)
        record(db, user.id, "user.two_factor_failure", user)
        db.commit()
        current_app.logger.warning("second sign-in step failed for user %s", user.id)
        form.code.errors.append(_l("That code is not right, or it has been used already."))
        return render_template("auth/two_factor.html", form=form)
    throttle.record_success(db, attempt)
    record_sign_in(db, user, method)
    db.commit()
    if method == "recovery_code":
        flash(_l("You used a recovery code. %(n)d are left: make new ones on your profile "
                 "page if you are running out.", n=tf.remaining_recovery_codes(db, user)))
    return _finish_sign_in(user, state.get("next"), attempt.device)


@bp.route("/login/two-factor/setup", methods=["GET", "POST"])
@public
def two_factor_enrol():
    """Enrolment required by TWO_FACTOR_REQUIRED, between the password and any other page."""
    pending = _pending(ENROL_KEY, ENROL_SECONDS)
    secret = None
    if pending is not None:
        secret = tf.decrypt_secret(str(pending[1].get("secret", "")))
    if pending is None or secret is None:
        return _expired()
    user, state = pending
    form = EnrolForm()
    if form.validate_on_submit():
        db = get_session()
        try:
            codes = tf.enrol(db, user, secret, form.code.data or "")
        except tf.TwoFactorError as error:
            db.rollback()
            form.code.errors.append(str(error))
        else:
            record_sign_in(db, user, "totp")
            db.commit()
            page = render_template("auth/recovery_codes.html", codes=codes,
                                   continue_url=safe_next(state.get("next"))
                                   or url_for("main.index"))
            device = throttle.device_for(request, pseudonym(user.email))
            return _finish_sign_in(user, None, device, current_app.make_response(page))
    return render_template("auth/two_factor_setup.html", form=form, required=True,
                           action=url_for("auth.two_factor_enrol"),
                           **_setup_context(secret, user)), 400 if form.errors else 200


def _setup_context(secret: str, user: User) -> dict[str, str]:
    return {"secret": tf.grouped(secret),
            "qr": tf.qr_data_uri(tf.provisioning_uri(secret, user))}


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
                    status: int = 200, *, disable_form: DisableTwoFactorForm | None = None,
                    codes_form: RecoveryCodesForm | None = None):
    user = current_user._get_current_object()
    remaining = (tf.remaining_recovery_codes(get_session(), user)
                 if user.two_factor_enabled else 0)
    return render_template(
        "auth/profile.html", profile_form=profile_form, password_form=password_form,
        password_min_length=MIN_LENGTH, recovery_codes_left=remaining,
        disable_form=disable_form or DisableTwoFactorForm(prefix="off", formdata=None),
        codes_form=codes_form or RecoveryCodesForm(prefix="rc", formdata=None)), status


def _profile_forms() -> tuple[ProfileForm, PasswordChangeForm]:
    return (ProfileForm(obj=current_user, formdata=None),
            PasswordChangeForm(prefix="pw", formdata=None))


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


@bp.route("/profile/two-factor", methods=["GET", "POST"])
@staff_required
def two_factor_setup():
    """Show a new secret and its QR code; turn two-factor sign-in on once a code matches.

    The secret waits in the session, encrypted like the stored one, until it is confirmed.
    """
    user = current_user._get_current_object()
    if user.two_factor_enabled:
        return redirect(url_for("auth.profile"))
    secret = tf.decrypt_secret(str(session.get(SETUP_KEY, "")))
    if secret is None:
        secret = tf.new_secret()
        session[SETUP_KEY] = tf.encrypt_secret(secret)
    form = EnrolForm()
    if form.validate_on_submit():
        db = get_session()
        try:
            codes = tf.enrol(db, user, secret, form.code.data or "")
        except tf.TwoFactorError as error:
            db.rollback()
            form.code.errors.append(str(error))
        else:
            db.commit()
            session.pop(SETUP_KEY, None)
            # Rendered, not redirected: the codes must not survive in a flash or a session.
            return render_template("auth/recovery_codes.html", codes=codes,
                                   continue_url=url_for("auth.profile"))
    return render_template("auth/two_factor_setup.html", form=form, required=False,
                           action=url_for("auth.two_factor_setup"),
                           **_setup_context(secret, user)), 400 if form.errors else 200


def _with_current_code(form: Any, form_name: str, action: Callable[[Any, User], Any]
                       ) -> tuple[Any, Any]:
    """Run ``action(db, user)`` behind the second-step throttle; return (result, error page).

    Both profile actions that need a current app code share this: a client that keeps
    failing waits, a failure is recorded in its own commit, success commits the action.
    """
    user = current_user._get_current_object()
    profile_form, password_form = _profile_forms()
    if not form.validate_on_submit():
        return None, _render_profile(profile_form, password_form, 400, **{form_name: form})
    db = get_session()
    attempt = _attempt("totp", f"user:{user.id}", user.email)
    wait = throttle.seconds_to_wait(db, attempt)
    if wait:
        db.rollback()
        form.code.errors.append(wait_message(wait))
        return None, _render_profile(profile_form, password_form, 429, **{form_name: form})
    try:
        result = action(db, user)
    except tf.TwoFactorError as error:
        db.rollback()
        throttle.record_failure(db, attempt)
        db.commit()
        form.code.errors.append(str(error))
        return None, _render_profile(profile_form, password_form, 400, **{form_name: form})
    db.commit()
    return result, None


@bp.post("/profile/two-factor/disable")
@staff_required
def two_factor_disable():
    """Turn two-factor sign-in off with the password and a code; failures are throttled."""
    form = DisableTwoFactorForm(prefix="off")
    _, error_page = _with_current_code(form, "disable_form", lambda db, user: tf.disable(
        db, user, password=form.password.data or "", code=form.code.data or ""))
    if error_page is not None:
        return error_page
    flash(_l("Two-factor sign-in is now off."))
    return redirect(url_for("auth.profile"))


@bp.post("/profile/two-factor/recovery-codes")
@staff_required
def regenerate_recovery_codes():
    """Replace the recovery codes (a current app code confirms); shows the new ones once."""
    form = RecoveryCodesForm(prefix="rc")
    codes, error_page = _with_current_code(form, "codes_form", lambda db, user: (
        tf.regenerate_recovery_codes(db, user, form.code.data or "")))
    if error_page is not None:
        return error_page
    return render_template("auth/recovery_codes.html", codes=codes,
                           continue_url=url_for("auth.profile"))
