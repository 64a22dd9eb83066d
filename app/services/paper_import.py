"""Answers collected on paper, typed into a CSV file and imported into a round.

The file has one row per respondent: a ``partner`` column (the partner's name or id), an
optional ``language`` column, one column per closed item and per meta-perception (its id),
one per open question (its id) and, for questions about the other partners, one per rating
item and partner (``<rating item>@<partner name or id>``). A blank cell is "not answered";
``dk`` is "don't know" where the item's scale offers it.

The import runs in three steps so that a large file never stalls the site:

1. :func:`load_import_target` reads what checking needs (questionnaire, partners, round
   facts) in one short read; the caller ends that read before step 2.
2. :func:`check_paper_file` streams the file row by row with the ``csv`` module, outside any
   transaction, and checks every cell. Problems are reported with their row (as a spreadsheet
   numbers it: the header is row 1) and column, the first :data:`MAX_PROBLEMS` in full and
   the rest counted. Valid rows are staged a chunk at a time in a private SQLite file
   (:mod:`app.services.paper_staging`), already in their stored shape with their random ids,
   so memory stays flat however long the file is.
3. :func:`store_paper_responses` checks the round has not changed meanwhile and copies the
   staged rows with a few set-based statements (``INSERT ... SELECT`` from the attached
   staging file on SQLite, ``COPY`` on PostgreSQL): the only part that holds the write lock,
   for seconds where inserting row by row held it for minutes.

Stored paper responses look exactly like web ones (the same tables and values as
:mod:`app.respond.items` writes) apart from ``source = "paper"``: random ids, the week's
Monday as date, open answers without a response id and with ids of their own, and every table
inserted in the order of its random ids, so no stored id or order follows the pile of forms.
Only a file without problems is stored, all rows in the caller's one transaction.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import hashlib
import io
import secrets
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import IO, Any

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.models import (
    AuditEvent,
    PaperUpload,
    Partner,
    Response,
    Round,
    RoundStatus,
    User,
)
from app.models._types import utcnow
from app.questionnaires import Item, MetaPerceptionItem, Questionnaire, Scale
from app.respond.items import DONT_KNOW
from app.services.audit import record
from app.services.paper_staging import (
    DONT_KNOW_CODE,
    MAX_CLOSED_COLUMNS,
    ClosedColumn,
    RandomSource,
    StagedCounts,
    Staging,
    writing_connection,
)
from app.services.questionnaires import definition_of
from app.services.submissions import mark_results_stale, submission_date
from app.text_hygiene import find_forbidden, visible

PARTNER_COLUMN = "partner"
LANGUAGE_COLUMN = "language"
RATING_SEPARATOR = "@"
SOURCE = "paper"
AUDIT_ACTION = "responses.import_paper"
_DELIMITERS = (",", ";", "\t")

LIKERT = "likert"
RATING = "partner_rating"
TEXT = "text"

# Problems listed in full; beyond this they are only counted (a wrong file can have millions).
MAX_PROBLEMS = 100
# Characters of the note shown beside a closed round's revised results.
MAX_REVISION_NOTE = 500
# Compact code of a "don't know" cell; a blank cell is None.
_DONT_KNOW = DONT_KNOW_CODE
# What a closed cell's fast lookup returns when the cell needs the careful path.
_UNKNOWN = object()

_FILE_SIGNATURES = (
    (b"PK\x03\x04", _l("an Excel workbook or another zip archive")),
    (b"\xd0\xcf\x11\xe0", _l("an old-style Excel workbook")),
    (b"%PDF", _l("a PDF document")),
    (b"\xff\xfe", _l("UTF-16 text, not UTF-8")),
    (b"\xfe\xff", _l("UTF-16 text, not UTF-8")),
)
_SAVE_AS = _l("save it as 'CSV UTF-8'")


# A message shown to people: translated when it is turned into text, in the reader's
# language on the site and in English on the command line (see app.cli.responses).
Message = str | LazyString


@dataclass(frozen=True)
class CellProblem:
    """One bad cell (or header, or row), located as a spreadsheet shows it."""

    row: int
    column: str | None
    message: Message

    def __str__(self) -> str:
        where = f"row {self.row}" + (f", column {self.column}" if self.column is not None else "")
        return f"{where}: {self.message}"


class PaperImportError(ValueError):
    """The file has problems; nothing was stored.

    ``problems`` lists the first :data:`MAX_PROBLEMS`; ``total`` and ``rows`` count all of
    them, so a reader learns how much more is wrong than what is shown.
    """

    def __init__(self, problems: Sequence[CellProblem], total: int | None = None,
                 rows: int | None = None) -> None:
        self.problems = list(problems)
        self.total = len(self.problems) if total is None else total
        self.rows = len({p.row for p in self.problems}) if rows is None else rows
        super().__init__(f"{self.total} problem(s) in {self.rows} row(s)")

    @property
    def not_shown(self) -> int:
        return self.total - len(self.problems)


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
class PartnerRef:
    id: int
    name: str


@dataclass(frozen=True)
class ImportTarget:
    """Plain facts about the round, read once, so checking needs no database session."""

    round_id: int
    round_name: str
    partnership_id: int
    status: RoundStatus
    questionnaire_version_id: int
    questionnaire: Questionnaire
    partners: tuple[PartnerRef, ...]  # every partner of the partnership
    round_partner_ids: frozenset[int]
    default_language: str
    opens_on: date | None
    closes_on: date | None


class ClosedRoundNotConfirmed(ImportRefused):
    """The round is closed: storing would change its published results, so it must be confirmed."""


@dataclass(frozen=True)
class ImportSummary:
    responses: int
    sha256: str
    revised: bool = False


@dataclass(frozen=True)
class PartnerChange:
    """One partner's responses before and after the import (a preview, or the audit)."""

    partner_id: int
    name: str
    before: int
    added: int

    @property
    def after(self) -> int:
        return self.before + self.added


