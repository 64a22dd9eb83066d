"""The one-page summary of a round: its results digest, the agreed actions and the pledges.

One :class:`RoundSummary` feeds the print page, the server PDF (a background job of kind
:data:`SUMMARY_PDF`, never rendered inside a request) and the respondents' copy. The figures
come from the round's published snapshot through :mod:`app.results.summary`; the actions and
commitments from the follow-up services. Lists are capped so the page stays one A4 sheet;
what is left out is counted ("and 3 more in the action register").
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask import g, render_template, session, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.jobs.queue import start
from app.jobs.runner import JobContext, JobFailed
from app.models import Action, Commitment, Partnership, Round, RoundStatus, User, Workshop
from app.results import summary as digest
from app.results.context import RoundView, partner_rows
from app.results.snapshots import round_snapshot, shows_figures
from app.results.templating import display_context
from app.services.actions import actions_of_round
from app.services.commitments import commitments_register
from app.services.followup import (
    ACTION_STATUS_LABELS,
    COMMITMENT_KIND_LABELS,
    DELIVERY_STATUS_LABELS,
    questionnaire_of,
    target_label,
)
from app.services.results import ANALYSIS_VERSION

__all__ = ["ACTIONS_SHOWN", "COMMITMENTS_SHOWN", "SUMMARY_PDF", "RoundSummary",
           "register_summary_job", "round_summary", "start_summary_pdf", "summary_html"]

SUMMARY_PDF = "summary.round"
#: Bumped when the page's layout changes, so no older PDF is served for it.
SUMMARY_LAYOUT_VERSION = 1
#: Rows each list may have and still fit one A4 page with the results above them.
ACTIONS_SHOWN = 6
COMMITMENTS_SHOWN = 5
#: Characters of an action's or pledge's text printed on the page (the register has all).
TEXT_SHOWN = 120


@dataclass(frozen=True)
class ActionLine:
    description: str
    target: str
    owners: list[str]
    co_owners: list[str]
    due_on: date | None
    status: str
    status_label: str
    overdue: bool
    carried: bool


@dataclass(frozen=True)
class CommitmentLine:
    partner: str
    kind: str
    description: str
    status: str
    status_label: str


@dataclass
class RoundSummary:
    """Everything the one-page summary prints, in one language."""

    partnership: Partnership
    round: Round
    language: str
    k: int
    has_results: bool
    scores: list[digest.ScoreLine] = field(default_factory=list)
    strengths: list[digest.Statement] = field(default_factory=list)
    concerns: list[digest.Statement] = field(default_factory=list)
    gap: dict[str, Any] | None = None
    n_responses: Any = None
    actions: list[ActionLine] = field(default_factory=list)
    more_actions: int = 0
    commitments: list[CommitmentLine] = field(default_factory=list)
    more_commitments: int = 0


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= TEXT_SHOWN else text[:TEXT_SHOWN - 1].rstrip() + "\u2026"


def _action_lines(db: Session, round_: Round, language: str, today: date) -> list[ActionLine]:
    questionnaire = questionnaire_of(round_)
    lines = []
    for action in actions_of_round(db, round_):
        lines.append(ActionLine(
            _short(action.description),
            target_label(questionnaire, action.dimension_id, action.item_id, language),
            [p.name for p in action.owners], [p.name for p in action.co_owners],
            action.due_on, action.status.value,
            str(ACTION_STATUS_LABELS.get(action.status.value, action.status.value)),
            action.is_overdue(today), action.carried_over_from_id is not None))
    # Open work first (what people may still act on), then done, then dropped.
    order = {"in_progress": 0, "planned": 1, "done": 2, "dropped": 3}
    return sorted(lines, key=lambda a: (order.get(a.status, 9), a.due_on or date.max))


def _commitment_lines(db: Session, round_: Round) -> list[CommitmentLine]:
    """Pledges whose period covers the round, with their verdict for this round."""
    lines = []
    names = {p.id: p.name for p in round_.partnership.partners}
    for partner_id, rows in commitments_register(db, round_.partnership).items():
        for row in rows:
            review = next((r for rnd, r in row.reviews if rnd.id == round_.id), False)
            if review is False:
                continue  # the round is outside this pledge's period
            status = review.status.value if review is not None else "pending"
            lines.append(CommitmentLine(
                names.get(partner_id, ""),
                str(COMMITMENT_KIND_LABELS.get(row.commitment.kind.value,
                                               row.commitment.kind.value)),
                _short(row.commitment.description), status,
                str(DELIVERY_STATUS_LABELS.get(status, status))))
    return sorted(lines, key=lambda c: (c.partner, c.kind))


def round_summary(db: Session, round_: Round, language: str,
                  today: date | None = None) -> RoundSummary:
    """The round's one-page summary in ``language`` (results only from its snapshot)."""
    partnership = round_.partnership
    result = RoundSummary(partnership, round_, language, partnership.min_group_size, False)
    snap = round_snapshot(db, round_)
    if snap is not None and shows_figures(snap):
        view = RoundView(round_.id, round_.status is RoundStatus.CLOSED, snap,
                         questionnaire_of(round_), language,
                         partner_rows(snap, [p.id for p in round_.partners]))
        result.k = view.k
        result.has_results = True
        result.n_responses = snap["meta"]["n_responses"]
        result.scores = digest.score_lines(view)
        result.strengths, result.concerns = digest.strengths_and_concerns(view)
        result.gap = digest.largest_gap(view)
    actions = _action_lines(db, round_, language, today or date.today())
    result.actions, result.more_actions = actions[:ACTIONS_SHOWN], \
        max(0, len(actions) - ACTIONS_SHOWN)
    commitments = _commitment_lines(db, round_)
    result.commitments, result.more_commitments = commitments[:COMMITMENTS_SHOWN], \
        max(0, len(commitments) - COMMITMENTS_SHOWN)
    return result


