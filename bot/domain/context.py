"""What every domain operation needs, bundled so tests can build one without Telegram."""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.config import Config
from bot.crypto import KeyRing
from bot.domain.directory import (
    CorridorDirectory,
    OrganisationDirectory,
    RotaDirectory,
    StaffDirectory,
)
from bot.domain.notices import Renderer
from models.durability import Durability
from models.liveness import Liveness


class Turns:
    """A lock taken in order of arrival, except that urgent waiters go first."""

    def __init__(self) -> None:
        self._held = False
        self._urgent: deque[asyncio.Future[None]] = deque()
        self._normal: deque[asyncio.Future[None]] = deque()

    async def acquire(self, urgent: bool = False) -> None:
        if not self._held and not self._urgent and not self._normal:
            self._held = True
            return
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        (self._urgent if urgent else self._normal).append(turn)
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self.release()  # granted just as it was cancelled: pass it on
            else:
                with contextlib.suppress(ValueError):
                    (self._urgent if urgent else self._normal).remove(turn)
            raise

    def release(self) -> None:
        for waiting in (self._urgent, self._normal):
            while waiting:
                turn = waiting.popleft()
                if not turn.done():
                    turn.set_result(None)  # still held: handed over
                    return
        self._held = False


@dataclass
class Domain:
    config: Config
    clock: Clock
    sessions: async_sessionmaker[AsyncSession]
    keys: KeyRing
    # Turns notices into what people read; the view layer provides it (bot.views.notices).
    views: Renderer
    bot_username: str = "corridor_help_bot"
    staff: StaffDirectory = field(default_factory=StaffDirectory, repr=False)
    corridors: CorridorDirectory = field(default_factory=CorridorDirectory, repr=False)
    rota: RotaDirectory = field(default_factory=RotaDirectory, repr=False)
    organisations: OrganisationDirectory = field(default_factory=OrganisationDirectory, repr=False)
    # Makes commits durable before anyone is told of them (models.durability).
    durability: Durability = field(default_factory=Durability, repr=False)
    # This process's name on the outbox's and the timers' leases, and whether another
    # process that leased something is still alive (models.liveness).
    liveness: Liveness = field(default_factory=Liveness.unwatched, repr=False)
    _writer: Turns = field(default_factory=lambda: Turns(), repr=False)

    def now(self):  # type: ignore[no-untyped-def]
        return self.clock.now()

    @contextlib.asynccontextmanager
    async def writing(self, urgent: bool = False) -> AsyncIterator[None]:
        """SQLite has one writer at a time. Writers of this process take turns here, in
        order, instead of in SQLite's busy handler, which sleeps and polls (latency grows
        by tens of milliseconds a turn under load). PostgreSQL needs no turn. An
        ``urgent`` writer goes before those waiting (recording that a message was sent:
        until then a crash would send it again)."""
        bind = self.sessions.kw.get("bind")
        if bind is None or bind.dialect.name != "sqlite":
            yield
            return
        await self._writer.acquire(urgent)
        try:
            yield
        finally:
            self._writer.release()

    @contextlib.asynccontextmanager
    async def transaction(self, urgent: bool = False) -> AsyncIterator[AsyncSession]:
        """A short write transaction, committed when the block ends."""
        async with self.writing(urgent), self.sessions() as session, session.begin():
            yield session
