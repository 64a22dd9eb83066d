"""The data model, split by area; importing this package registers every table."""

from app.models.audit import AuditEvent
from app.models.fieldwork import AccessCode, CodeKind, Draft
from app.models.paper_uploads import PaperUpload
from app.models.partnerships import (
    Partner,
    Partnership,
    Round,
    RoundStatus,
    Sector,
    round_partners,
)
from app.models.questionnaires import QuestionnaireVersion
from app.models.responses import Answer, OpenAnswer, PartnerRating, Response
from app.models.results import ResultSnapshot
from app.models.tokens import ApiToken
from app.models.two_factor import RecoveryCode, SignInThrottle
from app.models.users import Membership, Role, User
from app.models.workshops import (
    Action,
    ActionStatus,
    Commitment,
    CommitmentKind,
    DeliveryStatus,
    Workshop,
    action_owners,
)

__all__ = [
    "AccessCode",
    "Action",
    "ActionStatus",
    "Answer",
    "ApiToken",
    "AuditEvent",
    "CodeKind",
    "Commitment",
    "CommitmentKind",
    "DeliveryStatus",
    "Draft",
    "Membership",
    "OpenAnswer",
    "PaperUpload",
    "Partner",
    "PartnerRating",
    "Partnership",
    "QuestionnaireVersion",
    "RecoveryCode",
    "Response",
    "ResultSnapshot",
    "Role",
    "Round",
    "RoundStatus",
    "Sector",
    "SignInThrottle",
    "User",
    "Workshop",
    "action_owners",
    "round_partners",
]
