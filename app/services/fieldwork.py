"""Fieldwork: handing out access codes and partner links, and watching responses come in.

Codes are stored only as keyed hashes, so the plain codes exist in exactly one place: the
response to the request that created them. That response is the printable sheet. Its CSV
download is a second POST carrying the codes back in a *sealed* form field: signed with the
app's secret (itsdangerous), bound to the issuing user and their sign-in epoch, to the round
and the batch, and refused after ``SHEET_MAX_AGE`` seconds. It is signed, not encrypted: the
blob sits in the very page that shows the codes in clear, so encryption would hide nothing
from anyone who can read it. Before the CSV is made, every code is checked against the stored
hashes of its batch, so revoked codes drop out. Nothing on the server can show the codes again.
"""

from __future__ import annotations

import base64
import csv
import io
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

import segno
from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import case, delete, func, select, update
from sqlalchemy.orm import Session

from app.models import AccessCode, CodeKind, Partner, Response, Round, RoundStatus, User
from app.models.responses import PAPER_SOURCE
from app.services.access_codes import (
    MAX_CODES_PER_BATCH,
    format_code,
    hash_code,
    issue_codes,
    issue_link,
)
from app.services.audit import record

SHEET_MAX_AGE = 30 * 60  # seconds a printed sheet's CSV can still be downloaded
SHEET_SALT = "mitra-sehat.fieldwork.code-sheet"
BATCH_PATTERN = re.compile(r"^[0-9a-f]{12,32}$")
MAX_LINK_USES = 100_000
MIN_CODES_FOR_RATE = 5  # below this a response rate says more about chance than fieldwork
CSV_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\0")


class FieldworkError(ValueError):
    """A fieldwork request was refused; ``str(error)`` is a message for the person who asked."""


# ------------------------------------------------------------------------------ issuing


def new_batch_id() -> str:
    """A random batch id, put in the form before codes exist, so a resent form issues nothing."""
    return secrets.token_hex(8)


def _check_can_issue(round_: Round, partner: Partner) -> None:
    if round_.status is RoundStatus.CLOSED:
        raise FieldworkError(_l("This round is closed. Re-open it before issuing codes."))
    if partner.id not in {p.id for p in round_.partners}:
        raise FieldworkError(_l("This partner does not take part in the round."))


def issue_code_batch(session: Session, actor: User, round_: Round, partner: Partner, count: int,
                     batch: str) -> list[str]:
    """Create ``count`` single-use codes under ``batch``; return the plain codes (only now).

    The batch id comes from the form, so submitting the same form twice (a reload, a double
    click) is refused instead of silently issuing a second set of codes.
    """
    _check_can_issue(round_, partner)
    if not BATCH_PATTERN.match(batch):
        raise FieldworkError(_l("The form has expired. Open it again."))
    if not 1 <= count <= MAX_CODES_PER_BATCH:
        raise FieldworkError(
            _l("Choose between 1 and %(n)d codes.", n=MAX_CODES_PER_BATCH))
    if session.scalar(select(AccessCode.id).where(AccessCode.batch == batch).limit(1)):
        raise FieldworkError(_l(
            "These codes were already generated and cannot be shown again. If the sheet was "
            "lost, revoke that batch and generate new codes."))
    codes = issue_codes(session, round_.id, partner.id, count, batch=batch)
    record(session, actor.id, "codes.issue", round_, partnership_id=round_.partnership_id,
           partner_id=partner.id, count=count, batch=batch)
    session.flush()
    return codes


def issue_partner_link(session: Session, actor: User, round_: Round, partner: Partner,
                       max_uses: int) -> str:
    """Create a shared link for a partner, usable ``max_uses`` times; return its token once."""
    _check_can_issue(round_, partner)
    if not 1 <= max_uses <= MAX_LINK_USES:
        raise FieldworkError(_l("Choose between 1 and %(n)d uses.", n=MAX_LINK_USES))
    token = issue_link(session, round_.id, partner.id, max_uses)
    batch = session.scalar(select(AccessCode.batch).where(AccessCode.code_hash == hash_code(token)))
    record(session, actor.id, "link.issue", round_, partnership_id=round_.partnership_id,
           partner_id=partner.id, max_uses=max_uses, batch=batch)
    session.flush()
    return token


