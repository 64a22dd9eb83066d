"""Paper answers uploaded from the browser: check, preview, then confirm in a second step.

The checked file is never kept in the cookie session: between the preview and the
confirmation it waits in the database (``paper_uploads``) under a random token, for at most
an hour, so the confirming request may reach any app server. Confirming starts a background
job (:mod:`app.jobs`) that checks the file again against the round as it is then, and
deletes the held file in the transaction that stores the answers, so a double click or a
replayed form stores nothing more; the coordinator watches the job's page meanwhile.
Coordinators only.
"""

from __future__ import annotations

import csv
import io

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    url_for,
)
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, HiddenField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from app.auth.access import partnership_role
from app.db import get_session
from app.forms import Form
from app.i18n import LANGUAGE_NAMES
from app.jobs.tasks import GONE, start_paper_store, upload_identity
from app.models import Role, Round, RoundStatus
from app.services import paper_import as service
from app.services.paper_import import (
    ImportPreview,
    ImportRefused,
    ImportTarget,
    PaperImportError,
)
from app.services.questionnaire_uploads import safe_label
from app.views.admin._helpers import actor, round_or_404

bp = Blueprint("paper", __name__)

# A paper round of a few hundred rows is a few dozen KB; the request limit caps it anyway.
DEFAULT_MAX_BYTES = 1024 * 1024


class PaperUploadForm(Form):
    file = FileField(_l("CSV file with the typed-in paper answers"),
                     validators=[FileRequired(_l("Choose a file to upload."))])
    language = SelectField(_l("Language of rows without a 'language' cell"))
    again = BooleanField(_l("This file was imported before; import its answers again (other "
                            "forms that happen to give the same file)"))


class PaperConfirmForm(Form):
    token = HiddenField(validators=[DataRequired()])
    understand = BooleanField(
        _l("I understand the published results of this closed round will change"))
    note = TextAreaField(_l("Why the results are revised (shown beside the results)"),
                         validators=[Optional(), Length(max=service.MAX_REVISION_NOTE)])


def _max_bytes() -> int:
    return int(current_app.config.get("PAPER_UPLOAD_MAX_BYTES", DEFAULT_MAX_BYTES))


def _target_or_none(round_: Round) -> tuple[ImportTarget | None, str | None]:
    """The round's import facts, or why no file can be imported into it now."""
    try:
        return service.load_import_target(get_session(), round_), None
    except ImportRefused:
        return None, str(_l("This round is still a draft: open it before importing answers."))


def _language_choices(target: ImportTarget | None) -> list[tuple[str, str]]:
    languages = target.questionnaire.languages if target is not None else ("id", "en")
    return [(code, LANGUAGE_NAMES.get(code, code)) for code in languages]


def _fresh_upload_form(target: ImportTarget | None) -> PaperUploadForm:
    """An empty upload form, offered again when a confirmation cannot go ahead."""
    form = PaperUploadForm(formdata=None)
    form.language.choices = _language_choices(target)
    if target is not None:
        form.language.data = target.default_language
    return form


def _labels(target: ImportTarget) -> dict[str, str]:
    """Column name -> the question's text in the reader's language, for the preview."""
    lang = str(get_locale() or "id")
    questionnaire = target.questionnaire
    labels = {item.id: item.text.get(lang) for item in questionnaire.items}
    labels.update({q.id: q.text.get(lang) for q in questionnaire.open_questions})
    for rating in questionnaire.partner_ratings:
        for partner in target.partners:
            labels[f"{rating.id}@{partner.name}"] = rating.text.get(lang)
    return labels


def _upload_page(round_: Round, form: PaperUploadForm, target: ImportTarget | None,
                 refused: str | None = None, error: PaperImportError | None = None,
                 status: int = 200):
    return render_template(
        "paper/upload.html", partnership=g.partnership, round=round_, form=form,
        refused=refused, error=error, max_kib=_max_bytes() // 1024,
        columns=service.template_header(target) if target is not None else []), status


def _preview_page(round_: Round, target: ImportTarget, preview: ImportPreview,
                  form: PaperConfirmForm, filename: str, status: int = 200):
    return render_template(
        "paper/preview.html", partnership=g.partnership, round=round_, preview=preview,
        form=form, filename=filename, labels=_labels(target),
        language_name=LANGUAGE_NAMES.get(preview.default_language,
                                         preview.default_language)), status


@bp.route("/partnerships/<int:partnership_id>/rounds/<int:round_id>/paper",
          methods=["GET", "POST"], endpoint="upload")
