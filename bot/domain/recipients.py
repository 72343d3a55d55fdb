"""What follows when a recipient can no longer be reached: the rules the delivery runtime
applies after Telegram answers 403 or moves a group, kept with the rest of the domain."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from bot.domain import claims, events, routing
from bot.domain.context import Domain
from bot.domain.directory import OrganisationRow
from bot.domain.followups import notify_owner
from bot.domain.notices import CardUndeliverableAlert, ReporterUnreachable
from bot.i18n import N_
from bot.taxonomy import OPEN_STATUSES, CaseStatus
from models import Case, CaseCard, Organisation, OutboxMessage, Person, Reporter, ResponderGroup

OPEN = {s.value for s in OPEN_STATUSES}


async def migrate_group(session: Any, domain: Domain, old: int, new: int) -> None:
    """A group upgraded to a supergroup changes id; everything that points at it follows."""
    await session.execute(
        update(ResponderGroup).where(ResponderGroup.chat_id == old).values(chat_id=new)
    )
    await session.execute(update(CaseCard).where(CaseCard.chat_id == old).values(chat_id=new))
    await session.execute(
        update(OutboxMessage).where(OutboxMessage.chat_id == old).values(chat_id=new)
    )
    await events.record(session, domain, "group_migrated", data={"from": old, "to": new})


async def blocked_changed(
    session: Any,
    domain: Domain,
    person: Person | None,
    reporter: Reporter | None,
    blocked: bool,
) -> None:
    """Telegram told us this account blocked (or unblocked) the bot: a staff member's cases
    go back to the queue at once (the coordinators are told); a reporter's owners learn
    they cannot be reached."""
    if person is not None:
        if blocked:
            await person_unreachable(session, domain, person)
        else:
            person.unreachable = False
    elif reporter is not None:
        if blocked:
            await reporter_unreachable(session, domain, reporter.id)
        else:
            reporter_returned(reporter)


async def person_unreachable(session: Any, domain: Domain, person: Person) -> None:
    person.unreachable = True
    owned = await session.scalars(
        select(Case).where(Case.owner_person_id == person.id, Case.status == "claimed")
    )
    for case in owned:
        await claims.release(session, domain, case, "owner_unreachable")


# Telegram's answers that mean a group can never get a message from the bot as it stands
# (wrong id, deleted group, bot not in it or not allowed to write): waiting will not help.
GONE = {
    "chat not found": "not_found",
    "group chat was deleted": "not_found",
    "bot was kicked": "removed",
    "bot is not a member": "removed",
    "not enough rights to send": "no_rights",
    "have no rights to send": "no_rights",
    "chat_write_forbidden": "no_rights",
}
REASONS = {
    "removed": N_("the bot was removed from the group"),
    "not_found": N_("Telegram does not know this chat (a wrong id, or the group was deleted)"),
    "no_rights": N_("the bot is not allowed to post there"),
}


def why_gone(error: str) -> str | None:
    """The reason code if ``error`` means the chat is gone for the bot, else None."""
    lowered = error.lower()
    return next((code for text, code in GONE.items() if text in lowered), None)


async def group_lost(session: Any, domain: Domain, chat_id: int) -> None:
    """The bot was removed from a responder group."""
    await group_unreachable(session, domain, chat_id, "removed")


async def group_unreachable(session: Any, domain: Domain, chat_id: int, reason: str) -> None:
    """A responder group the bot cannot post in: it is switched off until /linkgroup links
    it again, each case it showed goes to the next group that can take it, and the
    corridor's coordinators are told at once, with the reason and the case code."""
    group = await session.scalar(select(ResponderGroup).where(ResponderGroup.chat_id == chat_id))
    if group is None or not group.active:
        return
    group.active = False
    org = await session.get(Organisation, group.organisation_id)
    await events.record(
        session,
        domain,
        "group_lost",
        data={"chat_id": chat_id, "organisation": group.organisation_id, "reason": reason},
    )
    cards = list(
        await session.scalars(
            select(CaseCard).where(CaseCard.chat_id == chat_id, CaseCard.active.is_(True))
        )
    )
    for card in cards:
        card.active = False
        case = await session.get(Case, card.case_id)
        if case is None or case.status not in OPEN:
            continue
        await events.record(
            session,
            domain,
            "card_undeliverable",
            case_id=case.id,
            chat_id=chat_id,
            data={
                "chat_id": chat_id,
                "title": group.title,
                "organisation": group.organisation_id,
                "reason": reason,
            },
        )
        if case.status == CaseStatus.CLAIMED.value:
            # Its owner works it in private; the lost card changes nothing for the reporter.
            continue
        remaining = await session.scalar(
            select(CaseCard.id)
            .where(CaseCard.case_id == case.id, CaseCard.active.is_(True))
            .limit(1)
        )
        taken_by = [] if remaining else await routing.reroute(session, domain, case)
        await alert_unreachable(session, domain, case, org, chat_id, reason, taken_by, remaining)


async def alert_unreachable(
    session: Any,
    domain: Domain,
    case: Case,
    org: Organisation | None,
    chat_id: int,
    reason: str,
    taken_by: list[OrganisationRow],
    still_shown: int | None,
) -> None:
    alert = CardUndeliverableAlert(
        case,
        organisation=org.name if org else None,
        chat_id=chat_id,
        reason=reason,
        taken_by=tuple(o.name for o in taken_by),
        still_shown=bool(still_shown),
    )
    await routing.alert_coordinators(session, domain, case, alert)


async def reporter_unreachable(session: Any, domain: Domain, reporter_id: int) -> None:
    """The reporter blocked the bot (or deleted the chat): the owner of each of their open
    cases is told once, privately, with the other ways the reporter gave to reach them."""
    reporter = await session.get(Reporter, reporter_id)
    if reporter is None or reporter.blocked_bot:
        return
    reporter.blocked_bot = True
    owned = await session.scalars(
        select(Case).where(
            Case.reporter_id == reporter.id,
            Case.status == CaseStatus.CLAIMED.value,
            Case.owner_person_id.is_not(None),
        )
    )
    for case in owned:
        if await notify_owner(session, domain, case, ReporterUnreachable(case)):
            await events.record(session, domain, "reporter_unreachable", case_id=case.id)


def reporter_returned(reporter: Reporter) -> None:
    """Someone who writes to the bot can hear it again (they unblocked it)."""
    reporter.blocked_bot = False
