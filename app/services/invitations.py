"""Invitations: a coordinator asks an email address to take a role in a partnership.

Who may invite: a site administrator, or a coordinator of that partnership; to the roles of
a partnership only (coordinator, facilitator, observer), never to site administration. The
invitation is a random 256-bit token whose SHA-256 alone is stored; it works once, until it
expires (``INVITATION_TTL_HOURS``) or is revoked. Accepting creates the account (name,
password, language) or, for an address that already has one, adds the role to it once its
owner has signed in. A new link replaces the old one, which stops working.

Every function takes the request's session and flushes; the view commits once, after the
mail (if any) went out, so an invitation whose mail failed is not kept.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from limits import parse_many
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.passwords import hash_password, password_problem
from app.extensions import shared_counters
from app.models import (
    Invitation,
    InvitationStatus,
    Membership,
    Partner,
    Partnership,
    Role,
    User,
)
from app.models._types import utcnow
from app.services.audit import record
from app.services.users import find_user_by_email, normalise_email

TOKEN_BYTES = 32
MAX_EMAIL_LENGTH = 254
MAX_NAME_LENGTH = 200
# One address, nothing a mail header could be tricked with (spaces, commas, angle brackets).
_EMAIL = re.compile(r"^[^@\s<>,;:\"()\[\]\\]+@[^@\s<>,;:\"()\[\]\\]+\.[^@\s<>,;:\"()\[\]\\]+$")
RATE_SCOPE = "invitations"


class InvitationError(ValueError):
    """An invitation change was refused; ``str(error)`` is a message for the person who asked."""


class TooManyInvitations(InvitationError):
    """The person sent as many invitations as ``INVITATION_RATE_LIMIT`` allows for now."""

    def __init__(self, retry_after: int) -> None:
        minutes = max(1, -(-retry_after // 60))
        super().__init__(lazy_ngettext(
            "You have sent many invitations in a short time. Please wait %(num)d minute "
            "and try again.",
            "You have sent many invitations in a short time. Please wait %(num)d minutes "
            "and try again.", minutes))
        self.retry_after = retry_after


class PasswordNotAccepted(InvitationError):
    """The chosen password does not meet the password policy."""


class InvitationUnusable(InvitationError):
    """The link is unknown, used, revoked or expired; ``status`` says which (None: unknown)."""

    def __init__(self, status: InvitationStatus | None) -> None:
        super().__init__(str(status or "unknown"))
        self.status = status


@dataclass(frozen=True)
class Listed:
    """An invitation as the members page lists it."""

    invitation: Invitation
    status: InvitationStatus

    @property
    def can_revoke(self) -> bool:
        return self.status is InvitationStatus.PENDING

    @property
    def can_renew(self) -> bool:
        return self.status in {InvitationStatus.PENDING, InvitationStatus.EXPIRED}


# ------------------------------------------------------------------------------ tokens


def hash_token(plain: str) -> str:
    return hashlib.sha256(plain.encode("utf-8")).hexdigest()


def ttl() -> timedelta:
    return timedelta(hours=int(current_app.config["INVITATION_TTL_HOURS"]))


def _new_token(invitation: Invitation, now: datetime) -> str:
    plain = secrets.token_urlsafe(TOKEN_BYTES)
    invitation.token_hash = hash_token(plain)
    invitation.expires_at = now + ttl()
    return plain


# ------------------------------------------------------------------------------ who may


def may_invite(session: Session, user: User, partnership: Partnership) -> bool:
    """Administrators, and coordinators of this partnership."""
    if user.is_admin:
        return True
    return session.scalar(select(Membership.id).where(
        Membership.user_id == user.id, Membership.partnership_id == partnership.id,
        Membership.role == Role.COORDINATOR)) is not None


def _check_may_invite(session: Session, actor: User, partnership: Partnership) -> None:
    if not may_invite(session, actor, partnership):
        raise InvitationError(_l("Only the partnership's coordinators can invite people."))


def count_sending(actor: User) -> None:
    """Count one invitation or new link; refuse past ``INVITATION_RATE_LIMIT`` per person."""
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return
    counters = shared_counters()
    for item in parse_many(str(current_app.config["INVITATION_RATE_LIMIT"])):
        if not counters.hit(item, RATE_SCOPE, f"user:{actor.id}"):
            _, reset = counters.remaining(item, RATE_SCOPE, f"user:{actor.id}")
            raise TooManyInvitations(reset)


# ------------------------------------------------------------------------------ coordinators


def invitations_of(session: Session, partnership: Partnership,
                   now: datetime | None = None) -> list[Listed]:
    """Every invitation of the partnership, newest first, with what became of it."""
    now = now or utcnow()
    found = session.scalars(select(Invitation).where(Invitation.partnership_id == partnership.id)
                            .order_by(Invitation.created_at.desc(), Invitation.id.desc()))
    return [Listed(invitation, invitation.status(now)) for invitation in found]


def invitation_in(session: Session, partnership: Partnership,
                  invitation_id: int) -> Invitation | None:
    """Load an invitation only if it belongs to ``partnership``."""
    return session.scalar(select(Invitation).where(Invitation.id == invitation_id,
                                                   Invitation.partnership_id == partnership.id))


def _check_email(email: str) -> str:
    email = normalise_email(email)
    if not email or len(email) > MAX_EMAIL_LENGTH or _EMAIL.match(email) is None:
        raise InvitationError(_l("Enter one valid email address, such as name@example.org."))
    return email


def _check_partner(session: Session, partnership: Partnership, role: Role,
                   partner_id: int | None) -> int | None:
    """Only observers are tied to a partner, and only to one of this partnership."""
    if role is not Role.OBSERVER or not partner_id:
        return None
    partner = session.get(Partner, partner_id)
    if partner is None or partner.partnership_id != partnership.id:
        raise InvitationError(_l("Choose a partner of this partnership."))
    return partner_id


def _pending_for(session: Session, partnership: Partnership, email: str,
                 now: datetime) -> Invitation | None:
    candidates = session.scalars(select(Invitation).where(
        Invitation.partnership_id == partnership.id, Invitation.email == email,
        Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None)))
    return next((i for i in candidates if i.status(now) is InvitationStatus.PENDING), None)


def invite(session: Session, actor: User, partnership: Partnership, *, email: str,
           role: Role | str, partner_id: int | None = None,
           now: datetime | None = None) -> tuple[Invitation, str]:
    """Create an invitation; return it with the plain token, which is never stored."""
    now = now or utcnow()
    _check_may_invite(session, actor, partnership)
    email = _check_email(email)
    try:
        role = Role(role)
    except ValueError:
        raise InvitationError(_l("Choose one of the partnership's roles.")) from None
    existing_user = find_user_by_email(session, email)
    if existing_user is not None and session.scalar(select(Membership.id).where(
            Membership.user_id == existing_user.id,
            Membership.partnership_id == partnership.id)) is not None:
        raise InvitationError(_l("This person already has a role in this partnership."))
    if _pending_for(session, partnership, email, now) is not None:
        raise InvitationError(_l("This address already has an invitation that has not been "
                                 "used yet. Send a new link from the list, or revoke it first."))
    invitation = Invitation(partnership_id=partnership.id, email=email, role=role,
                            partner_id=_check_partner(session, partnership, role, partner_id),
                            invited_by_id=actor.id, created_at=now, expires_at=now)
    plain = _new_token(invitation, now)
    count_sending(actor)
    session.add(invitation)
    session.flush()
    record(session, actor.id, "invitation.create", invitation, partnership_id=partnership.id,
           email=email, role=role.value, partner_id=invitation.partner_id,
           expires_at=invitation.expires_at.isoformat(timespec="minutes"))
    session.flush()
    return invitation, plain


def renew(session: Session, actor: User, invitation: Invitation,
          now: datetime | None = None) -> str:
    """Give a pending or expired invitation a new link and a new expiry; the old link dies."""
    now = now or utcnow()
    _check_may_invite(session, actor, invitation.partnership)
    if invitation.status(now) not in {InvitationStatus.PENDING, InvitationStatus.EXPIRED}:
        raise InvitationError(_l("This invitation has been used or revoked: invite the person "
                                 "again instead."))
    plain = _new_token(invitation, now)
    invitation.mailed_at = None
    count_sending(actor)
    record(session, actor.id, "invitation.renew", invitation,
           partnership_id=invitation.partnership_id, email=invitation.email,
           expires_at=invitation.expires_at.isoformat(timespec="minutes"))
    session.flush()
    return plain


def mark_mailed(session: Session, invitation: Invitation, now: datetime | None = None) -> None:
    invitation.mailed_at = now or utcnow()
    session.flush()


def revoke(session: Session, actor: User, invitation: Invitation,
           now: datetime | None = None) -> None:
    """Stop a pending invitation's link from working."""
    now = now or utcnow()
    _check_may_invite(session, actor, invitation.partnership)
    if invitation.status(now) is not InvitationStatus.PENDING:
        raise InvitationError(_l("Only an invitation that is still open can be revoked."))
    invitation.revoked_at = now
    record(session, actor.id, "invitation.revoke", invitation,
           partnership_id=invitation.partnership_id, email=invitation.email)
    session.flush()


