"""Downloads of a round: results tables, respondent-level answers and free text.

Everything here reads the published snapshot of ``app.services.results`` and applies the same
anonymity rules as the pages:

* **Results tables** are the snapshot's numbers only; a suppressed figure is written as the
  text "fewer than k responses" (:func:`app.results.words.suppressed`, the pages' wording),
  never as a number.
* **Answers** (one row per response) are given only for partners that the snapshot shows and
  that have at least ``k`` responses, in random order, numbered afresh, without response ids,
  dates or languages; "don't know" is ``dk``. They are offered for closed rounds only: during
  fieldwork two downloads a response apart would show exactly what the newest respondent said,
  which is what the snapshot's publication rule prevents for the figures.
* **Comments** stand alone: no row number or other key shared with the answers file, shuffled
  on their own. A partner is named only when it is shown in the snapshot and its group reaches
  the comment threshold (:func:`analysis.privacy.comment_groups`); the comments of all
  other partners are pooled without a label, and only when the pool reaches the threshold too.

Every text cell is neutralised against spreadsheet formula injection (:func:`neutralise`);
numbers stay numbers. CSV files come in two styles (:data:`CSV_STYLES`): the standard one
(comma, decimal point) and one that Excel set to Indonesian opens as columns (semicolon,
decimal comma); the results tables also come as a zip with one CSV file per table. Decimals in
CSV are written with :data:`CSV_DECIMALS` places: enough for any further computation on
1-5 scales, and the same text whichever database or platform computed them.
"""

from __future__ import annotations

import csv
import io
import math
import random
import re
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask_babel import force_locale, gettext
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from analysis.language import p_method_sentence, reliability_choice_sentence
from analysis.privacy import comment_groups
from app.i18n import SECTOR_LABELS
from app.models import Response, Round, RoundStatus, User
from app.questionnaires import Questionnaire
from app.respond.items import DONT_KNOW
from app.results import words
from app.results.snapshots import has_results
from app.services.answers import answers_frame, open_answers_frame, ratings_frame
from app.services.audit import record
from app.services.metaperception import scored_answers
from app.services.questionnaires import definition_of
from app.services.results import round_results_for
from app.text_hygiene import neutralise_invisible

Cell = str | int | float | None

# A spreadsheet reads a cell starting with one of these as a formula (or, for tab, CR and NUL,
# may drop the character and read what follows as one). Fullwidth forms are included because
# some spreadsheet locales fold them to the ASCII signs.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\x00", "＝", "＋", "－", "＠")
ESCAPE = "'"

DATASETS = ("results", "answers", "comments")
FORMATS = ("csv", "zip", "xlsx")
# A zip of one CSV per table only makes sense for the download made of several tables.
MULTI_TABLE_FORMATS = frozenset({"zip"})
MIMETYPES = {
    "csv": "text/csv; charset=utf-8",
    "zip": "application/zip",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
CSV_DECIMALS = 4


@dataclass(frozen=True)
class CsvStyle:
    """How a CSV file separates fields and writes the decimal point."""

    key: str
    delimiter: str
    decimal: str


STANDARD_CSV = CsvStyle("standard", ",", ".")
EXCEL_ID_CSV = CsvStyle("excel-id", ";", ",")
CSV_STYLES = {style.key: style for style in (STANDARD_CSV, EXCEL_ID_CSV)}
# Datasets whose rows come from individual responses: only once fieldwork is over.
RESPONSE_LEVEL = frozenset({"answers", "comments"})
ROW_COLUMN = "row"
PARTNER_COLUMN = "partner"
RATING_SEPARATOR = "@"
_SHEET_TITLE_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_SHEET_TITLE_MAX = 31


class ExportRefused(ValueError):
    """This download is not available (yet); ``str(error)`` is a message for the user."""


@dataclass(frozen=True)
class Table:
    """One table of a download: a sheet of the XLSX file, a section of the CSV file."""

    key: str
    title: str
    columns: tuple[str, ...]
    rows: list[list[Cell]] = field(default_factory=list)


@dataclass(frozen=True)
class Export:
    """A finished download."""

    filename: str
    mimetype: str
    body: bytes
    rows: int


# --------------------------------------------------------------------------- cells


def neutralise(value: Cell) -> Cell:
    """Return a cell that no spreadsheet runs as a formula; numbers are returned unchanged.

    Text starting with a formula trigger gets a leading ``'``. Text that already starts with
    ``'`` gets one too, so that removing one leading ``'`` from any text cell that has one
    always gives the original text back.
    """
    if isinstance(value, bool):
        raise TypeError("write booleans as words, not as cells")
    if isinstance(value, str):
        # Bidi overrides and zero-width characters would make the cell read differently from
        # what it holds: shown as <U+202E> in exports (see app.text_hygiene).
        value = neutralise_invisible(value)
        if value.startswith((*FORMULA_TRIGGERS, ESCAPE)):
            return ESCAPE + value
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, str | int | float):
        return value
    raise TypeError(f"a cell holds text, a number or nothing, not {type(value).__name__}")


