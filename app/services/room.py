"""The live room: open a session for a workshop, put questions to the room, reveal the answers.

Anonymity is enforced here, not in the templates:

* a phone is a random token in a cookie; a ballot stores only ``HMAC(secret, token, question)``
  so that one phone's answers to two questions cannot be joined, and nothing about a person,
  an address, a time or an access code;
* one ballot per phone per question (a unique constraint); a dot vote's budget and per-option
  cap are checked here, whatever the form sent;
* nothing stores or shows arrival order: random ids, no timestamps, notes listed by their text,
  and a closing question folds its ballots into per-partner counts and deletes them;
* figures appear only after the facilitator reveals a *closed* question (no live trickle) that
  at least the partnership's *k* phones answered; the count of answers reaches the screen only
  from *k* on; a partner's own bars appear only for partners with *k* answers, with the same
  complementary suppression as the results pages (:func:`analysis.privacy.suppress`).
"""

from __future__ import annotations

import hashlib
import hmac
import random
import re
import secrets
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandas as pd
from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from analysis.privacy import suppress
from app.i18n import select_locale
from app.models import (
    NoteStatus,
    Partner,
    Partnership,
    QuestionKind,
    QuestionState,
    Room,
    RoomBallot,
    RoomBlocklist,
    RoomNote,
    RoomQuestion,
    RoomStatus,
    RoomTally,
    Round,
    User,
    Workshop,
)
from app.models._types import utcnow
from app.results.numbers import Numbers
from app.services import audit
from app.services.fieldwork import qr_data_uri

# No 0/O/Q, 1/I/L, 2/Z, 5/S, 6/G, 8/B: a code read off a projector is typed right first time.
CODE_ALPHABET = "ACDEFHJKMNPRTUVWXY3479"
CODE_LENGTH = 6
AGREEMENT_POINTS = 5
AGREEMENT_LABELS = (_l("Strongly disagree"), _l("Disagree"), _l("Neither agree nor disagree"),
                    _l("Agree"), _l("Strongly agree"))
MAX_OPTIONS = 10
MAX_OPTION_CHARS = 120
MAX_PROMPT_CHARS = 300
MAX_BUDGET = 10
NOTE_CHARS = (20, 280)  # shortest and longest limit a facilitator may set
MAX_QUESTIONS = 50
MAX_BLOCKLIST_WORDS = 500
KIND_LABELS = {QuestionKind.AGREEMENT: _l("Agreement scale"),
               QuestionKind.DOT_VOTE: _l("Dot vote"),
               QuestionKind.STICKY_NOTE: _l("Sticky note")}
STATE_LABELS = {QuestionState.DRAFT: _l("Not asked yet"), QuestionState.OPEN: _l("Open"),
                QuestionState.CLOSED: _l("Closed"), QuestionState.REVEALED: _l("Revealed")}
NOTE_LABELS = {NoteStatus.PENDING: _l("Waiting"), NoteStatus.APPROVED: _l("Approved"),
               NoteStatus.REJECTED: _l("Rejected"), NoteStatus.HIDDEN: _l("Hidden from screen")}


class RoomError(Exception):
    """A request the room cannot carry out; the message says why, in the reader's language."""


# ----------------------------------------------------------------------------- codes and hashes


def normalise_code(raw: str | None) -> str:
    """A typed room code as stored: upper case, spaces and dashes dropped, at most 12 chars."""
    text = unicodedata.normalize("NFKC", raw or "").upper()
    return re.sub(r"[\s\-]", "", text)[:12]


def _new_code(session: Session) -> str:
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if session.scalar(select(Room.id).where(Room.code == code)) is None:
            return code


def new_participant_token() -> str:
    return secrets.token_urlsafe(24)


def voter_hash(secret: str, token: str, question_id: int) -> str:
    """The only trace of a phone on a ballot: keyed per question, so ballots cannot be joined."""
    message = f"room-voter\x1f{question_id}\x1f{token}".encode()
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


# ----------------------------------------------------------------------------- lookups


def room_in(session: Session, partnership: Partnership, room_id: int) -> Room | None:
    room = session.get(Room, room_id)
    return room if room is not None and room.partnership_id == partnership.id else None


