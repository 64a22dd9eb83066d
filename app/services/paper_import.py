"""Answers collected on paper, typed into a CSV file and imported into a round.

The file has one row per respondent: a ``partner`` column (the partner's name or id), an
optional ``language`` column, one column per closed item (its id), one per open question
(its id) and, for questions about the other partners, one per rating item and partner
(``<rating item>@<partner name or id>``). A blank cell is "not answered"; ``dk`` is
"don't know" where the item's scale offers it.

Every cell is checked against the round's questionnaire before anything is stored, and every
problem is reported with its row (as a spreadsheet numbers it: the header is row 1) and
column. Only a file without problems is stored, all rows in the caller's one transaction,
through the same item types as web answers (:mod:`app.respond.items`), so paper responses
look exactly like web ones apart from ``source = "paper"``. Rows are stored in random order,
so the database's physical order does not follow the pile of forms.
"""

from __future__ import annotations

import csv
import hashlib
import io
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import (
    AuditEvent,
    Partner,
    Response,
    Round,
    RoundStatus,
    User,
)
from app.questionnaires import Questionnaire, Scale
from app.respond.items import DONT_KNOW, MISSING, Question, StorageContext, StoredRow, Value
from app.services.audit import record
from app.services.questionnaires import definition_of
from app.services.submissions import (
    attach_rows,
    mark_results_stale,
    plan_for,
    submission_date,
)

PARTNER_COLUMN = "partner"
LANGUAGE_COLUMN = "language"
RATING_SEPARATOR = "@"
SOURCE = "paper"
AUDIT_ACTION = "responses.import_paper"
_DELIMITERS = (",", ";", "\t")

LIKERT = "likert"
RATING = "partner_rating"
TEXT = "text"


@dataclass(frozen=True)
class CellProblem:
    """One bad cell (or header, or row), located as a spreadsheet shows it."""

    row: int
    column: str | None
    message: str

    def __str__(self) -> str:
        where = f"row {self.row}" + (f", column {self.column}" if self.column is not None else "")
        return f"{where}: {self.message}"


class PaperImportError(ValueError):
    """The file has problems; nothing was stored. ``problems`` lists every one of them."""

    def __init__(self, problems: Sequence[CellProblem]) -> None:
        self.problems = list(problems)
        rows = len({p.row for p in self.problems})
        super().__init__(f"{len(self.problems)} problem(s) in {rows} row(s)")


class ImportRefused(ValueError):
    """The whole file is refused before its cells are read (wrong round, not CSV...)."""


@dataclass(frozen=True)
class Column:
    """What one header names: ``kind`` is likert, partner_rating or text."""

    name: str
    kind: str
    item_id: str
    ratee_id: int | None = None


@dataclass(frozen=True)
class PaperResponse:
    """One valid row: the respondent's partner and language and a value per column."""

    row: int
    partner_id: int
    language: str
    values: dict[Column, Value]


@dataclass(frozen=True)
class ImportSummary:
    responses: int
    sha256: str


# --------------------------------------------------------------------------- reading


