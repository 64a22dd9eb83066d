"""A whole partnership as canonical JSON, and that JSON imported into another instance.

The file carries what another instance needs to show the same results: the partnership and
its partners, rounds (with their partners), the questionnaire versions they use (matched by
slug and version on import, imported when missing), the anonymous responses with their answers,
open answers and partner ratings, and the workshop area (workshops, attendance, actions,
owners, checklists, commitments, reviews: every table of :mod:`app.models.workshops`, every
column its mapper has, so columns added there later travel too). Result snapshots are not
exported: the importing instance computes them.

Anonymity: no access codes, no drafts, no invitations; responses keep only their random id,
round, partner, language, submission date and source, listed in an order that follows their
content, not their arrival. Staff records (users, memberships, audit) stay
behind: a column pointing at a user is exported as null.

Canonical: ``json.dumps(sort_keys=True, ensure_ascii=False, indent=1)``, rows in a stable
order, references local to the file, creation and update times left out, and a
``schema_version``. The same database exports the same bytes.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, Date, DateTime, Enum, Table, insert, or_, select
from sqlalchemy.orm import Session

from app.db import Base
from app.models import Partnership, QuestionnaireVersion, Response
from app.models import workshops as workshop_models

__all__ = [
    "FORMAT",
    "SCHEMA_VERSION",
    "ImportError_",
    "ImportSummary",
    "PartnershipImportError",
    "dumps",
    "export_partnership",
    "import_partnership",
    "load_file",
]

FORMAT = "mitra-sehat/partnership"
SCHEMA_VERSION = 1
# Never exported: set afresh by the importing instance.
_SKIPPED_COLUMNS = frozenset({"created_at", "updated_at"})
# Respondent tables: only these columns, whatever else the tables may hold (no times of day,
# no ids that could be matched against another copy).
_RESPONSE_COLUMNS = ("round_id", "partner_id", "language", "submitted_on", "source")
_ANSWER_COLUMNS = ("response_id", "item_id", "value")
_RATING_COLUMNS = ("response_id", "item_id", "ratee_partner_id", "value")
_OPEN_ANSWER_COLUMNS = ("round_id", "partner_id", "question_id", "language", "text")
_VERSION_COLUMNS = ("slug", "version", "title", "content_hash", "definition")


class PartnershipImportError(ValueError):
    """A file that cannot be imported: which file, where in it, and why."""

    def __init__(self, file: str, path: str, reason: str) -> None:
        super().__init__(f"{file}: {path}: {reason}")
        self.file, self.path, self.reason = file, path, reason


ImportError_ = PartnershipImportError  # short alias for callers


@dataclass(frozen=True)
class ImportSummary:
    partnership_id: int
    name: str
    counts: dict[str, int]
    versions_imported: list[str]


def _tables() -> dict[str, Table]:
    return dict(Base.metadata.tables)


def _workshop_tables() -> list[Table]:
    """Every table mapped in app.models.workshops, parents before children."""
    tables = {
        mapper.local_table.name: mapper.local_table
        for mapper in Base.registry.mappers
        if mapper.class_.__module__ == workshop_models.__name__
    }
    ordered: list[Table] = []
    pending = dict(sorted(tables.items()))
    while pending:
        ready = [
            name for name, table in pending.items()
            if all(fk.column.table.name not in pending or fk.column.table.name == name
                   for fk in table.foreign_keys)
        ]
        if not ready:
            raise RuntimeError(f"workshop tables reference each other in a cycle: {[*pending]}")
        for name in ready:
            ordered.append(pending.pop(name))
    return ordered


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _int_pk(table: Table) -> str | None:
    keys = list(table.primary_key.columns)
    if len(keys) == 1 and keys[0].type.python_type is int:
        return keys[0].name
    return None


class _Refs:
    """Local references: (table, source id) -> 1, 2, ... in the file."""

    def __init__(self) -> None:
        self.by_table: dict[str, dict[Any, int]] = {}

    def assign(self, table: str, ids: Iterable[Any]) -> None:
        self.by_table[table] = {source: n for n, source in enumerate(ids, start=1)}

    def ref(self, table: str, source: Any) -> int | None:
        return None if source is None else self.by_table[table][source]


def _generic_rows(session: Session, table: Table, refs: _Refs) -> list[dict[str, Any]]:
    """Rows of a workshop-area table that hang off what is already exported."""
    scope = {"rounds", "partners", *(t.name for t in _workshop_tables())}
    linked = [fk for fk in table.foreign_keys
              if fk.column.table.name in scope and fk.column.table.name != table.name]
    pk = _int_pk(table)
    clauses = [fk.parent.in_(list(refs.by_table.get(fk.column.table.name, {})))
               for fk in linked]
    if not clauses:
        return []
    query = select(table).where(or_(*clauses)).order_by(*table.primary_key.columns)
    # Every link to an exported table must land inside this partnership.
    rows = [
        row for row in (dict(r._mapping) for r in session.execute(query))
        if all(row[fk.parent.name] is None
               or row[fk.parent.name] in refs.by_table.get(fk.column.table.name, {})
               for fk in linked)
    ]
    if pk is not None:
        refs.assign(table.name, [r[pk] for r in rows])
    out = []
    for row in rows:
        record: dict[str, Any] = {}
        for column in table.columns:
            if column.name in _SKIPPED_COLUMNS:
                continue
            value = row[column.name]
            if column.name == pk:
                record["ref"] = refs.ref(table.name, value)
                continue
            targets = [fk.column.table.name for fk in column.foreign_keys]
            if targets:
                target = targets[0]
                if target in refs.by_table or target == table.name:
                    value = None if value is None else refs.by_table[target].get(value)
                elif target == "questionnaire_versions":
                    value = refs.ref(target, value) if value in refs.by_table.get(
                        target, {}) else None
                else:
                    value = None  # a user, or anything else that stays behind
            record[column.name] = _plain(value)
        out.append(record)
    return out


def export_partnership(session: Session, partnership_id: int) -> dict[str, Any]:
    """Return the partnership as the canonical document (see the module docstring)."""
    tables = _tables()
    partnership = session.get(Partnership, partnership_id)
    if partnership is None:
        raise LookupError(f"no partnership with id {partnership_id}")
    refs = _Refs()
    doc: dict[str, Any] = {"format": FORMAT, "schema_version": SCHEMA_VERSION}
    p_table = tables["partnerships"]
    doc["partnership"] = {
        c.name: _plain(getattr(partnership, c.name))
        for c in p_table.columns if c.name not in ("id", *_SKIPPED_COLUMNS)
    }
    partners = sorted(partnership.partners, key=lambda p: p.id)
    refs.assign("partners", [p.id for p in partners])
    partner_table = tables["partners"]
    doc["partners"] = [
        {"ref": refs.ref("partners", p.id),
         **{c.name: _plain(getattr(p, c.name)) for c in partner_table.columns
            if c.name not in ("id", "partnership_id", *_SKIPPED_COLUMNS)}}
        for p in partners
    ]
    rounds = sorted(partnership.rounds, key=lambda r: r.id)
    version_ids = sorted({r.questionnaire_version_id for r in rounds})
    action_versions = select(workshop_models.Action.questionnaire_version_id).join(
        workshop_models.Workshop).where(
        workshop_models.Workshop.round_id.in_([r.id for r in rounds]))
    version_ids = sorted({*version_ids, *(v for v in session.scalars(action_versions) if v)})
    versions = [session.get(QuestionnaireVersion, v) for v in version_ids]
    versions.sort(key=lambda v: (v.slug, v.version))
    refs.assign("questionnaire_versions", [v.id for v in versions])
    doc["questionnaire_versions"] = [
        {"ref": refs.ref("questionnaire_versions", v.id),
         **{c: _plain(getattr(v, c)) for c in _VERSION_COLUMNS}}
        for v in versions
    ]
    refs.assign("rounds", [r.id for r in rounds])
    round_table = tables["rounds"]
    doc["rounds"] = []
    for r in rounds:
        record = {"ref": refs.ref("rounds", r.id),
                  "partners": sorted(refs.ref("partners", p.id) for p in r.partners)}
        for c in round_table.columns:
            if c.name in ("id", "partnership_id", *_SKIPPED_COLUMNS):
                continue
            value = getattr(r, c.name)
            if c.name == "questionnaire_version_id":
                value = refs.ref("questionnaire_versions", value)
            record[c.name] = _plain(value)
        doc["rounds"].append(record)
    doc["responses"] = _responses(session, tables, refs)
    doc["open_answers"] = _open_answers(session, tables, refs)
    doc["workshops"] = {
        table.name: _generic_rows(session, table, refs) for table in _workshop_tables()
    }
    return doc


def _responses(session: Session, tables: Mapping[str, Table], refs: _Refs) -> list[dict]:
    """Responses with their answers and ratings, in an order that follows their content."""
    responses, answers, ratings = (tables[n] for n in ("responses", "answers", "partner_ratings"))
    round_ids = list(refs.by_table["rounds"])
    if not round_ids:
        return []
    rows = session.execute(select(*(responses.c[c] for c in ("id", *_RESPONSE_COLUMNS)))
                           .where(responses.c.round_id.in_(round_ids))).all()
    by_response: dict[str, dict[str, Any]] = {}
    for row in rows:
        record = {c: _plain(getattr(row, c)) for c in _RESPONSE_COLUMNS}
        # The id is random (it says nothing about who or when) and orders the answers the
        # same way on both instances, so their figures agree to the last bit.
        record["id"] = row.id
        record["round_id"] = refs.ref("rounds", row.round_id)
        record["partner_id"] = refs.ref("partners", row.partner_id)
        record["answers"], record["ratings"] = [], []
        by_response[row.id] = record
    answer_rows = session.execute(
        select(*(answers.c[c] for c in _ANSWER_COLUMNS))
        .join(responses, responses.c.id == answers.c.response_id)
        .where(responses.c.round_id.in_(round_ids)))
    for row in answer_rows:
        by_response[row.response_id]["answers"].append([row.item_id, row.value])
    rating_rows = session.execute(
        select(*(ratings.c[c] for c in _RATING_COLUMNS))
        .join(responses, responses.c.id == ratings.c.response_id)
        .where(responses.c.round_id.in_(round_ids)))
    for row in rating_rows:
        by_response[row.response_id]["ratings"].append(
            [row.item_id, refs.ref("partners", row.ratee_partner_id), row.value])
    out = list(by_response.values())
    for record in out:
        record["answers"].sort(key=lambda a: a[0])
        record["ratings"].sort(key=lambda a: (a[0], a[1]))
    out.sort(key=lambda r: json.dumps(r, sort_keys=True))
    return out


def _open_answers(session: Session, tables: Mapping[str, Table], refs: _Refs) -> list[dict]:
    table = tables["open_answers"]
    round_ids = list(refs.by_table["rounds"])
    if not round_ids:
        return []
    rows = session.execute(select(*(table.c[c] for c in _OPEN_ANSWER_COLUMNS))
                           .where(table.c.round_id.in_(round_ids))).all()
    out = [{"round_id": refs.ref("rounds", r.round_id),
            "partner_id": refs.ref("partners", r.partner_id),
            "question_id": r.question_id, "language": r.language, "text": r.text}
           for r in rows]
    out.sort(key=lambda r: json.dumps(r, sort_keys=True, ensure_ascii=False))
    return out


def dumps(document: Mapping[str, Any]) -> str:
    """The canonical text of a document: sorted keys, UTF-8, one value per line."""
    return json.dumps(document, sort_keys=True, ensure_ascii=False, indent=1) + "\n"


# -- import ---------------------------------------------------------------------------------


def load_file(path: Path) -> dict[str, Any]:
    """Read and parse a partnership file; errors name the file and the reason."""
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise PartnershipImportError(name, "$", f"cannot be read: {error}") from error
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise PartnershipImportError(
            name, f"line {error.lineno} column {error.colno}", f"not JSON: {error.msg}"
        ) from error
    return document


class _Check:
    def __init__(self, file: str) -> None:
        self.file = file

    def fail(self, path: str, reason: str) -> PartnershipImportError:
        return PartnershipImportError(self.file, path, reason)

    def mapping(self, value: Any, path: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(path, f"must be an object, got {type(value).__name__}")
        return value

    def rows(self, value: Any, path: str) -> list[dict[str, Any]]:
        if not isinstance(value, list):
            raise self.fail(path, f"must be a list, got {type(value).__name__}")
        return [self.mapping(v, f"{path}[{i}]") for i, v in enumerate(value)]

    def ref(self, value: Any, known: Mapping[int, Any], path: str, what: str) -> Any:
        if isinstance(value, bool) or not isinstance(value, int) or value not in known:
            raise self.fail(path, f"refers to no {what} in this file: {value!r}")
        return known[value]


def _column_value(table: Table, name: str, value: Any, check: _Check, path: str) -> Any:
    """Turn a JSON value into what the column stores, or fail naming the field."""
    if name not in table.c:
        raise check.fail(path, f"unknown field {name!r} for {table.name}")
    column = table.c[name]
    if value is None:
        if not column.nullable and not column.primary_key:
            raise check.fail(path, f"{name!r} may not be null")
        return None
    kind = column.type
    try:
        if isinstance(kind, Enum) and kind.enum_class is not None:
            return kind.enum_class(value)
        if isinstance(kind, DateTime):
            return datetime.fromisoformat(value)
        if isinstance(kind, Date):
            return date.fromisoformat(value)
        if isinstance(kind, JSON):
            return value
        expected = kind.python_type
    except (ValueError, TypeError) as error:
        raise check.fail(path, f"{name!r}: {error}") from error
    except NotImplementedError:
        return value
    if expected is bool and not isinstance(value, bool):
        raise check.fail(path, f"{name!r} must be true or false, got {value!r}")
    if expected is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise check.fail(path, f"{name!r} must be a whole number, got {value!r}")
    if expected is str and not isinstance(value, str):
        raise check.fail(path, f"{name!r} must be text, got {value!r}")
    return value


def _insert(session: Session, table: Table, values: dict[str, Any]) -> Any:
    pk = _int_pk(table)
    result = session.execute(insert(table).values(**values))
    if pk is not None:
        return result.inserted_primary_key[0]
    return None


def import_partnership(
    session: Session, document: Any, *, file: str = "<document>", rename: str | None = None
) -> ImportSummary:
    """Insert the partnership of ``document``; the caller commits once (or rolls back).

    Refuses a document of another format or schema version, any malformed field (naming the
    file, the JSON path and the reason), a questionnaire version whose slug and version exist
    here with other content, and a partnership name that exists unless ``rename`` gives a new
    one.
    """
    check = _Check(file)
    doc = check.mapping(document, "$")
    if doc.get("format") != FORMAT:
        raise check.fail("$.format", f"not a partnership file (expected {FORMAT!r})")
    if doc.get("schema_version") != SCHEMA_VERSION:
        raise check.fail("$.schema_version",
                         f"version {doc.get('schema_version')!r} is not supported "
                         f"(this instance reads {SCHEMA_VERSION})")
    tables = _tables()
    head = dict(check.mapping(doc.get("partnership"), "$.partnership"))
    if rename is not None:
        if not rename.strip():
            raise check.fail("--rename", "the new name is empty")
        head["name"] = rename.strip()
    name = head.get("name")
    if not isinstance(name, str) or not name.strip():
        raise check.fail("$.partnership.name", "missing")
    if session.scalar(select(Partnership.id).where(Partnership.name == name)) is not None:
        raise check.fail("$.partnership.name",
                         f"a partnership named {name!r} exists here; import with --rename NEW")
    values = {k: _column_value(tables["partnerships"], k, v, check, f"$.partnership.{k}")
              for k, v in head.items()}
    partnership_id = _insert(session, tables["partnerships"], values)
    counts: dict[str, int] = {}

    def keyed(rows: list[dict[str, Any]], path: str, table: Table, skip: Iterable[str],
              link: Mapping[str, tuple[str, Mapping[int, Any]]],
              fixed: Mapping[str, Any]) -> dict[int, Any]:
        out: dict[int, Any] = {}
        for i, row in enumerate(rows):
            here = f"{path}[{i}]"
            ref = row.get("ref")
            if isinstance(ref, bool) or not isinstance(ref, int) or ref in out:
                raise check.fail(f"{here}.ref", f"missing or repeated reference {ref!r}")
            record = dict(fixed)
            for key, value in row.items():
                if key in ("ref", *skip):
                    continue
                if key in link and value is not None:
                    what, known = link[key]
                    value = check.ref(value, known, f"{here}.{key}", what)
                    record[key] = value
                    continue
                record[key] = _column_value(table, key, value, check, f"{here}.{key}")
            out[ref] = _insert(session, table, record)
        counts[table.name] = len(out)
        return out

    partners = keyed(check.rows(doc.get("partners", []), "$.partners"), "$.partners",
                     tables["partners"], (), {}, {"partnership_id": partnership_id})
    versions, imported = _versions(session, check, doc.get("questionnaire_versions", []))
    round_rows = check.rows(doc.get("rounds", []), "$.rounds")
    rounds = keyed(round_rows, "$.rounds", tables["rounds"], ("partners",),
                   {"questionnaire_version_id": ("questionnaire version", versions)},
                   {"partnership_id": partnership_id})
    for i, row in enumerate(round_rows):
        members = row.get("partners", [])
        if not isinstance(members, list):
            raise check.fail(f"$.rounds[{i}].partners", "must be a list of partner references")
        for j, member in enumerate(members):
            partner = check.ref(member, partners, f"$.rounds[{i}].partners[{j}]", "partner")
            session.execute(insert(tables["round_partners"]).values(
                round_id=rounds[row["ref"]], partner_id=partner))
    counts["responses"] = _import_responses(session, check, tables, doc, rounds, partners)
    open_table = tables["open_answers"]
    open_rows = check.rows(doc.get("open_answers", []), "$.open_answers")
    for i, row in enumerate(open_rows):
        here = f"$.open_answers[{i}]"
        record = {k: _column_value(open_table, k, v, check, f"{here}.{k}") for k, v in row.items()
                  if k not in ("round_id", "partner_id")}
        record["round_id"] = check.ref(row.get("round_id"), rounds, f"{here}.round_id", "round")
        record["partner_id"] = check.ref(row.get("partner_id"), partners, f"{here}.partner_id",
                                         "partner")
        session.execute(insert(open_table).values(**record))
    counts["open_answers"] = len(open_rows)
    _import_workshops(session, check, doc.get("workshops", {}), rounds, partners, versions,
                      counts)
    session.flush()
    return ImportSummary(partnership_id=partnership_id, name=name, counts=counts,
                         versions_imported=imported)


def _versions(session: Session, check: _Check, rows_value: Any) -> tuple[dict[int, int], list]:
    """Local version refs -> ids here: matched by slug and version, imported when missing."""
    out: dict[int, int] = {}
    imported: list[str] = []
    for i, row in enumerate(check.rows(rows_value, "$.questionnaire_versions")):
        here = f"$.questionnaire_versions[{i}]"
        missing = [c for c in ("ref", *_VERSION_COLUMNS) if c not in row]
        if missing:
            raise check.fail(here, f"missing {', '.join(missing)}")
        slug, version = row["slug"], row["version"]
        if not isinstance(slug, str) or isinstance(version, bool) or not isinstance(version, int):
            raise check.fail(here, "slug must be text and version a whole number")
        if not isinstance(row["definition"], dict):
            raise check.fail(f"{here}.definition", "must be an object")
        existing = session.scalar(select(QuestionnaireVersion).where(
            QuestionnaireVersion.slug == slug, QuestionnaireVersion.version == version))
        if existing is not None:
            if existing.content_hash != row["content_hash"]:
                raise check.fail(here, f"questionnaire {slug} version {version} exists here "
                                       "with other content")
            out[row["ref"]] = existing.id
            continue
        version_row = QuestionnaireVersion(
            slug=slug, version=version, title=str(row["title"]),
            content_hash=str(row["content_hash"]), definition=row["definition"])
        session.add(version_row)
        session.flush()
        out[row["ref"]] = version_row.id
        imported.append(f"{slug} v{version}")
    return out, imported


def _import_responses(session: Session, check: _Check, tables: Mapping[str, Table],
                      doc: Mapping[str, Any], rounds: Mapping[int, int],
                      partners: Mapping[int, int]) -> int:
    from app.models._types import random_id

    responses, answers, ratings = (tables[n] for n in ("responses", "answers", "partner_ratings"))
    rows = check.rows(doc.get("responses", []), "$.responses")
    response_values, answer_values, rating_values = [], [], []
    taken_ids: set[str] = set()
    for i, row in enumerate(rows):
        here = f"$.responses[{i}]"
        given = row.get("id")
        if not (isinstance(given, str) and len(given) == 32
                and all(ch in "0123456789abcdef" for ch in given)):
            raise check.fail(f"{here}.id", "must be 32 lowercase hex digits")
        taken = given in taken_ids or session.get(Response, given) is not None
        record = {"id": random_id() if taken else given}  # a second copy gets new ids
        taken_ids.add(record["id"])
        for key in _RESPONSE_COLUMNS:
            if key not in row:
                raise check.fail(f"{here}.{key}", "missing")
        record["round_id"] = check.ref(row["round_id"], rounds, f"{here}.round_id", "round")
        record["partner_id"] = check.ref(row["partner_id"], partners, f"{here}.partner_id",
                                         "partner")
        for key in ("language", "submitted_on", "source"):
            record[key] = _column_value(responses, key, row[key], check, f"{here}.{key}")
        response_values.append(record)
        for j, pair in enumerate(row.get("answers", [])):
            if not (isinstance(pair, list) and len(pair) == 2):
                raise check.fail(f"{here}.answers[{j}]", "must be [item_id, value]")
            answer_values.append({
                "response_id": record["id"],
                "item_id": _column_value(answers, "item_id", pair[0], check,
                                         f"{here}.answers[{j}][0]"),
                "value": _column_value(answers, "value", pair[1], check,
                                       f"{here}.answers[{j}][1]")})
        for j, triple in enumerate(row.get("ratings", [])):
            if not (isinstance(triple, list) and len(triple) == 3):
                raise check.fail(f"{here}.ratings[{j}]", "must be [item_id, ratee, value]")
            rating_values.append({
                "response_id": record["id"],
                "item_id": _column_value(ratings, "item_id", triple[0], check,
                                         f"{here}.ratings[{j}][0]"),
                "ratee_partner_id": check.ref(triple[1], partners, f"{here}.ratings[{j}][1]",
                                              "partner"),
                "value": _column_value(ratings, "value", triple[2], check,
                                       f"{here}.ratings[{j}][2]")})
    for table, values in ((responses, response_values), (answers, answer_values),
                          (ratings, rating_values)):
        for start in range(0, len(values), 5000):
            session.execute(insert(table), values[start:start + 5000])
    return len(response_values)


def _import_workshops(session: Session, check: _Check, section: Any, rounds: Mapping[int, int],
                      partners: Mapping[int, int], versions: Mapping[int, int],
                      counts: dict[str, int]) -> None:
    section = check.mapping(section, "$.workshops")
    known_tables = {t.name: t for t in _workshop_tables()}
    unknown = sorted(set(section) - set(known_tables))
    if unknown:
        raise check.fail(f"$.workshops.{unknown[0]}", "no such table on this instance")
    ids: dict[str, dict[int, Any]] = {"rounds": dict(rounds), "partners": dict(partners),
                                      "questionnaire_versions": dict(versions)}
    for table in known_tables.values():
        pk = _int_pk(table)
        rows = check.rows(section.get(table.name, []), f"$.workshops.{table.name}")
        ids[table.name] = {}
        self_links = []
        for i, row in enumerate(rows):
            here = f"$.workshops.{table.name}[{i}]"
            record: dict[str, Any] = {}
            for key, value in row.items():
                if key == "ref":
                    continue
                if key not in table.c:
                    raise check.fail(f"{here}.{key}", f"unknown field for {table.name}")
                targets = [fk.column.table.name for fk in table.c[key].foreign_keys]
                if targets and value is not None:
                    if targets[0] == table.name:
                        self_links.append((i, key, value))
                        continue
                    if targets[0] not in ids:
                        value = None  # a user or another record that stays behind
                    else:
                        value = check.ref(value, ids[targets[0]], f"{here}.{key}", targets[0])
                    record[key] = value
                    continue
                record[key] = _column_value(table, key, value, check, f"{here}.{key}")
            new_id = _insert(session, table, record)
            if pk is not None:
                ref = row.get("ref")
                if isinstance(ref, bool) or not isinstance(ref, int) or ref in ids[table.name]:
                    raise check.fail(f"{here}.ref", f"missing or repeated reference {ref!r}")
                ids[table.name][ref] = new_id
        for i, key, value in self_links:
            here = f"$.workshops.{table.name}[{i}].{key}"
            target = check.ref(value, ids[table.name], here, table.name)
            own = ids[table.name][rows[i]["ref"]]
            session.execute(table.update().where(table.c[pk] == own).values({key: target}))
        counts[table.name] = len(rows)
