"""Per-update plumbing: a database session, who the user is, their language, flood guard."""

from __future__ import annotations

import contextvars
import logging
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update, User
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.cases import find_reporter
from bot.domain.context import Domain
from bot.domain.people import Role, person_by_telegram
from bot.i18n import current_language, normalise_language

log = logging.getLogger(__name__)

# The update's own session, so FSM writes join the handler's transaction (one commit, and
# no second connection waiting for SQLite's write lock held by the first).
current_session: contextvars.ContextVar[AsyncSession | None] = contextvars.ContextVar(
    "current_session", default=None
)

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class DatabaseMiddleware(BaseMiddleware):
    def __init__(self, domain: Domain) -> None:
        self.domain = domain

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        async with self.domain.sessions() as session:
            token = current_session.set(session)
            data["session"] = session
            data["domain"] = self.domain
            try:
                result = await handler(event, data)
                await session.commit()
            except BaseException:
                await session.rollback()
                raise
            finally:
                current_session.reset(token)
        self.domain.on_outbox()
        return result


class RoleMiddleware(BaseMiddleware):
    """Loads the caller's role and language and sets the language for ``_``."""

    def __init__(self, default_language: str) -> None:
        self.default_language = default_language

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        session: AsyncSession = data["session"]
        domain: Domain = data["domain"]
        role = Role("stranger")
        language = normalise_language(user.language_code if user else None, self.default_language)
        if user is not None:
            person = await person_by_telegram(session, user.id)
            if person is not None:
                role = Role(person.role, person=person)
                language = person.language
            else:
                reporter = await find_reporter(session, domain, user.id)
                if reporter is not None:
                    role = Role("reporter", reporter=reporter)
                    language = reporter.language
        data["role"] = role
        data["language"] = language
        token = current_language.set(language)
        try:
            return await handler(event, data)
        finally:
            current_language.reset(token)


class FloodGuard(BaseMiddleware):
    """Per-user sliding window: a flood from one account is dropped before it costs a
    database transaction, so it cannot delay anyone else."""

    def __init__(self, limit: int = 40, window: float = 60.0) -> None:
        self.limit = limit
        self.window = window
        self.hits: dict[int, deque[float]] = defaultdict(deque)
        self.warned: set[int] = set()

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        if user is None or not isinstance(event, Update):
            return await handler(event, data)
        now = time.monotonic()
        hits = self.hits[user.id]
        while hits and now - hits[0] > self.window:
            hits.popleft()
        hits.append(now)
        if len(hits) > self.limit:
            if user.id not in self.warned:
                self.warned.add(user.id)
                log.warning("flood from one account: dropping its updates for a while")
            return None
        self.warned.discard(user.id)
        return await handler(event, data)