def read_rows(data: bytes) -> list[list[str]]:
    """Decode a CSV file (UTF-8, with or without BOM; comma, semicolon or tab separated)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportRefused("the file is not UTF-8 text: save it as 'CSV UTF-8'") from None
    first_line = text.split("\n", 1)[0]
    delimiter = max(_DELIMITERS, key=first_line.count)
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as error:
        raise ImportRefused(f"the file is not valid CSV: {error}") from None
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise ImportRefused("the file is empty: the first row must name the columns")
    return rows


class _Partners:
    """Find partners by id or by name (case and surrounding spaces ignored)."""

    def __init__(self, partners: Sequence[Partner], round_: Round) -> None:
        self.by_id = {p.id: p for p in partners}
        self.by_name = {p.name.strip().casefold(): p for p in partners}
        self.in_round = {p.id for p in round_.partners}

    def find(self, reference: str) -> tuple[Partner | None, str | None]:
        """Return the partner named by ``reference``, or a message saying why there is none."""
        text = reference.strip()
        named = self.by_name.get(text.casefold())
        numbered = self.by_id.get(int(text)) if text.isdigit() else None
        if named is not None and numbered is not None and named is not numbered:
            return None, (f"'{text}' is both the name of one partner and the id of another: "
                          "use the other partner's name")
        partner = named or numbered
        if partner is None:
            return None, f"'{text}' is not a partner of this partnership"
        if partner.id not in self.in_round:
            return None, f"{partner.name} does not take part in this round"
        return partner, None


def _map_header(header: list[str], questionnaire: Questionnaire, partners: _Partners,
                problems: list[CellProblem]) -> dict[int, Column | str]:
    """Map column positions to what they hold; unknown and doubled columns are problems."""
    likert = {item.id for item in questionnaire.items}
    ratings = {rating.id for rating in questionnaire.partner_ratings}
    texts = {question.id for question in questionnaire.open_questions}
    mapped: dict[int, Column | str] = {}
    seen: dict[tuple[str, str, int | None], str] = {}
    for position, raw in enumerate(header):
        name = raw.strip()
        if not name:
            continue  # checked per row: an unnamed column must stay empty
        if name.lower() in {PARTNER_COLUMN, LANGUAGE_COLUMN}:
            name = name.lower()
            key: tuple[str, str, int | None] = (name, name, None)
            column: Column | str = name
        elif RATING_SEPARATOR in name:
            item_id, _, reference = name.partition(RATING_SEPARATOR)
            if item_id not in ratings:
                problems.append(CellProblem(1, name, f"{item_id} is not a question about "
                                                     "other partners in this questionnaire"))
                continue
            partner, message = partners.find(reference)
            if partner is None:
                problems.append(CellProblem(1, name, message or "unknown partner"))
                continue
            key = (RATING, item_id, partner.id)
            column = Column(name, RATING, item_id, partner.id)
        elif name in likert or name in texts:
            kind = LIKERT if name in likert else TEXT
            key = (kind, name, None)
            column = Column(name, kind, name)
        else:
            problems.append(CellProblem(1, name, "unknown column: not an item, open question "
                                                 f"or '{PARTNER_COLUMN}' of this round"))
            continue
        if key in seen:
            problems.append(CellProblem(1, name, f"the same answers as column {seen[key]}"))
            continue
        seen[key] = name
        mapped[position] = column
    return mapped


def _check_required_columns(mapped: Mapping[int, Column | str], questionnaire: Questionnaire,
                            round_: Round, problems: list[CellProblem]) -> None:
    present = {c if isinstance(c, str) else (c.kind, c.item_id, c.ratee_id)
               for c in mapped.values()}
    if PARTNER_COLUMN not in present:
        problems.append(CellProblem(1, PARTNER_COLUMN, "the column is missing: every row "
                                                       "must say which partner answered"))
    for item in questionnaire.items:
        if item.required and (LIKERT, item.id, None) not in present:
            problems.append(CellProblem(1, item.id, "the column is missing and the item is "
                                                    "required"))
    for question in questionnaire.open_questions:
        if question.required and (TEXT, question.id, None) not in present:
            problems.append(CellProblem(1, question.id, "the column is missing and the "
                                                        "question is required"))
    for rating in questionnaire.partner_ratings:
        if not rating.required:
            continue
        for partner in round_.partners:
            if (RATING, rating.id, partner.id) not in present:
                problems.append(CellProblem(1, f"{rating.id}{RATING_SEPARATOR}{partner.name}",
                                            "the column is missing and the question is "
                                            "required"))


# --------------------------------------------------------------------------- cells


def describe_scale(scale: Scale) -> str:
    """Say which values a scale takes: ``1-5`` when they follow each other."""
    values = scale.values
    if list(values) == list(range(values[0], values[-1] + 1)):
        return f"{values[0]}-{values[-1]}"
    return ", ".join(str(v) for v in values)


def parse_point(cell: str, scale: Scale) -> int | None:
    """Read a non-blank cell as a scale point or "don't know" (None); ValueError says why."""
    text = cell.strip()
    if text.casefold() == DONT_KNOW:
        if scale.dont_know is None:
            raise ValueError(f"{DONT_KNOW} (don't know) is not an answer on this item's scale")
        return None
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{text} is not on the scale {describe_scale(scale)}") from None
    if value not in scale.values:
        raise ValueError(f"{text} is not on the scale {describe_scale(scale)}")
    return value


class _RowChecker:
    """Check one row's cells against the questionnaire and turn them into values."""

    def __init__(self, questionnaire: Questionnaire, round_: Round, partners: _Partners,
                 mapped: Mapping[int, Column | str], header: Sequence[str],
                 default_language: str) -> None:
        self.questionnaire = questionnaire
        self.round = round_
        self.partners = partners
        self.mapped = mapped
        self.width = len(header)
        self.unnamed = [position for position, name in enumerate(header) if not name.strip()]
        self.default_language = default_language
        self.items = {item.id: item for item in questionnaire.items}
        self.ratings = {r.id: r for r in questionnaire.partner_ratings}
        self.texts = {q.id: q for q in questionnaire.open_questions}
        self.columns = [c for c in mapped.values() if isinstance(c, Column)]

    def check(self, number: int, cells: list[str],
              problems: list[CellProblem]) -> PaperResponse | None:
        found: list[CellProblem] = []
        if len(cells) > self.width and any(c.strip() for c in cells[self.width:]):
            found.append(CellProblem(number, None, f"the row has {len(cells)} cells but the "
                                                   f"header names only {self.width} columns"))
        cells = cells + [""] * (self.width - len(cells))
        for position in self.unnamed:
            if cells[position].strip():
                found.append(CellProblem(number, f"{position + 1} (no name)",
                                         "a column without a name must stay empty"))
        by_name = {c if isinstance(c, str) else c.name: cells[p] for p, c in self.mapped.items()}
        partner = self._partner(number, by_name.get(PARTNER_COLUMN), found)
        language = self._language(number, by_name.get(LANGUAGE_COLUMN, ""), found)
        values: dict[Column, Value] = {}
        for column in self.columns:
            value = self._value(number, column, by_name[column.name], partner, found)
            if value is not MISSING:
                values[column] = value
        if partner is not None:
            self._required_ratings(number, partner, values, found)
        problems.extend(found)
        if found or partner is None:
            return None
        return PaperResponse(number, partner.id, language, values)

    def _partner(self, number: int, cell: str | None,
                 found: list[CellProblem]) -> Partner | None:
        if cell is None:
            return None  # the missing column is reported once, for the header
        if not cell.strip():
            found.append(CellProblem(number, PARTNER_COLUMN, "missing: say which partner "
                                                             "answered"))
            return None
        partner, message = self.partners.find(cell)
        if partner is None:
            found.append(CellProblem(number, PARTNER_COLUMN, message or "unknown partner"))
        return partner

    def _language(self, number: int, cell: str, found: list[CellProblem]) -> str:
        text = cell.strip().lower()
        if not text:
            return self.default_language
        if text not in self.questionnaire.languages:
            found.append(CellProblem(number, LANGUAGE_COLUMN, f"{cell.strip()} is not a "
                                     "language of this questionnaire (use one of "
                                     f"{', '.join(self.questionnaire.languages)})"))
        return text

    def _value(self, number: int, column: Column, cell: str, partner: Partner | None,
               found: list[CellProblem]) -> Value:
        text = cell.strip()
        if column.kind == TEXT:
            question = self.texts[column.item_id]
            if not text:
                if question.required:
                    found.append(CellProblem(number, column.name, "an answer is required"))
                return MISSING
            if len(text) > question.max_length:
                found.append(CellProblem(number, column.name, f"{len(text)} characters, at "
                                         f"most {question.max_length} are allowed"))
            return text
        if column.kind == RATING and partner is not None and column.ratee_id == partner.id:
            if text:
                found.append(CellProblem(number, column.name, "a respondent does not rate "
                                         "their own partner: leave this cell blank"))
            return MISSING
        if column.kind == RATING:
            rating = self.ratings[column.item_id]
            scale, required = self.questionnaire.scale(rating.scale), False
        else:
            item = self.items[column.item_id]
            scale, required = self.questionnaire.scale(item.scale), item.required
        if not text:
            if required:
                hint = f" (write {DONT_KNOW} for don't know)" if scale.dont_know else ""
                found.append(CellProblem(number, column.name, f"an answer is required{hint}"))
            return MISSING
        try:
            return parse_point(text, scale)
        except ValueError as error:
            found.append(CellProblem(number, column.name, str(error)))
            return MISSING

    def _required_ratings(self, number: int, partner: Partner, values: Mapping[Column, Value],
                          found: list[CellProblem]) -> None:
        """Required ratings: every other partner of the round must be rated."""
        for column in self.columns:
            if (column.kind == RATING and self.ratings[column.item_id].required
                    and column.ratee_id != partner.id and column not in values
                    and not any(p.row == number and p.column == column.name for p in found)):
                found.append(CellProblem(number, column.name, "an answer is required"))


