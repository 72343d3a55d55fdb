"""What every domain operation needs, bundled so tests can build one without Telegram."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.config import Config
from bot.crypto import KeyRing


@dataclass
class Domain:
    config: Config
    clock: Clock
    sessions: async_sessionmaker[AsyncSession]
    keys: KeyRing
    bot_username: str = "corridor_help_bot"

    def now(self):  # type: ignore[no-untyped-def]
        return self.clock.now()
