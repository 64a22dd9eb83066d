"""A realistic demo partnership: five partners, two rounds, answers that differ and improve.

Between the rounds lies the follow-up loop, so a newcomer sees it at once: the first round's
reflection workshop agreed actions on its weakest dimensions (owned by partners, one done, one
still running and carried over into the second round's workshop, one dropped with its reason)
and the partners' pledges were reviewed in each round. The dimensions those actions addressed
improve more by the second round, so its results show action impact.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.passwords import hash_password
from app.models import (
    Action,
    ActionOwner,
    ActionStatus,
    Answer,
    Commitment,
    CommitmentKind,
    CommitmentReview,
    DeliveryStatus,
    Membership,
    OpenAnswer,
    OwnerRole,
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
    Workshop,
    WorkshopAttendance,
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


# The first round's workshop: what, the dimension it addresses, owner and co-owner (indexes
# of DEMO_PARTNERS), due date, status, progress, and what became of it in the second round.
DEMO_ACTIONS = (
    ("Notulen rapat koordinasi dibagikan ke semua mitra paling lambat tiga hari setelah rapat.",
     "transparansi", 0, (2,), date(2025, 6, 30), ActionStatus.DONE, 100, None),
    ("Kader posyandu diundang ke rapat perencanaan tahunan dan diberi hak suara.",
     "kesetaraan", 0, (3,), date(2025, 9, 30), ActionStatus.IN_PROGRESS, 60, "carry"),
    ("Laporan keuangan bersama dibuka setiap triwulan di papan informasi desa.",
     "transparansi", 1, (0,), date(2025, 12, 31), ActionStatus.DROPPED, 20,
     "Diganti dengan laporan daring yang diperbarui setiap bulan."),
    ("Tim bersama menyusun rencana berbagi manfaat program untuk kelompok masyarakat.",
     "manfaat_bersama", 4, (2, 3), date(2026, 2, 28), ActionStatus.PLANNED, 0, None),
)
# Extra rise, by the second round, of the dimensions the actions above addressed.
ACTION_EFFECT = {"transparansi": 0.3, "kesetaraan": 0.25}

# Pledges of the partnership agreement: partner, kind, what, delivery in round 1 and round 2.
DEMO_COMMITMENTS = (
    (0, CommitmentKind.MONEY, "Dana operasional posyandu Rp 120 juta per tahun.",
     (DeliveryStatus.DELIVERED, DeliveryStatus.DELIVERED)),
    (1, CommitmentKind.FACILITIES, "Gudang dan kendaraan untuk distribusi makanan tambahan.",
     (DeliveryStatus.PARTIAL, DeliveryStatus.DELIVERED)),
    (2, CommitmentKind.STAFF, "Dua pendamping gizi penuh waktu di setiap kecamatan.",
     (DeliveryStatus.DELIVERED, DeliveryStatus.PARTIAL)),
    (3, CommitmentKind.LOCAL_WISDOM, "Resep makanan lokal bergizi dan jadwal kegiatan kader.",
     (DeliveryStatus.DELIVERED, DeliveryStatus.DELIVERED)),
    (4, CommitmentKind.KNOWLEDGE, "Analisis data stunting tahunan dan pelatihan kader.",
     (DeliveryStatus.NOT_DELIVERED, DeliveryStatus.PARTIAL)),
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
        effect = ACTION_EFFECT if round_index else {}
        for partner, (_, _, sizes, level) in zip(partners, DEMO_PARTNERS, strict=True):
            _simulate_partner(session, rng, questionnaire, round_, partner, partners,
                              n=sizes[round_index], level=level + 0.35 * round_index,
                              effect=effect)
    logins = _demo_staff(session, partnership, partners)
    facilitator = session.scalar(select(User).where(User.email == DEMO_STAFF[2][0]))
    _demo_followup(session, rounds, partners, facilitator)
    session.flush()
    return logins


def _demo_followup(session: Session, rounds: list[Round], partners: list[Partner],
                   facilitator: User | None) -> None:
    """A workshop per round, the first one's actions (one carried over) and the pledges."""
    first, second = rounds
    workshops = []
    for round_, title, place in (
            (first, "Lokakarya refleksi 2025", "Aula Dinas Kesehatan"),
            (second, "Lokakarya refleksi 2026", "Balai Desa Melati")):
        held = (round_.closes_on or date.today()) + timedelta(days=14)
        workshop = Workshop(round_id=round_.id, held_on=held, title=title, place=place,
                            facilitator_id=facilitator.id if facilitator else None,
                            notes="Hasil putaran dibahas per dimensi; tindak lanjut disepakati "
                                  "bersama.")
        workshop.attendance = [WorkshopAttendance(partner_id=p.id, count=count)
                               for p, count in zip(partners, (4, 3, 3, 5, 2), strict=True)]
        session.add(workshop)
        workshops.append(workshop)
    session.flush()
    version_id = first.questionnaire_version_id
    for text, dimension, owner, co_owners, due, status, progress, after in DEMO_ACTIONS:
        action = Action(workshop_id=workshops[0].id, description=text,
                        questionnaire_version_id=version_id, dimension_id=dimension,
                        due_on=due, status=status, progress=progress,
                        drop_reason=after if status is ActionStatus.DROPPED else None)
        action.owner_links = [ActionOwner(partner_id=partners[owner].id, role=OwnerRole.OWNER),
                              *(ActionOwner(partner_id=partners[i].id, role=OwnerRole.CO_OWNER)
                                for i in co_owners)]
        session.add(action)
        session.flush()
        if after == "carry":  # still open: the next workshop takes it on explicitly
            carried = Action(workshop_id=workshops[1].id, description=text,
                             questionnaire_version_id=second.questionnaire_version_id,
                             dimension_id=dimension, due_on=date(2026, 9, 30),
                             status=ActionStatus.IN_PROGRESS, progress=progress,
                             carried_over_from_id=action.id)
            carried.owner_links = [ActionOwner(partner_id=link.partner_id, role=link.role)
                                   for link in action.owner_links]
            session.add(carried)
    for owner, kind, text, verdicts in DEMO_COMMITMENTS:
        commitment = Commitment(round_id=first.id, partner_id=partners[owner].id, kind=kind,
                                description=text, starts_on=date(2025, 1, 1),
                                ends_on=date(2026, 12, 31), status=verdicts[-1])
        commitment.reviews = [CommitmentReview(round_id=r.id, status=v)
                              for r, v in zip(rounds, verdicts, strict=True)]
        session.add(commitment)


def _simulate_partner(session: Session, rng: np.random.Generator, q: Questionnaire,
                      round_: Round, partner: Partner, partners: list[Partner],
                      n: int, level: float, effect: dict[str, float]) -> None:
    dimension_shift = {d.id: rng.normal(0, 0.35) + effect.get(d.id, 0.0) for d in q.dimensions}
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