# --------------------------------------------------------------------------- import


def parse_paper_responses(session: Session, round_: Round, data: bytes, *,
                          default_language: str | None = None) -> list[PaperResponse]:
    """Read and check a whole file; raise PaperImportError listing every problem."""
    questionnaire = definition_of(round_.questionnaire_version)
    rows = read_rows(data)
    partners = _Partners(list(session.scalars(select(Partner).where(
        Partner.partnership_id == round_.partnership_id))), round_)
    problems: list[CellProblem] = []
    header = rows[0]
    mapped = _map_header(header, questionnaire, partners, problems)
    _check_required_columns(mapped, questionnaire, round_, problems)
    language = default_language or round_.partnership.default_language
    if language not in questionnaire.languages:
        language = questionnaire.languages[0]
    checker = _RowChecker(questionnaire, round_, partners, mapped, header, language)
    parsed = []
    for number, cells in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in cells):
            continue  # blank lines, e.g. at the end of a spreadsheet export
        response = checker.check(number, cells, problems)
        if response is not None:
            parsed.append(response)
    if not parsed and not problems:
        problems.append(CellProblem(2, None, "the file has no answers below its header"))
    if problems:
        raise PaperImportError(sorted(problems, key=lambda p: p.row))
    return parsed


def import_paper_responses(session: Session, round_: Round, data: bytes, *, today: date,
                           actor: User | None = None, filename: str = "",
                           default_language: str | None = None, again: bool = False,
                           rng: random.Random | None = None) -> ImportSummary:
    """Check the file, then store every row as a paper response; the caller commits once.

    Raises ImportRefused for a draft round or a file already imported into this round
    (unless ``again``), PaperImportError for bad cells. Nothing is written in either case.
    """
    if round_.status is RoundStatus.DRAFT:
        raise ImportRefused(f"round {round_.id} is still a draft: open it before importing "
                            "answers")
    digest = hashlib.sha256(data).hexdigest()
    if not again and _imported_before(session, round_, digest):
        raise ImportRefused(f"this file was imported into round {round_.id} before; pass "
                            "--again to import its answers a second time")
    parsed = parse_paper_responses(session, round_, data, default_language=default_language)
    (rng or random.SystemRandom()).shuffle(parsed)
    stored_on = paper_date(today, round_)
    open_answers: list[StoredRow] = []
    plans: dict[int, dict[tuple[str, str, int | None], Question]] = {}
    for paper in parsed:
        questions = plans.get(paper.partner_id)
        if questions is None:
            plan = plan_for(round_, paper.partner_id)
            questions = {(q.kind, q.id, getattr(q, "ratee_id", None)): q
                         for q in plan.questions}
            plans[paper.partner_id] = questions
        response = Response(round_id=round_.id, partner_id=paper.partner_id,
                            language=paper.language, submitted_on=stored_on, source=SOURCE)
        context = StorageContext(round_.id, paper.partner_id, paper.language)
        for column, value in paper.values.items():
            question = questions[(column.kind, column.item_id, column.ratee_id)]
            open_answers += attach_rows(response, question.rows(value, context))
        session.add(response)
    # Free text stands alone (no response id); shuffled apart from the responses.
    (rng or random.SystemRandom()).shuffle(open_answers)
    session.add_all(open_answers)
    mark_results_stale(session, round_.id)
    record(session, actor.id if actor is not None else None, AUDIT_ACTION, round_,
           partnership_id=round_.partnership_id, responses=len(parsed), file=filename,
           sha256=digest)
    session.flush()
    return ImportSummary(len(parsed), digest)


def paper_date(today: date, round_: Round) -> date:
    """The week's Monday, as for web answers, kept within the round's dates."""
    stored = submission_date(today, round_)
    if round_.closes_on is not None and stored > round_.closes_on:
        return round_.closes_on
    return stored


def _imported_before(session: Session, round_: Round, digest: str) -> bool:
    events = session.scalars(select(AuditEvent).where(
        AuditEvent.action == AUDIT_ACTION, AuditEvent.object_type == "Round",
        AuditEvent.object_id == str(round_.id)))
    return any((event.details or {}).get("sha256") == digest for event in events)