def revoke_batch(session: Session, actor: User, round_: Round, batch: str) -> int:
    """Make the unused part of a batch unusable; return how many uses were withdrawn.

    Unused codes are deleted (a revoked code then reads as unknown); a link already used keeps
    its count of uses but can take no more.
    """
    rows = _batch_rows(session, round_, batch)
    if not rows:
        raise LookupError(batch)
    unused = [row.id for row in rows if row.uses == 0]
    capped = [row for row in rows if 0 < row.uses < row.max_uses]
    withdrawn = sum(row.max_uses - row.uses for row in rows)
    if unused:
        session.execute(delete(AccessCode).where(AccessCode.id.in_(unused)))
    if capped:
        session.execute(update(AccessCode).where(AccessCode.id.in_([r.id for r in capped]))
                        .values(max_uses=AccessCode.uses))
    record(session, actor.id, "codes.revoke", round_, partnership_id=round_.partnership_id,
           partner_id=rows[0].partner_id, batch=batch, kind=rows[0].kind.value,
           withdrawn=withdrawn)
    session.flush()
    session.expire_all()
    return withdrawn


def _batch_rows(session: Session, round_: Round, batch: str) -> list[AccessCode]:
    if not BATCH_PATTERN.match(batch):
        return []
    return list(session.scalars(select(AccessCode).where(AccessCode.round_id == round_.id,
                                                         AccessCode.batch == batch)))


# ------------------------------------------------------------------------------ counting


@dataclass(frozen=True)
class PartnerFieldwork:
    """Counts for one partner in a round (``partner`` is None on the totals row)."""

    partner: Partner | None
    codes_issued: int
    codes_used: int
    links: int
    link_uses: int
    link_capacity: int
    responses: int
    paper_responses: int = 0  # typed in from paper forms: they used no code

    @property
    def response_rate(self) -> float | None:
        """Share of the single-use codes issued that were used.

        Only codes have a known denominator: responses through a shared link or typed in from
        paper used no code, so counting them over codes issued gave rates above 100%. None
        below MIN_CODES_FOR_RATE codes (chance, not fieldwork) and when the partner also
        answers through links (the rate would describe only part of its people).
        """
        if self.codes_issued < MIN_CODES_FOR_RATE or self.links:
            return None
        return self.codes_used / self.codes_issued


@dataclass(frozen=True)
class FieldworkSummary:
    rows: list[PartnerFieldwork]
    totals: PartnerFieldwork


def fieldwork_summary(session: Session, round_: Round) -> FieldworkSummary:
    """Count codes, links and responses per participating partner of a round."""
    single = AccessCode.kind == CodeKind.SINGLE
    link = AccessCode.kind == CodeKind.LINK
    code_rows = session.execute(
        select(
            AccessCode.partner_id,
            func.sum(case((single, 1), else_=0)),
            func.sum(case((single & (AccessCode.uses > 0), 1), else_=0)),
            func.sum(case((link, 1), else_=0)),
            func.sum(case((link, AccessCode.uses), else_=0)),
            func.sum(case((link, AccessCode.max_uses), else_=0)),
        ).where(AccessCode.round_id == round_.id).group_by(AccessCode.partner_id)
    ).all()
    codes = {row[0]: [int(value or 0) for value in row[1:]] for row in code_rows}
    responses: dict[int, int] = {}
    paper: dict[int, int] = {}
    for partner_id, source, count in session.execute(
        select(Response.partner_id, Response.source, func.count())
        .where(Response.round_id == round_.id)
        .group_by(Response.partner_id, Response.source)
    ):
        responses[partner_id] = responses.get(partner_id, 0) + int(count)
        if source == PAPER_SOURCE:
            paper[partner_id] = paper.get(partner_id, 0) + int(count)
    rows = [
        PartnerFieldwork(partner, *codes.get(partner.id, [0, 0, 0, 0, 0]),
                         responses=responses.get(partner.id, 0),
                         paper_responses=paper.get(partner.id, 0))
        for partner in round_.partners
    ]
    totals = PartnerFieldwork(
        None,
        codes_issued=sum(r.codes_issued for r in rows),
        codes_used=sum(r.codes_used for r in rows),
        links=sum(r.links for r in rows),
        link_uses=sum(r.link_uses for r in rows),
        link_capacity=sum(r.link_capacity for r in rows),
        responses=sum(r.responses for r in rows),
        paper_responses=sum(r.paper_responses for r in rows),
    )
    return FieldworkSummary(rows, totals)


@dataclass(frozen=True)
class BatchSummary:
    batch: str
    partner: Partner
    kind: CodeKind
    created_at: datetime
    issued: int  # codes, or links
    used: int  # codes used, or uses of the links
    capacity: int  # codes, or the links' use limit

    @property
    def revocable(self) -> bool:
        return self.used < self.capacity


