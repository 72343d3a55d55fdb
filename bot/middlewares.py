"""Per-update plumbing: one chat at a time, one transaction whose messages are delivered after
its commit, who the user is and their language, a flood guard."""

from __future__ import annotations

import contextvars
import html
import logging
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiogram import BaseMiddleware
from aiogram.fsm.storage.base import BaseEventIsolation, StorageKey
from aiogram.methods import AnswerCallbackQuery, EditMessageReplyMarkup, TelegramMethod
from aiogram.types import CallbackQuery, Message, TelegramObject, Update, User
from sqlalchemy import bindparam
from sqlalchemy.ext.asyncio import AsyncSession

from bot import calls
from bot.delivery import Item, delivering
from bot.domain import outbox, privacy
from bot.domain.cases import find_reporter
from bot.domain.context import Domain
from bot.domain.people import Role
from bot.domain.recipients import reporter_returned
from bot.i18n import current_language, normalise_language, tr
from models import HandledUpdate, Reporter
from models.db import dialect_insert, writable
from models.prepared import Prepared

log = logging.getLogger(__name__)

# Statements of every update, built once: building one anew (and its cache key) cost about
# as much as running it.
_FIRST_TIME = Prepared(
    lambda dialect: (
        dialect_insert(dialect)(HandledUpdate.__table__)
        .values(update_id=bindparam("update_id"), handled_at=bindparam("handled_at"))
        .on_conflict_do_nothing(index_elements=["update_id"])
    )
)

# The update's own session, so FSM writes join the handler's transaction (one commit, and
# no second connection waiting for SQLite's write lock held by the first).
current_session: contextvars.ContextVar[AsyncSession | None] = contextvars.ContextVar(
    "current_session", default=None
)

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


@dataclass
class UpdateScope:
    """What one update has asked to say, until its transaction commits."""

    session: AsyncSession
    callback_query_id: str | None = None
    callback_answer: AnswerCallbackQuery | None = None


current_scope: contextvars.ContextVar[UpdateScope | None] = contextvars.ContextVar(
    "current_scope", default=None
)


class ChatLock(BaseMiddleware):
    """Updates of one chat and user are handled one at a time, in order, and the next one
    starts only after the previous one committed. With Redis the lock lives there (several
    processes) and expires by itself, so a process killed mid-update frees the chat within
    seconds."""

    def __init__(self, isolation: BaseEventIsolation) -> None:
        self.isolation = isolation

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        context = data.get("event_context")
        chat = getattr(context, "chat_id", None)
        user = getattr(context, "user_id", None)
        if chat is None and user is None:
            return await handler(event, data)
        bot = data["bot"]
        key = StorageKey(bot_id=bot.id, chat_id=chat or user, user_id=user or chat)
        async with self.isolation.lock(key):
            return await handler(event, data)


class DatabaseMiddleware(BaseMiddleware):
    """One transaction per update. The update's id, what it changed and every message it
    causes are committed together; the messages are delivered after the commit, and a
    callback query is answered once, after the commit too."""

    def __init__(self, domain: Domain, delivery: Any) -> None:
        self.domain = domain
        self.delivery = delivery

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        query = getattr(event, "callback_query", None)
        async with self.domain.writing(), self.domain.sessions() as session:
            scope = UpdateScope(session, callback_query_id=query.id if query else None)
            tokens = (current_session.set(session), current_scope.set(scope))
            data["session"] = session
            data["domain"] = self.domain
            try:
                update_id = getattr(event, "update_id", None)
                if update_id is None or await self._first_time(session, update_id):
                    result = await handler(event, data)
                else:
                    # Handled before (offered again after a crash or a lost confirmation):
                    # its answer may have died with the process, so the tap is answered
                    # again, plainly; Telegram refuses a second answer harmlessly.
                    result = None
                await session.commit()
            except BaseException:
                await session.rollback()
                raise
            finally:
                current_scope.reset(tokens[1])
                current_session.reset(tokens[0])
        if scope.callback_query_id is not None:
            self.delivery.ephemeral(
                scope.callback_answer
                or AnswerCallbackQuery(callback_query_id=scope.callback_query_id)
            )
        return result

    async def _first_time(self, session: AsyncSession, update_id: int) -> bool:
        # A plain INSERT … ON CONFLICT DO NOTHING: no unit of work, no failed statement to
        # roll back, and the row is in the same commit as the update's change.
        added = await _FIRST_TIME(
            session, {"update_id": update_id, "handled_at": self.domain.now()}
        )
        if added.rowcount == 0:
            log.info("update %s was handled before; ignoring it", update_id)
            return False
        return True


