"""A realistic demo partnership: five partners, two rounds, answers that differ and improve."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.passwords import hash_password
from app.models import (
    Answer,
    Membership,
    OpenAnswer,
    Partner,
    PartnerRating,
    Partnership,
    QuestionnaireVersion,
    Response,
    Role,
    Round,
    RoundStatus,
    Sector,
    User,
)
from app.questionnaires import Questionnaire

DEMO_NAME = "Kemitraan Gizi Anak Kabupaten Sukamaju"

# name, sector, respondents per round, how well the partner thinks things go (on 1..5)
DEMO_PARTNERS = (
    ("Dinas Kesehatan Kabupaten", Sector.GOVERNMENT, (14, 16), 3.9),
    ("PT Pangan Nusantara", Sector.PRIVATE, (9, 11), 3.6),
    ("Yayasan Anak Sehat", Sector.NGO, (12, 13), 3.2),
    ("Kelompok Posyandu Melati", Sector.COMMUNITY, (4, 8), 2.7),
    ("Universitas Sukamaju", Sector.ACADEMIA, (7, 9), 3.4),
)

DEMO_COMMENTS = (
    ("id", "Rapat koordinasi bulanan sangat membantu, tetapi notulen sering terlambat dibagikan."),
    ("id", "Kelompok masyarakat perlu dilibatkan sejak perencanaan, bukan hanya saat pelaksanaan."),
    ("id", "Laporan keuangan bersama sebaiknya dibuka untuk semua mitra."),
    ("id", "Kami belajar banyak dari data posyandu yang dikumpulkan kader."),
    ("id", "Keputusan penting masih banyak diambil oleh dinas tanpa diskusi."),
    ("en", "The joint monitoring visits built trust between the partners."),
    ("en", "Our contribution of volunteers is not always recognised in reports."),
    ("en", "We would like clearer agreements on who carries which risk."),
)


@dataclass(frozen=True)
class DemoLogin:
    email: str
    password: str
    role: str


def seed_demo(session: Session, questionnaire: Questionnaire, version: QuestionnaireVersion,
              seed: int = 2026) -> list[DemoLogin]:
    """Create the demo partnership with its staff and two rounds of answers; return logins."""
    if session.scalar(select(Partnership).where(Partnership.name == DEMO_NAME)):
        raise ValueError("the demo partnership already exists")
    rng = np.random.default_rng(seed)
    partnership = Partnership(
        name=DEMO_NAME,
        description=(
            "Pemerintah daerah, swasta, LSM, kelompok masyarakat dan universitas bekerja sama "
            "menurunkan stunting."
        ),
        default_language="id",
        min_group_size=5,
    )
    session.add(partnership)
    partners = [Partner(partnership=partnership, name=name, sector=sector)
                for name, sector, _, _ in DEMO_PARTNERS]
    session.add_all(partners)
    rounds = [
        Round(partnership=partnership, name="Putaran 1 (2025)", questionnaire_version=version,
              opens_on=date(2025, 3, 1), closes_on=date(2025, 3, 31),
              status=RoundStatus.CLOSED, partners=list(partners)),
        Round(partnership=partnership, name="Putaran 2 (2026)", questionnaire_version=version,
              opens_on=date(2026, 3, 1), closes_on=date(2026, 3, 31),
              status=RoundStatus.CLOSED, partners=list(partners)),
    ]
    session.add_all(rounds)
    session.flush()
    for round_index, round_ in enumerate(rounds):
        for partner, (_, _, sizes, level) in zip(partners, DEMO_PARTNERS, strict=True):
            _simulate_partner(session, rng, questionnaire, round_, partner, partners,
                              n=sizes[round_index], level=level + 0.35 * round_index)
    logins = _demo_staff(session, partnership, partners)
    session.flush()
    return logins


def _simulate_partner(session: Session, rng: np.random.Generator, q: Questionnaire,
                      round_: Round, partner: Partner, partners: list[Partner],
                      n: int, level: float) -> None:
    dimension_shift = {d.id: rng.normal(0, 0.35) for d in q.dimensions}
    others = [p for p in partners if p.id != partner.id]
    for _ in range(n):
        person = rng.normal(0, 0.45)
        response = Response(round_id=round_.id, partner_id=partner.id,
                            language="id" if rng.random() < 0.8 else "en",
                            submitted_on=round_.closes_on or date.today())
        for dimension in q.dimensions:
            for item in dimension.items:
                value = _likert(rng, q, item.scale, level + person + dimension_shift[dimension.id],
                                reverse=item.reverse)
                response.answers.append(Answer(item_id=item.id, value=value))
        for rating in q.partner_ratings:
            for other in others:
                value = _likert(rng, q, rating.scale, level + person - 0.2, reverse=False)
                response.ratings.append(
                    PartnerRating(item_id=rating.id, ratee_partner_id=other.id, value=value))
        session.add(response)
    comments = rng.choice(len(DEMO_COMMENTS), size=min(n, 3), replace=False)
    for index in comments:
        language, text = DEMO_COMMENTS[int(index)]
        for question in q.open_questions[:1]:
            session.add(OpenAnswer(round_id=round_.id, partner_id=partner.id,
                                   question_id=question.id, language=language, text=text))


def _likert(rng: np.random.Generator, q: Questionnaire, scale_id: str, mu: float,
            reverse: bool) -> int | None:
    scale = q.scale(scale_id)
    values = [point.value for point in scale.points]
    low, high = min(values), max(values)
    if scale.dont_know is not None and rng.random() < 0.04:
        return None
    # mu is on a 1..5 footing; map it onto this scale's range.
    centre = low + (mu - 1) / 4 * (high - low)
    raw = int(np.clip(np.rint(rng.normal(centre, 0.8)), low, high))
    return low + high - raw if reverse else raw


DEMO_STAFF = (
    ("admin@mitra-sehat.example", "Admin Demo", None, True),
    ("koordinator@mitra-sehat.example", "Sari Koordinator", Role.COORDINATOR, False),
    ("fasilitator@mitra-sehat.example", "Budi Fasilitator", Role.FACILITATOR, False),
    ("pengamat@mitra-sehat.example", "Rina Pengamat", Role.OBSERVER, False),
)


def reset_demo_passwords(session: Session) -> list[DemoLogin]:
    """Give the demo accounts fresh passwords (hashes cannot be shown again) and return them."""
    logins = []
    for email, _name, role, _is_admin in DEMO_STAFF:
        user = session.scalar(select(User).where(User.email == email))
        if user is None:
            continue
        password = secrets.token_urlsafe(9)
        user.password_hash = hash_password(password)
        user.session_epoch += 1
        logins.append(DemoLogin(email, password, role.value if role else "admin"))
    session.flush()
    return logins


def _demo_staff(session: Session, partnership: Partnership,
                partners: list[Partner]) -> list[DemoLogin]:
    logins = []
    for email, name, role, is_admin in DEMO_STAFF:
        password = secrets.token_urlsafe(9)
        user = session.scalar(select(User).where(User.email == email))
        if user is None:
            user = User(email=email, name=name, is_admin=is_admin)
            session.add(user)
        user.password_hash = hash_password(password)
        session.flush()
        if role is not None:
            session.add(Membership(
                user_id=user.id, partnership_id=partnership.id, role=role,
                partner_id=partners[3].id if role is Role.OBSERVER else None))
        logins.append(DemoLogin(email, password, role.value if role else "admin"))
    return logins
