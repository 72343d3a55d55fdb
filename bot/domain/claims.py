"""Claiming: exactly one responder wins, by a conditional update."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import case as sql_case
from sqlalchemy import func, inspect, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import load_only

from bot.domain import access, events, followups, routing, timers
from bot.domain.access import Action
from bot.domain.context import Domain
from bot.domain.notices import (
    CaseClaimed,
    CaseDetails,
    CaseReassignedAway,
    OwnerLostAlert,
    ReferredCaseClaimed,
    ReportersWords,
)
from bot.domain.outbox import (
    queue_file,
    queue_location,
    queue_notice,
    queue_parts,
    rendered_text,
)
from bot.domain.people import Role
from bot.domain.relay import translation_requests
from bot.i18n import N_
from bot.taxonomy import (
    UNCLAIMED_STATUSES,
    CaseStatus,
)
from bot.text_limits import TEXT_LIMIT, split_body
from models import Attachment, Case, CaseCard, Organisation, Person

log = logging.getLogger(__name__)

UNCLAIMED_VALUES = frozenset(status.value for status in UNCLAIMED_STATUSES)


@dataclass(frozen=True)
class ClaimResult:
    outcome: str  # won | taken | not_member | not_open | unknown
    case: Case | None = None
    owner_name: str | None = None


async def is_member_for_card(
    session: AsyncSession, case_id: int, person: Person | None, chat_id: int
) -> bool:
    """Only responders of the organisation a card was posted for may act on it."""
    if person is None:
        return False
    card = await session.scalar(
        select(CaseCard).where(
            CaseCard.case_id == case_id, CaseCard.chat_id == chat_id, CaseCard.active.is_(True)
        )
    )
    return card is not None and person.organisation_id == card.organisation_id


# A press is judged on a few of the case's columns. Most presses of a race come after the
# winner committed and lose: loading (and decrypting) the whole case for them cost more than
# the rest of the press. The winner's case is then read in full. Any other column of the
# partly loaded case raises rather than being read on the side.
_PRESS_COLUMNS = load_only(
    Case.id,
    Case.code,
    Case.status,
    Case.drill,
    Case.language,
    Case.owner_person_id,
    Case.owner_organisation_id,
    raiseload=True,
)
_EVERY_COLUMN = [attribute.key for attribute in inspect(Case).column_attrs]


async def claim(
    session: AsyncSession, domain: Domain, case_id: int, person: Person | None, chat_id: int
) -> ClaimResult:
    case = await session.get(Case, case_id, options=[_PRESS_COLUMNS])
    if case is None:
        return ClaimResult("unknown")
    card_organisation = await session.scalar(
        select(CaseCard.organisation_id).where(
            CaseCard.case_id == case_id, CaseCard.chat_id == chat_id, CaseCard.active.is_(True)
        )
    )
    if person is None or card_organisation is None or person.organisation_id != card_organisation:
        return ClaimResult("not_member", case)
    if case.owner_person_id is not None or case.status not in UNCLAIMED_VALUES:
        return await _lost(session, domain, case)
    now = domain.now()
    result = await session.execute(
        update(Case)
        .where(
            Case.id == case_id,
            Case.status.in_(UNCLAIMED_VALUES),
            Case.owner_person_id.is_(None),
        )
        .values(
            status=CaseStatus.CLAIMED.value,
            owner_person_id=person.id,
            owner_organisation_id=person.organisation_id,
            # Time to claim counts the first claim; a referral's claim is its own figure.
            claimed_at=func.coalesce(Case.claimed_at, now),
            referral_claimed_at=sql_case(
                (Case.status == CaseStatus.REFERRED.value, now), else_=Case.referral_claimed_at
            ),
            last_activity_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    # Read again after the update: in full for the winner, who gets the details.
    if result.rowcount != 1:
        await session.refresh(case, [key for key in _EVERY_COLUMN if key in case.__dict__])
        return await _lost(session, domain, case)
    await session.refresh(case, _EVERY_COLUMN)
    await events.record(
        session, domain, "claimed", case_id=case.id, actor=f"person:{person.id}", chat_id=chat_id
    )
    await hand_to_owner(session, domain, case, person)
    return ClaimResult("won", case, person.name)


async def _lost(session: AsyncSession, domain: Domain, case: Case) -> ClaimResult:
    if case.status in (CaseStatus.RESOLVED.value, CaseStatus.CLOSED.value):
        return ClaimResult("not_open", case)
    return ClaimResult("taken", case, await _owner_name(session, domain, case))


async def _owner_name(session: AsyncSession, domain: Domain, case: Case) -> str | None:
    """Who holds the case, for the presses that lost: from the rota kept in memory (an
    owner is one of their organisation's active people), else from the database."""
    if case.owner_person_id is None:
        return None
    rota = await domain.rota.get(session)
    for person in rota.people.get(case.owner_organisation_id or "", ()):
        if person.id == case.owner_person_id:
            return person.name
    owner = await session.get(Person, case.owner_person_id)
    return owner.name if owner else None


async def hand_to_owner(session: AsyncSession, domain: Domain, case: Case, person: Person) -> None:
    """What follows once ``person`` owns the case: the ladder stops, the cards show the
    owner, the owner gets the details, the reporter (and a referrer) hear of it."""
    await timers.cancel(session, case.id, ("escalate",))
    await routing.rerender_cards(session, domain, case)
    await send_details(session, domain, case, person)
    org = await session.get(Organisation, person.organisation_id)
    if case.reporter_id is not None:
        queue_notice(
            session,
            domain,
            CaseClaimed(case, org.name if org else ""),
            language=case.language,
            purpose="reporter_update",
            reporter_id=case.reporter_id,
            case_id=case.id,
            extra={"protect_content": True},
        )
    if case.referred_by_organisation_id:
        await notify_referrer(session, domain, case, org)
    followups.schedule_after_claim(session, domain, case)


async def reassign(
    session: AsyncSession, domain: Domain, case: Case, coordinator: Person, person: Person
) -> str:
    """A coordinator gives an open case to a responder of an organisation serving its
    corridor (the previous owner, if any, is told and loses it)."""
    if case.status in (CaseStatus.RESOLVED.value, CaseStatus.CLOSED.value):
        return "not_open"
    if not person.active or person.organisation_id is None:
        return "not_allowed"
    if person.id == case.owner_person_id:
        return "unchanged"
    previous = await session.get(Person, case.owner_person_id) if case.owner_person_id else None
    now = domain.now()
    case.owner_person_id = person.id
    case.owner_organisation_id = person.organisation_id
    case.status = CaseStatus.CLAIMED.value
    case.claimed_at = case.claimed_at or now
    case.last_activity_at = now
    await timers.cancel(session, case.id, ("checkin", "owner_reminder", "sos_silence"))
    await events.record(
        session,
        domain,
        "reassigned",
        case_id=case.id,
        actor=f"person:{coordinator.id}",
        data={"to": person.id, "previous_owner": previous.id if previous else None},
    )
    if previous is not None:
        queue_notice(
            session,
            domain,
            CaseReassignedAway(case),
            language=previous.language,
            purpose="ping",
            chat_id=previous.telegram_user_id,
            case_id=case.id,
        )
    await hand_to_owner(session, domain, case, person)
    return "reassigned"


async def notify_referrer(
    session: AsyncSession, domain: Domain, case: Case, org: Organisation | None
) -> None:
    """The person who referred is told, not everyone of their organisation (cases referred
    before that person was recorded fall back to the organisation's coordinators)."""
    if case.referred_by_person_id:
        referrer = await session.get(Person, case.referred_by_person_id)
        people = [referrer] if referrer is not None else []
    else:
        people = list(
            await session.scalars(
                select(Person).where(
                    Person.organisation_id == case.referred_by_organisation_id,
                    Person.role == "coordinator",
                )
            )
        )
    for person in people:
        if not person.active or person.unreachable:
            continue
        queue_notice(
            session,
            domain,
            ReferredCaseClaimed(case, org.name if org else ""),
            language=person.language,
            purpose="referral_update",
            chat_id=person.telegram_user_id,
            case_id=case.id,
        )


async def open_details(
    session: AsyncSession, domain: Domain, role: Role, code: str | Case
) -> tuple[Case, list[Attachment]] | None:
    """A case's personal details and files for ``role``, if the access policy lets them
    read them, the read recorded in the audit trail; otherwise None and nothing recorded.
    The owner's private message and the dashboard both open them here, so one rule (and
    one audit event) covers both."""
    case = await access.case_for(session, role, Action.READ_DETAILS, code)
    if case is None or role.person is None:
        return None
    attachments = list(
        await session.scalars(
            select(Attachment).where(Attachment.case_id == case.id).order_by(Attachment.id)
        )
    )
    await events.record(
        session, domain, "details_read", case_id=case.id, actor=f"person:{role.person.id}"
    )
    return case, attachments


async def send_details(session: AsyncSession, domain: Domain, case: Case, person: Person) -> None:
    """The facts as one message, then the reporter's own words and files as they came:
    the description and every message sent before the claim, none cut short."""
    opened = await open_details(session, domain, Role(person.role, person), case)
    if opened is None:
        # Only ever called for the new owner; anyone else reads nothing.
        log.warning("details of %s not sent to %s: not the owner", case.code, person.id)
        return
    attachments = opened[1]
    chat = person.telegram_user_id

    queue_notice(
        session,
        domain,
        CaseDetails(case, tuple(attachments)),
        language=person.language,
        purpose="details",
        chat_id=chat,
        case_id=case.id,
        extra={"protect_content": True},
    )
    texts = [("description", case.description)] if case.description else []
    texts += [
        (item.kind, item.text)
        for item in attachments
        if item.kind in ("text", "referral_note") and item.text
    ]
    for kind, body in texts:
        # A referring organisation's note is in its writer's language, which is not recorded.
        writer = None if kind == "referral_note" else case.language
        # Each in full, in numbered parts when longer than Telegram allows.
        queue_parts(
            session,
            domain,
            purpose="details",
            chat_id=chat,
            case_id=case.id,
            header=rendered_text(domain, ReportersWords(case, kind), person.language),
            body=body,
            extra={"protect_content": True},
            per_part=lambda words, writer=writer: translation_requests(
                domain, words, reader=person.language, writer=writer, style="add"
            ),
        )
    for item in attachments:
        if item.kind == "location" and item.text and "," in item.text:
            latitude, longitude = (float(v) for v in item.text.split(",", 1))
            queue_location(
                session,
                domain,
                latitude=latitude,
                longitude=longitude,
                purpose="details",
                chat_id=chat,
                case_id=case.id,
                extra={"protect_content": True},
            )
        elif item.file_id:
            queue_file(
                session,
                domain,
                kind=item.kind,
                file_id=item.file_id,
                caption=f"[{case.code}]",
                purpose="details",
                chat_id=chat,
                case_id=case.id,
                extra={"protect_content": True},
            )


def split_text(text: str, size: int = TEXT_LIMIT) -> list[str]:
    """An HTML text in pieces of at most ``size`` shown characters, cut at a paragraph,
    line, sentence or word, never inside a tag or an entity (see bot.text_limits)."""
    return [part for part in split_body(text, size, html=True) if part.strip()]


async def pass_case(
    session: AsyncSession,
    domain: Domain,
    case_id: int,
    person: Person | None,
    chat_id: int,
    reason: str,
) -> str:
    case = await session.get(Case, case_id)
    if case is None:
        return "unknown"
    card = await session.scalar(
        select(CaseCard).where(CaseCard.case_id == case_id, CaseCard.chat_id == chat_id)
    )
    if person is None or card is None or person.organisation_id != card.organisation_id:
        return "not_member"
    if case.status not in UNCLAIMED_VALUES:
        return "not_open"
    await events.record(
        session,
        domain,
        "passed",
        case_id=case.id,
        actor=f"person:{person.id}",
        chat_id=chat_id,
        data={"reason": reason},
    )
    return "passed"


async def release(
    session: AsyncSession, domain: Domain, case: Case, reason: str, actor: str = "system"
) -> None:
    """The owner can no longer work the case (left, blocked the bot, a coordinator took it
    back): back to the queue."""
    previous = case.owner_person_id
    case.owner_person_id = None
    case.owner_organisation_id = None
    case.status = CaseStatus.ROUTED.value
    case.escalation_level = 0
    await timers.cancel(session, case.id, ("checkin", "owner_reminder", "sos_silence"))
    await events.record(
        session,
        domain,
        "released",
        case_id=case.id,
        actor=actor,
        data={"reason": reason, "previous_owner": previous},
    )
    await routing.rerender_cards(
        session, domain, case, note=N_("Back in the queue: the owner is no longer available.")
    )
    await routing.alert_coordinators(session, domain, case, OwnerLostAlert(case))
    timers.schedule(
        session,
        domain,
        "escalate",
        domain.now() + routing.escalation_delay(domain, case.urgency),
        case_id=case.id,
        payload={"level": 1},
    )
