"""TOTP two-factor sign-in (RFC 6238 through pyotp), recovery codes, and their storage.

The TOTP secret is encrypted at rest with Fernet (AES-128-CBC + HMAC-SHA256, an AEAD
construction) under a key derived by HKDF from ``TWO_FACTOR_KEY`` (default: the secret key).
A database dump alone therefore reveals no secret; rotating that key means staff enrol again,
which is why it can be set apart from the session key. Recovery codes carry 50 random bits
each and are stored as an HMAC under a key derived the same way: a slow hash adds nothing
for random codes and would make checking ten of them cost ten Argon2 runs.

A code is accepted for the current 30-second step or one step either side (clock drift), and
only for a step later than the last one accepted (``users.totp_last_step``, updated with a
compare-and-set), so a code seen over a shoulder cannot be used again.

Every function takes the request's session, flushes, and leaves the commit to the view.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from functools import cache

import pyotp
import segno
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from app.auth.passwords import verify_password
from app.models import Membership, RecoveryCode, Role, User
from app.models._types import utcnow
from app.services.audit import record

ISSUER = "Mitra Sehat"
INTERVAL = 30
DRIFT_STEPS = 1
RECOVERY_CODE_COUNT = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i
_RECOVERY_LENGTH = 10  # 10 symbols of 31: 49.5 bits


class TwoFactorError(ValueError):
    """A two-factor change was refused; ``str(error)`` is a message for the person who asked."""


# ------------------------------------------------------------------------------- key material


def _key_material() -> bytes:
    config = current_app.config
    return (config.get("TWO_FACTOR_KEY") or config["SECRET_KEY"]).encode("utf-8")


@cache
def _derive(material: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=b"mitra-sehat " + purpose).derive(material)


def _fernet() -> Fernet:
    return Fernet(base64.urlsafe_b64encode(_derive(_key_material(), b"totp secret")))


def encrypt_secret(secret: str) -> str:
    return _fernet().encrypt(secret.encode("ascii")).decode("ascii")


def decrypt_secret(token: str) -> str | None:
    """Return the secret, or None when the token was made under another key or tampered."""
    try:
        return _fernet().decrypt(token.encode("ascii")).decode("ascii")
    except (InvalidToken, ValueError):
        return None


def _recovery_hash(code: str) -> str:
    key = _derive(_key_material(), b"recovery code")
    return hmac.new(key, normalise_recovery_code(code).encode("utf-8"),
                    hashlib.sha256).hexdigest()


# ---------------------------------------------------------------------------------- enrolment


def new_secret() -> str:
    return pyotp.random_base32()  # 160 bits, as RFC 4226 recommends


def provisioning_uri(secret: str, user: User) -> str:
    return pyotp.TOTP(secret, interval=INTERVAL).provisioning_uri(
        name=user.email, issuer_name=ISSUER)


def qr_data_uri(uri: str) -> str:
    """An SVG QR code as a data URI: the CSP allows ``img-src data:`` and no inline style."""
    return segno.make(uri, error="m").svg_data_uri(scale=5, border=2)


def grouped(secret: str) -> str:
    """The secret in groups of four, for typing into an app by hand."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def is_required_for(session: Session, user: User) -> bool:
    """Administrators and coordinators must enrol when TWO_FACTOR_REQUIRED is on."""
    if not current_app.config.get("TWO_FACTOR_REQUIRED", False) or user.two_factor_enabled:
        return False
    if user.is_admin:
        return True
    return session.scalar(select(Membership.id).where(
        Membership.user_id == user.id, Membership.role == Role.COORDINATOR).limit(1)) is not None


def enrol(session: Session, user: User, secret: str, code: str) -> list[str]:
    """Turn two-factor sign-in on once ``code`` proves the app holds ``secret``.

    Returns the new recovery codes, to be shown once; only their hashes are stored.
    """
    if user.two_factor_enabled:
        raise TwoFactorError(_l("Two-factor sign-in is already on."))
    step = _matching_step(secret, code, after=None)
    if step is None:
        raise TwoFactorError(_l("That code is not right. Check the time on your phone and "
                                "enter the code shown now."))
    user.totp_secret = encrypt_secret(secret)
    user.totp_enabled_at = utcnow()
    user.totp_last_step = step
    codes = _replace_recovery_codes(session, user)
    record(session, user.id, "user.two_factor_enable", user)
    session.flush()
    return codes


