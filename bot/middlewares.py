"""Per-update plumbing: a database session, who the user is, their language, flood guard."""

from __future__ import annotations

import contextvars
import logging
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.exceptions import TelegramBadRequest
from aiogram.methods.base import Response
from aiogram.types import CallbackQuery, Message, TelegramObject, Update, User
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.cases import find_reporter
from bot.domain.context import Domain
from bot.domain.people import Role, person_by_telegram
from bot.i18n import current_language, normalise_language, tr
from models import Reporter, SentMessage

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
        if session.info.pop("outbox", False):
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
                    if reporter.banned:
                        return await self._blocked(event, reporter, language)
            if isinstance(event, Message) and event.chat.type == "private" and not role.is_staff:
                # Remembered (pseudonymously) so /clear can delete it from the phone later.
                session.add(
                    SentMessage(
                        chat_key=domain.keys.pseudonym("chat", event.chat.id),
                        message_id=event.message_id,
                        sent_at=domain.now(),
                    )
                )
        data["role"] = role
        data["language"] = language
        token = current_language.set(language)
        try:
            return await handler(event, data)
        finally:
            current_language.reset(token)

    async def _blocked(self, event: TelegramObject, reporter: Reporter, language: str) -> None:
        if reporter.ban_notified:
            log.debug("ignoring an update from a blocked account")
            if isinstance(event, CallbackQuery):
                await event.answer()  # no spinner left turning on their phone
            return None
        reporter.ban_notified = True
        text = tr(
            language,
            "This account can no longer use this service. If you think this is a mistake, contact the organisation that helped you.",
        )
        if isinstance(event, Message):
            await event.answer(text)
        elif isinstance(event, CallbackQuery):
            await event.answer(text, show_alert=True)
        return None


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


class RecordSentMessages:
    """Bot API request middleware: remembers (pseudonymously) every message the bot sends
    into a private chat while handling an update, so /clear can delete it later. Messages
    the outbox sends are recorded by the outbox itself."""

    def __init__(self, domain: Domain) -> None:
        self.domain = domain

    async def __call__(self, make_request, bot, method):  # type: ignore[no-untyped-def]
        try:
            response = await make_request(bot, method)
        except TelegramBadRequest as error:
            # A double tap edits the same message twice; the second edit changes nothing,
            # which is not a failure worth an apology.
            if "message is not modified" in str(error) and method.__api_method__.startswith("edit"):
                return Response[bool](ok=True, result=True)
            # Deleting is idempotent: a double tap's second delete finds the message gone.
            if "message to delete not found" in str(error) and method.__api_method__.startswith(
                "delete"
            ):
                return Response[bool](ok=True, result=True)
            raise
        session = current_session.get()
        result = getattr(response, "result", None)
        chat = getattr(result, "chat", None)
        if (
            session is not None
            and chat is not None
            and chat.type == "private"
            and getattr(result, "message_id", None)
        ):
            session.add(
                SentMessage(
                    chat_key=self.domain.keys.pseudonym("chat", chat.id),
                    message_id=result.message_id,
                    sent_at=self.domain.now(),
                )
            )
        return response
