"""Paper import storing: staged rows copied set-wise, the same rows whichever path is taken."""

from __future__ import annotations

import io
import os
import tempfile
from collections import Counter
from datetime import date

import pytest
from sqlalchemy import delete, event, select

from app.models import Answer, OpenAnswer, PartnerRating, Response, Round
from app.services.paper_import import (
    PaperImportError,
    check_paper_file,
    load_import_target,
    store_paper_responses,
)
from app.services.paper_staging import ALIAS
from tests.app.staff_helpers import build_world, db, rows
from tests.app.test_paper_import import GOOD, HEADER, _csv

sqlite_only = pytest.mark.skipif(
    bool(os.environ.get("MITRA_TEST_DATABASE_URL")),
    reason="attaching the staging file and SQLite's write lock are SQLite's")


def _target(app, round_id: int):
    with db(app) as session:
        return load_import_target(session, session.get(Round, round_id))


def _many(times: int) -> bytes:
    return _csv(HEADER, *(GOOD * times))


class Statements:
    """Every statement the engine runs while listening, with whether it was an executemany."""

    def __init__(self, app) -> None:
        self.engine = app.extensions["mitra.engine"]
        self.seen: list[tuple[str, bool]] = []

    def _note(self, _conn, _cursor, statement, _parameters, _context, many) -> None:
        self.seen.append((" ".join(statement.split()), many))

    def __enter__(self) -> Statements:
        event.listen(self.engine, "before_cursor_execute", self._note)
        return self

    def __exit__(self, *_exc) -> None:
        event.remove(self.engine, "before_cursor_execute", self._note)

    def inserts(self) -> list[str]:
        return [s for s, _ in self.seen if s.startswith("INSERT")]


def _stored(app, round_id: int) -> tuple[Counter, Counter]:
    """What a round holds, without its random ids: responses with their answers, and texts."""
    with db(app) as session:
        responses = session.scalars(select(Response).where(Response.round_id == round_id))
        answers: dict[str, list] = {}
        for answer in session.scalars(select(Answer)):
            answers.setdefault(answer.response_id, []).append((answer.item_id, answer.value))
        for rating in session.scalars(select(PartnerRating)):
            answers.setdefault(rating.response_id, []).append(
                (rating.item_id, rating.ratee_partner_id, rating.value))
        shapes = Counter((r.partner_id, r.language, r.source, r.submitted_on,
                          tuple(sorted(answers.get(r.id, []), key=repr)))
                         for r in responses)
        texts = Counter((t.partner_id, t.question_id, t.language, t.text)
                        for t in session.scalars(select(OpenAnswer)
                                                 .where(OpenAnswer.round_id == round_id)))
    return shapes, texts


@sqlite_only
def test_storing_is_a_fixed_handful_of_set_based_copies_whatever_the_size(app):
    """The write lock is held for four INSERT ... SELECT, not for an insert per row."""
    world = build_world(app)
    target = _target(app, world.open_round)
    seen = []
    for times in (1, 200):
        with check_paper_file(target, io.BytesIO(_many(times))) as checked, \
                Statements(app) as statements, db(app) as session:
            store_paper_responses(session, checked, today=date.today(), again=True)
            session.commit()
        seen.append(statements)
    small, large = (s.inserts() for s in seen)
    assert len(small) == len(large) == 5  # responses, answers, ratings, open answers, audit
    copies = [s for s in large if f"FROM {ALIAS}." in s]
    assert [c.split()[2] for c in copies] == ["responses", "answers", "partner_ratings",
                                              "open_answers"]
    assert not any(many for s in seen for _, many in s.seen)
    assert len(rows(app, select(Response))) == 3 * 201


@sqlite_only
def test_the_pooled_connection_is_given_back_as_it_was(app):
    """Staging detached and foreign keys enforced again once the import's transaction ends."""
    world = build_world(app)
    engine = app.extensions["mitra.engine"]
    used = []
    with check_paper_file(_target(app, world.open_round), io.BytesIO(_many(2))) as checked, \
            db(app) as session:
        store_paper_responses(session, checked, today=date.today())
        driver = session.connection().connection.dbapi_connection
        assert driver.execute("PRAGMA foreign_keys").fetchone()[0] == 0
        assert ALIAS in {row[1] for row in driver.execute("PRAGMA database_list")}
        used.append(driver)
        session.commit()
    (driver,) = used
    assert driver.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert ALIAS not in {row[1] for row in driver.execute("PRAGMA database_list")}
    with engine.connect() as connection:  # and the next user of the pool sees no staging
        names = {row[1] for row in connection.exec_driver_sql("PRAGMA database_list")}
        assert ALIAS not in names


def test_a_transaction_begun_earlier_streams_the_rows_and_stores_the_same(app):
    """A caller that read first cannot have the file attached; nothing differs but speed."""
    world = build_world(app)
    target = _target(app, world.open_round)
    content = _many(3)
    stored = []
    for read_first in (False, True):
        with check_paper_file(target, io.BytesIO(content)) as checked, \
                Statements(app) as statements, db(app) as session:
            if read_first:
                session.get(Round, world.open_round)
            store_paper_responses(session, checked, today=date.today(), again=True)
            session.commit()
        attached = any(f"FROM {ALIAS}." in s for s in statements.inserts())
        assert attached is (not read_first and app.extensions["mitra.engine"].dialect.name
                            == "sqlite")
        stored.append(_stored(app, world.open_round))
        with db(app) as session:
            session.execute(delete(Response))
            session.execute(delete(OpenAnswer))
            session.commit()
    assert stored[0] == stored[1]
    shapes, texts = stored[0]
    assert sum(shapes.values()) == 9 and sum(texts.values()) == 3


def test_checking_leaves_no_staging_file_behind(app, tmp_path, monkeypatch):
    world = build_world(app)
    target = _target(app, world.open_round)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    bad = _csv(HEADER, *GOOD, ["Dinas Kesehatan", "9", "", "", "", "", "", ""])
    with pytest.raises(PaperImportError):
        check_paper_file(target, io.BytesIO(bad))
    assert not list(tmp_path.glob("mitra-paper-*"))
    checked = check_paper_file(target, io.BytesIO(_many(1)))
    with checked:
        assert checked.staging is not None and checked.staging.path.exists()
        directory = checked.staging.directory
        assert directory.stat().st_mode & 0o077 == 0  # nobody else may read the answers
    assert not directory.exists()


def test_the_preview_counts_come_from_the_staged_rows(app):
    world = build_world(app)
    target = _target(app, world.open_round)
    with check_paper_file(target, io.BytesIO(_csv(HEADER, *GOOD))) as checked:
        counts = {c.column: (c.answers, c.dont_know) for c in checked.column_counts()}
        assert counts == {"kes1": (3, 0), "kes2": (3, 1), "tra1": (3, 1),
                          "komitmen@Yayasan Sehat": (2, 0), "komitmen@Kelompok Tani": (1, 0),
                          "komitmen@Dinas Kesehatan": (1, 0), "saran": (1, 0)}
        assert checked.language_counts() == [("id", 3)]
    assert _count_open(app) == 0


def _count_open(app) -> int:
    return len(rows(app, select(OpenAnswer)))