@dataclass(frozen=True)
class ColumnCount:
    """How many answers one column of the file adds (``dont_know`` among them)."""

    column: str
    kind: str
    answers: int
    dont_know: int = 0


@dataclass(frozen=True)
class ImportPreview:
    """What storing a checked file will do, shown before anything is stored."""

    round_id: int
    closed: bool
    responses: int
    partners: tuple[PartnerChange, ...]
    columns: tuple[ColumnCount, ...]
    open_answers: int
    default_language: str
    languages: tuple[tuple[str, int], ...]  # (language, responses) in the file
    imported_before: bool
    results_version: int
    sha256: str

    @property
    def responses_before(self) -> int:
        return sum(p.before for p in self.partners)

    @property
    def responses_after(self) -> int:
        return sum(p.after for p in self.partners)


@dataclass(frozen=True)
class Revision:
    """A closed round's published results changed after it closed: when, and why."""

    revised_on: date
    note: str | None


@dataclass
class CheckedFile:
    """A file that passed every check, staged until it is stored.

    The rows wait in a private SQLite file (:class:`~app.services.paper_staging.Staging`);
    what a preview shows was counted when checking ended. Call :meth:`close` (or use it as a
    context manager) to delete the staging file.
    """

    target: ImportTarget
    sha256: str
    filename: str
    languages: tuple[str, ...]
    closed_columns: list[Column]
    text_columns: list[Column]
    counts: StagedCounts
    staging: Staging | None = field(default=None, repr=False)
    default_language: str = ""  # of rows without a language cell

    @property
    def responses(self) -> int:
        return self.counts.responses

    def counts_by_partner(self) -> dict[int, int]:
        """Responses per partner id: what a preview shows before anything is stored."""
        return dict(self.counts.by_partner)

    def answer_counts(self) -> dict[str, int]:
        """How many answers, ratings and open answers storing the file will add."""
        pairs = list(zip(self.counts.answered, self.closed_columns, strict=True))
        return {"answers": sum(n for n, c in pairs if c.kind != RATING),
                "ratings": sum(n for n, c in pairs if c.kind == RATING),
                "open_answers": sum(self.counts.texts.values())}

    def column_counts(self) -> list[ColumnCount]:
        """Answers per column, in file order: closed items and ratings, then open questions."""
        counts = [ColumnCount(column.name, column.kind, self.counts.answered[i],
                              self.counts.dont_know[i])
                  for i, column in enumerate(self.closed_columns)]
        counts += [ColumnCount(column.name, column.kind,
                               self.counts.texts.get(column.item_id, 0))
                   for column in self.text_columns]
        return counts

    def language_counts(self) -> list[tuple[str, int]]:
        """Responses per language, for the languages the file uses."""
        return [(language, self.counts.by_language[language]) for language in self.languages
                if self.counts.by_language.get(language)]

    def close(self) -> None:
        if self.staging is not None:
            self.staging.close()
            self.staging = None

    def __enter__(self) -> CheckedFile:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


# --------------------------------------------------------------------------- the round


def load_import_target(session: Session, round_: Round) -> ImportTarget:
    """Read what checking a file for ``round_`` needs; refuse a round still in draft."""
    if round_.status is RoundStatus.DRAFT:
        raise ImportRefused(_l("round %(round)s is still a draft: open it before importing "
                               "answers", round=round_.id))
    questionnaire = definition_of(round_.questionnaire_version)
    partners = session.scalars(select(Partner).where(
        Partner.partnership_id == round_.partnership_id).order_by(Partner.id))
    language = round_.partnership.default_language
    if language not in questionnaire.languages:
        language = questionnaire.languages[0]
    return ImportTarget(
        round_id=round_.id, round_name=round_.name, partnership_id=round_.partnership_id,
        status=round_.status, questionnaire_version_id=round_.questionnaire_version_id,
        questionnaire=questionnaire,
        partners=tuple(PartnerRef(p.id, p.name) for p in partners),
        round_partner_ids=frozenset(p.id for p in round_.partners),
        default_language=language, opens_on=round_.opens_on, closes_on=round_.closes_on)


class _Partners:
    """Find partners by id or by name (case and surrounding spaces ignored)."""

    def __init__(self, target: ImportTarget) -> None:
        self.by_id = {p.id: p for p in target.partners}
        self.by_name = {p.name.strip().casefold(): p for p in target.partners}
        self.in_round = target.round_partner_ids
        self.round_partners = [p for p in target.partners if p.id in self.in_round]

    def find(self, reference: str) -> tuple[PartnerRef | None, Message | None]:
        """Return the partner named by ``reference``, or a message saying why there is none."""
        text = reference.strip()
        named = self.by_name.get(text.casefold())
        numbered = self.by_id.get(int(text)) if text.isdigit() and len(text) < 19 else None
        if named is not None and numbered is not None and named is not numbered:
            return None, _l("'%(text)s' is both the name of one partner and the id of "
                            "another: use the other partner's name", text=visible(text))
        partner = named or numbered
        if partner is None:
            return None, _l("'%(text)s' is not a partner of this partnership",
                            text=visible(text))
        if partner.id not in self.in_round:
            return None, _l("%(partner)s does not take part in this round",
                            partner=partner.name)
        return partner, None


