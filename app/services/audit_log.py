"""Reading the audit log back, newest first, a page at a time, in words a person reads.

Events are stored with machine codes (``round.open``, ``export.comments``, detail keys such as
``partner_ids``) so that tests and queries can rely on them; this module is the one place that
turns them into the reader's language. An action without a label here falls back to its code,
and a test fails for any action recorded by the services that has none.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.i18n import ROLE_LABELS, ROUND_STATUS_LABELS, SECTOR_LABELS
from app.models import AuditEvent, User
from app.models.audit import VIA_CLI, VIA_UNKNOWN
from app.services.followup import ACTION_STATUS_LABELS, DELIVERY_STATUS_LABELS

PER_PAGE = 50

ACTION_LABELS: dict[str, Any] = {
    "partnership.create": _l("Partnership created"),
    "partnership.update": _l("Partnership changed"),
    "partner.create": _l("Partner added"),
    "partner.update": _l("Partner changed"),
    "partner.delete": _l("Partner removed"),
    "member.add": _l("Member added"),
    "member.update": _l("Member's role changed"),
    "member.remove": _l("Member removed"),
    "round.create": _l("Round created"),
    "round.update": _l("Round changed"),
    "round.open": _l("Round opened"),
    "round.close": _l("Round closed"),
    "round.reopen": _l("Round re-opened"),
    "summary.share": _l("Summary shared with respondents"),
    "summary.unshare": _l("Summary no longer shared with respondents"),
    "summary.link_create": _l("Public summary link made"),
    "summary.link_replace": _l("Public summary link replaced"),
    "summary.link_revoke": _l("Public summary link revoked"),
    "codes.issue": _l("Access codes generated"),
    "codes.revoke": _l("Access codes revoked"),
    "link.issue": _l("Partner link created"),
    "questionnaire.import": _l("Questionnaire imported"),
    "responses.import_paper": _l("Paper answers imported"),
    "export.results": _l("Results downloaded"),
    "export.answers": _l("Respondent-level answers downloaded"),
    "export.comments": _l("Open answers downloaded"),
    "token.create": _l("API token created"),
    "token.revoke": _l("API token revoked"),
    "user.create": _l("Account created"),
    "user.deactivate": _l("Account deactivated"),
    "user.reactivate": _l("Account reactivated"),
    "user.sign_in": _l("Signed in"),
    "user.profile_update": _l("Profile changed"),
    "user.password_change": _l("Password changed"),
    "user.two_factor_enable": _l("Two-factor sign-in turned on"),
    "user.two_factor_disable": _l("Two-factor sign-in turned off"),
    "user.two_factor_reset": _l("Two-factor sign-in reset by an administrator"),
    "user.two_factor_failure": _l("Wrong second-step code"),
    "user.two_factor_recovery_codes": _l("New recovery codes made"),
    "invitation.create": _l("Invitation sent"),
    "invitation.renew": _l("New invitation link made"),
    "invitation.revoke": _l("Invitation revoked"),
    "invitation.accept": _l("Invitation accepted"),
    "room.open": _l("Live room opened"),
    "room.close": _l("Live room closed"),
    "room.question_add": _l("Room question added"),
    "room.question_open": _l("Room question opened to the phones"),
    "room.question_close": _l("Room question closed"),
    "room.question_reveal": _l("Room question's results revealed"),
    "room.note_moderate": _l("Sticky note moderated"),
    "room.blocklist_update": _l("Sticky-note blocklist changed"),
    "workshop.create": _l("Workshop recorded"),
    "workshop.update": _l("Workshop record changed"),
    "workshop.delete": _l("Workshop record deleted"),
    "action.create": _l("Follow-up action agreed"),
    "action.update": _l("Follow-up action changed"),
    "action.status": _l("Follow-up action status changed"),
    "action.checklist": _l("Follow-up action checklist changed"),
    "action.carry_over": _l("Follow-up action carried over"),
    "commitment.create": _l("Commitment recorded"),
    "commitment.update": _l("Commitment changed"),
    "commitment.review": _l("Commitment reviewed"),
    "export.actions": _l("Action register downloaded"),
}

OBJECT_LABELS: dict[str, Any] = {
    "Partnership": _l("Partnership"),
    "Partner": _l("Partner"),
    "Membership": _l("Membership"),
    "Round": _l("Round"),
    "QuestionnaireVersion": _l("Questionnaire version"),
    "ApiToken": _l("API token"),
    "User": _l("Account"),
    "Invitation": _l("Invitation"),
    "Room": _l("Live room"),
    "RoomQuestion": _l("Room question"),
    "Workshop": _l("Workshop"),
    "Action": _l("Follow-up action"),
    "Commitment": _l("Commitment"),
}

DETAIL_LABELS: dict[str, Any] = {
    "name": _l("Name"),
    "partnership_id": _l("Partnership"),
    "partner_id": _l("Partner"),
    "partner_ids": _l("Partners"),
    "role": _l("Role"),
    "member_user_id": _l("Member"),
    "coordinator_id": _l("Coordinator"),
    "fields": _l("Fields changed"),
    "batch": _l("Batch"),
    "count": _l("Number"),
    "max_uses": _l("Uses allowed"),
    "withdrawn": _l("Uses withdrawn"),
    "kind": _l("Kind"),
    "prefix": _l("Token starts with"),
    "expires_on": _l("Expires on"),
    "expires_at": _l("Link works until (UTC)"),
    "email": _l("Email address"),
    "new_account": _l("New account"),
    "min_group_size": _l("Smallest group shown (k)"),
    "sector": _l("Sector"),
    "is_admin": _l("Administrator"),
    "slug": _l("Questionnaire"),
    "version": _l("Version"),
    "questionnaire": _l("Questionnaire"),
    "content_hash": _l("Content hash"),
    "format": _l("Format"),
    "rows": _l("Rows"),
    "responses": _l("Responses"),
    "file": _l("File"),
    "via": _l("Through"),
    "from": _l("From"),
    "to": _l("To"),
    "reason": _l("Reason"),
    "method": _l("Method"),
    "closed_round": _l("Closed round"),
    "responses_before": _l("Responses before"),
    "responses_after": _l("Responses after"),
    "by_partner": _l("Responses per partner (before → after)"),
    "revision_note": _l("Revision note"),
    "sha256": _l("File hash"),
    "round_id": _l("Round"),
    "workshop_id": _l("Workshop"),
    "held_on": _l("Held on"),
    "attendance": _l("Attendance"),
    "dimension": _l("Dimension"),
    "item": _l("Question"),
    "owner_ids": _l("Owners"),
    "co_owner_ids": _l("Co-owners"),
    "due_on": _l("Due on"),
    "done": _l("Done"),
    "from_action_id": _l("Carried over from action"),
    "from_round_id": _l("Carried over from round"),
    "starts_on": _l("Period starts"),
    "ends_on": _l("Period ends"),
    "progress": _l("Progress (%)"),
    "room_id": _l("Live room"),
    "question_id": _l("Room question"),
    "answers": _l("Answers"),
    "status": _l("Status"),
    "words": _l("Words on the list"),
}

# Detail values that are codes with a label of their own.
_STATUS_LABELS: dict[str, Any] = {**ROUND_STATUS_LABELS, **ACTION_STATUS_LABELS,
                                  **DELIVERY_STATUS_LABELS}
_VALUE_LABELS: dict[str, Mapping[str, Any]] = {
    "from": _STATUS_LABELS,
    "to": _STATUS_LABELS,
    "role": ROLE_LABELS,
    "sector": SECTOR_LABELS,
}


@dataclass(frozen=True)
class AuditEntry:
    """One event as the log page shows it."""

    at: datetime  # aware, UTC; the template shows it in the reader's time zone
    who: str
    who_detail: str
    action: str
    action_code: str
    object_label: str
    details: list[tuple[str, str]]


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]
    page: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.page > 1


def audit_page(session: Session, page: int = 1, partnership_id: int | None = None,
               per_page: int = PER_PAGE) -> AuditPage:
    """Return one page of events with who did them; all events, or one partnership's."""
    if page < 1 or per_page < 1:
        raise ValueError("page and per_page must be positive")
    query = (select(AuditEvent, User).outerjoin(User, User.id == AuditEvent.user_id)
             .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()))
    if partnership_id is not None:
        query = query.where(AuditEvent.partnership_id == partnership_id)
    rows = session.execute(query.offset((page - 1) * per_page).limit(per_page + 1)).all()
    entries = [describe(event, user) for event, user in rows[:per_page]]
    return AuditPage(entries, page, has_next=len(rows) > per_page)