def _replace_recovery_codes(session: Session, user: User) -> list[str]:
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    session.add_all(RecoveryCode(user_id=user.id, code_hash=_recovery_hash(code))
                    for code in codes)
    session.flush()
    return codes


def _new_recovery_code() -> str:
    raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


def normalise_recovery_code(code: str) -> str:
    return "".join(ch for ch in code.lower() if ch.isalnum())


def remaining_recovery_codes(session: Session, user: User) -> int:
    return session.scalar(select(func.count()).select_from(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))) or 0


def regenerate_recovery_codes(session: Session, user: User, code: str) -> list[str]:
    """Replace every recovery code after checking a current TOTP code."""
    if not user.two_factor_enabled or not verify_totp(session, user, code):
        raise TwoFactorError(_l("That code is not right."))
    codes = _replace_recovery_codes(session, user)
    record(session, user.id, "user.two_factor_recovery_codes", user)
    session.flush()
    return codes


def disable(session: Session, user: User, *, password: str, code: str) -> None:
    """Turn two-factor sign-in off; needs the password and a current or recovery code."""
    if not user.two_factor_enabled:
        raise TwoFactorError(_l("Two-factor sign-in is not on."))
    if not verify_password(user.password_hash, password):
        raise TwoFactorError(_l("The password is not right."))
    if verify_second_factor(session, user, code) is None:
        raise TwoFactorError(_l("That code is not right."))
    _clear(session, user)
    record(session, user.id, "user.two_factor_disable", user)
    session.flush()


def reset(session: Session, actor: User, user: User) -> None:
    """An administrator turns off another user's two-factor sign-in (a lost phone).

    The user's sessions end too, so whoever holds a signed-in browser must sign in again.
    """
    if user.id == actor.id:
        raise TwoFactorError(_l("Turn off your own two-factor sign-in on your profile page."))
    if not user.two_factor_enabled:
        raise TwoFactorError(_l("This user has not set up two-factor sign-in."))
    _clear(session, user)
    user.session_epoch += 1
    record(session, actor.id, "user.two_factor_reset", user)
    session.flush()


def _clear(session: Session, user: User) -> None:
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))


# ---------------------------------------------------------------------------------- checking


def _matching_step(secret: str, code: str, after: int | None) -> int | None:
    code = "".join(code.split())
    if len(code) != 6 or not (code.isascii() and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret, interval=INTERVAL)
    now_step = int(time.time()) // INTERVAL
    for step in range(now_step - DRIFT_STEPS, now_step + DRIFT_STEPS + 1):
        if after is not None and step <= after:
            continue
        if hmac.compare_digest(totp.at(step * INTERVAL), code):
            return step
    return None


def verify_totp(session: Session, user: User, code: str) -> bool:
    """Accept a code once: the step is recorded with a compare-and-set against replays."""
    secret = decrypt_secret(user.totp_secret) if user.totp_secret else None
    if secret is None:
        return False
    step = _matching_step(secret, code, after=user.totp_last_step)
    if step is None:
        return False
    claimed = session.execute(
        update(User).where(User.id == user.id,
                           or_(User.totp_last_step.is_(None), User.totp_last_step < step))
        .values(totp_last_step=step).execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        return False  # another request used this step (or a later one) first
    user.totp_last_step = step
    return True


def verify_recovery_code(session: Session, user: User, code: str) -> bool:
    """Spend one unused recovery code; a concurrent use of the same code wins only once."""
    normalised = normalise_recovery_code(code)
    if len(normalised) != _RECOVERY_LENGTH:
        return False
    spent = session.execute(
        update(RecoveryCode).where(RecoveryCode.user_id == user.id,
                                   RecoveryCode.code_hash == _recovery_hash(normalised),
                                   RecoveryCode.used_at.is_(None))
        .values(used_at=utcnow()).execution_options(synchronize_session=False))
    return spent.rowcount == 1


def verify_second_factor(session: Session, user: User, code: str) -> str | None:
    """Check a TOTP code or a recovery code; return which one worked, or None."""
    if verify_totp(session, user, code):
        return "totp"
    if verify_recovery_code(session, user, code):
        return "recovery_code"
    return None