def _map_header(header: list[str], questionnaire: Questionnaire, partners: _Partners,
                problems: list[CellProblem]) -> dict[int, Column | str]:
    """Map column positions to what they hold; unknown and doubled columns are problems."""
    likert = {item.id for item in _closed_items(questionnaire)}
    ratings = {rating.id for rating in questionnaire.partner_ratings}
    texts = {question.id for question in questionnaire.open_questions}
    mapped: dict[int, Column | str] = {}
    seen: dict[tuple[str, str, int | None], str] = {}
    for position, raw in enumerate(header):
        name = raw.strip()
        if not name:
            continue  # checked per row: an unnamed column must stay empty
        found = find_forbidden(name)
        if found is not None:
            problems.append(CellProblem(1, f"{position + 1}", _control_message(found)))
            continue
        if name.lower() in {PARTNER_COLUMN, LANGUAGE_COLUMN}:
            name = name.lower()
            key: tuple[str, str, int | None] = (name, name, None)
            column: Column | str = name
        elif RATING_SEPARATOR in name:
            item_id, _, reference = name.partition(RATING_SEPARATOR)
            if item_id not in ratings:
                problems.append(CellProblem(1, visible(name), _l(
                    "%(item)s is not a question about other partners in this questionnaire",
                    item=visible(item_id))))
                continue
            partner, message = partners.find(reference)
            if partner is None:
                problems.append(CellProblem(1, visible(name), message or _l("unknown partner")))
                continue
            key = (RATING, item_id, partner.id)
            column = Column(name, RATING, item_id, partner.id)
        elif name in likert or name in texts:
            kind = LIKERT if name in likert else TEXT
            key = (kind, name, None)
            column = Column(name, kind, name)
        else:
            problems.append(CellProblem(1, visible(name), _l(
                "unknown column: not an item, open question or '%(partner)s' of this round",
                partner=PARTNER_COLUMN)))
            continue
        if key in seen:
            problems.append(CellProblem(1, name, _l("the same answers as column %(column)s",
                                                    column=seen[key])))
            continue
        seen[key] = name
        mapped[position] = column
    return mapped


def _closed_items(questionnaire: Questionnaire) -> tuple[Item | MetaPerceptionItem, ...]:
    """The one-answer questions of a paper form: every item, then every meta-perception.

    A meta-perception ("how do the other partners rate this?") is stored like an item, as an
    answer under its own id, so on paper it is one more column with its own scale; the web
    form asks it on its dimension's page, the paper template after the items.
    """
    return (*questionnaire.items, *questionnaire.meta_perceptions)


def _answer_required(item: Item | MetaPerceptionItem, partners: _Partners) -> bool:
    """Whether a blank cell is a problem: a meta-perception needs other partners to predict,
    so, as on the web form, it is not asked (nor required) in a round of one partner."""
    if isinstance(item, MetaPerceptionItem) and len(partners.round_partners) < 2:
        return False
    return item.required


def _check_required_columns(mapped: Mapping[int, Column | str], questionnaire: Questionnaire,
                            partners: _Partners, problems: list[CellProblem]) -> None:
    present = {c if isinstance(c, str) else (c.kind, c.item_id, c.ratee_id)
               for c in mapped.values()}
    if PARTNER_COLUMN not in present:
        problems.append(CellProblem(1, PARTNER_COLUMN, _l(
            "the column is missing: every row must say which partner answered")))
    for item in _closed_items(questionnaire):
        if _answer_required(item, partners) and (LIKERT, item.id, None) not in present:
            problems.append(CellProblem(1, item.id, _l(
                "the column is missing and the item is required")))
    for question in questionnaire.open_questions:
        if question.required and (TEXT, question.id, None) not in present:
            problems.append(CellProblem(1, question.id, _l(
                "the column is missing and the question is required")))
    for rating in questionnaire.partner_ratings:
        if not rating.required:
            continue
        for partner in partners.round_partners:
            if (RATING, rating.id, partner.id) not in present:
                problems.append(CellProblem(1, f"{rating.id}{RATING_SEPARATOR}{partner.name}",
                                            _l("the column is missing and the question "
                                               "is required")))


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
            raise ValueError(_l("%(dk)s (don't know) is not an answer on this item's scale",
                                dk=DONT_KNOW))
        return None
    try:
        value = int(text)
    except ValueError:
        raise ValueError(_l("%(value)s is not on the scale %(scale)s", value=visible(text),
                            scale=describe_scale(scale))) from None
    if value not in scale.values:
        raise ValueError(_l("%(value)s is not on the scale %(scale)s", value=visible(text),
                            scale=describe_scale(scale)))
    return value


def _control_message(found: Any) -> Message:
    return _l("contains a control character (%(char)s, character %(position)s), which answers "
              "may not hold: remove it", char=found.name, position=found.position)


def _fast_codes(scale: Scale) -> dict[str, int | None]:
    """Exact cell texts that need no further checking, mapped to their compact code."""
    codes: dict[str, int | None] = {str(value): value for value in scale.values}
    if scale.dont_know is not None:
        codes.update({DONT_KNOW: _DONT_KNOW, DONT_KNOW.upper(): _DONT_KNOW})
    return codes


