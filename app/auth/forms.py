"""Sign-in, second-step and profile forms (each carries a CSRF token through ``Form``)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from app.auth.passwords import MAX_LENGTH
from app.forms import Form
from app.formutil import choices
from app.i18n import LANGUAGE_NAMES

# A TOTP code is 6 digits, a recovery code 10 letters and digits with a dash; spaces allowed.
CODE_MAX_LENGTH = 32


class LoginForm(Form):
    email = EmailField(_l("Email address"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"),
                             validators=[DataRequired(), Length(max=MAX_LENGTH)])
    next = HiddenField()


class ProfileForm(Form):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    language = SelectField(_l("Language of the pages"),
                           choices=choices(LANGUAGE_NAMES.items()),
                           validators=[DataRequired()])


class PasswordChangeForm(Form):
    current_password = PasswordField(_l("Current password"),
                                     validators=[DataRequired(), Length(max=MAX_LENGTH)])
    new_password = PasswordField(_l("New password"),
                                 validators=[DataRequired(), Length(max=MAX_LENGTH)])
    confirm = PasswordField(
        _l("New password again"),
        validators=[DataRequired(), EqualTo("new_password",
                                            message=_l("The two new passwords differ."))])


class SecondFactorForm(Form):
    """The second sign-in step: a code from the app, or one of the recovery codes."""

    code = StringField(_l("Code from your authenticator app, or a recovery code"),
                       validators=[DataRequired(), Length(max=CODE_MAX_LENGTH)],
                       render_kw={"autocomplete": "one-time-code", "autocapitalize": "none",
                                  "spellcheck": "false"})


class EnrolForm(Form):
    code = StringField(_l("The 6-digit code your app shows now"),
                       validators=[DataRequired(), Length(max=CODE_MAX_LENGTH)],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"})


class DisableTwoFactorForm(Form):
    password = PasswordField(_l("Password"),
                             validators=[DataRequired(), Length(max=MAX_LENGTH)])
    code = StringField(_l("Code from your authenticator app, or a recovery code"),
                       validators=[DataRequired(), Length(max=CODE_MAX_LENGTH)],
                       render_kw={"autocomplete": "one-time-code"})


class RecoveryCodesForm(Form):
    code = StringField(_l("The 6-digit code your app shows now"),
                       validators=[DataRequired(), Length(max=CODE_MAX_LENGTH)],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"})
