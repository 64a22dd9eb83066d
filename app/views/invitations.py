"""Invitations: coordinators invite by email; the invited accept through a one-time link.

The link is ``/invite?token=...``: a query string, because the access logs of gunicorn and
nginx keep paths only (``gunicorn.conf.py``, ``deploy/nginx.conf``), so the secret is never
written to a log. With a mail server configured the link goes out by mail and is never shown
to the coordinator (who could otherwise accept it for someone else's address); without one
the coordinator sees it once to pass on.
"""

from __future__ import annotations

import time
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import force_locale, format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user
from wtforms import EmailField, HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from app.auth import two_factor as tf
from app.auth.access import partnership_role, public
from app.auth.passwords import MAX_LENGTH, MIN_LENGTH
from app.auth.views import ENROL_KEY
from app.db import get_session
from app.forms import Form
from app.formutil import choices
from app.i18n import LANGUAGE_NAMES, ROLE_LABELS
from app.mail import MailError, MailSettings, mail_settings, send_mail
from app.models import Invitation, InvitationStatus, Partnership, Role
from app.services import invitations as service
from app.services.invitations import (
    InvitationError,
    InvitationUnusable,
    PasswordNotAccepted,
    TooManyInvitations,
)
from app.views.admin.forms import ConfirmForm, set_partner_choices

bp = Blueprint("invitations", __name__)

MAIL_LANGUAGES = ("id", "en")  # the mail is bilingual: Indonesian first, then English


class InviteForm(Form):
    email = EmailField(_l("Email address"), validators=[DataRequired(), Length(max=254)])
    role = SelectField(_l("Role"), choices=choices(ROLE_LABELS.items()))
    partner_id = SelectField(_l("Partner (observers only)"),
                             coerce=lambda v: None if v in (None, "", "None") else int(v),
                             validate_choice=True)