class _RowChecker:
    """Check one row's cells against the questionnaire and turn them into compact values.

    Most cells are an exact scale point or ``dk``: a dictionary lookup settles those; every
    other cell takes the careful path that explains what is wrong.
    """

    def __init__(self, target: ImportTarget, partners: _Partners,
                 mapped: Mapping[int, Column | str], header: Sequence[str],
                 languages: tuple[str, ...]) -> None:
        questionnaire = target.questionnaire
        self.questionnaire = questionnaire
        self.partners = partners
        self.width = len(header)
        self.unnamed = [position for position, name in enumerate(header) if not name.strip()]
        self.languages = languages
        self.default_language = languages.index(target.default_language)
        self.items = {item.id: item for item in _closed_items(questionnaire)}
        self.ratings = {r.id: r for r in questionnaire.partner_ratings}
        self.texts = {q.id: q for q in questionnaire.open_questions}
        self.partner_position = next((p for p, c in mapped.items() if c == PARTNER_COLUMN), None)
        self.language_position = next((p for p, c in mapped.items() if c == LANGUAGE_COLUMN),
                                      None)
        closed = [(p, c) for p, c in mapped.items()
                  if isinstance(c, Column) and c.kind != TEXT]
        self.closed_columns = [c for _, c in closed]
        self.closed_positions = [p for p, _ in closed]
        texts = [(p, c) for p, c in mapped.items() if isinstance(c, Column) and c.kind == TEXT]
        self.text_columns = [c for _, c in texts]
        self.text_positions = [p for p, _ in texts]
        self.scales: list[Scale] = []
        self.required: list[bool] = []
        for column in self.closed_columns:
            if column.kind == RATING:
                rating = self.ratings[column.item_id]
                self.scales.append(questionnaire.scale(rating.scale))
                self.required.append(rating.required)
            else:
                item = self.items[column.item_id]
                self.scales.append(questionnaire.scale(item.scale))
                self.required.append(_answer_required(item, partners))
        self.codes = [_fast_codes(scale) for scale in self.scales]
        for codes, required, column in zip(self.codes, self.required, self.closed_columns,
                                           strict=True):
            if not required or column.kind == RATING:  # required ratings: checked per row
                codes[""] = None
        # Cells in header order, so a row's problems read left to right as before.
        self.order = sorted([(p, i) for i, p in enumerate(self.closed_positions)]
                            + [(p, -1 - i) for i, p in enumerate(self.text_positions)])
        self.ratee = [c.ratee_id for c in self.closed_columns]
        self.partner_cache: dict[str, PartnerRef] = {}

    def check(self, number: int, cells: list[str],
              found: list[CellProblem]
              ) -> tuple[int, int, list[int | None], list[str]] | None:
        """Return (partner id, language index, closed codes, texts) or None on problems."""
        start = len(found)
        if len(cells) > self.width and any(c.strip() for c in cells[self.width:]):
            found.append(CellProblem(number, None, _l(
                "the row has %(cells)s cells but the header names only %(width)s columns",
                cells=len(cells), width=self.width)))
        if len(cells) < self.width:
            cells = cells + [""] * (self.width - len(cells))
        for position in self.unnamed:
            if cells[position].strip():
                found.append(CellProblem(number, f"{position + 1} (no name)",
                                         _l("a column without a name must stay empty")))
        partner = self._partner(number, cells, found)
        language = self._language(number, cells, found)
        codes: list[int | None] = [None] * len(self.closed_positions)
        texts = [""] * len(self.text_positions)
        own = partner.id if partner is not None else None
        for position, index in self.order:
            cell = cells[position]
            if index < 0:
                texts[-1 - index] = self._text(number, self.text_columns[-1 - index], cell,
                                               found)
                continue
            if own is not None and self.ratee[index] == own:
                if cell.strip():
                    found.append(CellProblem(number, self.closed_columns[index].name,
                                             _l("a respondent does not rate their own "
                                                "partner: leave this cell blank")))
                continue
            code = self.codes[index].get(cell, _UNKNOWN)
            codes[index] = (self._slow_closed(number, index, cell, found) if code is _UNKNOWN
                            else code)  # type: ignore[assignment]
        if partner is not None:
            self._required_ratings(number, partner, codes, found, start)
        if len(found) > start or partner is None:
            return None
        return partner.id, language, codes, texts

    def _partner(self, number: int, cells: list[str],
                 found: list[CellProblem]) -> PartnerRef | None:
        if self.partner_position is None:
            return None  # the missing column is reported once, for the header
        cell = cells[self.partner_position]
        cached = self.partner_cache.get(cell)
        if cached is not None:
            return cached
        if not cell.strip():
            found.append(CellProblem(number, PARTNER_COLUMN,
                                     _l("missing: say which partner answered")))
            return None
        control = find_forbidden(cell)
        if control is not None:
            found.append(CellProblem(number, PARTNER_COLUMN, _control_message(control)))
            return None
        partner, message = self.partners.find(cell)
        if partner is None:
            found.append(CellProblem(number, PARTNER_COLUMN, message or _l("unknown partner")))
        elif len(self.partner_cache) < 1000:
            self.partner_cache[cell] = partner
        return partner

    def _language(self, number: int, cells: list[str], found: list[CellProblem]) -> int:
        if self.language_position is None:
            return self.default_language
        cell = cells[self.language_position]
        text = cell.strip().lower()
        if not text:
            return self.default_language
        if text in self.languages:
            return self.languages.index(text)
        control = find_forbidden(cell)
        message = _control_message(control) if control is not None else _l(
            "%(value)s is not a language of this questionnaire (use one of %(languages)s)",
            value=visible(cell.strip()), languages=", ".join(self.languages))
        found.append(CellProblem(number, LANGUAGE_COLUMN, message))
        return self.default_language

    def _slow_closed(self, number: int, index: int, cell: str,
                     found: list[CellProblem]) -> int | None:
        column, scale = self.closed_columns[index], self.scales[index]
        control = find_forbidden(cell)
        if control is not None:
            found.append(CellProblem(number, column.name, _control_message(control)))
            return None
        text = cell.strip()
        if not text:
            if self.required[index] and column.kind != RATING:
                found.append(CellProblem(number, column.name, _l(
                    "an answer is required (write %(dk)s for don't know)", dk=DONT_KNOW)
                    if scale.dont_know else _l("an answer is required")))
            return None
        try:
            value = parse_point(text, scale)
        except ValueError as error:
            found.append(CellProblem(number, column.name, error.args[0]))
            return None
        return _DONT_KNOW if value is None else value

    def _text(self, number: int, column: Column, cell: str, found: list[CellProblem]) -> str:
        question = self.texts[column.item_id]
        text = cell.strip()
        if not text:
            if question.required:
                found.append(CellProblem(number, column.name, _l("an answer is required")))
            return ""
        control = find_forbidden(text)
        if control is not None:
            found.append(CellProblem(number, column.name, _control_message(control)))
            return ""
        if len(text) > question.max_length:
            found.append(CellProblem(number, column.name, _l(
                "%(length)s characters, at most %(most)s are allowed", length=len(text),
                most=question.max_length)))
        return text

    def _required_ratings(self, number: int, partner: PartnerRef, codes: list[int | None],
                          found: list[CellProblem], start: int) -> None:
        """Required ratings: every other partner of the round must be rated."""
        for index, column in enumerate(self.closed_columns):
            if (column.kind == RATING and self.required[index] and codes[index] is None
                    and column.ratee_id != partner.id
                    and not any(p.column == column.name for p in found[start:])):
                found.append(CellProblem(number, column.name, _l("an answer is required")))