@partnership_role(Role.COORDINATOR)
def upload(partnership_id: int, round_id: int):
    """Ask for a file; on POST check every cell and show the problems or a preview."""
    round_ = round_or_404(round_id)
    target, refused = _target_or_none(round_)
    form = PaperUploadForm()
    form.language.choices = _language_choices(target)
    if target is not None and not form.is_submitted():
        form.language.data = target.default_language
    if target is None or not form.validate_on_submit():
        status = 400 if form.errors or (form.is_submitted() and target is None) else 200
        return _upload_page(round_, form, target, refused, status=status)
    db = get_session()
    upload = form.file.data
    filename = safe_label(upload.filename) if upload.filename else "upload.csv"
    data = upload.stream.read(_max_bytes() + 1)
    if len(data) > _max_bytes():
        form.file.errors.append(str(_l("The file is larger than %(kib)d KiB.",
                                       kib=_max_bytes() // 1024)))
        return _upload_page(round_, form, target, status=413)
    # Nothing is written while the file is checked: end the request's transaction first so
    # no lock is held meanwhile (objects stay loaded: expire_on_commit is off).
    db.commit()
    try:
        checked = service.check_paper_file(target, io.BytesIO(data), filename=filename,
                                           default_language=form.language.data)
    except PaperImportError as error:
        return _upload_page(round_, form, target, error=error, status=422)
    except ImportRefused as error:
        form.file.errors.append(str(error))
        return _upload_page(round_, form, target, status=400)
    with checked:
        preview = service.preview_import(db, checked)
    if preview.imported_before and not form.again.data:
        db.rollback()
        form.again.errors.append(str(_l(
            "This file was imported into this round before. Tick the box below only if it "
            "holds other forms that happen to give the same file.")))
        return _upload_page(round_, form, target, status=409)
    token = service.hold_upload(db, round_, actor(), data, filename=filename,
                                language=form.language.data, again=bool(form.again.data),
                                preview=preview)
    db.commit()
    return _preview_page(round_, target, preview, PaperConfirmForm(token=token), filename)


@bp.post("/partnerships/<int:partnership_id>/rounds/<int:round_id>/paper/confirm",
         endpoint="confirm")
@partnership_role(Role.COORDINATOR)
def confirm(partnership_id: int, round_id: int):
    """Hand the previewed file to a background job that stores it, and show its progress.

    The job checks the file again against the round as it is then and stores every row in
    one transaction (:func:`app.jobs.tasks.paper_store_task`); a second click on the same
    confirmation finds the same job.
    """
    round_ = round_or_404(round_id)
    db = get_session()
    form = PaperConfirmForm()
    valid = form.validate_on_submit()
    target, refused = _target_or_none(round_)
    held = (service.find_upload(db, round_, actor(), form.token.data)
            if form.token.data and target is not None else None)
    if held is None or target is None:
        db.rollback()
        return _upload_page(round_, _fresh_upload_form(target), target,
                            refused or str(GONE), status=400)
    closed = round_.status is RoundStatus.CLOSED
    changed = closed and held.results_version != round_.results_version
    if changed or not valid or (closed and not form.understand.data):
        return _show_again(round_, target, form, held)
    upload = upload_identity(db, held.id)
    db.commit()  # end the read; the job is written in a transaction of its own
    job_id = start_paper_store(round_, actor(), upload_id=held.id, upload=upload,
                               confirm_closed=closed and bool(form.understand.data),
                               note=form.note.data if closed else None,
                               language=str(get_locale() or "id"))
    return redirect(url_for("jobs.show", partnership_id=g.partnership.id, job_id=job_id))


def _show_again(round_: Round, target: ImportTarget, form: PaperConfirmForm,
                held: service.HeldUpload):
    """The preview again: with what the confirmation lacks marked, or with the new figures
    (and a new token) when the closed round's responses changed since it was shown."""
    db = get_session()
    db.commit()  # nothing is locked while the file is checked
    retry = _fresh_upload_form(target)
    try:
        checked = service.check_paper_file(target, io.BytesIO(held.data),
                                           filename=held.filename,
                                           default_language=held.language)
    except PaperImportError as error:  # the round changed since the preview
        return _upload_page(round_, retry, target, error=error, status=422)
    except ImportRefused as error:
        return _upload_page(round_, retry, target, str(error), status=400)
    with checked:
        preview = service.preview_import(db, checked)
    if preview.closed and held.results_version != preview.results_version:
        # What the coordinator confirmed is no longer what would change: show it anew.
        form.understand.errors.append(str(_l(
            "The responses of this round changed since the preview: check the new figures "
            "and confirm again.")))
        service.release_upload(db, held)
        token = service.hold_upload(db, round_, actor(), held.data, filename=held.filename,
                                    language=held.language, again=held.again, preview=preview)
        db.commit()
        form.token.data = token
        return _preview_page(round_, target, preview, form, held.filename, status=409)
    if preview.closed and not form.understand.data:
        form.understand.errors.append(str(_l(
            "Tick this box to change the published results of this closed round.")))
    db.rollback()
    return _preview_page(round_, target, preview, form, held.filename, status=400)


@bp.get("/partnerships/<int:partnership_id>/rounds/<int:round_id>/paper/template.csv",
        endpoint="template")
@partnership_role(Role.COORDINATOR)
def template(partnership_id: int, round_id: int):
    """An empty CSV with the round's header row, to type the paper forms into."""
    round_ = round_or_404(round_id)
    target, refused = _target_or_none(round_)
    if target is None:
        flash(refused or "", "error")
        return redirect(url_for("paper.upload", partnership_id=g.partnership.id,
                                round_id=round_.id))
    out = io.StringIO()
    csv.writer(out).writerow(service.template_header(target))
    filename = f"paper-answers-round-{round_.id}.csv"
    # A byte order mark makes Excel open the file as UTF-8, so partner names keep accents.
    return Response("\ufeff" + out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
