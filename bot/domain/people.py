"""Who someone is to Corridor, and who is on call."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import time_of_day
from bot.domain.directory import RotaPerson, RotaShift
from models import CorridorCoordinator, Person, Reporter, ResponderGroup

if TYPE_CHECKING:
    from bot.domain.context import Domain

STAFF_ROLES = ("responder", "coordinator", "admin")
COORDINATOR_ROLES = ("coordinator", "admin")


@dataclass(frozen=True)
class Role:
    """The caller's role for access checks. Reporters and strangers have no Person."""

    name: str  # stranger | reporter | responder | coordinator | admin
    person: Person | None = None
    reporter: Reporter | None = None

    @property
    def is_staff(self) -> bool:
        return self.name in STAFF_ROLES


async def person_by_telegram(session: AsyncSession, user_id: int) -> Person | None:
    return await session.scalar(
        select(Person).where(Person.telegram_user_id == user_id, Person.active.is_(True))
    )


async def group_by_chat(session: AsyncSession, chat_id: int) -> ResponderGroup | None:
    return await session.scalar(
        select(ResponderGroup).where(
            ResponderGroup.chat_id == chat_id, ResponderGroup.active.is_(True)
        )
    )


async def coordinators_of(session: AsyncSession, corridor_code: str) -> list[Person]:
    rows = await session.scalars(
        select(Person)
        .join(CorridorCoordinator, CorridorCoordinator.person_id == Person.id)
        .where(CorridorCoordinator.corridor_code == corridor_code, Person.active.is_(True))
        .order_by(Person.id)
    )
    return list(rows)


async def coordinator_corridors(session: AsyncSession, person: Person) -> list[str]:
    if person.role == "admin":
        from models import Corridor

        return list(await session.scalars(select(Corridor.code).order_by(Corridor.code)))
    return list(
        await session.scalars(
            select(CorridorCoordinator.corridor_code)
            .where(CorridorCoordinator.person_id == person.id)
            .order_by(CorridorCoordinator.corridor_code)
        )
    )


def _in_shift(shift: RotaShift, local: dt.datetime) -> bool:
    start, end = time_of_day(shift.start), time_of_day(shift.end)
    now = local.time()
    if start <= end:
        return local.weekday() == shift.weekday and start <= now < end
    # An overnight shift belongs to the day it starts on.
    yesterday = (local.weekday() - 1) % 7
    return (local.weekday() == shift.weekday and now >= start) or (
        yesterday == shift.weekday and now < end
    )


async def on_call(
    session: AsyncSession, domain: Domain, organisation_ids: list[str], now: dt.datetime
) -> list[RotaPerson]:
    """Responders on call now: their weekly shifts in the organisation's time zone, then
    overrides (a holiday takes someone off, a swap puts someone on). Read from the rota
    kept in memory (bot/domain/directory.py)."""
    rota = await domain.rota.get(session)
    organisations = (await domain.organisations.get(session)).by_id
    people = sorted(
        (person for org in organisation_ids for person in rota.people.get(org, ())),
        key=lambda person: person.id,
    )
    result = []
    for person in people:
        override = next(
            (o for o in rota.overrides.get(person.id, ()) if o.starts_at <= now < o.ends_at),
            None,
        )
        if override is not None:
            if override.on_call:
                result.append(person)
            continue
        organisation = organisations.get(person.organisation_id or "")
        local = now.astimezone(ZoneInfo(organisation.timezone if organisation else "UTC"))
        if any(_in_shift(shift, local) for shift in rota.shifts.get(person.id, ())):
            result.append(person)
    return result


async def dashboard_viewers(session: AsyncSession) -> list[tuple[int, str]]:
    """(Telegram user id, language) of everyone the dashboard is for."""
    rows = await session.execute(
        select(Person.telegram_user_id, Person.language).where(
            Person.role.in_(COORDINATOR_ROLES), Person.active.is_(True)
        )
    )
    return [(user_id, language) for user_id, language in rows]