def open_room_by_code(session: Session, code: str) -> Room | None:
    if not code:
        return None
    return session.scalar(select(Room).where(Room.code == code,
                                             Room.status == RoomStatus.OPEN))


def question_in(room: Room, question_id: int) -> RoomQuestion | None:
    return next((q for q in room.questions if q.id == question_id), None)


def note_in(session: Session, room: Room, note_id: str) -> RoomNote | None:
    note = session.get(RoomNote, note_id)
    if note is None or question_in(room, note.question_id) is None:
        return None
    return note


def rooms_of(session: Session, partnership: Partnership) -> list[Room]:
    """Open rooms first, then closed ones, newest first."""
    return list(session.scalars(select(Room).where(Room.partnership_id == partnership.id)
                                .order_by(Room.status.desc(), Room.opened_at.desc())))


def room_round(session: Session, room: Room) -> Round:
    workshop = session.get(Workshop, room.workshop_id)
    return session.get(Round, workshop.round_id)


def room_partners(session: Session, room: Room) -> list[Partner]:
    """Partners a participant may name: those taking part in the workshop's round."""
    return list(room_round(session, room).partners)


def room_k(session: Session, room: Room) -> int:
    return session.get(Partnership, room.partnership_id).min_group_size


def open_question(room: Room) -> RoomQuestion | None:
    return next((q for q in room.questions if q.state is QuestionState.OPEN), None)


def live_count(session: Session, question: RoomQuestion) -> int:
    """How many phones answered: counted live while open, frozen once closed."""
    if question.answer_count is not None:
        return question.answer_count
    model = RoomNote if question.kind is QuestionKind.STICKY_NOTE else RoomBallot
    return session.scalar(select(func.count()).select_from(model)
                          .where(model.question_id == question.id)) or 0


# ----------------------------------------------------------------------------- facilitator


def _touch(room: Room) -> None:
    room.version = (room.version or 0) + 1


def open_room(session: Session, actor: User, partnership: Partnership, round_: Round,
              workshop: Workshop | None = None, *, today: date) -> Room:
    """Open a live session for the round's workshop, creating the workshop record if needed."""
    if round_.partnership_id != partnership.id:
        raise RoomError(_("This round belongs to another partnership."))
    if workshop is None:
        workshop = Workshop(round_id=round_.id, held_on=today, facilitator_id=actor.id, notes="")
        session.add(workshop)
        session.flush()
    elif workshop.round_id != round_.id:
        raise RoomError(_("This workshop belongs to another round."))
    room = Room(partnership_id=partnership.id, workshop_id=workshop.id, code=_new_code(session),
                status=RoomStatus.OPEN, version=0, opened_by=actor.id, opened_at=utcnow())
    session.add(room)
    session.flush()
    audit.record(session, actor.id, "room.open", room, partnership_id=partnership.id,
                 round_id=round_.id, workshop_id=workshop.id)
    return room


def close_room(session: Session, actor: User, room: Room) -> None:
    """End the session: close any open question, give the code back, keep only aggregates."""
    if room.status is RoomStatus.CLOSED:
        raise RoomError(_("This room is closed already."))
    for question in room.questions:
        if question.state is QuestionState.OPEN:
            _fold(session, question)
    # Nothing per phone outlives the session (closing folds ballots already; this is the net).
    ids = [q.id for q in room.questions]
    if ids:
        session.execute(delete(RoomBallot).where(RoomBallot.question_id.in_(ids)))
        session.execute(update(RoomNote).where(RoomNote.question_id.in_(ids))
                        .values(voter_hash=None).execution_options(synchronize_session=False))
    room.status = RoomStatus.CLOSED
    room.code = None
    room.closed_at = utcnow()
    _touch(room)
    session.flush()
    audit.record(session, actor.id, "room.close", room, partnership_id=room.partnership_id)


@dataclass(frozen=True)
class QuestionSpec:
    """A question as the facilitator typed it (checked by :func:`add_question`)."""

    kind: QuestionKind
    prompt: str
    options: Sequence[str] = ()
    budget: int = 1
    option_cap: int = 1
    max_chars: int = 140