class AcceptForm(Form):
    token = HiddenField()
    name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=200)])
    password = PasswordField(_l("Password"),
                             validators=[DataRequired(), Length(max=MAX_LENGTH)],
                             render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(
        _l("Password again"),
        validators=[DataRequired(), EqualTo("password", message=_l("The two passwords differ."))],
        render_kw={"autocomplete": "new-password"})
    language = SelectField(_l("Language of the pages"), choices=choices(LANGUAGE_NAMES.items()))


class JoinForm(Form):
    token = HiddenField()


# ------------------------------------------------------------------------------ members page


@bp.app_template_global()
def partnership_invitations(partnership: Partnership) -> list[service.Listed]:
    """The invitations listed on the members page (rendered by the admin area)."""
    return service.invitations_of(get_session(), partnership)


@bp.app_template_global()
def invitation_status_label(status: InvitationStatus) -> str:
    labels = {
        InvitationStatus.PENDING: _("Waiting to be accepted"),
        InvitationStatus.ACCEPTED: _("Accepted"),
        InvitationStatus.EXPIRED: _("Expired"),
        InvitationStatus.REVOKED: _("Revoked"),
    }
    return labels[status]


def _members_url() -> str:
    return url_for("admin.members", partnership_id=g.partnership.id)


def _invitation_or_404(invitation_id: int) -> Invitation:
    invitation = service.invitation_in(get_session(), g.partnership, invitation_id)
    if invitation is None:
        abort(404)
    return invitation


def _link(plain: str) -> str:
    return url_for("invitations.accept", token=plain, _external=True)


def _mail(settings: MailSettings, invitation: Invitation, plain: str) -> None:
    """Send the bilingual invitation mail; raise MailError when it cannot go out."""
    partnership = invitation.partnership
    context: dict[str, Any] = {
        "link": _link(plain), "partnership": partnership, "invitation": invitation,
        "inviter": current_user.name,
    }
    parts, subjects = [], []
    for language in MAIL_LANGUAGES:
        with force_locale(language):
            subjects.append(_("Invitation to %(partnership)s on Mitra Sehat",
                              partnership=partnership.name))
            parts.append(render_template(
                "invitations/mail.txt", role=str(ROLE_LABELS[invitation.role.value]),
                expires=format_datetime(invitation.expires_at, "long"),
                partner=invitation.partner.name if invitation.partner else None,
                **context))
    body = ("\n" + "-" * 60 + "\n\n").join(parts)
    send_mail(settings, to=invitation.email, subject=" / ".join(subjects), body=body)


def _deliver(invitation: Invitation, plain: str, *, renewed: bool):
    """Mail the link (then commit) or show it for copying (commit, then show)."""
    db = get_session()
    settings = mail_settings(current_app.config)
    if settings is None:
        db.commit()
        return render_template("invitations/created.html", partnership=g.partnership,
                               invitation=invitation, link=_link(plain), renewed=renewed)
    try:
        _mail(settings, invitation, plain)
    except MailError as error:
        db.rollback()
        current_app.logger.warning("invitation mail for partnership %s failed: %s",
                                   g.partnership.id, error)
        flash(_("The invitation could not be sent: the mail server did not accept it. Nothing "
                "was saved. Please try again later, or ask the administrator to check the "
                "mail settings."), "error")
        return redirect(_members_url())
    service.mark_mailed(db, invitation)
    db.commit()
    flash(_("The invitation has been sent to %(email)s. The link works until %(when)s.",
            email=invitation.email,
            when=format_datetime(invitation.expires_at, "medium")))
    return redirect(_members_url())


@bp.route("/partnerships/<int:partnership_id>/invitations/new", methods=["GET", "POST"])
@partnership_role(Role.COORDINATOR)
def new(partnership_id: int):
    """Invite an email address to a role in the partnership."""
    form = InviteForm()
    set_partner_choices(form, g.partnership.partners)
    if form.validate_on_submit():
        db = get_session()
        try:
            invitation, plain = service.invite(
                db, current_user, g.partnership, email=form.email.data or "",
                role=form.role.data or "", partner_id=form.partner_id.data)
        except InvitationError as error:
            db.rollback()
            form.email.errors.append(str(error))
            status = 429 if isinstance(error, TooManyInvitations) else 400
            return _render_new(form, status)
        return _deliver(invitation, plain, renewed=False)
    return _render_new(form, 400 if form.errors else 200)


def _render_new(form: InviteForm, status: int = 200):
    return render_template("invitations/new.html", form=form, partnership=g.partnership,
                           mails=mail_settings(current_app.config) is not None,
                           ttl_hours=current_app.config["INVITATION_TTL_HOURS"]), status


@bp.post("/partnerships/<int:partnership_id>/invitations/<int:invitation_id>/renew")
@partnership_role(Role.COORDINATOR)
def renew(partnership_id: int, invitation_id: int):
    """A new link (and a new expiry) for an invitation that is open or expired."""
    invitation = _invitation_or_404(invitation_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    db = get_session()
    try:
        plain = service.renew(db, current_user, invitation)
    except InvitationError as error:
        db.rollback()
        flash(str(error), "error")
        return redirect(_members_url())
    return _deliver(invitation, plain, renewed=True)


@bp.post("/partnerships/<int:partnership_id>/invitations/<int:invitation_id>/revoke")
@partnership_role(Role.COORDINATOR)
def revoke(partnership_id: int, invitation_id: int):
    """Stop an open invitation's link from working."""
    invitation = _invitation_or_404(invitation_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    db = get_session()
    try:
        service.revoke(db, current_user, invitation)
    except InvitationError as error:
        db.rollback()
        flash(str(error), "error")
    else:
        db.commit()
        flash(_("The invitation to %(email)s has been revoked; its link no longer works.",
                email=invitation.email))
    return redirect(_members_url())


# ------------------------------------------------------------------------------ the invited


@bp.route("/invite", methods=["GET", "POST"])
@public
def accept():
    """Open an invitation: create the account, or add the role to the signed-in account."""
    plain = (request.form.get("token") if request.method == "POST"
             else request.args.get("token")) or ""
    db = get_session()
    try:
        invitation = service.open_invitation(db, plain)
    except InvitationUnusable as unusable:
        return _unusable(unusable.status)
    if current_user.is_authenticated:
        return _accept_signed_in(invitation, plain)
    if service.account_exists(db, invitation):
        return _render_accept("sign_in", invitation, plain)
    form = AcceptForm(token=plain)
    if request.method == "GET":
        form.language.data = invitation.partnership.default_language
    if form.validate_on_submit():
        try:
            user = service.accept_with_new_account(
                db, invitation, name=form.name.data or "", password=form.password.data or "",
                language=form.language.data or "")
        except InvitationUnusable as unusable:
            db.rollback()
            return _unusable(unusable.status)
        except InvitationError as error:
            db.rollback()
            field = form.password if isinstance(error, PasswordNotAccepted) else form.name
            field.errors.append(str(error))
            return _render_accept("new", invitation, plain, form, 400)
        return _sign_in_new_account(db, user, invitation)
    return _render_accept("new", invitation, plain, form, 400 if form.errors else 200)


def _sign_in_new_account(db, user, invitation: Invitation):
    """Sign the new account in, or send it to enrolment when two-factor sign-in is required."""
    session.clear()
    if tf.is_required_for(db, user):
        db.commit()
        session[ENROL_KEY] = {"user": user.id, "epoch": user.session_epoch,
                              "at": int(time.time()), "next": _landing(invitation),
                              "secret": tf.encrypt_secret(tf.new_secret())}
        return redirect(url_for("auth.two_factor_enrol"))
    db.commit()
    login_user(user)
    session["epoch"] = user.session_epoch
    flash(_("Welcome, %(name)s. You are now a member of %(partnership)s.", name=user.name,
            partnership=invitation.partnership.name))
    return redirect(_landing(invitation))


def _landing(invitation: Invitation) -> str:
    if invitation.role is Role.COORDINATOR:
        return url_for("admin.partnership", partnership_id=invitation.partnership_id)
    return url_for("results.partnership", partnership_id=invitation.partnership_id)


def _accept_signed_in(invitation: Invitation, plain: str):
    user = current_user._get_current_object()
    if user.email != invitation.email:
        return _render_accept("other_account", invitation, plain,
                              status=409 if request.method == "POST" else 200)
    form = JoinForm(token=plain)
    if not form.validate_on_submit():
        return _render_accept("join", invitation, plain, form,
                              400 if request.method == "POST" else 200)
    db = get_session()
    try:
        service.accept_as(db, invitation, user)
    except InvitationError as error:
        db.rollback()
        flash(str(error), "error")
        return redirect(url_for("main.index"))
    db.commit()
    flash(_("You are now a member of %(partnership)s.", partnership=invitation.partnership.name))
    return redirect(_landing(invitation))


def _render_accept(state: str, invitation: Invitation, plain: str, form: Form | None = None,
                   status: int = 200):
    return render_template(
        "invitations/accept.html", state=state, invitation=invitation,
        form=form, role=ROLE_LABELS[invitation.role.value], password_min_length=MIN_LENGTH,
        login_url=url_for("auth.login", next=url_for("invitations.accept", token=plain)),
    ), status


def _unusable(status: InvitationStatus | None):
    code = 404 if status is None else 410
    return render_template("invitations/unusable.html", status=status), code
