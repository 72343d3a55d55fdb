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
)
from models.runtime import ConversationState, HandledUpdate, OutboxMessage, SentMessage, Timer

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
    "SentMessage",
    "Timer",
]
