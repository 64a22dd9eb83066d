"""Access codes: generation, keyed hashing and lookup.

Codes use an alphabet without look-alike characters (no 0/O, 1/I/L, 5/S, 2/Z, 8/B) so they
survive being read aloud, printed and typed on a phone. Only an HMAC of a code is stored, keyed
with ACCESS_CODE_KEY, so a leaked database does not reveal usable codes and a guessed code
cannot be checked offline without the key.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import AccessCode, CodeKind

ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"
CODE_LENGTH = 8  # 25**8 = 1.5e11 codes: guessing one of 1,000 issued takes ~1.5e8 tries
LINK_TOKEN_BYTES = 18
MAX_CODES_PER_BATCH = 2000


def generate_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def format_code(code: str) -> str:
    """Show a code in two groups of four, easier to read aloud: ``KXP7-W9QT``."""
    return f"{code[:4]}-{code[4:]}" if len(code) == CODE_LENGTH else code


def normalise_code(raw: str) -> str:
    """Accept what people type: any case, with spaces or dashes between the groups."""
    return "".join(ch for ch in raw.upper() if ch.isalnum())


def looks_like_code(code: str) -> bool:
    return len(code) == CODE_LENGTH and all(ch in ALPHABET for ch in code)


def hash_code(code: str, key: str | None = None) -> str:
    secret = (key or current_app.config["ACCESS_CODE_KEY"]).encode("utf-8")
    return hmac.new(secret, code.encode("utf-8"), hashlib.sha256).hexdigest()


def find_code(session: Session, raw_code: str) -> AccessCode | None:
    """Look up the single-use code a respondent typed, or None."""
    code = normalise_code(raw_code[:40])
    if not looks_like_code(code):
        return None
    found = session.scalar(select(AccessCode).where(AccessCode.code_hash == hash_code(code)))
    return found if found is not None and found.kind is CodeKind.SINGLE else None


def find_link(session: Session, token: str) -> AccessCode | None:
    if not token or len(token) > 64:
        return None
    found = session.scalar(select(AccessCode).where(AccessCode.code_hash == hash_code(token)))
    return found if found is not None and found.kind is CodeKind.LINK else None


def issue_codes(session: Session, round_id: int, partner_id: int, count: int,
                batch: str | None = None) -> list[str]:
    """Create ``count`` single-use codes; the plain codes are returned once and never stored."""
    if not 1 <= count <= MAX_CODES_PER_BATCH:
        raise ValueError(f"count must be between 1 and {MAX_CODES_PER_BATCH}")
    batch = batch or secrets.token_hex(6)
    codes: set[str] = set()
    while len(codes) < count:
        codes.add(generate_code())
    plain = sorted(codes)
    session.add_all(
        AccessCode(round_id=round_id, partner_id=partner_id, code_hash=hash_code(code),
                   kind=CodeKind.SINGLE, max_uses=1, uses=0, batch=batch)
        for code in plain
    )
    session.flush()
    return plain


def issue_link(session: Session, round_id: int, partner_id: int, max_uses: int) -> str:
    """Create a partner link usable ``max_uses`` times; returns the token for the URL."""
    if not 1 <= max_uses <= 100_000:
        raise ValueError("max_uses must be between 1 and 100000")
    token = secrets.token_urlsafe(LINK_TOKEN_BYTES)
    session.add(AccessCode(round_id=round_id, partner_id=partner_id, code_hash=hash_code(token),
                           kind=CodeKind.LINK, max_uses=max_uses, uses=0,
                           batch=secrets.token_hex(6)))
    session.flush()
    return token
