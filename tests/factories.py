"""Small builders for test data; each takes a session, flushes and returns the object."""

from __future__ import annotations

import itertools
from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from app.auth.passwords import hash_password
from app.models import (
    Membership,
    Partner,
    Partnership,
    QuestionnaireVersion,
    Role,
    Round,
    RoundStatus,
    Sector,
    User,
)
from app.questionnaires import load_questionnaire
from app.services.questionnaires import import_questionnaire

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = ROOT / "questionnaires"
DEFAULT_PASSWORD = "correct horse battery staple"
_counter = itertools.count(1)

# Hashing with Argon2's defaults costs ~100 ms; tests share one hash of the default password.
_DEFAULT_HASH = hash_password(DEFAULT_PASSWORD)


def make_user(session: Session, email: str | None = None, *, password: str | None = None,
              is_admin: bool = False, language: str = "id") -> User:
    n = next(_counter)
    user = User(email=email or f"user{n}@example.org", name=f"User {n}", is_admin=is_admin,
                password_hash=hash_password(password) if password else _DEFAULT_HASH,
                language=language)
    session.add(user)
    session.flush()
    return user


def make_partnership(session: Session, name: str | None = None, *, k: int = 5,
                     partners: tuple[tuple[str, Sector], ...] = (
                         ("Dinas Kesehatan", Sector.GOVERNMENT),
                         ("Yayasan Sehat", Sector.NGO),
                         ("Kelompok Tani", Sector.COMMUNITY),
                     )) -> Partnership:
    partnership = Partnership(name=name or f"Kemitraan {next(_counter)}", description="",
                              min_group_size=k)
    session.add(partnership)
    for partner_name, sector in partners:
        session.add(Partner(partnership=partnership, name=partner_name, sector=sector))
    session.flush()
    return partnership


def add_member(session: Session, user: User, partnership: Partnership, role: Role,
               partner: Partner | None = None) -> Membership:
    membership = Membership(user_id=user.id, partnership_id=partnership.id, role=role,
                            partner_id=partner.id if partner else None)
    session.add(membership)
    session.flush()
    return membership


def bundled_version(session: Session, slug: str = "kemitraan-sehat") -> QuestionnaireVersion:
    return import_questionnaire(session, load_questionnaire(BUNDLED / f"{slug}.v1.yaml")).version


def make_round(session: Session, partnership: Partnership, *,
               status: RoundStatus = RoundStatus.OPEN, name: str | None = None,
               version: QuestionnaireVersion | None = None,
               partners: list[Partner] | None = None) -> Round:
    round_ = Round(
        partnership=partnership,
        name=name or f"Putaran {next(_counter)}",
        questionnaire_version=version or bundled_version(session),
        opens_on=date(2026, 1, 1),
        closes_on=date(2026, 12, 31),
        status=status,
        partners=list(partners if partners is not None else partnership.partners),
    )
    session.add(round_)
    session.flush()
    return round_