# --------------------------------------------------------------------------- reading


class _Problems:
    """Collect problems: the first MAX_PROBLEMS in full, the rest only counted."""

    def __init__(self) -> None:
        self.shown: list[CellProblem] = []
        self.total = 0
        self.rows: set[int] = set()
        self.row_count = 0

    def add(self, new: Sequence[CellProblem]) -> None:
        for problem in new:
            self.total += 1
            if len(self.shown) < MAX_PROBLEMS:
                self.shown.append(problem)
            if problem.row not in self.rows:
                self.row_count += 1
                if len(self.rows) < 10 * MAX_PROBLEMS:
                    self.rows.add(problem.row)

    def raise_if_any(self) -> None:
        if self.total:
            raise PaperImportError(sorted(self.shown, key=lambda p: p.row), self.total,
                                   self.row_count)


class _Lines:
    """Decode a binary stream line by line, noting lines that are not UTF-8.

    Bad bytes become lone surrogates (``surrogateescape``) so the ``csv`` module still splits
    the row, and the cell that holds them can be named; nothing with a surrogate is stored.
    """

    def __init__(self, stream: IO[bytes], first: bytes, digest: Any) -> None:
        self.stream = stream
        self.first = first
        self.digest = digest
        self.bad = False

    def __iter__(self) -> Iterator[str]:
        digest = self.digest
        first = True
        for raw in self._raw():
            digest.update(raw)
            if first:
                first = False
                if raw.startswith(codecs.BOM_UTF8):
                    raw = raw[len(codecs.BOM_UTF8):]
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError:
                self.bad = True
                yield raw.decode("utf-8", errors="surrogateescape")

    def _raw(self) -> Iterator[bytes]:
        yield self.first  # read whole by _sniff: it ends the line or the file
        yield from self.stream


def _not_utf8(number: int, cells: list[str], header: Sequence[str]) -> CellProblem:
    for position, cell in enumerate(cells):
        for char in cell:
            if "\udc80" <= char <= "\udcff":
                name = (header[position].strip() or f"{position + 1} (no name)"
                        if position < len(header) else f"{position + 1}")
                byte = f"0x{ord(char) - 0xDC00:02X}"
                return CellProblem(number, visible(name.encode("utf-8", "replace")
                                                   .decode("utf-8")),
                                   _l("is not UTF-8 text (byte %(byte)s): %(save)s",
                                      byte=byte, save=_SAVE_AS))
    return CellProblem(number, None, _l("the row is not UTF-8 text: %(save)s", save=_SAVE_AS))