def summary_html(summary: RoundSummary, *, for_pdf: bool, template: str = "summary/round.html",
                 **extra: Any) -> str:
    """The summary page (``for_pdf``: without the screen toolbar)."""
    return render_template(template, summary=summary, partnership=summary.partnership,
                           round=summary.round, for_pdf=for_pdf, k=summary.k, **extra,
                           **display_context(summary.language))


# --------------------------------------------------------------------------- the PDF job


def followup_fingerprint(db: Session, round_: Round) -> list[Any]:
    """What changes the follow-up half of the page: a changed action or pledge is a new PDF."""
    actions = db.execute(select(func.count(Action.id), func.max(Action.updated_at))
                         .join(Workshop, Workshop.id == Action.workshop_id)
                         .where(Workshop.round_id == round_.id)).one()
    pledges = db.execute(select(func.count(Commitment.id), func.max(Commitment.updated_at))
                         .join(Round, Round.id == Commitment.round_id)
                         .where(Round.partnership_id == round_.partnership_id)).one()
    return [actions[0], str(actions[1]), pledges[0], str(pledges[1])]


def summary_parameters(db: Session, round_: Round, *, language: str,
                       base_url: str) -> dict[str, Any]:
    """Everything the PDF depends on, read without computing any result."""
    partnership = round_.partnership
    return {"round_id": round_.id, "language": language, "base_url": base_url,
            "round": [round_.name, round_.results_version, round_.questionnaire_version_id,
                      round_.status.value],
            "partnership": partnership.name, "k": partnership.min_group_size,
            "partners": [[p.id, p.name] for p in partnership.partners],
            "followup": followup_fingerprint(db, round_), "today": date.today().isoformat(),
            "versions": [ANALYSIS_VERSION, SUMMARY_LAYOUT_VERSION]}


def start_summary_pdf(round_: Round, user: User, parameters: dict[str, Any]) -> str:
    """Start (or reuse) the job making the summary's PDF; returns the job's public id."""
    return start(kind=SUMMARY_PDF, parameters=parameters, partnership_id=round_.partnership_id,
                 user=user)


@contextmanager
def _job_request(context: JobContext) -> Iterator[None]:
    """A request like the asking one: its address (static files), language and user."""
    with context.app.test_request_context("/", base_url=context.parameters["base_url"]):
        session["lang"] = context.language
        if context.user_id is not None:
            g._login_user = context.session.get(User, context.user_id)
        yield


def download_name(partnership: Partnership, round_: Round, language: str) -> str:
    from app.jobs.tasks import download_name as report_name

    return report_name(partnership.name, round_.name, "summary", language)


def summary_pdf_task(context: JobContext) -> None:
    """Render the one-page summary to PDF with WeasyPrint (in a worker, never a request)."""
    from app.services import pdf  # WeasyPrint and Pango load in workers only

    round_ = context.session.get(Round, context.parameters.get("round_id"))
    if round_ is None or round_.partnership_id != context.partnership_id:
        raise JobFailed(gettext("This round no longer exists."))
    with _job_request(context):
        summary = round_summary(context.session, round_, context.language,
                                date.fromisoformat(context.parameters["today"]))
        context.progress(40)
        key = f"summary:{context.public_id}"
        data = pdf.cached_pdf(key, lambda: summary_html(summary, for_pdf=True),
                              base_url=context.parameters["base_url"],
                              static_url_path=url_for("static", filename=""))
    context.save(data, "pdf", "application/pdf",
                 download_name(round_.partnership, round_, context.language))


def register_summary_job() -> None:
    """Make the job system know this kind of job (its task and its title on the job page)."""
    from app.jobs import tasks

    tasks.TASKS.setdefault(SUMMARY_PDF, summary_pdf_task)
    tasks.TITLES.setdefault(SUMMARY_PDF, _l("One-page summary as PDF"))