def restore(cell: str) -> str:
    """Undo :func:`neutralise` on a text cell read back from an export."""
    return cell[1:] if cell.startswith(ESCAPE) else cell


def xlsx_text(value: str) -> str:
    """Make text fit XLSX: drop the control characters XML cannot hold, and write line ends as
    LF (XML readers turn a bare CR into LF anyway); tabs stay."""
    return ILLEGAL_CHARACTERS_RE.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))


# --------------------------------------------------------------------------- writers


def to_csv(tables: Sequence[Table], *, sections: bool | None = None,
           style: CsvStyle = STANDARD_CSV) -> str:
    """Write tables as RFC 4180 CSV (every cell quoted, CRLF line ends).

    With several tables (or ``sections=True``) each one starts with its title on a line of its
    own and ends with an empty line, so the file opens as readable blocks in a spreadsheet.
    """
    sections = len(tables) > 1 if sections is None else sections
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n",
                        delimiter=style.delimiter)
    for index, table in enumerate(tables):
        if sections:
            if index:
                writer.writerow([])
            writer.writerow([neutralise(table.title)])
        writer.writerow([neutralise(column) for column in table.columns])
        writer.writerows([csv_cell(cell, style) for cell in row] for row in table.rows)
    return out.getvalue()


def csv_cell(value: Cell, style: CsvStyle = STANDARD_CSV) -> Cell:
    """A neutralised cell with decimals written to :data:`CSV_DECIMALS` places in ``style``."""
    value = neutralise(value)
    if isinstance(value, float):
        text = f"{value:.{CSV_DECIMALS}f}".rstrip("0").rstrip(".")
        text = "0" if text in {"-0", ""} else text
        return text.replace(".", style.decimal)
    return value


