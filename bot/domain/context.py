"""What every domain operation needs, bundled so tests can build one without Telegram."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

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
    # Called after a commit that queued outbox messages, so the sender wakes at once.
    on_outbox: Callable[[], None] = field(default=lambda: None)
    bot_username: str = "corridor_help_bot"

    def now(self):  # type: ignore[no-untyped-def]
        return self.clock.now()
