"""The data model, split by area; importing this package registers every table."""

from app.models.audit import AuditEvent
from app.models.fieldwork import AccessCode, CodeKind, Draft
from app.models.invitations import Invitation, InvitationStatus
from app.models.jobs import Job, JobState
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
from app.models.room import (
    NoteStatus,
    QuestionKind,
    QuestionState,
    Room,
    RoomBallot,
    RoomBlocklist,
    RoomNote,
    RoomQuestion,
    RoomStatus,
    RoomTally,
)
from app.models.tokens import ApiToken
from app.models.two_factor import RecoveryCode, SignInThrottle
from app.models.users import Membership, Role, User
from app.models.workshops import (
    Action,
    ActionChecklistItem,
    ActionOwner,
    ActionStatus,
    Commitment,
    CommitmentKind,
    CommitmentReview,
    DeliveryStatus,
    OwnerRole,
    Workshop,
    WorkshopAttendance,
    action_owners,
)

__all__ = [
    "AccessCode",
    "Action",
    "ActionChecklistItem",
    "ActionOwner",
    "ActionStatus",
    "Answer",
    "ApiToken",
    "AuditEvent",
    "CodeKind",
    "Commitment",
    "CommitmentKind",
    "CommitmentReview",
    "DeliveryStatus",
    "Draft",
    "Invitation",
    "InvitationStatus",
    "Job",
    "JobState",
    "Membership",
    "NoteStatus",
    "OpenAnswer",
    "OwnerRole",
    "PaperUpload",
    "Partner",
    "PartnerRating",
    "Partnership",
    "QuestionKind",
    "QuestionState",
    "QuestionnaireVersion",
    "RecoveryCode",
    "Response",
    "ResultSnapshot",
    "Role",
    "Room",
    "RoomBallot",
    "RoomBlocklist",
    "RoomNote",
    "RoomQuestion",
    "RoomStatus",
    "RoomTally",
    "Round",
    "RoundStatus",
    "Sector",
    "SignInThrottle",
    "User",
    "Workshop",
    "WorkshopAttendance",
    "action_owners",
    "round_partners",
]