def batches_of(session: Session, round_: Round) -> list[BatchSummary]:
    """List the code batches and links of a round, newest first."""
    rows = session.execute(
        select(AccessCode.batch, AccessCode.partner_id, AccessCode.kind,
               func.min(AccessCode.created_at), func.count(),
               func.sum(case((AccessCode.kind == CodeKind.LINK, AccessCode.uses),
                             else_=case((AccessCode.uses > 0, 1), else_=0))),
               func.sum(AccessCode.max_uses))
        .where(AccessCode.round_id == round_.id)
        .group_by(AccessCode.batch, AccessCode.partner_id, AccessCode.kind)
        .order_by(func.min(AccessCode.created_at).desc(), AccessCode.batch)
    ).all()
    partners = {p.id: p for p in round_.partners}
    for partner_id in {row[1] for row in rows} - partners.keys():
        partners[partner_id] = session.get(Partner, partner_id)
    return [BatchSummary(batch, partners[partner_id], kind, created, int(issued), int(used or 0),
                         int(capacity or 0))
            for batch, partner_id, kind, created, issued, used, capacity in rows]


def batch_summary(session: Session, round_: Round, batch: str) -> BatchSummary | None:
    for summary in batches_of(session, round_):
        if summary.batch == batch:
            return summary
    return None


# ------------------------------------------------------------------- the sheet and its CSV


@dataclass(frozen=True)
class SealedSheet:
    round_id: int
    partner_id: int
    batch: str
    language: str
    codes: list[str]


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=SHEET_SALT)


def seal_sheet(user: User, round_: Round, partner: Partner, batch: str, language: str,
               codes: list[str]) -> str:
    """Sign the codes of a just-printed sheet so its CSV can be made in a follow-up POST."""
    return _serializer().dumps({"u": user.id, "e": user.session_epoch, "r": round_.id,
                                "p": partner.id, "b": batch, "l": language, "c": codes})


def open_sheet(blob: str, user: User, round_: Round) -> SealedSheet:
    """Check and unpack a sealed sheet; refuse an old one or one made for someone else."""
    try:
        data = _serializer().loads(blob, max_age=SHEET_MAX_AGE)
    except SignatureExpired:
        raise FieldworkError(_l("The codes can only be downloaded for %(minutes)d minutes after "
                                "they were generated.", minutes=SHEET_MAX_AGE // 60)) from None
    except BadSignature:
        raise FieldworkError(_l("This download is not valid.")) from None
    if not isinstance(data, dict) or data.get("u") != user.id \
            or data.get("e") != user.session_epoch or data.get("r") != round_.id:
        raise FieldworkError(_l("This download is not valid."))
    return SealedSheet(round_id=data["r"], partner_id=data["p"], batch=data["b"],
                       language=data["l"], codes=list(data["c"]))


def still_valid_codes(session: Session, sheet: SealedSheet) -> list[str]:
    """Keep the sheet's codes whose hashes are still stored in its batch (not revoked)."""
    stored = set(session.scalars(select(AccessCode.code_hash).where(
        AccessCode.round_id == sheet.round_id, AccessCode.batch == sheet.batch,
        AccessCode.kind == CodeKind.SINGLE)))
    return [code for code in sheet.codes if hash_code(code) in stored]


def neutralise_cell(value: object) -> object:
    """Defuse spreadsheet formulas: text starting with = + - @ tab CR or NUL gets a leading '.

    Numbers stay numbers; only text can be a formula.
    """
    if isinstance(value, str) and value.startswith(CSV_TRIGGERS):
        return "'" + value
    return value


def csv_text(header: Iterable[str], rows: Iterable[Iterable[object]]) -> str:
    """Write rows as RFC 4180 CSV with every cell quoted and every text cell neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow([neutralise_cell(cell) for cell in header])
    for row in rows:
        writer.writerow([neutralise_cell(cell) for cell in row])
    return buffer.getvalue()


@dataclass(frozen=True)
class CodeCard:
    code: str
    display: str  # ABCD-EFGH
    url: str  # direct link that opens the questionnaire with this code
    qr: str  # data: URI of an SVG QR code of ``url``


def qr_data_uri(text: str) -> str:
    """Return an SVG QR code of ``text`` as a base64 data: URI (the CSP allows data: images).

    Error correction M without boosting keeps the symbol small (version 3 for our links) and
    makes ~2,000 codes in a few seconds.
    """
    qr = segno.make(text, error="m", boost_error=False, micro=False)
    buffer = io.BytesIO()
    qr.save(buffer, kind="svg", xmldecl=False, svgns=True, scale=4, border=2)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def code_cards(codes: Iterable[str], url_for_code: Callable[[str], str]) -> list[CodeCard]:
    cards = []
    for code in codes:
        url = url_for_code(code)
        cards.append(CodeCard(code, format_code(code), url, qr_data_uri(url)))
    return cards
