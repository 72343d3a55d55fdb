"""Parts of the network kept in memory: read on nearly every update, changed rarely.

Each is forgotten after a commit of this process that changed its tables, and read again
at least every few seconds for other processes' changes (`corridor network sync`, another
bot process). A monotonic timer, not the domain clock: this is about freshness, not about a
case's time."""

from __future__ import annotations

import datetime as dt
import itertools
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import inspect, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

import models
from models import Corridor, Organisation, OrganisationCorridor, Person, ResponderGroup
from models.db import after_commits_writing, as_loaded_row, wrote_in_transaction

T = TypeVar("T")
K = TypeVar("K")
V = TypeVar("V")

REFRESH_SECONDS = 5.0


def _grouped(pairs: Iterable[tuple[K, V]]) -> dict[K, tuple[V, ...]]:
    """The values of each key, in the order they came."""
    groups: dict[K, list[V]] = defaultdict(list)
    for key, value in pairs:
        groups[key].append(value)
    return {key: tuple(values) for key, values in groups.items()}


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
        if self._changed_in(session):
            # This transaction changed what is kept: it reads its own changes, and the
            # value is forgotten after its commit.
            return await self._load(session)
        if self._value is None or self.monotonic() - self._loaded > REFRESH_SECONDS:
            self._value = await self._load(session)
            self._loaded = self.monotonic()
        return self._value

    def _changed_in(self, session: AsyncSession) -> bool:
        sync = session.sync_session
        if any(wrote_in_transaction(sync, model) for model in self._models):
            return True
        return any(
            isinstance(obj, self._models)
            for obj in itertools.chain(sync.new, sync.dirty, sync.deleted)
        )

    def watch(self, session_class: type[Session]) -> None:
        """Forgets the value after any commit through ``session_class`` that wrote one of
        its tables."""
        for model in self._models:
            after_commits_writing(session_class, model, self.invalidate)


_PERSON_COLUMNS = tuple(attr.key for attr in inspect(Person).column_attrs)
_ACTIVE_STAFF = select(*(getattr(Person, key) for key in _PERSON_COLUMNS)).where(
    Person.active.is_(True), Person.telegram_user_id.is_not(None)
)


async def _staff(session: AsyncSession) -> dict[int, tuple[Any, ...]]:
    rows = await session.execute(_ACTIVE_STAFF)
    return {row.telegram_user_id: tuple(row) for row in rows}


class StaffDirectory(Remembered[dict[int, tuple[Any, ...]]]):
    """Active people by Telegram id, every column: most updates come from reporters and
    strangers, who then cost no query to tell apart from staff, and a staff member's own
    update finds their row here rather than in a query."""

    def __init__(self) -> None:
        super().__init__(_staff, Person)

    async def person(self, session: AsyncSession, user_id: int) -> Person | None:
        """The active person with this Telegram id, as a row of ``session`` (changes to it
        are written with the transaction), without a query when the row is kept here."""
        values = (await self.get(session)).get(user_id)
        if values is None:
            return None
        columns = dict(zip(_PERSON_COLUMNS, values, strict=True))
        return as_loaded_row(session, Person, columns)  # type: ignore[no-any-return]


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


@dataclass(frozen=True)
class RotaPerson:
    """An active person as the rota and the pings read them."""

    id: str
    name: str
    telegram_user_id: int | None
    role: str
    organisation_id: str | None
    language: str
    unreachable: bool


@dataclass(frozen=True)
class RotaShift:
    weekday: int  # 0 = Monday
    start: str
    end: str


@dataclass(frozen=True)
class RotaOverride:
    starts_at: dt.datetime
    ends_at: dt.datetime
    on_call: bool


@dataclass(frozen=True)
class Rota:
    people: dict[str, tuple[RotaPerson, ...]]  # organisation id → its active people, by id
    shifts: dict[str, tuple[RotaShift, ...]]  # person id → weekly shifts
    overrides: dict[str, tuple[RotaOverride, ...]]  # person id → overrides, by id


async def _rota(session: AsyncSession) -> Rota:
    people = await session.execute(
        select(
            Person.id,
            Person.name,
            Person.telegram_user_id,
            Person.role,
            Person.organisation_id,
            Person.language,
            Person.unreachable,
        )
        .where(Person.active.is_(True), Person.organisation_id.is_not(None))
        .order_by(Person.id)
    )
    shifts = await session.execute(
        select(
            models.RotaShift.person_id,
            models.RotaShift.weekday,
            models.RotaShift.start,
            models.RotaShift.end,
        ).order_by(models.RotaShift.id)
    )
    overrides = await session.execute(
        select(
            models.RotaOverride.person_id,
            models.RotaOverride.starts_at,
            models.RotaOverride.ends_at,
            models.RotaOverride.on_call,
        ).order_by(models.RotaOverride.id)
    )
    return Rota(
        people=_grouped((row.organisation_id, RotaPerson(*row)) for row in people),
        shifts=_grouped((person, RotaShift(*rest)) for person, *rest in shifts),
        overrides=_grouped((person, RotaOverride(*rest)) for person, *rest in overrides),
    )


class RotaDirectory(Remembered[Rota]):
    """Who works where and when: every new case pings those on call. Their organisations'
    time zones are the organisation directory's."""

    def __init__(self) -> None:
        super().__init__(_rota, Person, models.RotaShift, models.RotaOverride)


@dataclass(frozen=True)
class OrganisationRow:
    """An organisation as routing reads it."""

    id: str
    name: str
    side: str
    kind: str
    country: str
    languages: tuple[str, ...]
    categories: tuple[str, ...]  # empty: every category
    timezone: str
    active: bool


@dataclass(frozen=True)
class Organisations:
    by_id: dict[str, OrganisationRow]
    in_corridor: dict[str, tuple[str, ...]]  # corridor code → organisation ids, in id order
    group_chats: dict[str, tuple[int, ...]]  # organisation id → its active groups' chats


async def _organisations(session: AsyncSession) -> Organisations:
    by_id = {
        org.id: OrganisationRow(
            org.id,
            org.name,
            org.side,
            org.kind,
            org.country,
            tuple(org.languages or ()),
            tuple(org.categories or ()),
            org.timezone,
            org.active,
        )
        for org in await session.execute(
            select(
                Organisation.id,
                Organisation.name,
                Organisation.side,
                Organisation.kind,
                Organisation.country,
                Organisation.languages,
                Organisation.categories,
                Organisation.timezone,
                Organisation.active,
            )
        )
    }
    in_corridor = await session.execute(
        select(OrganisationCorridor.corridor_code, OrganisationCorridor.organisation_id).order_by(
            OrganisationCorridor.organisation_id
        )
    )
    group_chats = await session.execute(
        select(ResponderGroup.organisation_id, ResponderGroup.chat_id)
        .where(ResponderGroup.active.is_(True))
        .order_by(ResponderGroup.id)
    )
    return Organisations(
        by_id=by_id,
        in_corridor=_grouped(in_corridor),
        group_chats=_grouped(group_chats),
    )


class OrganisationDirectory(Remembered[Organisations]):
    """The organisations, their corridors and their groups: every new case is routed to
    them."""

    def __init__(self) -> None:
        super().__init__(_organisations, Organisation, OrganisationCorridor, ResponderGroup)