def to_zip(tables: Sequence[Table], *, style: CsvStyle = STANDARD_CSV) -> bytes:
    """One CSV file per table in a zip, numbered in the order of the results pages."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for number, table in enumerate(tables, start=1):
            # A fixed timestamp: the same tables always give the same bytes.
            info = zipfile.ZipInfo(f"{number:02d}-{table.key}.csv", date_time=(2000, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, to_csv([table], sections=False, style=style)
                             .encode("utf-8-sig"))
    return buffer.getvalue()


def formats_for(dataset: str) -> tuple[str, ...]:
    """The file formats offered for a dataset."""
    if dataset == "results":
        return FORMATS
    return tuple(fmt for fmt in FORMATS if fmt not in MULTI_TABLE_FORMATS)


def to_xlsx(tables: Sequence[Table]) -> bytes:
    """Write tables as an XLSX workbook, one sheet each, header row in bold."""
    workbook = Workbook(write_only=True)
    used: set[str] = set()
    bold = Font(bold=True)
    for table in tables:
        sheet = workbook.create_sheet(title=_sheet_title(table.title or table.key, used))
        header = []
        for column in table.columns:
            cell = WriteOnlyCell(sheet, value=_xlsx_cell(column))
            cell.font = bold
            header.append(cell)
        sheet.append(header)
        for row in table.rows:
            sheet.append([_xlsx_cell(value) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _xlsx_cell(value: Cell) -> Cell:
    if isinstance(value, str):
        value = xlsx_text(value)
    return neutralise(value)


def _sheet_title(title: str, used: set[str]) -> str:
    """A valid, unique sheet name: at most 31 characters, none of ``[]:*?/\\``."""
    base = _SHEET_TITLE_FORBIDDEN.sub(" ", xlsx_text(title)).strip().strip("'") or "sheet"
    base = base[:_SHEET_TITLE_MAX]
    candidate, number = base, 2
    while candidate.casefold() in used:
        suffix = f" ({number})"
        candidate = base[:_SHEET_TITLE_MAX - len(suffix)] + suffix
        number += 1
    used.add(candidate.casefold())
    return candidate


# --------------------------------------------------------------------------- results tables


def results_tables(snapshot: Mapping[str, Any], lang: str) -> list[Table]:
    """Turn a round's snapshot dict into the tables of the results download, in ``lang``."""
    with force_locale(lang):
        return _ResultsWriter(snapshot, lang).tables()