def _check_spec(spec: QuestionSpec) -> QuestionSpec:
    prompt = spec.prompt.strip()
    if not prompt:
        raise RoomError(_("Write the question."))
    if len(prompt) > MAX_PROMPT_CHARS:
        raise RoomError(_("The question is longer than %(n)d characters.", n=MAX_PROMPT_CHARS))
    if spec.kind is QuestionKind.DOT_VOTE:
        options = [o.strip() for o in spec.options if o.strip()]
        if len(options) < 2:
            raise RoomError(_("A dot vote needs at least two options, one per line."))
        if len(options) > MAX_OPTIONS:
            raise RoomError(_("A dot vote has at most %(n)d options.", n=MAX_OPTIONS))
        if any(len(o) > MAX_OPTION_CHARS for o in options):
            raise RoomError(_("An option is longer than %(n)d characters.", n=MAX_OPTION_CHARS))
        if len({o.casefold() for o in options}) != len(options):
            raise RoomError(_("Two options have the same text."))
        if not 1 <= spec.budget <= MAX_BUDGET:
            raise RoomError(_("Dots per person must be between 1 and %(n)d.", n=MAX_BUDGET))
        if not 1 <= spec.option_cap <= spec.budget:
            raise RoomError(_("Dots on one option must be between 1 and the dots per person."))
        return QuestionSpec(spec.kind, prompt, options, spec.budget, spec.option_cap)
    if spec.kind is QuestionKind.STICKY_NOTE:
        low, high = NOTE_CHARS
        if not low <= spec.max_chars <= high:
            raise RoomError(_("The note length must be between %(low)d and %(high)d "
                              "characters.", low=low, high=high))
        return QuestionSpec(spec.kind, prompt, max_chars=spec.max_chars)
    return QuestionSpec(spec.kind, prompt)


def add_question(session: Session, actor: User, room: Room, spec: QuestionSpec) -> RoomQuestion:
    if room.status is RoomStatus.CLOSED:
        raise RoomError(_("This room is closed."))
    if len(room.questions) >= MAX_QUESTIONS:
        raise RoomError(_("A room holds at most %(n)d questions.", n=MAX_QUESTIONS))
    spec = _check_spec(spec)
    position = max((q.position for q in room.questions), default=0) + 1
    question = RoomQuestion(room=room, position=position, kind=spec.kind, prompt=spec.prompt,
                            options=list(spec.options), budget=spec.budget,
                            option_cap=spec.option_cap, max_chars=spec.max_chars,
                            state=QuestionState.DRAFT)
    session.add(question)
    _touch(room)
    session.flush()
    audit.record(session, actor.id, "room.question_add", question,
                 partnership_id=room.partnership_id, room_id=room.id, kind=spec.kind.value)
    return question


def _require_open_room(room: Room) -> None:
    if room.status is RoomStatus.CLOSED:
        raise RoomError(_("This room is closed."))


def start_question(session: Session, actor: User, room: Room, question: RoomQuestion) -> None:
    """Open a question to the phones (closing any other open one) and put it on the screen."""
    _require_open_room(room)
    if question.state is not QuestionState.DRAFT:
        raise RoomError(_("Only a question not asked yet can be opened; a closed question "
                          "stays closed, so nobody can add answers after seeing results."))
    for other in room.questions:
        if other.state is QuestionState.OPEN:
            _fold(session, other)
    question.state = QuestionState.OPEN
    room.screen_question_id = question.id
    _touch(room)
    session.flush()
    audit.record(session, actor.id, "room.question_open", question,
                 partnership_id=room.partnership_id, room_id=room.id)


def stop_question(session: Session, actor: User, room: Room, question: RoomQuestion) -> None:
    _require_open_room(room)
    if question.state is not QuestionState.OPEN:
        raise RoomError(_("This question is not open."))
    _fold(session, question)
    _touch(room)
    session.flush()
    audit.record(session, actor.id, "room.question_close", question,
                 partnership_id=room.partnership_id, room_id=room.id,
                 answers=question.answer_count)


def reveal_question(session: Session, actor: User, room: Room, question: RoomQuestion) -> None:
    """Reveal a closed question's results, only if at least k phones answered it."""
    _require_open_room(room)
    if question.state is not QuestionState.CLOSED:
        raise RoomError(_("Close the question before revealing its results."))
    k = room_k(session, room)
    if (question.answer_count or 0) < k:
        raise RoomError(_("Fewer than %(k)d people answered, so the results stay hidden.", k=k))
    question.state = QuestionState.REVEALED
    room.screen_question_id = question.id
    _touch(room)
    session.flush()
    audit.record(session, actor.id, "room.question_reveal", question,
                 partnership_id=room.partnership_id, room_id=room.id)


