"""A responder's work on a case from their private chat, beyond claiming and closing it: its
timeline, when it is next followed up, whom it may be referred to, and who is on call."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import events, followups, onboarding, referral
from bot.domain.context import Domain
from bot.domain.people import Role, group_by_chat, on_call
from models import Case, CaseEvent, Organisation, Person

TIMELINE_LENGTH = 40
# /followup asks for a date only; the reminder falls due at this time of that day.
FOLLOW_UP_TIME = dt.time(9, 0, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Timeline:
    events: list[CaseEvent]
    names: dict[str, str]  # person id → name, for the staff among the events' actors


async def read_timeline(
    session: AsyncSession, domain: Domain, case: Case, reader: Person
) -> Timeline:
    """The case's last events with the names of the staff who acted; the reading is itself
    recorded in the audit trail."""
    rows = list(
        await session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)
        )
    )[-TIMELINE_LENGTH:]
    staff = {e.actor.partition(":")[2] for e in rows if e.actor.startswith("person:")}
    names = dict(
        (await session.execute(select(Person.id, Person.name).where(Person.id.in_(staff)))).all()
    )
    await events.record(
        session, domain, "timeline_read", case_id=case.id, actor=f"person:{reader.id}"
    )
    return Timeline(rows, names)


async def follow_up_on(session: AsyncSession, domain: Domain, case: Case, day: dt.date) -> bool:
    """Puts the case's next reminder and check-in off to ``day``; False for a day already
    past (nothing changes)."""
    until = dt.datetime.combine(day, FOLLOW_UP_TIME)
    if until <= domain.now():
        return False
    await followups.snooze(session, domain, case, until)
    return True


async def snooze_for(session: AsyncSession, domain: Domain, case: Case, hours: int) -> dt.datetime:
    """Puts the case's reminder and check-in off by ``hours`` from now; returns when they
    fall due."""
    until = domain.now() + dt.timedelta(hours=hours)
    await followups.snooze(session, domain, case, until)
    return until


async def referral_target(
    session: AsyncSession, case: Case, organisation_id: str
) -> Organisation | None:
    """The organisation, if the case may be referred to it: another active organisation of
    the case's own corridor (the same for an override)."""
    targets = await referral.referral_targets(session, case)
    return next((o for o in targets if o.id == organisation_id), None)


async def on_call_now(
    session: AsyncSession, domain: Domain, role: Role, chat_id: int, private: bool
) -> list[tuple[str, list[Person]]] | None:
    """Who is on call now, per organisation: in a group, its organisation's; for a
    coordinator, every organisation of their corridors; for a responder, their own. None
    for anyone else."""
    group = await group_by_chat(session, chat_id) if not private else None
    if group is not None:
        organisations = [group.organisation_id]
    elif role.name in ("coordinator", "admin"):
        organisations = [
            o.id for o in await onboarding.manageable_organisations(session, role.person)
        ]
    elif role.person is not None and role.person.organisation_id:
        organisations = [role.person.organisation_id]
    else:
        return None
    result = []
    for organisation_id in organisations:
        org = await session.get(Organisation, organisation_id)
        people = await on_call(session, domain, [organisation_id], domain.now())
        result.append((org.name if org else organisation_id, people))
    return result
