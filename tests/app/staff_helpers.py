"""Shared set-up for the staff-side tests: a bilingual questionnaire, two tenants, sign-in."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db import new_session
from app.models import AuditEvent, QuestionnaireVersion, Role, RoundStatus
from app.questionnaires import parse_questionnaire
from app.services.questionnaires import import_questionnaire
from tests.factories import DEFAULT_PASSWORD, add_member, make_partnership, make_round, make_user

# Written here rather than taken from questionnaires/ so these tests do not depend on the
# bundled files' content: two languages, a don't-know option, a reverse item, an open
# question and a partner rating.
BILINGUAL_YAML = """\
slug: uji-staf
version: 1
languages: [id, en]
title: {id: Kuesioner uji staf, en: Staff test questionnaire}
scales:
  - id: setuju4
    points:
      - {value: 1, label: {id: Sangat tidak setuju, en: Strongly disagree}}
      - {value: 2, label: {id: Tidak setuju, en: Disagree}}
      - {value: 3, label: {id: Setuju, en: Agree}}
      - {value: 4, label: {id: Sangat setuju, en: Strongly agree}}
    dont_know: {label: {id: Tidak tahu, en: Don't know}}
dimensions:
  - id: kesetaraan
    title: {id: Kesetaraan, en: Equality}
    items:
      - id: kes1
        text: {id: Semua mitra didengar., en: All partners are heard.}
        scale: setuju4
      - id: kes2
        text: {id: Satu mitra mendominasi keputusan., en: One partner dominates decisions.}
        scale: setuju4
        reverse: true
  - id: transparansi
    title: {id: Transparansi, en: Transparency}
    items:
      - id: tra1
        text: {id: Informasi keuangan dibagikan., en: Financial information is shared.}
        scale: setuju4
open_questions:
  - id: saran
    text: {id: "Apa saran Anda?", en: "What do you suggest?"}
partner_ratings:
  - id: komitmen
    text: {id: Mitra ini menepati komitmennya., en: This partner keeps its commitments.}
    scale: setuju4
"""


def import_test_questionnaire(session: Session, text: str = BILINGUAL_YAML
                              ) -> QuestionnaireVersion:
    return import_questionnaire(session, parse_questionnaire(text, "uji-staf.yaml")).version


@dataclass
class World:
    """Ids of two tenants and their staff; tests reload objects through their own session."""

    admin: int
    coordinator: int
    facilitator: int
    observer: int
    outsider: int  # coordinator of partnership B only
    plain: int  # signed-in staff with no role anywhere
    partnership: int
    other_partnership: int
    partners: list[int]
    other_partners: list[int]
    version: int
    draft_round: int
    open_round: int
    other_round: int


def build_world(app: Flask) -> World:
    """Two partnerships (A and B) with a draft and an open round in A, one round in B."""
    with db(app) as session:
        return _build_world(session)


def _build_world(session: Session) -> World:
    # Staff read the pages in English here (their profile language); the Indonesian default
    # is covered by tests/app/test_translations.py and the browser tests.
    version = import_test_questionnaire(session)
    a = make_partnership(session, "Kemitraan A")
    b = make_partnership(session, "Kemitraan B")
    admin = make_user(session, "admin@example.org", is_admin=True, language="en")
    coordinator = make_user(session, "koordinator@example.org", language="en")
    facilitator = make_user(session, "fasilitator@example.org", language="en")
    observer = make_user(session, "pengamat@example.org", language="en")
    outsider = make_user(session, "orang-luar@example.org", language="en")
    plain = make_user(session, "tanpa-peran@example.org", language="en")
    add_member(session, coordinator, a, Role.COORDINATOR)
    add_member(session, facilitator, a, Role.FACILITATOR)
    add_member(session, observer, a, Role.OBSERVER, partner=a.partners[0])
    add_member(session, outsider, b, Role.COORDINATOR)
    draft = make_round(session, a, status=RoundStatus.DRAFT, name="Putaran draf",
                       version=version)
    opened = make_round(session, a, status=RoundStatus.OPEN, name="Putaran buka",
                        version=version)
    other = make_round(session, b, status=RoundStatus.OPEN, name="Putaran B", version=version)
    session.commit()
    return World(admin.id, coordinator.id, facilitator.id, observer.id, outsider.id, plain.id,
                 a.id, b.id, [p.id for p in a.partners], [p.id for p in b.partners],
                 version.id, draft.id, opened.id, other.id)


EMAILS = {
    "admin": "admin@example.org",
    "coordinator": "koordinator@example.org",
    "facilitator": "fasilitator@example.org",
    "observer": "pengamat@example.org",
    "outsider": "orang-luar@example.org",
    "plain": "tanpa-peran@example.org",
}


def app_with(app_config: dict, **overrides) -> Flask:
    """Build another app on the test database with extra settings (e.g. CSRF or limits on).

    Flask-Limiter is one shared object whose on/off switch follows the app created last, so
    create this app after any other app the test uses.
    """
    from app import create_app
    from app.db import Base

    application = create_app({**app_config, **overrides})
    Base.metadata.create_all(application.extensions["mitra.engine"])
    return application


def sign_in(client: FlaskClient, who: str, password: str = DEFAULT_PASSWORD):
    """Sign in as one of the World's people (or any email) and return the response."""
    email = EMAILS.get(who, who)
    return client.post("/login", data={"email": email, "password": password})


def signed_in_client(app: Flask, who: str) -> FlaskClient:
    client = app.test_client()
    response = sign_in(client, who)
    assert response.status_code == 302, f"sign-in as {who} failed"
    return client


@contextmanager
def db(app: Flask) -> Iterator[Session]:
    """Open a session for arranging or checking data, outside any app context.

    The shared ``db_session`` fixture keeps an app context pushed for the whole test, and Flask
    then reuses that context (its ``g``: the request's database session and Flask-Login's
    cached user) for every test-client request. These tests need each request to start
    fresh, as in production, so they open their sessions here instead.
    """
    with app.app_context():
        session = new_session()
    try:
        yield session
    finally:
        session.close()


def fresh(app: Flask, model, ident):
    """Load one row as the database has it now (detached: read columns only)."""
    with db(app) as session:
        return session.get(model, ident)


def rows(app: Flask, query) -> list:
    """Run a query on the current data and return the results (detached)."""
    with db(app) as session:
        return list(session.scalars(query))


def audit_actions(app: Flask, **filters) -> list[str]:
    query = select(AuditEvent.action).order_by(AuditEvent.id)
    for key, value in filters.items():
        query = query.where(getattr(AuditEvent, key) == value)
    return rows(app, query)


def count(app: Flask, model) -> int:
    return rows(app, select(func.count()).select_from(model))[0]


def csrf_from(html: str) -> str:
    """Read the first CSRF token of a page, for tests that switch CSRF protection on."""
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html)
    if match is None:
        raise ValueError("no CSRF token on the page")
    return match.group(1)
