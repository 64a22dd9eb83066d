"""Respondent pages: enter a code, choose a language, answer page by page, review, submit.

Nothing here records who answered: no IP address, user agent or time is stored or logged, a
code in a URL is swapped for session state at once (so it leaves the address bar and history),
and looking a code up never uses it. Only the submission counts a use.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import format_date, ngettext, refresh
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError
from wtforms import SelectChoice

from app.auth.access import public
from app.db import get_session
from app.i18n import LANGUAGE_NAMES
from app.models import CodeKind, Draft
from app.questionnaires import MAX_TEXT_CHARS, Questionnaire
from app.respond.forms import (
    CodeEntryForm,
    ConfirmForm,
    LanguageForm,
    ResumeForm,
    apply_input,
    make_page_form,
    read_page,
    sheet_formdata,
)
from app.respond.items import AnswerSheet
from app.respond.limits import TooManyAttempts, check_entry_open, count_wrong_guess
from app.respond.pages import Page, PagePlan
from app.respond.privacy import privacy_notice
from app.respond.redact import install_request_log_filter
from app.services.access_codes import normalise_code
from app.services.drafts import (
    draft_key_for_code,
    draft_key_for_resume,
    find_draft,
    new_resume_code,
    save_draft,
)
from app.services.respondent_access import (
    AccessRefused,
    Refusal,
    RespondentAccess,
    RespondentState,
    access_by_code,
    access_by_id,
    access_by_link,
    local_today,
    open_state,
    seal_state,
)
from app.services.submissions import AlreadySubmitted, Incomplete, plan_for, submit_response
from app.services.summary_sharing import RESPONDENT_SESSION_KEY, is_shared, shared_round

bp = Blueprint("respond", __name__)

STATE = "respondent"  # session key: a sealed RespondentState, opaque to whoever reads the cookie
DONE = "respondent_done"  # set after a submission, so a repeated Submit is recognised
_ANSWER_FIELD = re.compile(r"^(?:q|t|r)_[a-z][a-z0-9_]*$")
_MAX_CARRIED = 500


@bp.record_once
def _keep_respondents_out_of_request_log(_state: Any) -> None:
    install_request_log_filter()


class SessionExpired(Exception):
    """The respondent's session holds no code (it expired, or cookies were cleared)."""


@dataclass
class Flow:
    """Everything one step of the flow needs, re-checked on every request."""

    access: RespondentAccess
    plan: PagePlan
    draft_key: str
    resume_code: str | None
    draft: Draft | None
    sheet: AnswerSheet
    lang: str

    @property
    def questionnaire(self) -> Questionnaire:
        return self.plan.questionnaire


# --------------------------------------------------------------------------- helpers