class Deferral:
    """Bot API client middleware. While an update is being handled, whatever the handler
    sends is not sent: it becomes an outbox row in the update's transaction (a callback answer
    is kept for after the commit). Outside an update, calls that put something in a chat go
    through delivery's pace. Delivery's own calls go straight out."""

    def __init__(self, delivery: Any) -> None:
        self.delivery = delivery

    async def __call__(self, make_request, bot, method):  # type: ignore[no-untyped-def]
        if delivering.get():
            return await make_request(bot, method)
        scope = current_scope.get()
        if isinstance(method, AnswerCallbackQuery):
            if scope is not None and scope.callback_query_id == method.callback_query_id:
                scope.callback_answer = _marked_answer(scope.session, method)
                return True
            return await self.delivery.submit(method)
        if not calls.is_chat_call(method):
            return await make_request(bot, method)
        if scope is None:
            return await self.delivery.submit(method)
        await writable(scope.session)
        await defer(scope.session, self.delivery, method)
        return True


def _marked_answer(session: AsyncSession, answer: AnswerCallbackQuery) -> AnswerCallbackQuery:
    """A toast about a drill says so too, in its short form (a toast holds 200 characters)."""
    if not answer.text or not outbox.about_a_drill(session, answer.text):
        return answer
    tag = tr(current_language.get(), outbox.DRILL_TAG)
    return answer.model_copy(update={"text": f"{tag} {answer.text}"[:200]})


def _mark_drill(session: AsyncSession, data: dict[str, Any]) -> bool:
    """A handler's answer while it has a drill case in hand is about that drill: it starts
    with the drill mark, in the reader's language, like the messages the domain queues.
    True if ``data`` was changed."""
    key = "text" if "text" in data else "caption" if "caption" in data else None
    if key is None or not outbox.about_a_drill(session, str(data[key] or "")):
        return False
    mark = tr(current_language.get(), outbox.DRILL_MARK)
    if data.get("parse_mode") == "HTML":
        mark = html.escape(mark, quote=False)
    if (data[key] or "").startswith(mark):
        return False
    data[key] = f"{mark}\n{data[key] or ''}"
    return True


async def defer(session: AsyncSession, delivery: Any, method: TelegramMethod) -> None:
    """Stores a handler's call as an outbox message of the update's transaction. A private
    chat's id goes in the encrypted payload, never in a column."""
    chat = calls.chat_of(method)
    data = calls.dump(method)
    marked = _mark_drill(session, data)
    data.pop("chat_id", None)
    payload: dict[str, Any] = {"call": data}
    if chat is not None and chat > 0:
        payload["to_chat"] = chat
    if isinstance(method, EditMessageReplyMarkup):
        # Removing old buttons is cosmetic: it must never hold up or fail the answer.
        session.info.setdefault("outbox_rows", []).append(
            Item(chat_id=chat or 0, call=method, priority=0)
        )
        return
    await delivery.stage_reply(
        session,
        method=calls.name(method),
        payload=payload,
        chat_id=chat if chat is not None and chat < 0 else None,
        # What the row says, already built: delivery in this process need not rebuild it.
        call=None if marked else method,
    )


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
            person = await domain.staff.person(session, user.id)
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
                    if reporter.blocked_bot and isinstance(event, Message | CallbackQuery):
                        reporter_returned(reporter)
            if isinstance(event, Message) and event.chat.type == "private" and not role.is_staff:
                # Remembered (pseudonymously) so /clear can delete it from the phone later.
                await privacy.remember_messages(
                    session, domain, [(event.chat.id, event.message_id)]
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

    def __init__(
        self,
        limit: int = 40,
        window: float = 60.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window = window
        self.monotonic = monotonic
        self.hits: dict[int, deque[float]] = defaultdict(deque)
        self.warned: set[int] = set()
        self._next_sweep = 0.0

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        if user is None or not isinstance(event, Update):
            return await handler(event, data)
        now = self.monotonic()
        if now >= self._next_sweep:
            self._forget_quiet_accounts(now)
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

    def _forget_quiet_accounts(self, now: float) -> None:
        # An account quiet for a whole window has nothing left to count. Without this sweep
        # every account that ever wrote kept its entry for the life of the process.
        self._next_sweep = now + self.window
        quiet = [
            user for user, hits in self.hits.items() if not hits or now - hits[-1] > self.window
        ]
        for user in quiet:
            del self.hits[user]
            self.warned.discard(user)