def show_on_screen(session: Session, room: Room, question: RoomQuestion | None) -> None:
    """Put a question on the projector (or none: the screen shows only the join code)."""
    _require_open_room(room)
    room.screen_question_id = question.id if question is not None else None
    _touch(room)
    session.flush()


def _fold(session: Session, question: RoomQuestion) -> None:
    """Close a question: ballots become per-partner counts and are deleted; notes lose voters."""
    if question.kind is QuestionKind.STICKY_NOTE:
        question.answer_count = live_count(session, question)
        _reshuffle_notes(session, question)
    else:
        width = AGREEMENT_POINTS if question.kind is QuestionKind.AGREEMENT \
            else len(question.options)
        groups: dict[int | None, list[int]] = {}
        answers: dict[int | None, int] = {}
        for partner_id, value, allocation in session.execute(
                select(RoomBallot.partner_id, RoomBallot.value, RoomBallot.allocation)
                .where(RoomBallot.question_id == question.id)):
            counts = groups.setdefault(partner_id, [0] * width)
            answers[partner_id] = answers.get(partner_id, 0) + 1
            if question.kind is QuestionKind.AGREEMENT and value is not None:
                counts[value - 1] += 1
            elif allocation is not None:
                for index, dots in enumerate(allocation[:width]):
                    counts[index] += int(dots)
        session.execute(delete(RoomBallot).where(RoomBallot.question_id == question.id))
        session.execute(delete(RoomTally).where(RoomTally.question_id == question.id))
        for partner_id, counts in groups.items():
            session.add(RoomTally(question_id=question.id, partner_id=partner_id,
                                  answers=answers[partner_id], counts=counts))
        question.answer_count = sum(answers.values())
    question.state = QuestionState.CLOSED
    session.flush()


def _reshuffle_notes(session: Session, question: RoomQuestion) -> None:
    """Rewrite the notes in random physical order, without their voter hashes.

    PostgreSQL keeps rows in insertion order (and stamps each with its writing transaction),
    so a raw read of the table during the session would give the order notes arrived in.
    """
    rows = [dict(row._mapping) for row in session.execute(
        select(*RoomNote.__table__.columns).where(RoomNote.question_id == question.id))]
    random.SystemRandom().shuffle(rows)
    session.execute(delete(RoomNote).where(RoomNote.question_id == question.id))
    for row in rows:
        row["voter_hash"] = None
    if rows:
        session.execute(insert(RoomNote), rows)
    session.expire_all()


def moderate_note(session: Session, actor: User, room: Room, note: RoomNote,
                  decision: NoteStatus) -> None:
    """Approve, reject or hide a note. Only approved notes of a revealed question are shown."""
    _require_open_room(room)
    allowed = {NoteStatus.APPROVED: {NoteStatus.PENDING, NoteStatus.REJECTED, NoteStatus.HIDDEN},
               NoteStatus.REJECTED: {NoteStatus.PENDING, NoteStatus.APPROVED},
               NoteStatus.HIDDEN: {NoteStatus.APPROVED}}
    if note.status not in allowed.get(decision, set()):
        raise RoomError(_("This note cannot be changed that way."))
    note.status = decision
    _touch(room)
    session.flush()
    # The note's text is the participant's, not staff data: the log keeps only the decision.
    audit.record(session, actor.id, "room.note_moderate", room,
                 partnership_id=room.partnership_id, question_id=note.question_id,
                 status=decision.value)


def notes_for_moderation(session: Session, room: Room) -> list[tuple[RoomQuestion,
                                                                     list[RoomNote]]]:
    """Every sticky-note question with its notes, flagged first, then by text (never arrival)."""
    result = []
    for question in room.questions:
        if question.kind is not QuestionKind.STICKY_NOTE:
            continue
        notes = list(session.scalars(select(RoomNote).where(
            RoomNote.question_id == question.id)))
        notes.sort(key=lambda n: (n.status is not NoteStatus.PENDING, not n.flagged,
                                  n.text.casefold(), n.text))
        result.append((question, notes))
    return result


