"""What the domain tells people through the outbox, as values: which notice, about what.

The view layer (``bot.views.notices``) turns a notice into its text and buttons in the
reader's language. The domain knows it only as a ``Renderer``, given to ``Domain`` by
whoever builds one, so the domain needs neither aiogram nor the views."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

from models import Attachment, Case, Organisation

if TYPE_CHECKING:
    from bot.domain.digest import DigestData


@dataclass(frozen=True)
class RenderedNotice:
    """A notice as the Bot API takes it; ``reply_markup`` is an inline keyboard as JSON,
    ready for the outbox row; ``photo`` is an image the notice shows (then ``text`` is its
    caption)."""

    text: str | None
    reply_markup: dict[str, Any] | None = None
    parse_mode: str | None = None
    photo: bytes | None = None
    photo_name: str = "image.png"


class Notice:
    """Base of every notice the renderer knows."""


@dataclass(frozen=True)
class Card(Notice):
    """The case card a responder group sees, with Claim and Pass while the case waits.
    ``note`` is a catalogue message (with ``note_values``): each group reads it in its own
    language."""

    case: Case
    now: dt.datetime
    owner_name: str | None = None
    owner_org: str | None = None
    note: str | None = None
    note_values: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class CardWithdrawn(Notice):
    """What a case card becomes where the reporter withdrew consent: no facts, no buttons."""

    case: Case


@dataclass(frozen=True)
class SafetyCheck(Notice):
    """Asks the reporter whether they are safe, with one button per answer."""

    case: Case


@dataclass(frozen=True)
class QuietCase(Notice):
    """Reminds the owner of a case that has been quiet, offering to snooze it."""

    case: Case


@dataclass(frozen=True)
class ConsentRequest(Notice):
    """Asks the reporter whether their case may go to ``receiver``, for ``purpose``."""

    case: Case
    purpose: str
    receiver: Organisation


@dataclass(frozen=True)
class FeedbackRequest(Notice):
    """Tells the reporter their case is resolved (``case.outcome``) and asks for a score."""

    case: Case


@dataclass(frozen=True)
class DashboardLink(Notice):
    """A button opening the dashboard at ``url``; it has no text of its own."""

    url: str


@dataclass(frozen=True)
class NewCasePing(Notice):
    """Tells someone on call that ``case`` waits for an owner in their group."""

    case: Case


@dataclass(frozen=True)
class BackupPing(Notice):
    """Tells a backup that ``case`` is still unclaimed in their group."""

    case: Case


@dataclass(frozen=True)
class NudgePing(Notice):
    """A coordinator asks someone to look at ``case``, still waiting in their group."""

    case: Case


@dataclass(frozen=True)
class ReporterNotSafe(Notice):
    """Tells the owner of ``case`` that its reporter answered a safety check: not safe."""

    case: Case


@dataclass(frozen=True)
class ReporterChanged(Notice):
    """Tells the owner of ``case`` that its reporter says something has changed."""

    case: Case


@dataclass(frozen=True)
class ReporterSilent(Notice):
    """Tells the owner of SOS ``case`` that its reporter has not answered since the last
    safety check."""

    case: Case


@dataclass(frozen=True)
class ReporterUnreachable(Notice):
    """Tells the owner of ``case`` that its reporter blocked the bot, with the other ways
    they gave to reach them (for the owner's eyes only: it may hold a phone number)."""

    case: Case


@dataclass(frozen=True)
class CaseWithdrawn(Notice):
    """Tells the owner of ``case`` that the reporter withdrew it and it is closed."""

    case: Case


@dataclass(frozen=True)
class ReporterErased(Notice):
    """Tells the owner of ``case`` that the reporter had their data erased; it is closed."""

    case: Case


@dataclass(frozen=True)
class ConsentWithdrawn(Notice):
    """Tells the owner of ``case`` that the reporter withdrew consent for the owner's side,
    so the case is taken from them."""

    case: Case


@dataclass(frozen=True)
class CaseClaimed(Notice):
    """Tells the reporter that a responder of ``organisation`` now works on ``case``."""

    case: Case
    organisation: str


@dataclass(frozen=True)
class CaseReassignedAway(Notice):
    """Tells the previous owner of ``case`` that a coordinator gave it to someone else."""

    case: Case


@dataclass(frozen=True)
class ReferredCaseClaimed(Notice):
    """Tells whoever referred ``case`` that ``organisation`` claimed it."""

    case: Case
    organisation: str


@dataclass(frozen=True)
class CasePassedOn(Notice):
    """Tells the reporter that ``case`` was referred to ``organisation``."""

    case: Case
    organisation: str


@dataclass(frozen=True)
class ReferralSettled(Notice):
    """Tells whoever asked to refer ``case`` to ``organisation`` how the reporter's answer
    settled it: referred (``agreed``), ``refused``, or not done as the case is no longer
    theirs (``not_yours``)."""

    case: Case
    organisation: str
    outcome: Literal["agreed", "refused", "not_yours"]


@dataclass(frozen=True)
class CaseDetails(Notice):
    """Everything the new owner of ``case`` needs, personal details included (for their
    private chat only); ``attachments`` are counted."""

    case: Case
    attachments: tuple[Attachment, ...]


@dataclass(frozen=True)
class ReportersWords(Notice):
    """The heading over what the reporter (or a referring organisation) wrote, sent to the
    owner of ``case``: its ``description``, a ``text`` message, or a ``referral_note``."""

    case: Case
    kind: Literal["description", "text", "referral_note"]


@dataclass(frozen=True)
class ReporterMessageHeading(Notice):
    """The heading over a text the reporter of ``case`` wrote, relayed to its owner."""

    case: Case


@dataclass(frozen=True)
class ReporterMediaTag(Notice):
    """The tag on a photo, file or location the reporter of ``case`` sent to its owner."""

    case: Case


@dataclass(frozen=True)
class ResponderMessageHeading(Notice):
    """The heading over what a responder of ``organisation`` wrote to the reporter of
    ``case``."""

    case: Case
    organisation: str


@dataclass(frozen=True)
class UntranslatedMessage(Notice):
    """Tells a writer their message about case ``code`` went out without the translation
    they asked for, and why (``reason``: "timeout", or the engine failed)."""

    code: str
    reason: str


@dataclass(frozen=True)
class WorkerJoined(Notice):
    """Tells whoever reported ``case`` for a worker that the worker now follows it."""

    case: Case


@dataclass(frozen=True)
class DraftReminder(Notice):
    """Reminds someone that their report is not finished."""


@dataclass(frozen=True)
class DrillReporterReply(Notice):
    """The bot, playing the reporter of drill ``case``, answers its owner: ``line`` is a
    catalogue message of the script, read in the case's language as a reporter would write."""

    case: Case
    line: str


# What a drill report can say was missed, in the order it lists them.
DrillMiss = Literal["never_wrote", "not_referred", "late_claim"]


@dataclass(frozen=True)
class DrillReport(Notice):
    """How drill ``case`` went, for the coordinator who started it: how long until the
    first claim (None: never claimed), how many messages the owner wrote to the reporter,
    whether it was referred, and what was ``missed``."""

    case: Case
    time_to_claim: dt.timedelta | None
    messages: int
    referred: bool
    missed: tuple[DrillMiss, ...]


@dataclass(frozen=True)
class Digest(Notice):
    """A coordinator's digest of ``corridors`` (daily, or ``weekly``) as of ``now``: the
    figures of ``data``, and ``series`` (per corridor, new and resolved cases per day over
    the last ``days`` days) for its chart. The text is HTML."""

    corridors: tuple[str, ...]
    data: DigestData
    now: dt.datetime
    weekly: bool
    series: Mapping[str, Mapping[str, list[int]]]
    days: int = 30


@dataclass(frozen=True)
class DigestChart(Notice):
    """The chart of ``digest``, sent after its text, with a button opening the dashboard
    at ``url`` (None: no dashboard)."""

    digest: Digest
    url: str | None = None


class CoordinatorAlert(Notice):
    """Base of what the coordinators of a case's corridor are told (as HTML)."""


@dataclass(frozen=True)
class UnroutedAlert(CoordinatorAlert):
    """``case`` matched no responder group and needs an owner found by hand."""

    case: Case


@dataclass(frozen=True)
class UnclaimedAlert(CoordinatorAlert):
    """``case`` is still unclaimed after every step of the escalation ladder."""

    case: Case


@dataclass(frozen=True)
class OwnerLostAlert(CoordinatorAlert):
    """``case`` lost its owner and is back in the queue."""

    case: Case


@dataclass(frozen=True)
class ReporterNotSafeAlert(CoordinatorAlert):
    """The reporter of ``case`` answered a safety check: not safe."""

    case: Case


@dataclass(frozen=True)
class ReporterSilentAlert(CoordinatorAlert):
    """The reporter of SOS ``case`` has not answered since the last safety check."""

    case: Case


@dataclass(frozen=True)
class CardUndeliverableAlert(CoordinatorAlert):
    """The card of ``case`` cannot reach the group ``chat_id`` of ``organisation`` (None:
    unknown) for ``reason`` (a key of ``bot.domain.recipients.REASONS``, or Telegram's
    words); ``taken_by`` names the organisations that got the case instead, and
    ``still_shown`` counts the groups that still show it."""

    case: Case
    organisation: str | None
    chat_id: int
    reason: str
    taken_by: tuple[str, ...]
    still_shown: bool


class Renderer(Protocol):
    def render(self, notice: Notice, language: str) -> RenderedNotice: ...
