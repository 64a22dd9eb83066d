"""Staff accounts: signing in and out, profiles, passwords and administration of users.

Every function takes the request's session, flushes, and leaves the commit to the view, so a
change and its audit event land in one transaction.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.auth.passwords import hash_password, needs_rehash, password_problem, verify_password
from app.models import User
from app.services.audit import record

GENERATED_PASSWORD_BYTES = 12  # token_urlsafe(12) gives 16 characters, above MIN_LENGTH


class UserError(ValueError):
    """A user change was refused; ``str(error)`` is a message for the person who asked."""


class PasswordRefused(UserError):
    """A new password does not meet the password policy."""


class WrongPassword(UserError):
    """The current password given to confirm a change is not the account's password."""


def normalise_email(email: str) -> str:
    """Compare addresses case-insensitively and without stray spaces."""
    return email.strip().lower()


def find_user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == normalise_email(email)))


def pseudonym(email: str) -> str:
    """Return a stable, non-reversible id for logs, so failed sign-ins never log an address."""
    key = current_app.config["SECRET_KEY"].encode("utf-8")
    digest = hmac.new(key, normalise_email(email).encode("utf-8"), hashlib.sha256)
    return digest.hexdigest()[:16]


def authenticate(session: Session, email: str, password: str) -> User | None:
    """Return the user when the password is right and the account active, else None.

    Unknown addresses and inactive accounts cost one Argon2 verification like a wrong password
    (``verify_password`` checks a dummy hash), so timing does not reveal which accounts exist.
    A hash made with older parameters is upgraded while the plain password is at hand. Nothing
    is audited yet: with two-factor sign-in on, the password is only the first step.
    """
    user = find_user_by_email(session, email)
    stored = user.password_hash if user is not None else None
    if not verify_password(stored, password) or user is None or not user.is_active_account:
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        session.flush()
    return user


def record_sign_in(session: Session, user: User, method: str = "password") -> None:
    """Audit a completed sign-in and how the last step was passed (never the secret)."""
    if method == "password":
        record(session, user.id, "user.sign_in", user)
    else:
        record(session, user.id, "user.sign_in", user, method=method)
    session.flush()


def sign_in(session: Session, email: str, password: str) -> User | None:
    """Check the password and audit the sign-in, for accounts without a second factor."""
    user = authenticate(session, email, password)
    if user is not None:
        record_sign_in(session, user)
    return user


def sign_out(session: Session, user: User) -> None:
    """End every session of ``user``: cookies carrying the old epoch no longer load the user."""
    user.session_epoch += 1
    session.flush()


def update_profile(session: Session, user: User, *, name: str, language: str) -> None:
    """Change the display name and the interface language a staff user sees."""
    languages = current_app.config["LANGUAGES"]
    if language not in languages:
        raise UserError(_l("Choose one of the offered languages."))
    name = name.strip()
    if not name:
        raise UserError(_l("Enter a name."))
    changed = {}
    if name != user.name:
        changed["name"] = name
    if language != user.language:
        changed["language"] = language
    if not changed:
        return
    user.name = name
    user.language = language
    record(session, user.id, "user.profile_update", user, fields=sorted(changed))
    session.flush()


def change_password(session: Session, user: User, *, current: str, new: str) -> None:
    """Replace the password after checking the current one; ends all other sessions."""
    if not verify_password(user.password_hash, current):
        raise WrongPassword(_l("The current password is not right."))
    problem = password_problem(new)
    if problem:
        raise PasswordRefused(problem)
    user.password_hash = hash_password(new)
    user.session_epoch += 1
    record(session, user.id, "user.password_change", user)
    session.flush()


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(func.lower(User.name), User.id)))


def create_user(session: Session, actor: User, *, email: str, name: str, is_admin: bool,
                language: str, password: str | None = None) -> tuple[User, str | None]:
    """Create a staff account; return it and the generated password (None when one was typed).

    A generated password is returned once for the administrator to pass on; only its hash is
    stored.
    """
    email = normalise_email(email)
    if not email or "@" not in email:
        raise UserError(_l("Enter a valid email address."))
    if find_user_by_email(session, email) is not None:
        raise UserError(_l("A user with this email address already exists."))
    if language not in current_app.config["LANGUAGES"]:
        raise UserError(_l("Choose one of the offered languages."))
    generated = None
    if not password:
        generated = password = secrets.token_urlsafe(GENERATED_PASSWORD_BYTES)
    problem = password_problem(password)
    if problem:
        raise PasswordRefused(problem)
    user = User(email=email, name=name.strip() or email.split("@")[0], is_admin=is_admin,
                language=language, password_hash=hash_password(password))
    session.add(user)
    session.flush()
    record(session, actor.id, "user.create", user, is_admin=is_admin)
    session.flush()
    return user, generated


def set_active(session: Session, actor: User, user: User, active: bool) -> None:
    """Deactivate or reactivate an account; either way its current sessions end."""
    if user.id == actor.id and not active:
        raise UserError(_l("You cannot deactivate your own account."))
    if user.is_active_account == active:
        return
    user.is_active_account = active
    user.session_epoch += 1
    record(session, actor.id, "user.reactivate" if active else "user.deactivate", user)
    session.flush()
