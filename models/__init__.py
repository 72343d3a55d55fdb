"""SQLAlchemy models. Importing this package registers every table on ``Base.metadata``."""

from models.base import Base
from models.cases import Attachment, Case, CaseCard, CaseEvent, Consent, RelayLink, Reporter
from models.network import (
    Corridor,
    CorridorCoordinator,
    HelpContact,
    Invite,
    Organisation,
    OrganisationCorridor,
    Person,
    ResponderGroup,
    RotaOverride,
    RotaShift,
    SavedReplyText,
)
from models.runtime import ConversationState, HandledUpdate, OutboxMessage, SentMessage, Timer
from models.stats import StatsDay, StatsName

__all__ = [
    "Attachment",
    "Base",
    "Case",
    "CaseCard",
    "CaseEvent",
    "Consent",
    "ConversationState",
    "Corridor",
    "CorridorCoordinator",
    "HandledUpdate",
    "HelpContact",
    "Invite",
    "Organisation",
    "OrganisationCorridor",
    "OutboxMessage",
    "Person",
    "RelayLink",
    "Reporter",
    "ResponderGroup",
    "RotaOverride",
    "RotaShift",
    "SavedReplyText",
    "SentMessage",
    "StatsDay",
    "StatsName",
    "Timer",
]
