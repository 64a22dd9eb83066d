"""Fieldwork: issue access codes and partner links, print them once, follow the responses.

Plain codes exist only in the response that created them (see app.services.fieldwork for the
design, including the sealed CSV download). Coordinators only.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import force_locale, ngettext
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from wtforms import HiddenField, IntegerField, SelectChoice, SelectField
from wtforms.validators import DataRequired, InputRequired, NumberRange

from app.auth.access import partnership_role
from app.db import get_session
from app.forms import Form
from app.formutil import choices
from app.i18n import LANGUAGE_NAMES
from app.models import Partner, Role, Round, RoundStatus
from app.services import fieldwork as service
from app.services.access_codes import MAX_CODES_PER_BATCH, format_code
from app.services.fieldwork import FieldworkError
from app.views.admin._helpers import actor, round_or_404

bp = Blueprint("fieldwork", __name__)

REFRESH_SECONDS = 60


class CodesForm(Form):
    partner_id = SelectField(_l("Partner"), coerce=int)
    count = IntegerField(_l("Number of codes"), default=20,
                         validators=[InputRequired(), NumberRange(1, MAX_CODES_PER_BATCH)])
    language = SelectField(_l("Language of the printed cards"),
                           choices=choices(LANGUAGE_NAMES.items()))
    batch = HiddenField(validators=[DataRequired()])


class LinkForm(Form):
    partner_id = SelectField(_l("Partner"), coerce=int)
    max_uses = IntegerField(_l("How many people may answer through this link"), default=30,
                            validators=[InputRequired(),
                                        NumberRange(1, service.MAX_LINK_USES)])


class SheetCsvForm(Form):
    sheet = HiddenField(validators=[DataRequired()])


class RevokeForm(Form):
    """Only the CSRF token: the batch is in the URL."""


def _participating(round_: Round) -> list[SelectChoice]:
    return choices((p.id, p.name) for p in round_.partners)


def _partner_of_round(round_: Round, partner_id: int) -> Partner:
    for partner in round_.partners:
        if partner.id == partner_id:
            return partner
    abort(404)


def _code_url(code: str) -> str:
    """The direct link printed as a QR code; the respond blueprint swaps it for a session."""
    return url_for("respond.with_code", code=code, _external=True)


def _entry_url() -> str:
    """Where a respondent types a code by hand: the code entry page, else the front page."""
    endpoint = "respond.start" if "respond.start" in current_app.view_functions else "main.index"
    return url_for(endpoint, _external=True)


@bp.get("/partnerships/<int:partnership_id>/rounds/<int:round_id>", endpoint="round")
@partnership_role(Role.COORDINATOR)
def round_fieldwork(partnership_id: int, round_id: int):
    """Codes, links and responses per partner; the page reloads itself every minute."""
    db = get_session()
    round_ = round_or_404(round_id)
    return render_template(
        "fieldwork/round.html", partnership=g.partnership, round=round_,
        summary=service.fieldwork_summary(db, round_), batches=service.batches_of(db, round_),
        refresh_seconds=REFRESH_SECONDS, min_codes_for_rate=service.MIN_CODES_FOR_RATE,
        can_issue=round_.status is not RoundStatus.CLOSED)


@bp.route("/partnerships/<int:partnership_id>/rounds/<int:round_id>/codes",
          methods=["GET", "POST"])
@partnership_role(Role.COORDINATOR)
def new_codes(partnership_id: int, round_id: int):
    """Ask how many codes; on POST create them and show the printable sheet, once."""
    round_ = round_or_404(round_id)
    form = CodesForm()
    form.partner_id.choices = _participating(round_)
    if request.method == "GET":
        form.batch.data = service.new_batch_id()
        form.language.data = g.partnership.default_language
        form.partner_id.data = request.args.get("partner_id", type=int)
    if form.validate_on_submit():
        db = get_session()
        partner = _partner_of_round(round_, form.partner_id.data)
        try:
            codes = service.issue_code_batch(db, actor(), round_, partner, form.count.data,
                                             form.batch.data or "")
        except FieldworkError as error:
            db.rollback()
            form.count.errors.append(str(error))
            form.batch.data = service.new_batch_id()
        else:
            db.commit()
            return _code_sheet(round_, partner, form.batch.data, form.language.data, codes)
    return render_template("fieldwork/new_codes.html", form=form, partnership=g.partnership,
                           round=round_, max_codes=MAX_CODES_PER_BATCH), \
        400 if form.errors else 200


def _code_sheet(round_: Round, partner: Partner, batch: str, language: str, codes: list[str]):
    """Render the one and only view of these codes: cards in the chosen language."""
    cards = service.code_cards(codes, _code_url)
    with force_locale(language):
        cards_html = render_template("fieldwork/_cards.html", cards=cards, round=round_,
                                     partner=partner, partnership=g.partnership,
                                     entry_url=_entry_url())
    sealed = service.seal_sheet(actor(), round_, partner, batch, language, codes)
    return render_template("fieldwork/sheet.html", partnership=g.partnership, round=round_,
                           partner=partner, count=len(codes),
                           # Safe: the output of our own autoescaped template.
                           cards_html=Markup(cards_html),
                           csv_form=SheetCsvForm(sheet=sealed),
                           minutes=service.SHEET_MAX_AGE // 60)


@bp.post("/partnerships/<int:partnership_id>/rounds/<int:round_id>/codes/csv")
@partnership_role(Role.COORDINATOR)
def codes_csv(partnership_id: int, round_id: int):
    """Download the codes of a sheet made in the last minutes, as CSV."""
    db = get_session()
    round_ = round_or_404(round_id)
    form = SheetCsvForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        sheet = service.open_sheet(form.sheet.data or "", actor(), round_)
    except FieldworkError as error:
        flash(str(error), "error")
        return redirect(url_for("fieldwork.round", partnership_id=partnership_id,
                                round_id=round_id))
    partner = _partner_of_round(round_, sheet.partner_id)
    codes = service.still_valid_codes(db, sheet)
    rows = [(code, format_code(code), partner.name, round_.name, _code_url(code))
            for code in codes]
    text = service.csv_text(("code", "code_display", "partner", "round", "link"), rows)
    filename = f"codes-round{round_.id}-partner{partner.id}-{sheet.batch}.csv"
    return Response(text.encode("utf-8-sig"), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.route("/partnerships/<int:partnership_id>/rounds/<int:round_id>/links",
          methods=["GET", "POST"])
@partnership_role(Role.COORDINATOR)
def new_link(partnership_id: int, round_id: int):
    """Create a partner link with a use limit and show it, with its QR code, once."""
    round_ = round_or_404(round_id)
    form = LinkForm()
    form.partner_id.choices = _participating(round_)
    if request.method == "GET":
        form.partner_id.data = request.args.get("partner_id", type=int)
    if form.validate_on_submit():
        db = get_session()
        partner = _partner_of_round(round_, form.partner_id.data)
        try:
            token = service.issue_partner_link(db, actor(), round_, partner, form.max_uses.data)
        except FieldworkError as error:
            db.rollback()
            form.max_uses.errors.append(str(error))
        else:
            db.commit()
            url = url_for("respond.with_link", token=token, _external=True)
            return render_template("fieldwork/link.html", partnership=g.partnership,
                                   round=round_, partner=partner, url=url,
                                   qr=service.qr_data_uri(url), max_uses=form.max_uses.data)
    return render_template("fieldwork/new_link.html", form=form, partnership=g.partnership,
                           round=round_), 400 if form.errors else 200


@bp.route("/partnerships/<int:partnership_id>/rounds/<int:round_id>/batches/<batch>/revoke",
          methods=["GET", "POST"])
@partnership_role(Role.COORDINATOR)
def revoke_batch(partnership_id: int, round_id: int, batch: str):
    """Confirm, then withdraw the unused codes (or remaining link uses) of one batch."""
    db = get_session()
    round_ = round_or_404(round_id)
    summary = service.batch_summary(db, round_, batch)
    if summary is None:
        abort(404)
    form = RevokeForm()
    if form.validate_on_submit():
        withdrawn = service.revoke_batch(db, actor(), round_, batch)
        db.commit()
        flash(ngettext("Withdrawn: %(num)d unused code or use.",
                       "Withdrawn: %(num)d unused codes or uses.", withdrawn))
        return redirect(url_for("fieldwork.round", partnership_id=partnership_id,
                                round_id=round_id))
    return render_template("fieldwork/revoke.html", form=form, partnership=g.partnership,
                           round=round_, summary=summary)