def _sniff(stream: IO[bytes]) -> tuple[bytes, str]:
    """Refuse files that are not text; return the first line and the separator it uses."""
    head = stream.readline(64 * 1024)
    for signature, what in _FILE_SIGNATURES:
        if head.startswith(signature):
            raise ImportRefused(_l("the file is not a CSV text file but %(what)s: %(save)s",
                                   what=what, save=_SAVE_AS))
    if not head.strip(b"\r\n\t ,;\xef\xbb\xbf"):
        raise ImportRefused(_l("the file is empty: the first row must name the columns"))
    if b"\x00" in head:
        raise ImportRefused(_l("the file is not a CSV text file (it holds NUL bytes in its "
                               "first row): %(save)s", save=_SAVE_AS))
    try:
        text = head.decode("utf-8-sig")
    except UnicodeDecodeError:
        if len(head) == 64 * 1024:
            raise ImportRefused(_l("the file is not a CSV text file: its first row is not "
                                   "text")) from None
        raise ImportRefused(_l("the file is not UTF-8 text: %(save)s", save=_SAVE_AS)
                            ) from None
    if len(head) == 64 * 1024 and not head.endswith(b"\n"):
        raise ImportRefused(_l("the file is not a CSV table: its first row is longer than "
                               "64 KB"))
    return head, max(_DELIMITERS, key=text.count)


def check_paper_file(target: ImportTarget, stream: IO[bytes], *, filename: str = "",
                     default_language: str | None = None,
                     progress: Callable[[int], None] | None = None,
                     rng: RandomSource | None = None) -> CheckedFile:
    """Stream and check a whole file, staging its rows; raise PaperImportError on problems.

    Runs outside any database transaction (it takes no session). ``progress`` is called with
    the number of rows read every few thousand rows, for a job that reports progress. The
    stored ids are drawn here, from ``secrets`` unless a test passes ``rng``. Raises
    ImportRefused when the file is not a CSV table at all. The returned file holds a staging
    file on disk: close it (``with``) once stored.
    """
    questionnaire = target.questionnaire
    languages = tuple(questionnaire.languages)
    if default_language and default_language in languages:
        target_language = default_language
    else:
        target_language = target.default_language
    digest = hashlib.sha256()
    first, delimiter = _sniff(stream)
    lines = _Lines(stream, first, digest)
    reader = csv.reader(lines, delimiter=delimiter)
    problems = _Problems()
    try:
        header = next(reader)
    except (csv.Error, StopIteration) as error:
        raise ImportRefused(_l("the file is not a CSV table: %(error)s", error=str(error))
                            ) from None
    partners = _Partners(target)
    found: list[CellProblem] = []
    mapped = _map_header(header, questionnaire, partners, found)
    _check_required_columns(mapped, questionnaire, partners, found)
    problems.add(found)
    checker = _RowChecker(
        dataclasses.replace(target, default_language=target_language),
        partners, mapped, header, languages)

    if len(checker.closed_columns) > MAX_CLOSED_COLUMNS:
        raise ImportRefused(_l("the file has %(count)s answer columns, more than the %(most)s "
                               "one import can hold: split it by columns",
                               count=len(checker.closed_columns), most=MAX_CLOSED_COLUMNS))
    staged_columns = [ClosedColumn(c.item_id, c.ratee_id) for c in checker.closed_columns]
    text_ids = [c.item_id for c in checker.text_columns]
    staging: Staging | None = None
    responses = 0
    number = 1
    try:
        while True:
            number += 1
            lines.bad = False
            try:
                cells = next(reader)
            except StopIteration:
                break
            except csv.Error as error:
                problems.add([CellProblem(number, None, _l(
                    "the file is not valid CSV from here on: %(error)s", error=str(error)))])
                break
            if lines.bad:
                problems.add([_not_utf8(number, cells, header)])
                continue
            if not any(cell.strip() for cell in cells):
                continue  # blank lines, e.g. at the end of a spreadsheet export
            found = []
            checked = checker.check(number, cells, found)
            if found:
                problems.add(found)
            if checked is None or problems.total:
                if staging is not None:  # nothing will be stored: free the disk at once
                    staging.close()
                    staging = None
                continue  # once anything is wrong, only checking goes on
            partner_id, language, codes, texts = checked
            if staging is None:
                staging = Staging(staged_columns, rng)
            staging.add(partner_id, languages[language], codes,
                        [(question, text) for question, text in zip(text_ids, texts,
                                                                    strict=True) if text])
            responses += 1
            if progress is not None and number % 5000 == 0:
                progress(number - 1)
        if not responses and not problems.total:
            problems.add([CellProblem(2, None,
                                      _l("the file has no answers below its header"))])
        problems.raise_if_any()
        assert staging is not None  # rows were staged, or a problem was raised
        counts = staging.finish()
    except BaseException:
        if staging is not None:
            staging.close()
        raise
    return CheckedFile(
        target=target, sha256=digest.hexdigest(), filename=filename, languages=languages,
        closed_columns=checker.closed_columns, text_columns=checker.text_columns,
        counts=counts, staging=staging, default_language=target_language)


# --------------------------------------------------------------------------- storing