def describe(event: AuditEvent, user: User | None) -> AuditEntry:
    """Turn a stored event into words of the current locale."""
    who, who_detail = _who(event, user)
    label = ACTION_LABELS.get(event.action)
    object_name = OBJECT_LABELS.get(event.object_type)
    object_label = ""
    if event.object_type:
        object_label = str(object_name) if object_name is not None else event.object_type
        if event.object_id:
            object_label = f"{object_label} #{event.object_id}"
    at = event.at if event.at.tzinfo is not None else event.at.replace(tzinfo=UTC)
    return AuditEntry(
        at=at, who=who, who_detail=who_detail,
        action=str(label) if label is not None else event.action,
        action_code=event.action, object_label=object_label,
        details=[(_detail_label(key), _detail_value(key, value))
                 for key, value in sorted((event.details or {}).items())],
    )


def _who(event: AuditEvent, user: User | None) -> tuple[str, str]:
    if user is not None:
        return user.name, user.email
    if event.user_id is None and event.via == VIA_CLI:
        return _("Command line"), ""
    if event.user_id is None and event.via == VIA_UNKNOWN:
        return _("Command line or a deleted account"), ""
    return _("Deleted account"), ""


def _detail_label(key: str) -> str:
    label = DETAIL_LABELS.get(key)
    return str(label) if label is not None else key


def _detail_value(key: str, value: Any) -> str:
    labels = _VALUE_LABELS.get(key)
    if labels is not None and isinstance(value, str) and value in labels:
        return str(labels[value])
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, int | float):
        # Ids are names, not quantities: no thousands separator in "Partner #1234".
        return str(value) if key.endswith(("_id", "_ids")) else format_decimal(value)
    if isinstance(value, list | tuple):
        return ", ".join(_detail_value(key, item) for item in value)
    if value is None:
        return "–"
    return str(value)