# ------------------------------------------------------------------------------ the invited


def open_invitation(session: Session, plain: str, now: datetime | None = None) -> Invitation:
    """The pending invitation of a link; raise :class:`InvitationUnusable` otherwise."""
    now = now or utcnow()
    if not plain or len(plain) > 100:
        raise InvitationUnusable(None)
    invitation = session.scalar(select(Invitation).where(
        Invitation.token_hash == hash_token(plain)))
    if invitation is None:
        raise InvitationUnusable(None)
    status = invitation.status(now)
    if status is not InvitationStatus.PENDING:
        raise InvitationUnusable(status)
    return invitation


def account_exists(session: Session, invitation: Invitation) -> bool:
    return find_user_by_email(session, invitation.email) is not None


def _join(session: Session, invitation: Invitation, user: User, now: datetime,
          new_account: bool) -> Membership:
    if session.scalar(select(Membership.id).where(
            Membership.user_id == user.id,
            Membership.partnership_id == invitation.partnership_id)) is not None:
        raise InvitationError(_l("You already have a role in this partnership."))
    membership = Membership(user_id=user.id, partnership_id=invitation.partnership_id,
                            role=invitation.role, partner_id=invitation.partner_id)
    session.add(membership)
    invitation.accepted_at = now
    invitation.accepted_by_id = user.id
    session.flush()
    record(session, user.id, "invitation.accept", invitation,
           partnership_id=invitation.partnership_id, email=invitation.email,
           role=invitation.role.value, partner_id=invitation.partner_id,
           member_user_id=user.id, new_account=new_account)
    session.flush()
    return membership


