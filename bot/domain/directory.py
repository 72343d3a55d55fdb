"""Parts of the network kept in memory: read on nearly every update, changed rarely.

Each is forgotten after a commit of this process that changed its tables, and read again
at least every few seconds for other processes' changes (`corridor network sync`, another
bot process). A monotonic timer, not the domain clock: this is about freshness, not about a
case's time."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from models import Corridor, Person
from models.db import after_commits_writing

T = TypeVar("T")

REFRESH_SECONDS = 5.0


class Remembered(Generic[T]):
    """What ``load`` reads, kept until ``models`` change or it is ``REFRESH_SECONDS`` old."""

    def __init__(self, load: Callable[[AsyncSession], Awaitable[T]], *models: type) -> None:
        self.monotonic: Callable[[], float] = time.monotonic
        self._load = load
        self._models = models
        self._value: T | None = None
        self._loaded = 0.0

    def invalidate(self) -> None:
        self._value = None

    async def get(self, session: AsyncSession) -> T:
        if self._value is None or self.monotonic() - self._loaded > REFRESH_SECONDS:
            self._value = await self._load(session)
            self._loaded = self.monotonic()
        return self._value

    def watch(self, session_class: type[Session]) -> None:
        """Forgets the value after any commit through ``session_class`` that wrote one of
        its tables."""
        for model in self._models:
            after_commits_writing(session_class, model, self.invalidate)


async def _staff_ids(session: AsyncSession) -> frozenset[int]:
    ids = await session.scalars(
        select(Person.telegram_user_id).where(
            Person.active.is_(True), Person.telegram_user_id.is_not(None)
        )
    )
    return frozenset(ids)


class StaffDirectory(Remembered[frozenset[int]]):
    """The Telegram ids of active people: most updates come from reporters and strangers,
    who then cost no query to tell apart from staff."""

    def __init__(self) -> None:
        super().__init__(_staff_ids, Person)

    async def includes(self, session: AsyncSession, user_id: int) -> bool:
        return user_id in await self.get(session)


@dataclass(frozen=True)
class CorridorRow:
    """A corridor as intake and routing read it."""

    code: str
    origin: str
    destination: str
    notify_both_sides: bool
    active: bool


async def _corridors(session: AsyncSession) -> dict[str, CorridorRow]:
    rows = await session.execute(
        select(
            Corridor.code,
            Corridor.origin,
            Corridor.destination,
            Corridor.notify_both_sides,
            Corridor.active,
        ).order_by(Corridor.code)
    )
    return {row.code: CorridorRow(*row) for row in rows}


class CorridorDirectory(Remembered[dict[str, CorridorRow]]):
    """Every corridor by code: each step of a report and each SOS asks which countries are
    offered, and routing whether a corridor tells both sides."""

    def __init__(self) -> None:
        super().__init__(_corridors, Corridor)

    async def active(self, session: AsyncSession) -> list[CorridorRow]:
        """The active corridors, in code order."""
        return [c for c in (await self.get(session)).values() if c.active]

    async def find(self, session: AsyncSession, code: str) -> CorridorRow | None:
        return (await self.get(session)).get(code)
