"""Partnerships, their partners and their members, as coordinators set them up.

Who may create a partnership: a site administrator, or anyone who already coordinates at least
one partnership (they become the new partnership's coordinator). An administrator may name a
coordinator by email when creating one. Every change writes an audit event in the caller's
transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from analysis.privacy import MIN_K
from app.models import (
    Membership,
    Partner,
    Partnership,
    Response,
    Role,
    Round,
    RoundStatus,
    Sector,
    User,
    round_partners,
)
from app.services.audit import record
from app.services.users import find_user_by_email

# the database CHECK; configuration may only raise the floor
ABSOLUTE_MIN_GROUP_SIZE = MIN_K


class PartnershipError(ValueError):
    """A partnership change was refused; ``str(error)`` is a message for the person who asked."""


def min_group_size_floor() -> int:
    """Return the smallest anonymity threshold allowed here (never below 3)."""
    return max(ABSOLUTE_MIN_GROUP_SIZE, int(current_app.config.get("MIN_GROUP_SIZE_FLOOR", 3)))


def check_min_group_size(k: int) -> None:
    floor = min_group_size_floor()
    if k < floor:
        raise PartnershipError(
            _l("The anonymity threshold must be at least %(floor)d.", floor=floor))


def _check_language(language: str) -> None:
    if language not in current_app.config["LANGUAGES"]:
        raise PartnershipError(_l("Choose one of the offered languages."))


@dataclass(frozen=True)
class PartnershipListing:
    partnership: Partnership
    role: Role | None  # None for a site administrator without a membership


def partnerships_for(session: Session, user: User) -> list[PartnershipListing]:
    """List the partnerships ``user`` has a role in; administrators see all."""
    query = (
        select(Partnership, Membership.role)
        .outerjoin(Membership, (Membership.partnership_id == Partnership.id)
                   & (Membership.user_id == user.id))
        .order_by(func.lower(Partnership.name), Partnership.id)
    )
    if not user.is_admin:
        query = query.where(Membership.id.is_not(None))
    return [PartnershipListing(p, role) for p, role in session.execute(query)]


def coordinates_any(session: Session, user: User) -> bool:
    return bool(session.scalar(select(exists().where(
        Membership.user_id == user.id, Membership.role == Role.COORDINATOR))))


def can_create_partnership(session: Session, user: User) -> bool:
    return bool(user.is_admin) or coordinates_any(session, user)


def create_partnership(session: Session, actor: User, *, name: str, description: str,
                       default_language: str, min_group_size: int,
                       coordinator_email: str = "") -> Partnership:
    """Create a partnership and its first coordinator (the actor, or a named user for admins)."""
    if not can_create_partnership(session, actor):
        raise PartnershipError(_l("Only administrators and coordinators can create partnerships."))
    check_min_group_size(min_group_size)
    _check_language(default_language)
    coordinator = actor
    if coordinator_email.strip():
        if not actor.is_admin:
            raise PartnershipError(_l("Only administrators can name another coordinator."))
        found = find_user_by_email(session, coordinator_email)
        if found is None:
            raise PartnershipError(_l("No user has this email address."))
        coordinator = found
    partnership = Partnership(name=name.strip(), description=description.strip(),
                              default_language=default_language, min_group_size=min_group_size)
    session.add(partnership)
    session.flush()
    # An administrator creating a partnership for someone else does not join it; otherwise the
    # creator becomes its coordinator.
    if coordinator is not actor or not actor.is_admin:
        session.add(Membership(user_id=coordinator.id, partnership_id=partnership.id,
                               role=Role.COORDINATOR))
    record(session, actor.id, "partnership.create", partnership, partnership_id=partnership.id,
           name=partnership.name, min_group_size=min_group_size, coordinator_id=coordinator.id)
    session.flush()
    return partnership


def update_partnership(session: Session, actor: User, partnership: Partnership, *, name: str,
                       description: str, default_language: str, min_group_size: int) -> None:
    check_min_group_size(min_group_size)
    _check_language(default_language)
    new = {"name": name.strip(), "description": description.strip(),
           "default_language": default_language, "min_group_size": min_group_size}
    changed = {key: value for key, value in new.items() if getattr(partnership, key) != value}
    if not changed:
        return
    for key, value in changed.items():
        setattr(partnership, key, value)
    record(session, actor.id, "partnership.update", partnership, partnership_id=partnership.id,
           fields=sorted(changed), min_group_size=partnership.min_group_size)
    session.flush()


# ---------------------------------------------------------------------------------- partners


def partner_in(session: Session, partnership: Partnership, partner_id: int) -> Partner | None:
    """Load a partner only if it belongs to ``partnership`` (the caller answers 404 otherwise)."""
    return session.scalar(select(Partner).where(Partner.id == partner_id,
                                                Partner.partnership_id == partnership.id))


def _name_taken(session: Session, partnership: Partnership, name: str,
                except_id: int | None = None) -> bool:
    query = select(Partner.id).where(Partner.partnership_id == partnership.id,
                                     func.lower(Partner.name) == name.lower())
    if except_id is not None:
        query = query.where(Partner.id != except_id)
    return session.scalar(query) is not None


def add_partner(session: Session, actor: User, partnership: Partnership, *, name: str,
                sector: Sector) -> Partner:
    name = name.strip()
    if _name_taken(session, partnership, name):
        raise PartnershipError(_l("This partnership already has a partner with this name."))
    partner = Partner(partnership_id=partnership.id, name=name, sector=Sector(sector))
    session.add(partner)
    session.flush()
    record(session, actor.id, "partner.create", partner, partnership_id=partnership.id,
           name=name, sector=partner.sector.value)
    session.flush()
    return partner


def update_partner(session: Session, actor: User, partner: Partner, *, name: str,
                   sector: Sector) -> None:
    name = name.strip()
    if _name_taken(session, partner.partnership, name, except_id=partner.id):
        raise PartnershipError(_l("This partnership already has a partner with this name."))
    changed = {}
    if partner.name != name:
        changed["name"] = name
    if partner.sector != Sector(sector):
        changed["sector"] = Sector(sector).value
    if not changed:
        return
    partner.name = name
    partner.sector = Sector(sector)
    record(session, actor.id, "partner.update", partner, partnership_id=partner.partnership_id,
           **changed)
    session.flush()


def partner_deletion_problem(session: Session, partner: Partner) -> str | None:
    """Say why a partner cannot be deleted, or None.

    Deleting cascades to its responses, to ratings other partners gave it and to its codes, so
    a partner that takes part in a round that has started or has responses stays.
    """
    has_responses = session.scalar(select(exists().where(Response.partner_id == partner.id)))
    in_started_round = session.scalar(select(exists().where(
        round_partners.c.partner_id == partner.id,
        round_partners.c.round_id == Round.id,
        Round.status != RoundStatus.DRAFT,
    )))
    if has_responses or in_started_round:
        return str(_l("This partner takes part in a round that has started or has responses, "
                      "so it cannot be deleted. You can still rename it."))
    return None


def delete_partner(session: Session, actor: User, partner: Partner) -> None:
    problem = partner_deletion_problem(session, partner)
    if problem:
        raise PartnershipError(problem)
    record(session, actor.id, "partner.delete", partner, partnership_id=partner.partnership_id,
           name=partner.name)
    session.delete(partner)
    session.flush()


# ----------------------------------------------------------------------------------- members


def members_of(session: Session, partnership: Partnership) -> list[Membership]:
    return list(session.scalars(
        select(Membership).join(User).where(Membership.partnership_id == partnership.id)
        .order_by(Membership.role, func.lower(User.name), User.id)))


def membership_in(session: Session, partnership: Partnership,
                  membership_id: int) -> Membership | None:
    """Load a membership only if it belongs to ``partnership``."""
    return session.scalar(select(Membership).where(Membership.id == membership_id,
                                                   Membership.partnership_id == partnership.id))


def _observer_partner(session: Session, partnership: Partnership, role: Role,
                      partner_id: int | None) -> int | None:
    """Only observers are tied to a partner, and only to one of this partnership."""
    if role is not Role.OBSERVER or not partner_id:
        return None
    if partner_in(session, partnership, partner_id) is None:
        raise PartnershipError(_l("Choose a partner of this partnership."))
    return partner_id


def add_member(session: Session, actor: User, partnership: Partnership, *, email: str,
               role: Role, partner_id: int | None = None) -> Membership:
    """Give an existing user a role in the partnership."""
    user = find_user_by_email(session, email)
    if user is None:
        raise PartnershipError(_l("No user has this email address. Ask an administrator to "
                                  "create the account first."))
    existing = session.scalar(select(Membership).where(
        Membership.user_id == user.id, Membership.partnership_id == partnership.id))
    if existing is not None:
        raise PartnershipError(_l("This user already has a role in this partnership."))
    role = Role(role)
    membership = Membership(user_id=user.id, partnership_id=partnership.id, role=role,
                            partner_id=_observer_partner(session, partnership, role, partner_id))
    session.add(membership)
    session.flush()
    record(session, actor.id, "member.add", membership, partnership_id=partnership.id,
           member_user_id=user.id, role=role.value, partner_id=membership.partner_id)
    session.flush()
    return membership


def _coordinator_count(session: Session, partnership_id: int) -> int:
    return session.scalar(select(func.count()).select_from(Membership).where(
        Membership.partnership_id == partnership_id, Membership.role == Role.COORDINATOR)) or 0


def _keeps_a_coordinator(session: Session, membership: Membership) -> None:
    if membership.role is Role.COORDINATOR and \
            _coordinator_count(session, membership.partnership_id) <= 1:
        raise PartnershipError(_l("A partnership needs at least one coordinator. Add another "
                                  "coordinator first."))


def change_member(session: Session, actor: User, membership: Membership, *, role: Role,
                  partner_id: int | None = None) -> None:
    role = Role(role)
    if role is not Role.COORDINATOR:
        _keeps_a_coordinator(session, membership)
    partner = _observer_partner(session, membership.partnership, role, partner_id)
    if membership.role is role and membership.partner_id == partner:
        return
    membership.role = role
    membership.partner_id = partner
    record(session, actor.id, "member.update", membership,
           partnership_id=membership.partnership_id, member_user_id=membership.user_id,
           role=role.value, partner_id=partner)
    session.flush()


def remove_member(session: Session, actor: User, membership: Membership) -> None:
    _keeps_a_coordinator(session, membership)
    record(session, actor.id, "member.remove", membership,
           partnership_id=membership.partnership_id, member_user_id=membership.user_id,
           role=membership.role.value)
    session.delete(membership)
    session.flush()