def store_paper_responses(session: Session, checked: CheckedFile, *, today: date,
                          actor: User | None = None, again: bool = False,
                          confirm_closed: bool = False,
                          revision_note: str | None = None) -> ImportSummary:
    """Store a checked file as paper responses in the session's transaction; caller commits.

    Re-reads the round first and refuses (ImportRefused) when it went back to draft, changed
    its questionnaire or partners since the file was checked, or when the same file was
    imported into it before (unless ``again``). A closed round's published results change, so
    it is refused (ClosedRoundNotConfirmed) unless ``confirm_closed``; then the round is
    marked revised today, with ``revision_note``, and the audit event names the responses per
    partner before and after.

    The rows were prepared when the file was checked, so the write lock is held for a few
    set-based copies. On SQLite the staging file is attached for them when this (or
    :func:`preview_import`) begins the session's transaction; when this begins it, SQLite's
    foreign-key checks are also off until the transaction ends, every key having been checked
    here under the lock: commit (or roll back) right after.
    """
    target = checked.target
    staging = _staging_of(checked)
    writing_connection(session, staging, foreign_keys=False)
    round_ = session.get(Round, target.round_id)
    if round_ is None:
        raise ImportRefused(_l("round %(round)s no longer exists", round=target.round_id))
    if round_.status is RoundStatus.DRAFT:
        raise ImportRefused(_l("round %(round)s is still a draft: open it before importing "
                               "answers", round=round_.id))
    if (round_.questionnaire_version_id != target.questionnaire_version_id
            or frozenset(p.id for p in round_.partners) != target.round_partner_ids):
        raise ImportRefused(_l("round %(round)s changed while the file was being checked: "
                               "import the file again", round=round_.id))
    if not again and _imported_before(session, round_.id, checked.sha256):
        raise ImportRefused(_l("this file was imported into round %(round)s before; import "
                               "it again only if it holds other forms (--again)",
                               round=round_.id))
    closed = round_.status is RoundStatus.CLOSED
    note = revision_note_or_none(revision_note)
    if closed and not confirm_closed:
        raise ClosedRoundNotConfirmed(
            _l("round %(round)s is closed: importing changes its published results, which "
               "must be confirmed", round=round_.id))
    changes = partner_changes(session, checked) if closed else ()
    # Every key the copies write, checked under the lock (SQLite may not enforce them here):
    # the round is the one read above; staged partners were those of the round when checked,
    # and the round's partners are unchanged (above), so they exist.
    staged_partners = set(checked.counts.by_partner) | {
        c.ratee_id for c in checked.closed_columns if c.ratee_id is not None}
    if not staged_partners <= target.round_partner_ids:
        raise ImportRefused(_l("round %(round)s changed while the file was being checked: "
                               "import the file again", round=round_.id))

    count = checked.responses
    round_id = round_.id
    staging.copy_into(session, round_id=round_id, submitted_on=paper_date(today, round_),
                      source=SOURCE)

    mark_results_stale(session, round_id)
    details: dict[str, Any] = {}
    if closed:
        round_.results_revised_on = today
        round_.revision_note = note
        details = {
            "closed_round": True, "revision_note": note,
            "responses_before": sum(c.before for c in changes),
            "responses_after": sum(c.after for c in changes),
            # Plain text, so the audit log page shows it as it is: "Name: 3 → 5".
            "by_partner": [f"{c.name}: {c.before} \u2192 {c.after}" for c in changes]}
    record(session, actor.id if actor is not None else None, AUDIT_ACTION, round_,
           partnership_id=round_.partnership_id, responses=count, file=checked.filename,
           sha256=checked.sha256, **details)
    session.flush()
    return ImportSummary(count, checked.sha256, revised=closed)


def revision_note_or_none(note: str | None) -> str | None:
    """The note shown beside revised results, trimmed; ImportRefused says what is wrong."""
    text = (note or "").strip()
    if not text:
        return None
    if len(text) > MAX_REVISION_NOTE:
        raise ImportRefused(_l("the note is %(length)s characters long, at most %(most)s are "
                               "allowed", length=len(text), most=MAX_REVISION_NOTE))
    found = find_forbidden(text)
    if found is not None:
        raise ImportRefused(_l("the note contains a control character (%(char)s, character "
                               "%(position)s): remove it", char=found.name,
                               position=found.position))
    return text


def _staging_of(checked: CheckedFile) -> Staging:
    if checked.staging is None:
        raise RuntimeError("the checked file was closed before it was stored")
    return checked.staging


def partner_changes(session: Session, checked: CheckedFile) -> tuple[PartnerChange, ...]:
    """Responses per partner of the round now, and what the file adds to each."""
    target = checked.target
    before = dict(session.execute(
        select(Response.partner_id, func.count()).where(Response.round_id == target.round_id)
        .group_by(Response.partner_id)).all())
    added = checked.counts_by_partner()
    return tuple(PartnerChange(p.id, p.name, int(before.get(p.id, 0)), added.get(p.id, 0))
                 for p in sorted(target.partners, key=lambda p: p.name.casefold())
                 if p.id in target.round_partner_ids)


def preview_import(session: Session, checked: CheckedFile) -> ImportPreview:
    """Say what storing ``checked`` would do, reading the round's current counts.

    Called first in the session that then stores the file (a job, a confirmation), it takes
    the connection with the staging file attached, so that storing can copy set-wise.
    """
    target = checked.target
    if checked.staging is not None:
        writing_connection(session, checked.staging)
    round_ = session.get(Round, target.round_id)
    if round_ is None:
        raise ImportRefused(_l("round %(round)s no longer exists", round=target.round_id))
    counts = checked.answer_counts()
    return ImportPreview(
        round_id=round_.id, closed=round_.status is RoundStatus.CLOSED,
        responses=checked.responses, partners=partner_changes(session, checked),
        columns=tuple(checked.column_counts()), open_answers=counts["open_answers"],
        default_language=checked.default_language or target.default_language,
        languages=tuple(checked.language_counts()),
        imported_before=_imported_before(session, round_.id, checked.sha256),
        results_version=round_.results_version, sha256=checked.sha256)