# ----------------------------------------------------------------------------- blocklist


def blocklist_words(session: Session, partnership_id: int) -> list[str]:
    row = session.get(RoomBlocklist, partnership_id)
    return _words(row.words) if row is not None else []


def _words(text: str) -> list[str]:
    seen: dict[str, str] = {}
    for line in text.splitlines():
        word = line.strip()
        if word and word.casefold() not in seen:
            seen[word.casefold()] = word
    return list(seen.values())


def save_blocklist(session: Session, actor: User, partnership: Partnership, text: str) -> int:
    """Replace the partnership's blocklist (one word or phrase per line); return its size."""
    words = _words(text)
    if len(words) > MAX_BLOCKLIST_WORDS:
        raise RoomError(_("The list holds at most %(n)d words.", n=MAX_BLOCKLIST_WORDS))
    if any(len(word) > 60 for word in words):
        raise RoomError(_("A line is longer than 60 characters."))
    row = session.get(RoomBlocklist, partnership.id)
    if row is None:
        row = RoomBlocklist(partnership_id=partnership.id)
        session.add(row)
    row.words = "\n".join(words)
    session.flush()
    audit.record(session, actor.id, "room.blocklist_update", partnership,
                 partnership_id=partnership.id, words=len(words))
    return len(words)


def _fold_text(text: str) -> str:
    """Case- and accent-insensitive text, with common look-alike digits read as letters."""
    plain = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in plain if not unicodedata.combining(ch))
    return plain.translate(str.maketrans("013457@$", "oieastas"))


def blocked_words(text: str, words: Sequence[str]) -> list[str]:
    """Blocklisted words or phrases found in ``text`` (whole words, any case or accent)."""
    folded = _fold_text(text)
    found = []
    for word in words:
        pattern = r"(?<!\w)" + re.escape(_fold_text(word)) + r"(?!\w)"
        if re.search(pattern, folded):
            found.append(word)
    return found


# ----------------------------------------------------------------------------- participants


@dataclass(frozen=True)
class Participant:
    """What the phone's cookie says: its token and the partner it named (or None)."""

    token: str
    partner_id: int | None


def _ballot_of(session: Session, question: RoomQuestion, key: str) -> RoomBallot | None:
    return session.scalar(select(RoomBallot).where(RoomBallot.question_id == question.id,
                                                   RoomBallot.voter_hash == key))


def _note_of(session: Session, question: RoomQuestion, key: str) -> RoomNote | None:
    return session.scalar(select(RoomNote).where(RoomNote.question_id == question.id,
                                                 RoomNote.voter_hash == key))


def my_answer(session: Session, question: RoomQuestion, key: str) -> Any:
    """This phone's answer to an open question (to show and let it change), or None."""
    if question.kind is QuestionKind.STICKY_NOTE:
        note = _note_of(session, question, key)
        return note.text if note is not None else None
    ballot = _ballot_of(session, question, key)
    if ballot is None:
        return None
    return ballot.value if question.kind is QuestionKind.AGREEMENT else ballot.allocation


def check_allocation(question: RoomQuestion, allocation: Sequence[int]) -> list[int]:
    """A dot vote as dots per option, within the budget and the per-option cap."""
    if len(allocation) != len(question.options):
        raise RoomError(_("Give your dots to the options listed."))
    dots = [int(d) for d in allocation]
    if any(d < 0 for d in dots):
        raise RoomError(_("Dots cannot be negative."))
    if any(d > question.option_cap for d in dots):
        raise RoomError(_("At most %(n)d dots on one option.", n=question.option_cap))
    total = sum(dots)
    if total == 0:
        raise RoomError(_("Give at least one dot."))
    if total > question.budget:
        raise RoomError(_("You have %(n)d dots; you gave %(m)d.", n=question.budget, m=total))
    return dots