class _ResultsWriter:
    """Reads one snapshot; each method returns one table with translated headers."""

    def __init__(self, snapshot: Mapping[str, Any], lang: str) -> None:
        self.snapshot = snapshot
        self.lang = lang
        self.k = int(snapshot["meta"]["k"])
        self.hidden = words.suppressed(self.k)
        self.partners = {row["partner_id"]: row for row in
                         snapshot["response_counts"]["partners"]}

    def tables(self) -> list[Table]:
        return [self.response_counts(), self.scores(), self.partner_differences(),
                self.pairwise(), self.perception_gaps(), self.agreement(), self.reliability(),
                self.rating_matrix(), self.meta_perception()]

    # helpers

    def text(self, value: Any) -> str:
        """A ``{"id": ..., "en": ...}`` text in the export's language."""
        return words.text(value, self.lang)

    def name(self, partner_id: Any) -> str:
        row = self.partners.get(partner_id)
        return row["name"] if row else str(partner_id)

    def band(self, band: Mapping[str, Any] | None) -> str:
        return self.text(band["label"]) if band else ""

    def yes_no(self, value: Any) -> str:
        if value is None:
            return ""
        return gettext("yes") if value else gettext("no")

    def numbers(self, row: Mapping[str, Any] | None, keys: Iterable[str],
                suppressed: bool) -> list[Cell]:
        if suppressed:
            return [self.hidden for _ in keys]
        row = row or {}
        return [row.get(key) for key in keys]

    # tables

    def response_counts(self) -> Table:
        counts = self.snapshot["response_counts"]
        total = counts["partnership"]
        rows: list[list[Cell]] = [[gettext("Partnership (all partners)"), "",
                                   self.hidden if total["suppressed"] else total["n"]]]
        for row in counts["partners"]:
            sector = SECTOR_LABELS.get(row.get("sector") or "", row.get("sector") or "")
            rows.append([row["name"], str(sector),
                         self.hidden if row["suppressed"] else row["n"]])
        return Table("response_counts", gettext("Responses"),
                     (gettext("Partner"), gettext("Sector"), gettext("Responses")), rows)

    def scores(self) -> Table:
        stats = ("n", "mean", "sd", "median", "share_favourable", "ci_low", "ci_high")
        columns = (gettext("Dimension"), gettext("Partner"), gettext("Responses"),
                   gettext("Mean"), gettext("Standard deviation"), gettext("Median"),
                   gettext("Share favourable"), gettext("CI low"), gettext("CI high"),
                   gettext("CI method"), gettext("Band"), gettext("Partner-weighted mean"),
                   gettext("Summary"))
        rows: list[list[Cell]] = []
        for table in self.snapshot["scores"]:
            dimension = self.text(table["label"])
            block = table["partnership"]
            hidden = bool(block["suppressed"])
            pooled = block.get("respondent_weighted") or {}
            weighted = block.get("partner_weighted") or {}
            rows.append([dimension, gettext("Partnership (all partners)"),
                         *self.numbers(pooled, stats, hidden),
                         "" if hidden else (pooled.get("ci_method") or ""),
                         "" if hidden else self.band(pooled.get("band")),
                         self.hidden if hidden else weighted.get("mean"),
                         self.text(block.get("sentence") or pooled.get("sentence"))])
            for row in table["partners"]:
                hidden = bool(row["suppressed"])
                rows.append([dimension, row["name"], *self.numbers(row, stats, hidden),
                             "" if hidden else (row.get("ci_method") or ""),
                             "" if hidden else self.band(row.get("band")), None,
                             self.text(row.get("sentence"))])
        return Table("scores", gettext("Scores"), columns, rows)

    def partner_differences(self) -> Table:
        columns = (gettext("Dimension"), gettext("Test"), gettext("Partners compared"),
                   gettext("Responses"), gettext("Statistic"), gettext("Degrees of freedom"),
                   gettext("p-value"), gettext("Adjusted p-value"), gettext("Effect size"),
                   gettext("Effect size measure"), gettext("Summary"))
        rows: list[list[Cell]] = [
            [self.text(row.get("label")), row.get("test") or "",
             ", ".join(self.name(g) for g in row.get("groups") or []), row.get("n"),
             row.get("statistic"), row.get("df"), row.get("p_value"), row.get("p_adjusted"),
             row.get("effect_size"), row.get("effect_size_name") or "",
             self.text(row.get("sentence"))]
            for row in self.snapshot["partner_differences"]
        ]
        return Table("partner_differences", gettext("Partner differences"), columns, rows)

    def pairwise(self) -> Table:
        columns = (gettext("Dimension"), gettext("Partner A"), gettext("Partner B"),
                   gettext("Responses A"), gettext("Responses B"), "z", gettext("p-value"),
                   gettext("Adjusted p-value"))
        rows: list[list[Cell]] = []
        for row in self.snapshot["partner_differences"]:
            for pair in row.get("pairs") or []:
                rows.append([self.text(row.get("label")), self.name(pair["group_a"]),
                             self.name(pair["group_b"]), pair.get("n_a"), pair.get("n_b"),
                             pair.get("z"), pair.get("p_value"), pair.get("p_adjusted")])
        return Table("pairwise", gettext("Pairwise comparisons"), columns, rows)

    def perception_gaps(self) -> Table:
        columns = (gettext("Level"), gettext("Dimension or statement"),
                   gettext("Highest partner"), gettext("Highest mean"),
                   gettext("Lowest partner"), gettext("Lowest mean"), gettext("Gap"),
                   gettext("Responses"), gettext("p-value"), gettext("Adjusted p-value"),
                   gettext("Summary"))
        gaps = self.snapshot["perception_gaps"]
        rows: list[list[Cell]] = []
        for level, label in (("dimensions", gettext("Dimension")),
                             ("items", gettext("Statement"))):
            for row in gaps.get(level) or []:
                rows.append([label, self.text(row.get("label")),
                             self.name(row["high_group"]) if row.get("high_group") is not None
                             else "", row.get("high_mean"),
                             self.name(row["low_group"]) if row.get("low_group") is not None
                             else "", row.get("low_mean"), row.get("gap"), row.get("n"),
                             row.get("p_value"), row.get("p_adjusted"),
                             self.text(row.get("sentence"))])
        return Table("perception_gaps", gettext("Perception gaps"), columns, rows)

    def agreement(self) -> Table:
        columns = (gettext("Partner"), gettext("Dimension"), gettext("Responses"),
                   "rwg(j)", gettext("rwg(j), Lindell"), gettext("Share low"),
                   gettext("Share high"), gettext("Split"), gettext("Summary"))
        rows: list[list[Cell]] = [
            [row.get("name") or self.name(row.get("partner_id")), self.text(row.get("label")),
             row.get("n"), row.get("rwg_j"), row.get("rwg_j_lindell"), row.get("share_low"),
             row.get("share_high"), self.yes_no(row.get("split")),
             self.text(row.get("sentence"))]
            for row in self.snapshot["agreement"]
        ]
        return Table("agreement", gettext("Agreement within partners"), columns, rows)

    def reliability(self) -> Table:
        columns = (gettext("Dimension"), gettext("Cronbach's alpha"), gettext("CI low"),
                   gettext("CI high"), gettext("McDonald's omega"), gettext("Omega CI low"),
                   gettext("Omega CI high"), gettext("Responses"), gettext("Complete responses"),
                   gettext("Statements"), gettext("Statements that lower alpha"),
                   gettext("Summary"), gettext("Which to trust"))
        rows: list[list[Cell]] = []
        for row in self.snapshot["reliability"]:
            choice = reliability_choice_sentence(row)
            rows.append([self.text(row.get("label")), row.get("alpha"), row.get("ci_low"),
                         row.get("ci_high"), row.get("omega"), row.get("omega_ci_low"),
                         row.get("omega_ci_high"), row.get("n"), row.get("n_complete"),
                         row.get("k"), ", ".join(row.get("items_raise_alpha") or []),
                         self.text(row.get("sentence")), self.text(choice) if choice else ""])
        return Table("reliability", gettext("Reliability"), columns, rows)

    def rating_matrix(self) -> Table:
        columns = (gettext("Statement"), gettext("Rating partner"), gettext("Rated partner"),
                   gettext("Ratings"), gettext("Mean"))
        rows: list[list[Cell]] = []
        for matrix in self.snapshot.get("rating_matrix") or []:
            statement = self.text(matrix.get("label"))
            for cell in matrix.get("cells") or []:
                hidden = bool(cell.get("suppressed"))
                rows.append([statement, self.name(cell["rater_partner_id"]),
                             self.name(cell["ratee_partner_id"]),
                             *self.numbers(cell, ("n", "mean"), hidden)])
        return Table("rating_matrix", gettext("Ratings of partners by partners"), columns, rows)

    def meta_perception(self) -> Table:
        columns = (gettext("Question"), gettext("Rated"), gettext("Partner"),
                   gettext("Predictions"), gettext("Predicted"), gettext("Actual answers"),
                   gettext("Actual (other partners)"), gettext("Difference"),
                   gettext("p-value"), gettext("Adjusted p-value"), gettext("p-value method"),
                   gettext("Summary"))
        figures = ("n_predicted", "predicted_mean", "n_actual", "actual_mean", "difference",
                   "p_value", "p_adjusted")
        rows: list[list[Cell]] = []
        for entry in self.snapshot.get("meta_perception") or []:
            question, target = self.text(entry["label"]), self.text(entry["target_label"])
            for row in [*entry["partners"], *([entry["partnership"]]
                                             if entry.get("partnership") else [])]:
                hidden = bool(row.get("suppressed"))
                who = (gettext("Partnership (all partners)") if row.get("partner_id") is None
                       else self.name(row["partner_id"]))
                method = p_method_sentence(row) if row.get("p_value") is not None else None
                rows.append([question, target, who, *self.numbers(row, figures, hidden),
                             "" if hidden or method is None else self.text(method),
                             self.text(row.get("sentence"))])
        return Table("meta_perception", gettext("Meta-perception"), columns, rows)


