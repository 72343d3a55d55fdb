"""What follows when a recipient can no longer be reached: the rules the delivery runtime
applies after Telegram answers 403 or moves a group, kept with the rest of the domain."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from bot.domain import claims, events, routing
from bot.domain.context import Domain
from bot.i18n import N_
from models import Case, CaseCard, OutboxMessage, Person, ResponderGroup


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


async def person_unreachable(session: Any, domain: Domain, person: Person) -> None:
    person.unreachable = True
    owned = await session.scalars(
        select(Case).where(Case.owner_person_id == person.id, Case.status == "claimed")
    )
    for case in owned:
        await claims.release(session, domain, case, "owner_unreachable")


async def group_lost(session: Any, domain: Domain, chat_id: int) -> None:
    """The bot was removed from a responder group: its open cards are routed again."""
    group = await session.scalar(select(ResponderGroup).where(ResponderGroup.chat_id == chat_id))
    if group is None or not group.active:
        return
    group.active = False
    await events.record(
        session,
        domain,
        "group_lost",
        data={"chat_id": chat_id, "organisation": group.organisation_id},
    )
    cards = list(
        await session.scalars(
            select(CaseCard).where(CaseCard.chat_id == chat_id, CaseCard.active.is_(True))
        )
    )
    for card in cards:
        card.active = False
        case = await session.get(Case, card.case_id)
        if case is not None and case.status in ("routed", "referred"):
            remaining = await session.scalar(
                select(CaseCard.id)
                .where(CaseCard.case_id == case.id, CaseCard.active.is_(True))
                .limit(1)
            )
            if remaining is None:
                await routing.route(session, domain, case)
            await routing.alert_coordinators(
                session,
                domain,
                case,
                N_(
                    "⚠️ The bot was removed from a responder group; case <b>{code}</b> ({corridor}) was routed again."
                ),
            )