def submit_answer(session: Session, secret: str, room: Room, question: RoomQuestion,
                  participant: Participant, answer: Any) -> None:
    """Store (or replace) this phone's answer to the open question.

    ``answer`` is an agreement point (int), a list of dots per option, or a note's text.
    """
    if room.status is not RoomStatus.OPEN or question.room_id != room.id:
        raise RoomError(_("This room is closed."))
    if question.state is not QuestionState.OPEN:
        raise RoomError(_("This question is not open any more."))
    partner_ids = {p.id for p in room_partners(session, room)}
    partner_id = participant.partner_id if participant.partner_id in partner_ids else None
    key = voter_hash(secret, participant.token, question.id)
    if question.kind is QuestionKind.STICKY_NOTE:
        _submit_note(session, room, question, key, str(answer or ""))
        return
    ballot = _ballot_of(session, question, key)
    if ballot is None:
        ballot = RoomBallot(question_id=question.id, voter_hash=key)
        session.add(ballot)
    ballot.partner_id = partner_id
    if question.kind is QuestionKind.AGREEMENT:
        if not isinstance(answer, int) or not 1 <= answer <= AGREEMENT_POINTS:
            raise RoomError(_("Choose one point of the scale."))
        ballot.value = answer
    else:
        ballot.allocation = check_allocation(question, answer)
    session.flush()


def _submit_note(session: Session, room: Room, question: RoomQuestion, key: str,
                 text: str) -> None:
    text = " ".join(text.split())
    if not text:
        raise RoomError(_("Write a note first."))
    if len(text) > question.max_chars:
        raise RoomError(_("A note holds at most %(n)d characters; yours has %(m)d.",
                          n=question.max_chars, m=len(text)))
    note = _note_of(session, question, key)
    if note is None:
        note = RoomNote(question_id=question.id, voter_hash=key)
        session.add(note)
    note.text = text
    note.status = NoteStatus.PENDING  # a changed note is read again before the screen
    note.flagged = bool(blocked_words(text, blocklist_words(session, room.partnership_id)))
    session.flush()


# ----------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Bar:
    label: str
    count: int
    share: float  # of the group's answers (agreement) or of its dots (dot vote)


@dataclass(frozen=True)
class Group:
    name: str
    answers: int
    bars: list[Bar]


@dataclass
class QuestionResults:
    """What may be shown of a revealed question: only groups of at least k answers."""

    answers: int
    total: Group | None = None
    partners: list[Group] = field(default_factory=list)
    hidden_partners: int = 0  # partners with answers whose figures are suppressed
    notes: list[str] = field(default_factory=list)


def question_results(session: Session, question: RoomQuestion, k: int) -> QuestionResults | None:
    """The figures of a revealed question with at least k answers; None otherwise."""
    if question.state is not QuestionState.REVEALED or (question.answer_count or 0) < k:
        return None
    if question.kind is QuestionKind.STICKY_NOTE:
        texts = list(session.scalars(select(RoomNote.text).where(
            RoomNote.question_id == question.id, RoomNote.status == NoteStatus.APPROVED)))
        texts.sort(key=lambda t: (t.casefold(), t))
        return QuestionResults(answers=question.answer_count or 0, notes=texts)
    tallies = list(session.scalars(select(RoomTally).where(
        RoomTally.question_id == question.id)))
    labels = [str(label) for label in AGREEMENT_LABELS] \
        if question.kind is QuestionKind.AGREEMENT else list(question.options)
    total_counts = [sum(int(t.counts[i]) for t in tallies) for i in range(len(labels))]
    answers = question.answer_count or 0
    order = list(range(len(labels)))
    if question.kind is QuestionKind.DOT_VOTE:  # most dots first, ties in the listed order
        order.sort(key=lambda i: -total_counts[i])

    def group(name: str, n: int, counts: list[int]) -> Group:
        base = n if question.kind is QuestionKind.AGREEMENT else sum(counts)
        return Group(name, n, [Bar(labels[i], counts[i], counts[i] / base if base else 0.0)
                               for i in order])

    result = QuestionResults(answers=answers, total=group("", answers, total_counts))
    named = [t for t in tallies if t.partner_id is not None]
    if named:
        frame = pd.DataFrame({"partner_id": [t.partner_id for t in named] + [None],
                              "n": [t.answers for t in named] + [answers]})
        shown = suppress(frame, k, levels="partner_id")
        names = {p.id: p.name for p in session.scalars(select(Partner).where(
            Partner.id.in_([t.partner_id for t in named])))}
        for tally, hidden in zip(named, shown["suppressed"].iloc[:-1], strict=True):
            if hidden:
                result.hidden_partners += 1
            elif tally.answers > 0:
                result.partners.append(group(names.get(tally.partner_id, "?"), tally.answers,
                                             [int(c) for c in tally.counts]))
        result.partners.sort(key=lambda g: g.name.casefold())
    return result