# --------------------------------------------------------------------------- respondent level


def shown_partner_ids(snapshot: Mapping[str, Any]) -> set[int]:
    """Partners the snapshot shows with at least ``k`` responses: the only ones exported."""
    k = int(snapshot["meta"]["k"])
    return {row["partner_id"] for row in snapshot["response_counts"]["partners"]
            if not row["suppressed"] and (row["n"] or 0) >= k}


def answers_table(session: Session, round_: Round, snapshot: Mapping[str, Any], *,
                  rng: random.Random | None = None) -> Table:
    """One row per response of the shown partners: item ids as columns, rows shuffled.

    Partner ratings are columns ``<rating item>@<partner name>``, as the paper import reads
    them. The row number is given after shuffling, so it says nothing about the response.
    """
    questionnaire = definition_of(round_.questionnaire_version)
    shown = shown_partner_ids(snapshot)
    names = {partner.id: partner.name for partner in round_.partners}
    responses = [(rid, pid) for rid, pid in session.execute(
        select(Response.id, Response.partner_id).where(Response.round_id == round_.id))
        if pid in shown]
    # Meta-perception answers are stored like item answers under their own ids.
    item_columns = [item.id for item in questionnaire.items]
    item_columns += [meta.id for meta in questionnaire.meta_perceptions]
    rating_columns = {(rating.id, pid): f"{rating.id}{RATING_SEPARATOR}{name}"
                      for rating in questionnaire.partner_ratings
                      for pid, name in sorted(names.items(), key=lambda p: p[1].casefold())}
    cells: dict[str, dict[str, Cell]] = {rid: {} for rid, _ in responses}
    answers = answers_frame(session, [round_.id])
    for rid, item, value in zip(answers["response_id"], answers["item_id"], answers["value"],
                                strict=True):
        if rid in cells:
            cells[rid][str(item)] = _answer_cell(value)
    ratings = ratings_frame(session, [round_.id])
    for rid, item, ratee, value in zip(ratings["response_id"], ratings["item_id"],
                                       ratings["ratee_partner_id"], ratings["value"],
                                       strict=True):
        column = rating_columns.get((str(item), int(ratee)))
        if rid in cells and column is not None:
            cells[rid][column] = _answer_cell(value)
    # Each response's scores by the questionnaire's own rules (dimensions, total, bands), so a
    # coordinator can check any score by hand; they travel in the same shuffled row.
    scored = questionnaire.respondent_scores(
        scored_answers(answers, questionnaire.items_frame())).set_index("response_id")
    score_columns = [c for c in scored.columns if c not in ("round_id", "partner_id")]
    for rid, values in zip(scored.index, scored[score_columns].itertuples(index=False),
                           strict=True):
        if rid in cells:
            cells[rid].update({column: _score_cell(value)
                               for column, value in zip(score_columns, values, strict=True)})
    (rng or random.SystemRandom()).shuffle(responses)
    columns = (ROW_COLUMN, PARTNER_COLUMN, *item_columns, *rating_columns.values(),
               *score_columns)
    rows: list[list[Cell]] = []
    for number, (rid, pid) in enumerate(responses, start=1):
        row = cells[rid]
        rows.append([number, names.get(pid, str(pid)), *(row.get(c) for c in columns[2:])])
    return Table("answers", "answers", columns, rows)


