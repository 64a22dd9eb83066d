"""Questionnaire versions: list, read-only preview in both languages, upload of a new file."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.auth.access import staff_required
from app.db import get_session
from app.models import QuestionnaireVersion
from app.questionnaires import MAX_FILE_BYTES, QuestionnaireError
from app.services.partnerships import can_create_partnership
from app.services.questionnaire_uploads import (
    UploadRefused,
    import_upload,
    list_versions,
    read_upload,
)
from app.services.questionnaires import ImportRefused, definition_of
from app.views.admin import bp
from app.views.admin.forms import QuestionnaireUploadForm


def _may_upload() -> bool:
    """Administrators and coordinators (of any partnership) may add questionnaire versions."""
    return can_create_partnership(get_session(), current_user)


@bp.get("/questionnaires")
@staff_required
def questionnaires():
    return render_template("admin/questionnaires.html", versions=list_versions(get_session()),
                           may_upload=_may_upload())


@bp.get("/questionnaires/<int:version_id>")
@staff_required
def questionnaire(version_id: int):
    """Preview a version as respondents would read it, with the scoring notes staff need."""
    version = get_session().get(QuestionnaireVersion, version_id)
    if version is None:
        abort(404)
    definition = definition_of(version)
    shown = request.args.get("lang", "both")
    languages = [lang for lang in definition.languages if shown in ("both", lang)]
    if not languages:
        languages = list(definition.languages)
        shown = "both"
    return render_template("admin/questionnaire.html", version=version, q=definition,
                           languages=languages, shown=shown,
                           app_languages=current_app.config["LANGUAGES"])


@bp.route("/questionnaires/upload", methods=["GET", "POST"])
@staff_required
def upload_questionnaire():
    """Check an uploaded file in memory and import it only when it is entirely valid."""
    if not _may_upload():
        abort(403)
    form = QuestionnaireUploadForm()
    problems = []
    status = 200
    if form.validate_on_submit():
        upload = form.file.data
        db = get_session()
        try:
            data = read_upload(upload.stream, upload.filename)
            outcome = import_upload(db, current_user._get_current_object(), data,
                                    upload.filename)
        except UploadRefused as error:
            db.rollback()
            form.file.errors.append(str(error))
            status = error.status
        except QuestionnaireError as error:
            db.rollback()
            problems = list(error.problems)
            status = 422
        except ImportRefused:
            db.rollback()
            form.file.errors.append(str(_l(
                "A questionnaire with this slug and version is already imported with different "
                "content. Give the changed file a new version number.")))
            status = 409
        else:
            db.commit()
            version = outcome.version
            if outcome.created:
                flash(_l("The questionnaire has been imported."))
            else:
                flash(_l("This questionnaire version was already imported with the same "
                         "content. Nothing changed."))
            return redirect(url_for("admin.questionnaire", version_id=version.id))
    elif form.errors:
        status = 400
    return render_template("admin/questionnaire_upload.html", form=form, problems=problems,
                           max_kib=MAX_FILE_BYTES // 1024), status