def workshop_record(session: Session, workshop_id: int) -> list[dict[str, Any]]:
    """What the workshop's rooms asked and, for revealed questions, what may be cited.

    For the workshop summary: one dict per question (prompt, kind, state, ``results``: a
    :class:`QuestionResults` or None when fewer than k answered or it was never revealed).
    """
    out = []
    rooms = session.scalars(select(Room).where(Room.workshop_id == workshop_id)
                            .order_by(Room.opened_at))
    for room in rooms:
        k = room_k(session, room)
        for question in room.questions:
            out.append({"room_id": room.id, "question_id": question.id,
                        "prompt": question.prompt, "kind": question.kind.value,
                        "state": question.state.value,
                        "results": question_results(session, question, k)})
    return out


# ----------------------------------------------------------------------------- the screen


def screen_question(room: Room) -> RoomQuestion | None:
    if room.screen_question_id is None:
        return None
    return question_in(room, room.screen_question_id)


def screen_version(session: Session, room: Room) -> str:
    """A tag that changes exactly when the screen would show something different."""
    question = screen_question(room)
    shown_count: int | str = "-"
    if question is not None and question.state is QuestionState.OPEN:
        count = live_count(session, question)
        shown_count = count if count >= room_k(session, room) else "<k"
    return f"{room.id}.{room.version}.{room.status.value}.{shown_count}"


def screen_etag(session: Session, room: Room) -> str:
    """:func:`screen_version` in the reader's language (the panel's words depend on it)."""
    return f"{screen_version(session, room)}-{select_locale()}"


def screen_context(session: Session, room_id: int) -> dict[str, Any]:
    """Everything ``templates/room/_screen_panel.html`` shows, as the template variable ``room``.

    Keys: ``id``, ``code`` (None once closed) and ``code_text`` (``ACD EFH``), ``closed``,
    ``k``, ``question`` (None or a dict with ``prompt``, ``kind``, ``state``, ``answers`` (the
    count, None below k), ``results`` (:class:`QuestionResults` or None) and
    ``options``/``budget``/``option_cap``), ``version`` (the screen's ETag), ``join_url``,
    ``join_short`` (the code-entry page), ``qr`` (an SVG data: URI of ``join_url``),
    ``labels`` (the agreement points) and ``fmt`` (:class:`Numbers` in the reader's language).
    Needs a request context (URLs, language). Nothing in it depends on who is looking.
    """
    room = session.get(Room, room_id)
    if room is None:
        raise LookupError(room_id)
    k = room_k(session, room)
    question = screen_question(room)
    shown = None
    if question is not None:
        count = live_count(session, question)
        shown = {"id": question.id, "prompt": question.prompt, "kind": question.kind.value,
                 "state": question.state.value, "options": list(question.options),
                 "budget": question.budget, "option_cap": question.option_cap,
                 "max_chars": question.max_chars,
                 "answers": count if count >= k else None,
                 "results": question_results(session, question, k)}
    join_url = url_for("join.room", code=room.code, _external=True) if room.code else ""
    return {"id": room.id, "code": room.code, "code_text": format_code(room.code),
            "closed": room.status is RoomStatus.CLOSED, "k": k, "question": shown,
            "version": screen_etag(session, room), "join_url": join_url,
            "join_short": url_for("join.enter", _external=True),
            "qr": qr_data_uri(join_url) if join_url else None,
            "labels": [str(label) for label in AGREEMENT_LABELS],
            "fmt": Numbers(select_locale())}


def control_counts(session: Session, room: Room) -> dict[int, int]:
    """Answers per question for the facilitator: counts only, never values."""
    return {q.id: live_count(session, q) for q in room.questions
            if q.state is not QuestionState.DRAFT}


def format_code(code: str | None) -> str:
    """A room code as printed: ``ACD EFH``."""
    if not code:
        return ""
    return f"{code[:3]} {code[3:]}"