def revision_of(round_: Round) -> Revision | None:
    """The revision of a round's published results, or None when they were never revised."""
    if round_.results_revised_on is None:
        return None
    return Revision(round_.results_revised_on, round_.revision_note)


def template_header(target: ImportTarget) -> list[str]:
    """The header row of an empty paper-answer file for the round, in questionnaire order.

    Ratings of other partners are named by partner name: easier to check on the forms than
    ids, and partner names are unique within a partnership.
    """
    questionnaire = target.questionnaire
    partners = sorted((p for p in target.partners if p.id in target.round_partner_ids),
                      key=lambda p: p.name.casefold())
    header = [PARTNER_COLUMN, LANGUAGE_COLUMN]
    header += [item.id for item in _closed_items(questionnaire)]
    header += [f"{rating.id}{RATING_SEPARATOR}{_reference(partner)}"
               for rating in questionnaire.partner_ratings for partner in partners]
    header += [question.id for question in questionnaire.open_questions]
    return header


def _reference(partner: PartnerRef) -> str:
    """A partner's name, or its id where a spreadsheet would read the name as a formula."""
    return str(partner.id) if partner.name.startswith(("=", "+", "-", "@")) else partner.name


# --------------------------------------------------------------------------- web uploads

# How long an uploaded file waits for its confirmation; expired files are deleted.
UPLOAD_LIFETIME = timedelta(hours=1)


@dataclass(frozen=True)
class HeldUpload:
    """An uploaded file read back for its confirmation (plain values, no ORM object)."""

    id: int
    data: bytes
    filename: str
    language: str | None
    again: bool
    sha256: str
    results_version: int


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def hold_upload(session: Session, round_: Round, actor: User, data: bytes, *, filename: str,
                language: str | None, again: bool, preview: ImportPreview,
                now: datetime | None = None) -> str:
    """Keep a checked file until it is confirmed; return the random token that names it.

    Kept in the database so that any app server can take the confirmation; only the token's
    hash is stored. A newer upload replaces the user's previous one for the round (so nobody
    piles up files), and expired uploads of everyone are deleted on the way.
    """
    now = now or utcnow()
    session.execute(delete(PaperUpload).where(
        (PaperUpload.created_at < now - UPLOAD_LIFETIME)
        | ((PaperUpload.round_id == round_.id) & (PaperUpload.user_id == actor.id))))
    token = secrets.token_urlsafe(32)
    session.add(PaperUpload(token_hash=_token_hash(token), round_id=round_.id,
                            user_id=actor.id, filename=filename[:120], language=language,
                            again=again, sha256=preview.sha256,
                            results_version=preview.results_version, data=data,
                            created_at=now))
    session.flush()
    return token


def find_upload(session: Session, round_: Round, actor: User, token: str,
                now: datetime | None = None) -> HeldUpload | None:
    """The upload named by ``token`` if it is this user's, for this round and not expired."""
    now = now or utcnow()
    upload = session.scalar(select(PaperUpload).where(
        PaperUpload.token_hash == _token_hash(token), PaperUpload.round_id == round_.id,
        PaperUpload.user_id == actor.id, PaperUpload.created_at >= now - UPLOAD_LIFETIME))
    if upload is None:
        return None
    return HeldUpload(upload.id, upload.data, upload.filename, upload.language, upload.again,
                      upload.sha256, upload.results_version)


def release_upload(session: Session, upload: HeldUpload) -> bool:
    """Delete a held upload; False when another request took it first (a double click).

    Run in the transaction that stores the file: a second confirmation waits for the first
    to commit (PostgreSQL row lock, SQLite's write lock) and then finds nothing to delete.
    """
    result = session.execute(delete(PaperUpload).where(PaperUpload.id == upload.id))
    return bool(getattr(result, "rowcount", 0))


def import_paper_responses(session: Session, round_: Round, data: bytes | IO[bytes], *,
                           today: date, actor: User | None = None, filename: str = "",
                           default_language: str | None = None, again: bool = False,
                           rng: RandomSource | None = None, confirm_closed: bool = False,
                           revision_note: str | None = None) -> ImportSummary:
    """Check a file and store it in the caller's session, all in one go; the caller commits.

    For small files and callers that hold one session anyway. A caller that must not hold the
    write lock while a large file is read (the CLI, a background job) runs
    :func:`load_import_target`, :func:`check_paper_file` and :func:`store_paper_responses`
    itself, ending the read before checking. Raises ImportRefused or PaperImportError;
    nothing is written in either case.
    """
    target = load_import_target(session, round_)
    stream = io.BytesIO(data) if isinstance(data, bytes | bytearray) else data
    with check_paper_file(target, stream, filename=filename,
                          default_language=default_language, rng=rng) as checked:
        return store_paper_responses(session, checked, today=today, actor=actor, again=again,
                                     confirm_closed=confirm_closed,
                                     revision_note=revision_note)


def paper_date(today: date, round_: Round) -> date:
    """The week's Monday, as for web answers, kept within the round's dates."""
    stored = submission_date(today, round_)
    if round_.closes_on is not None and stored > round_.closes_on:
        return round_.closes_on
    return stored


def _imported_before(session: Session, round_id: int, digest: str) -> bool:
    events = session.scalars(select(AuditEvent).where(
        AuditEvent.action == AUDIT_ACTION, AuditEvent.object_type == "Round",
        AuditEvent.object_id == str(round_id)))
    return any((event.details or {}).get("sha256") == digest for event in events)
