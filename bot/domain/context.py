"""What every domain operation needs, bundled so tests can build one without Telegram."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.config import Config
from bot.crypto import KeyRing
from bot.domain.people import StaffDirectory


@dataclass
class Domain:
    config: Config
    clock: Clock
    sessions: async_sessionmaker[AsyncSession]
    keys: KeyRing
    bot_username: str = "corridor_help_bot"
    staff: StaffDirectory = field(default_factory=StaffDirectory, repr=False)
    _writer: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)

    def now(self):  # type: ignore[no-untyped-def]
        return self.clock.now()

    @contextlib.asynccontextmanager
    async def writing(self) -> AsyncIterator[None]:
        """SQLite has one writer at a time. Writers of this process take turns here, in
        order, instead of in SQLite's busy handler, which sleeps and polls (latency grows
        by tens of milliseconds a turn under load). PostgreSQL needs no turn."""
        bind = self.sessions.kw.get("bind")
        if bind is None or bind.dialect.name != "sqlite":
            yield
            return
        async with self._writer:
            yield

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A short write transaction, committed when the block ends."""
        async with self.writing(), self.sessions() as session, session.begin():
            yield session
