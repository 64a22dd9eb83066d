"""Personal access tokens for the JSON API, managed from the profile (any staff user).

The plain token is shown once, in the response to the POST that created it (pages are
``no-store`` and ``no-referrer``); afterwards only its first characters are shown.
"""

from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length
from wtforms.widgets import HiddenInput

from app.auth.access import staff_required
from app.db import get_session
from app.forms import Form
from app.formutil import choices
from app.services import api_tokens as service
from app.services.api_tokens import TokenError
from app.views.admin._helpers import actor

bp = Blueprint("tokens", __name__)

NO_EXPIRY = "never"
EXPIRY_CHOICES = (
    ("30", _l("In 30 days")),
    ("90", _l("In 90 days")),
    ("365", _l("In one year")),
    (NO_EXPIRY, _l("Never (revoke it yourself)")),
)


class TokenForm(Form):
    name = StringField(_l("Name"), validators=[DataRequired(),
                                               Length(max=service.MAX_NAME_LENGTH)])
    expires = SelectField(_l("Expires"), choices=choices(EXPIRY_CHOICES), default="90")


class RevokeForm(Form):
    # Drawn as a hidden input beside each token's button (so a bad value is refused, with a
    # message, by app.request_hygiene rather than by a field error nobody would see).
    token_id = IntegerField(validators=[InputRequired()], widget=HiddenInput())


def _expiry(choice: str, today: date) -> date | None:
    return None if choice == NO_EXPIRY else today + timedelta(days=int(choice))


def _render(form: TokenForm, status: int = 200):
    today = date.today()
    tokens = service.tokens_of(get_session(), actor())
    return render_template("tokens/index.html", form=form, tokens=tokens, today=today,
                           is_active=service.is_active, revoke_form=RevokeForm()), status


@bp.get("")
@staff_required
def index():
    """List one's tokens and offer to create one."""
    return _render(TokenForm())


@bp.post("")
@staff_required
def create():
    """Create a token and show it, this once."""
    form = TokenForm()
    if not form.validate_on_submit():
        return _render(form, 400)
    db = get_session()
    today = date.today()
    try:
        token, plain = service.create_token(db, actor(), form.name.data or "",
                                            _expiry(form.expires.data or NO_EXPIRY, today),
                                            today)
    except TokenError as error:
        db.rollback()
        form.name.errors.append(str(error))
        return _render(form, 400)
    db.commit()
    return render_template("tokens/created.html", token=token, plain=plain,
                           api_url=url_for("api.partnerships", _external=True))


@bp.post("/revoke")
@staff_required
def revoke():
    """Revoke one of one's own tokens; other people's token ids are simply not found."""
    form = RevokeForm()
    db = get_session()
    token = None
    if form.validate_on_submit() and form.token_id.data is not None:
        token = service.revoke_token(db, actor(), form.token_id.data)
    if token is None:
        db.rollback()
        flash(_l("There is no such active token."), "error")
    else:
        db.commit()
        flash(_l("The token “%(name)s” has been revoked. Programs using it can no longer "
                 "read anything.", name=token.name))
    return redirect(url_for("tokens.index"))