def _score_cell(value: Any) -> Cell:
    """A score (float), a band id (text) or nothing (too few answers)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, int | float):
        return float(value)
    return str(value)


def _answer_cell(value: float) -> Cell:
    return DONT_KNOW if value is None or math.isnan(value) else int(value)


def comments_table(session: Session, round_: Round, snapshot: Mapping[str, Any], lang: str, *,
                   rng: random.Random | None = None) -> Table:
    """The free-text answers, shuffled, named by partner only where the group is big enough."""
    questionnaire = definition_of(round_.questionnaire_version)
    hidden = {row["partner_id"] for row in snapshot["response_counts"]["partners"]
              if row["suppressed"]}
    counts = dict(session.execute(
        select(Response.partner_id, func.count()).where(Response.round_id == round_.id)
        .group_by(Response.partner_id)).all())
    named_ids, pool_shown = comment_groups(
        {pid: None if pid in hidden else n for pid, n in counts.items()},
        sum(counts.values()), int(snapshot["meta"]["k"]))
    named = set(named_ids)
    pooled = {pid for pid, n in counts.items() if n > 0 and pid not in named}
    names = {partner.id: partner.name for partner in round_.partners}
    with force_locale(lang):
        pooled_label = gettext("Other partners, pooled")
        columns = (gettext("Question"), gettext("Question text"), gettext("Partner"),
                   gettext("Comment"))
        title = gettext("Comments")
    frame = open_answers_frame(session, [round_.id])
    rows: list[list[Cell]] = []
    for pid, question_id, text in zip(frame["partner_id"], frame["question_id"], frame["text"],
                                      strict=True):
        if pid in named:
            label = names.get(pid, str(pid))
        elif pid in pooled and pool_shown:
            label = pooled_label
        else:
            continue
        rows.append([question_id, _question_text(questionnaire, question_id, lang), label,
                     text])
    (rng or random.SystemRandom()).shuffle(rows)
    return Table("comments", title, columns, rows)


def _question_text(questionnaire: Questionnaire, question_id: str, lang: str) -> str:
    try:
        return questionnaire.open_question(question_id).text.get(lang)
    except KeyError:
        return ""


# --------------------------------------------------------------------------- downloads


def available(round_: Round, dataset: str) -> bool:
    """Whether ``dataset`` may be downloaded for a round in its current status."""
    if round_.status is RoundStatus.DRAFT:
        return False
    return dataset not in RESPONSE_LEVEL or round_.status is RoundStatus.CLOSED


def build_export(session: Session, round_: Round, dataset: str, fmt: str, lang: str, *,
                 rng: random.Random | None = None, style: CsvStyle = STANDARD_CSV) -> Export:
    """Make one download; raises ExportRefused when it is not available for this round."""
    if dataset not in DATASETS or fmt not in formats_for(dataset):
        raise ValueError(f"unknown export {dataset!r} as {fmt!r}")
    with force_locale(lang):
        if not available(round_, dataset):
            raise ExportRefused(
                gettext("Answers and comments can be downloaded once the round is closed.")
                if round_.status is not RoundStatus.DRAFT
                else gettext("A draft round has nothing to download yet."))
        if not has_results(session, round_):
            raise ExportRefused(gettext("This round has no responses yet."))
    snapshot = round_results_for(session, round_)
    if dataset == "results":
        tables = results_tables(snapshot, lang)
    elif dataset == "answers":
        tables = [answers_table(session, round_, snapshot, rng=rng)]
    else:
        tables = [comments_table(session, round_, snapshot, lang, rng=rng)]
    if fmt == "xlsx":
        body = to_xlsx(tables)
    elif fmt == "zip":
        body = to_zip(tables, style=style)
    else:
        body = to_csv(tables, style=style).encode("utf-8-sig")
    rows = sum(len(table.rows) for table in tables)
    return Export(export_filename(round_, dataset, fmt, style), MIMETYPES[fmt], body, rows)


def export_filename(round_: Round, dataset: str, fmt: str,
                    style: CsvStyle = STANDARD_CSV) -> str:
    """A file name made by the server from ids only (no user-supplied text)."""
    if dataset not in DATASETS or fmt not in FORMATS:
        raise ValueError(f"unknown export {dataset!r} as {fmt!r}")
    suffix = "" if style is STANDARD_CSV or fmt == "xlsx" else f"-{style.key}"
    return f"mitra-sehat-round-{int(round_.id)}-{dataset}{suffix}.{fmt}"


def record_export(session: Session, user: User | None, round_: Round, dataset: str, fmt: str,
                  rows: int, *, via: str = "web") -> None:
    """Write who downloaded what into the audit log (in the caller's transaction)."""
    record(session, user.id if user is not None else None, f"export.{dataset}", round_,
           partnership_id=round_.partnership_id, format=fmt, rows=rows, via=via)
    session.flush()