def _today() -> date:
    return local_today(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def _begin(access: RespondentAccess, draft_key: str, resume_code: str | None = None) -> None:
    session.pop(DONE, None)
    session[STATE] = seal_state(current_app.config["SECRET_KEY"],
                                RespondentState(access.code.id, draft_key, resume_code))


def _state() -> RespondentState | None:
    """The respondent state from the cookie; None if absent, tampered with or from another key."""
    return open_state(current_app.config["SECRET_KEY"], session.get(STATE))


def _languages(questionnaire: Questionnaire) -> list[str]:
    """Languages offered: the app's, in its order (Indonesian first), that the file has."""
    return [lang for lang in current_app.config["LANGUAGES"] if lang in questionnaire.languages]


def _flow() -> Flow:
    state = _state()
    if state is None:
        raise SessionExpired()
    db = get_session()
    access = access_by_id(db, state.code_id, _today())
    draft = find_draft(db, state.draft_key)
    if draft is not None and (draft.round_id != access.round.id
                              or draft.partner_id != access.partner.id):
        draft = None
    plan = plan_for(access.round, access.partner.id)
    offered = _languages(plan.questionnaire) or ["id"]
    current = session.get("lang")
    lang = current if current in offered else offered[0]
    sheet = AnswerSheet.from_json(draft.data) if draft is not None else AnswerSheet()
    return Flow(access, plan, state.draft_key, state.resume_code, draft, sheet, lang)


def _save(flow: Flow, page: int) -> None:
    flow.draft = save_draft(
        get_session(), key_hash=flow.draft_key, round_id=flow.access.round.id,
        partner_id=flow.access.partner.id, language=flow.lang,
        page=flow.plan.clamp(page), data=flow.sheet.to_json(), today=_today(),
    )


def _page_url(plan: PagePlan, number: int, **args: Any) -> str:
    if number >= plan.review_number:
        return url_for(".review")
    return url_for(".page", number=max(number, 1), **args)


def _continue_url(flow: Flow) -> str:
    """Where a respondent continues: the saved page, or the language choice when new."""
    if flow.draft is None:
        return url_for(".language")
    return _page_url(flow.plan, flow.plan.clamp(flow.draft.page))


def _resume_url(flow: Flow) -> str:
    """Like _continue_url, and switch to the language the draft was saved in."""
    if flow.draft is not None and flow.draft.language in _languages(flow.questionnaire):
        session["lang"] = flow.draft.language
    return _continue_url(flow)


def _common(flow: Flow) -> dict[str, Any]:
    return {
        "flow": flow,
        "lang": flow.lang,
        "questionnaire": flow.questionnaire,
        "partner": flow.access.partner,
        "round": flow.access.round,
        "resume_code": flow.resume_code,
        "plan": flow.plan,
    }


def _render_page(flow: Flow, page: Page, form: FlaskForm, status: int = 200,
                 notice: str | None = None):
    errors = [(q, form[q.name].errors[0]) for q in page.questions if form[q.name].errors]
    return render_template(
        "respond/page.html", page=page, form=form, errors=errors, notice=notice,
        **_common(flow),
    ), status


def _render_review(flow: Flow, form: FlaskForm, status: int = 200, notice: str | None = None):
    return render_template("respond/review.html", form=form, notice=notice,
                           incomplete=flow.plan.first_incomplete(flow.sheet),
                           **_common(flow)), status


def _carried_fields() -> list[tuple[str, str]]:
    """Answer fields of the current post, to carry through a code re-entry."""
    carried = []
    for name, value in request.form.items(multi=True):
        if _ANSWER_FIELD.match(name) and len(value) <= MAX_TEXT_CHARS:
            carried.append((name, value))
        if len(carried) >= _MAX_CARRIED:
            break
    return carried


def _apply_carried(flow: Flow, raw_page: str) -> int | None:
    """Save the answers an expired session carried here; return their page number."""
    try:
        page = flow.plan.page(int(raw_page))
    except (ValueError, KeyError):
        return None
    page_input = read_page(page, make_page_form(page, flow.lang, formdata=request.form))
    page_input.missing.clear()  # a carried page never clears answers saved earlier
    apply_input(page, flow.sheet, page_input)
    _save(flow, page.number)
    return page.number


def _shared_summary_url() -> str | None:
    """"See what came of it": the shared summary of the round this browser answered or
    tried a used code for (the session names the round only, never the code or an answer)."""
    if shared_round(get_session(), session.get(RESPONDENT_SESSION_KEY)) is None:
        return None
    return url_for("summary.shared_round")


def _already_submitted():
    session.pop(STATE, None)
    return render_template("respond/already_submitted.html",
                           shared_url=_shared_summary_url()), 200


# --------------------------------------------------------------------------- ways in


@bp.route("/r", methods=["GET", "POST"])
@public
def start():
    """Enter an access code; also where an expired session sends its carried answers."""
    form = CodeEntryForm()
    if form.validate_on_submit():
        db = get_session()
        check_entry_open()
        try:
            access = access_by_code(db, form.code.data, _today())
        except AccessRefused as refused:
            if refused.reason is not Refusal.UNKNOWN:
                raise
            count_wrong_guess()
            form.code.errors.append(_("We do not know this code. Please check it and try "
                                      "again."))
            return _render_start(form, status=422)
        _begin(access, draft_key_for_code(form.code.data))
        flow = _flow()
        carried_page = _apply_carried(flow, form.carry_page.data) if form.carry_page.data else None
        db.commit()
        target = _resume_url(flow)
        if carried_page is not None:
            target = _page_url(flow.plan, carried_page)
        return redirect(target, 303)
    return _render_start(form, status=422 if form.is_submitted() else 200)


def _render_start(form: CodeEntryForm, status: int = 200, notice: str | None = None):
    current = None
    if STATE in session and not form.is_submitted():
        try:
            current = _flow()
        except (SessionExpired, AccessRefused):
            current = None
    return render_template(
        "respond/start.html", form=form, current=current, notice=notice,
        continue_url=_continue_url(current) if current is not None else None,
        carried=_carried_fields() if form.carry_page.data else [],
    ), status


@bp.get("/r/<code>")
@public
def with_code(code: str):
    """A printed QR code: swap the code for session state, then drop it from the URL."""
    check_entry_open()
    try:
        access = access_by_code(get_session(), code, _today())
    except AccessRefused as refused:
        if refused.reason is Refusal.UNKNOWN:
            count_wrong_guess()
        raise
    _begin(access, draft_key_for_code(code))
    return redirect(_resume_url(_flow()), 303)


@bp.get("/l/<token>")
@public
def with_link(token: str):
    """A partner link shared by many: each respondent gets a resume code of their own."""
    check_entry_open()
    try:
        access = access_by_link(get_session(), token, _today())
    except AccessRefused as refused:
        if refused.reason is Refusal.UNKNOWN:
            count_wrong_guess()
        raise
    state = _state()
    if state is not None and state.code_id == access.code.id and state.resume_code:
        resume_code = state.resume_code  # the same browser coming back through the link
    else:
        resume_code = new_resume_code()
    _begin(access, draft_key_for_resume(resume_code), resume_code)
    return redirect(_resume_url(_flow()), 303)


@bp.route("/r/resume", methods=["GET", "POST"])
@public
def resume():
    """Continue earlier answers given through a partner link, with the resume code."""
    flow = _flow()
    if not flow.access.is_link:
        abort(404)
    form = ResumeForm()
    if form.validate_on_submit():
        check_entry_open()
        code = normalise_code(form.resume_code.data)
        key = draft_key_for_resume(code)
        draft = find_draft(get_session(), key)
        if draft is None or draft.round_id != flow.access.round.id \
                or draft.partner_id != flow.access.partner.id:
            count_wrong_guess()
            form.resume_code.errors.append(
                _("We found no saved answers for this resume code. Please check it and try "
                  "again."))
            return render_template("respond/resume.html", form=form, **_common(flow)), 422
        _begin(flow.access, key, code)
        return redirect(_resume_url(_flow()), 303)
    status = 422 if form.is_submitted() else 200
    return render_template("respond/resume.html", form=form, **_common(flow)), status


# --------------------------------------------------------------------------- the questionnaire


@bp.route("/r/language", methods=["GET", "POST"])
@public
def language():
    """Choose the questionnaire's language; Indonesian first, the partnership's by default."""
    flow = _flow()
    offered = _languages(flow.questionnaire)
    if len(offered) <= 1:
        session["lang"] = offered[0] if offered else "id"
        return redirect(url_for(".intro"), 303)
    form = LanguageForm()
    choices = [(lang, LANGUAGE_NAMES.get(lang, lang)) for lang in offered]
    form.language.choices = [SelectChoice(value, label) for value, label in choices]
    if form.validate_on_submit():
        session["lang"] = form.language.data
        return redirect(url_for(".intro"), 303)
    if not form.is_submitted():
        default = flow.draft.language if flow.draft else flow.access.round.partnership \
            .default_language
        form.language.data = default if default in offered else offered[0]
    status = 422 if form.is_submitted() else 200
    return render_template("respond/language.html", form=form, choices=choices,
                           **_common(flow)), status


@bp.get("/r/about")
@public
def intro():
    """Say what is collected, who sees what, and the partnership's anonymity thresholds."""
    flow = _flow()
    partnership = flow.access.round.partnership
    notice = privacy_notice(
        partnership.name, flow.access.partner.name, partnership.min_group_size,
        has_open_questions=bool(flow.questionnaire.open_questions),
        has_partner_ratings=bool(flow.questionnaire.partner_ratings),
    )
    return render_template("respond/intro.html", notice=notice, **_common(flow))


@bp.route("/r/page/<int:number>", methods=["GET", "POST"])
@public
def page(number: int):
    """One page of questions; Next, Back and Save all save the draft."""
    flow = _flow()
    try:
        current = flow.plan.page(number)
    except KeyError:
        abort(404)
    if request.method == "GET":
        form = make_page_form(current, flow.lang, sheet=flow.sheet)
        if request.args.get("check"):
            form = make_page_form(current, flow.lang,
                                  formdata=sheet_formdata(current, flow.sheet))
            read_page(current, form)
        return _render_page(flow, current, form)

    action = request.form.get("action", "next")
    if action == "language":
        return _switch_language(flow, current)
    form = make_page_form(current, flow.lang)
    page_input = read_page(current, form)
    apply_input(current, flow.sheet, page_input)
    back_to_review = form.review.data == "1"
    stay = bool(page_input.invalid) or (action == "next" and not page_input.complete)
    if stay:
        target = number
    elif action == "back":
        target = number - 1
    elif action == "save":
        target = number
    else:
        target = flow.plan.review_number if back_to_review else number + 1
    _save(flow, max(target, 1))
    get_session().commit()
    if stay:
        return _render_page(flow, current, form, status=422)
    if action == "save":
        return redirect(url_for(".saved"), 303)
    if target < 1:
        return redirect(url_for(".intro"), 303)
    return redirect(_page_url(flow.plan, target), 303)


def _switch_language(flow: Flow, current: Page):
    """The header's language switch on a page: save its answers as a draft, show it again.

    Like Save, an incomplete page is no error: what was answered is kept, nothing is asked
    for. Only a value that cannot be stored (text too long, a control character) keeps the
    page on screen, now in the chosen language, with its error.
    """
    chosen = request.form.get("lang", "")
    if chosen in current_app.config["LANGUAGES"]:
        session["lang"] = chosen
        refresh()  # the locale of this request was read before the choice
        if chosen in _languages(flow.questionnaire):
            flow.lang = chosen
    form = make_page_form(current, flow.lang)
    page_input = read_page(current, form)
    apply_input(current, flow.sheet, page_input)
    _save(flow, current.number)
    get_session().commit()
    if page_input.invalid:
        for name in page_input.missing:
            form[name].errors = []  # unanswered is fine here; only the invalid are shown
        return _render_page(flow, current, form, status=422)
    review = {"review": 1} if form.review.data == "1" else {}
    return redirect(url_for(".page", number=current.number, **review), 303)


@bp.route("/r/review", methods=["GET", "POST"])
@public
def review():
    """Every answer on one page, with links to change them; the post submits."""
    try:
        flow = _flow()
    except AccessRefused as refused:
        if refused.reason is Refusal.USED and request.method == "POST":
            return _already_submitted()  # a second click on Submit
        raise
    except SessionExpired:
        if request.method == "POST" and session.get(DONE):
            return _already_submitted()
        raise
    form = ConfirmForm()
    if not form.validate_on_submit():
        return _render_review(flow, form)
    if flow.draft is None and not flow.access.is_link:
        # An unused code without a draft has answered nothing yet. (A shared link cannot
        # tell this apart from a second click after the draft was submitted and deleted.)
        flash(_("Please answer the questions before you submit."), "error")
        return redirect(url_for(".page", number=1, check=1), 303)
    db = get_session()
    try:
        submit_response(db, flow.access, flow.draft_key, flow.lang, _today())
    except AlreadySubmitted:
        db.rollback()
        return _already_submitted()
    except Incomplete as incomplete:
        db.rollback()
        flash(_("Some required questions are not answered yet."), "error")
        return redirect(url_for(".page", number=incomplete.page, check=1), 303)
    db.commit()
    session.pop(STATE, None)
    session[DONE] = True
    session[RESPONDENT_SESSION_KEY] = flow.access.round.id
    return redirect(url_for(".thanks"), 303)


@bp.get("/r/saved")
@public
def saved():
    """Confirm that the answers are saved and say how to come back."""
    try:
        flow = _flow()
    except (SessionExpired, AccessRefused):
        flow = None
    if flow is None:
        return render_template("respond/saved.html", flow=None)
    return render_template("respond/saved.html", continue_url=_continue_url(flow),
                           **_common(flow))


@bp.get("/r/thanks")
@public
def thanks():
    return render_template("respond/thanks.html", shared_url=_shared_summary_url())


# --------------------------------------------------------------------------- problems

_REFUSAL_STATUS = {
    Refusal.UNKNOWN: 404,
    Refusal.USED: 410,
    Refusal.NOT_OPEN: 403,
    Refusal.CLOSED: 410,
    Refusal.PARTNER_LEFT: 403,
}


def _problem_text(error: AccessRefused) -> tuple[str, str]:
    reason, round_ = error.reason, error.round
    if reason is Refusal.UNKNOWN:
        return (_("We do not know this code or link"),
                _("Please check that you typed the code exactly as printed, or ask the "
                  "partnership's coordinator for a new one."))
    if reason is Refusal.USED and error.kind is CodeKind.LINK:
        return (_("This link has been used as often as allowed"),
                _("If you started earlier, your answers may already be submitted. Otherwise "
                  "ask your organisation's contact for a new link or code."))
    if reason is Refusal.USED:
        return (_("This code has already been used"),
                _("Each code can submit answers once. If you submitted already, thank you: "
                  "your answers are stored. If not, ask the partnership's coordinator for a "
                  "new code."))
    if reason is Refusal.NOT_OPEN:
        if round_ is not None and round_.opens_on is not None and round_.opens_on > _today():
            when = format_date(round_.opens_on, "long")
            return (_("This survey has not opened yet"),
                    _("You can answer from %(date)s. Please come back then with the same code.",
                      date=when))
        return (_("This survey has not opened yet"),
                _("Please come back later with the same code."))
    if reason is Refusal.CLOSED:
        return (_("This survey is closed"),
                _("Answers can no longer be submitted for this round. Thank you for your "
                  "interest."))
    return (_("Your organisation no longer takes part in this round"),
            _("This code cannot be used any more. Please ask the partnership's coordinator."))


@bp.errorhandler(AccessRefused)
def refused(error: AccessRefused):
    """A clear page in the respondent's language for a code that cannot be used now."""
    if error.reason is not Refusal.UNKNOWN:
        session.pop(STATE, None)
    shared_url = None
    if (error.reason in (Refusal.USED, Refusal.CLOSED) and error.round is not None
            and is_shared(error.round)):
        session[RESPONDENT_SESSION_KEY] = error.round.id  # a real code of a shared round
        shared_url = _shared_summary_url()
    title, message = _problem_text(error)
    return render_template(
        "respond/problem.html", reason=error.reason.value, title=title, message=message,
        form=CodeEntryForm(formdata=None), shared_url=shared_url,
    ), _REFUSAL_STATUS[error.reason]


@bp.errorhandler(TooManyAttempts)
def too_many_attempts(error: TooManyAttempts):
    """Ask to wait, naming no one; a code form only while codes are still being checked."""
    minutes = max(1, (error.retry_after + 59) // 60)
    if error.paused:
        title = _("Code entry is paused for a while")
        message = ngettext(
            "Many codes that do not exist were tried, so codes are not checked for now. "
            "Please try again in %(num)d minute. Saved answers are kept.",
            "Many codes that do not exist were tried, so codes are not checked for now. "
            "Please try again in %(num)d minutes. Saved answers are kept.", minutes)
    else:
        title = _("Too many attempts")
        message = ngettext(
            "This code is not known, and many unknown codes were tried from your network. "
            "Please check your code and wait %(num)d minute before trying again.",
            "This code is not known, and many unknown codes were tried from your network. "
            "Please check your code and wait %(num)d minutes before trying again.", minutes)
    response = current_app.make_response((render_template(
        "respond/too_many.html", title=title, message=message, paused=error.paused,
        form=CodeEntryForm(formdata=None)), 429))
    response.headers["Retry-After"] = str(error.retry_after)
    return response


@bp.errorhandler(SessionExpired)
def session_expired(_error: SessionExpired):
    """No code in the session: ask for it again, keeping the answers that were just sent."""
    if request.method == "GET" and session.get(DONE):
        # Back after submitting: the answers are in, so say so rather than "session ended".
        return redirect(url_for(".thanks"), 303)
    if request.method == "GET":
        flash(_("Your session has ended. Please enter your code again: your saved answers "
                "are kept."), "warning")
        return redirect(url_for(".start"), 303)
    return _expired_page()


def _expired_page():
    carry_page = ""
    if request.endpoint == "respond.page" and request.view_args:
        carry_page = str(request.view_args.get("number", ""))
    form = CodeEntryForm(formdata=None, carry_page=carry_page)
    carried = _carried_fields() if carry_page else []
    return render_template("respond/expired.html", form=form, carried=carried), 400


@bp.errorhandler(CSRFError)
def csrf_failed(_error: CSRFError):
    """The form's security token was missing or foreign: show the post again, store nothing.

    Tokens do not expire (``WTF_CSRF_TIME_LIMIT = None``), so this happens when the session
    ended or the form came from another session. Every answer sent is shown again with a fresh
    token, so pressing the button once more loses nothing.
    """
    notice = _("For your security, please press the button once more. Nothing was saved yet, "
               "and your answers are still on this page.")
    if request.endpoint == "respond.start":
        return _render_start(CodeEntryForm(), status=400, notice=notice)
    try:
        flow = _flow()
    except (SessionExpired, AccessRefused):
        return _expired_page()
    if request.endpoint == "respond.page" and request.view_args:
        try:
            current = flow.plan.page(int(request.view_args["number"]))
        except (KeyError, ValueError):
            abort(404)
        form = make_page_form(current, flow.lang, formdata=request.form)
        return _render_page(flow, current, form, status=400, notice=notice)
    if request.endpoint == "respond.review":
        return _render_review(flow, ConfirmForm(formdata=None), status=400, notice=notice)
    flash(notice, "warning")
    return redirect(request.path, 303)