def accept_with_new_account(session: Session, invitation: Invitation, *, name: str,
                            password: str, language: str,
                            now: datetime | None = None) -> User:
    """Create the invited person's account with the role, and use up the invitation."""
    now = now or utcnow()
    if invitation.status(now) is not InvitationStatus.PENDING:
        raise InvitationUnusable(invitation.status(now))
    if account_exists(session, invitation):
        raise InvitationError(_l("An account with this email address exists already. Sign in "
                                 "to it, then open the invitation link again."))
    name = name.strip()
    if not name or len(name) > MAX_NAME_LENGTH:
        raise InvitationError(_l("Enter your name."))
    if language not in current_app.config["LANGUAGES"]:
        raise InvitationError(_l("Choose one of the offered languages."))
    problem = password_problem(password)
    if problem:
        raise PasswordNotAccepted(problem)
    user = User(email=invitation.email, name=name, is_admin=False, language=language,
                password_hash=hash_password(password))
    session.add(user)
    session.flush()
    _join(session, invitation, user, now, new_account=True)
    return user


def accept_as(session: Session, invitation: Invitation, user: User,
              now: datetime | None = None) -> Membership:
    """Add the role to the signed-in account the invitation was sent to."""
    now = now or utcnow()
    if invitation.status(now) is not InvitationStatus.PENDING:
        raise InvitationUnusable(invitation.status(now))
    if normalise_email(user.email) != invitation.email:
        raise InvitationError(_l("This invitation was sent to another email address."))
    return _join(session, invitation, user, now, new_account=False)
