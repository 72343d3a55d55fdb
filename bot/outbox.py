"""The outbox sender: delivers queued messages at Telegram's pace and never loses one.

Messages to one chat go out in the order they were queued (a card before its edits);
different chats are served concurrently within the global limit.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import logging
import time
from collections import defaultdict
from typing import Any

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import (
    CopyMessage,
    EditMessageText,
    SendDocument,
    SendLocation,
    SendMessage,
    SendPhoto,
    SendVideo,
    SendVoice,
)
from aiogram.types import BufferedInputFile
from sqlalchemy import and_, or_, select, update

from bot.config import OutboxSection
from bot.domain import claims, events, routing
from bot.domain.context import Domain
from bot.domain.followups import next_safe_moment
from models import (
    Case,
    CaseCard,
    OutboxMessage,
    Person,
    RelayLink,
    Reporter,
    ResponderGroup,
    SentMessage,
)

log = logging.getLogger(__name__)
LEASE = dt.timedelta(minutes=10)
MAX_BACKOFF = 60.0


class Bucket:
    """A token bucket on the monotonic clock (Telegram's limits are in real seconds)."""

    def __init__(self, rate: float, capacity: float) -> None:
        self.rate = rate
        self.capacity = capacity
        self.tokens = capacity
        self.stamp = time.monotonic()

    def delay(self) -> float:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        wait = (1 - self.tokens) / self.rate
        self.tokens -= 1
        return wait


class RateLimiter:
    def __init__(self, limits: OutboxSection) -> None:
        self.limits = limits
        self.global_bucket = Bucket(limits.global_per_second, limits.global_per_second)
        self.chats: dict[int, Bucket] = {}
        self.groups: dict[int, Bucket] = {}

    async def wait(self, chat_id: int) -> None:
        chat = self.chats.setdefault(
            chat_id,
            Bucket(self.limits.per_chat_per_second, max(1.0, self.limits.per_chat_per_second * 3)),
        )
        delays = [chat.delay(), self.global_bucket.delay()]
        if chat_id < 0:
            per_minute = self.limits.per_group_per_minute
            group = self.groups.setdefault(chat_id, Bucket(per_minute / 60, per_minute / 4))
            delays.append(group.delay())
        pause = max(delays)
        if pause > 0:
            await asyncio.sleep(pause)


class Permanent(Exception):
    """Delivery can never succeed (e.g. the recipient no longer exists)."""


class OutboxSender:
    def __init__(self, bot: Bot, domain: Domain) -> None:
        self.bot = bot
        self.domain = domain
        self.limits = domain.config.outbox
        self.limiter = RateLimiter(self.limits)
        self.wake = asyncio.Event()
        self._stopping = False

    def notify(self) -> None:
        self.wake.set()

    async def run_forever(self) -> None:
        while not self._stopping:
            try:
                sent = await self.deliver_due()
            except Exception:
                log.exception("outbox batch failed; retrying shortly")
                sent = 0
            if sent:
                continue
            self.wake.clear()
            try:
                await asyncio.wait_for(self.wake.wait(), timeout=1.0)
            except TimeoutError:
                pass

    def stop(self) -> None:
        self._stopping = True
        self.wake.set()

    async def flush(self, rounds: int = 50) -> int:
        """Delivers everything due now (tests and the demo call this)."""
        total = 0
        for _ in range(rounds):
            sent = await self.deliver_due()
            total += sent
            if not sent:
                break
        return total

    async def deliver_due(self, limit: int = 500) -> int:
        batch = await self._lease(limit)
        if not batch:
            return 0
        by_chat: dict[tuple[str, int], list[int]] = defaultdict(list)
        for message_id, chat_id, reporter_id in batch:
            by_chat[("chat", chat_id) if chat_id is not None else ("reporter", reporter_id)].append(
                message_id
            )
        results = await asyncio.gather(*(self._deliver_chat(ids) for ids in by_chat.values()))
        return sum(results)

    async def _lease(self, limit: int) -> list[tuple[int, int | None, int | None]]:
        now = self.domain.now()
        due = and_(
            OutboxMessage.next_attempt_at <= now,
            or_(
                OutboxMessage.status == "pending",
                and_(OutboxMessage.status == "sending", OutboxMessage.locked_until < now),
            ),
        )
        async with self.domain.sessions() as session, session.begin():
            query = select(OutboxMessage.id).where(due).order_by(OutboxMessage.id).limit(limit)
            if session.bind.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            ids = list(await session.scalars(query))
            if not ids:
                return []
            rows = await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(ids), due)
                .values(status="sending", locked_until=now + LEASE)
                .returning(OutboxMessage.id, OutboxMessage.chat_id, OutboxMessage.reporter_id)
            )
            return sorted((r[0], r[1], r[2]) for r in rows)

    async def _deliver_chat(self, ids: list[int]) -> int:
        sent = 0
        for index, message_id in enumerate(ids):
            ok = await self._deliver_one(message_id)
            if ok is None:
                # Not deliverable yet: keep the chat's order by putting the rest back.
                await self._release(ids[index + 1 :])
                break
            sent += int(ok)
        return sent

    async def _release(self, ids: list[int]) -> None:
        if not ids:
            return
        async with self.domain.sessions() as session, session.begin():
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(ids))
                .values(status="pending", locked_until=None)
            )

    async def _deliver_one(self, message_id: int) -> bool | None:
        """True when sent (or settled), False when given up, None when it must wait."""
        # The read session is closed before any other one opens: on SQLite a second
        # session in the same task would wait for the write lock the first one holds.
        problem: str | None = None
        safe_from: dt.datetime | None = None
        async with self.domain.sessions() as session:
            message = await session.get(OutboxMessage, message_id)
            if message is None or message.status != "sending":
                return False
            try:
                chat_id = await self._recipient(session, message)
                call = await self._build_call(session, message, chat_id)
            except Permanent as error:
                problem = str(error)
            if message.reporter_id is not None and problem is None:
                reporter = await session.get(Reporter, message.reporter_id)
                safe = next_safe_moment(reporter, self.domain.now())
                if safe > self.domain.now():
                    safe_from = safe
        if safe_from is not None:
            # Every proactive message waits for the reporter's safe hours.
            await self._settle(
                message_id, "pending", error="outside safe hours", next_attempt_at=safe_from
            )
            return None
        if problem is not None:
            await self._settle(message_id, "failed", error=problem)
            return False
        if call is None:
            await self._settle(message_id, "pending", error="waiting for the message it edits")
            return None
        delay = 1.0
        for attempt in range(1, self.limits.max_attempts + 1):
            await self.limiter.wait(chat_id)
            try:
                result = await self.bot(call)
            except TelegramRetryAfter as error:
                log.warning(
                    "429 from Telegram for chat %s, waiting %ss", chat_id, error.retry_after
                )
                await asyncio.sleep(error.retry_after)
                continue
            except TelegramMigrateToChat as error:
                await self._migrate(chat_id, error.migrate_to_chat_id)
                chat_id = error.migrate_to_chat_id
                call = call.model_copy(update={"chat_id": chat_id})
                continue
            except TelegramForbiddenError as error:
                await self._blocked(message_id, chat_id, str(error))
                return False
            except TelegramBadRequest as error:
                if "message is not modified" in str(error):
                    await self._settle(message_id, "sent", attempts=attempt)
                    return True
                log.error("outbox message %s rejected: %s", message_id, error)
                await self._settle(message_id, "failed", error=str(error), attempts=attempt)
                return False
            except (TelegramServerError, TelegramNetworkError) as error:
                log.warning("outbox message %s: %s (attempt %s)", message_id, error, attempt)
                await asyncio.sleep(delay)
                delay = min(MAX_BACKOFF, delay * 2)
                continue
            await self._sent(message_id, chat_id, result)
            return True
        await self._settle(
            message_id, "failed", error="too many attempts", attempts=self.limits.max_attempts
        )
        return False

    async def _recipient(self, session: Any, message: OutboxMessage) -> int:
        if message.chat_id is not None:
            return message.chat_id
        reporter = await session.get(Reporter, message.reporter_id)
        if reporter is None or reporter.chat_id is None:
            raise Permanent("reporter erased")
        if reporter.blocked_bot:
            raise Permanent("reporter blocked the bot")
        return int(reporter.chat_id)

    async def _build_call(self, session: Any, message: OutboxMessage, chat_id: int) -> Any:
        payload = dict(message.payload)
        common = {"chat_id": chat_id}
        if payload.get("protect_content"):
            common["protect_content"] = True
        markup = payload.get("reply_markup")
        if message.method == "sendMessage":
            return SendMessage(
                **common,
                text=payload["text"],
                parse_mode=payload.get("parse_mode"),
                reply_markup=markup,
            )
        if message.method == "editMessageText":
            original = await session.get(OutboxMessage, payload["edit_outbox_id"])
            if original is None or original.status == "failed":
                raise Permanent("the message to edit was never delivered")
            if original.telegram_message_id is None:
                return None
            return EditMessageText(
                chat_id=original.chat_id if original.chat_id is not None else chat_id,
                message_id=original.telegram_message_id,
                text=payload["text"],
                parse_mode=payload.get("parse_mode"),
                reply_markup=markup,
            )
        if message.method == "copyMessage":
            return CopyMessage(
                **common,
                from_chat_id=payload["from_chat_id"],
                message_id=payload["message_id"],
                caption=payload.get("caption") if payload.get("kind") != "location" else None,
            )
        if message.method == "sendLocation":
            return SendLocation(
                **common, latitude=payload["latitude"], longitude=payload["longitude"]
            )
        media = {
            "sendPhoto": (SendPhoto, "photo"),
            "sendDocument": (SendDocument, "document"),
            "sendVoice": (SendVoice, "voice"),
            "sendVideo": (SendVideo, "video"),
        }
        if message.method in media:
            method, field = media[message.method]
            if "file_b64" in payload:
                file: Any = BufferedInputFile(
                    base64.b64decode(payload["file_b64"]), filename=payload.get("filename", "file")
                )
            else:
                file = payload[field]
            return method(**common, **{field: file}, caption=payload.get("caption"))
        raise Permanent(f"unknown method {message.method}")

    async def _settle(
        self,
        message_id: int,
        status: str,
        *,
        error: str | None = None,
        attempts: int = 0,
        next_attempt_at: dt.datetime | None = None,
    ) -> None:
        async with self.domain.sessions() as session, session.begin():
            message = await session.get(OutboxMessage, message_id)
            if message is None:
                return
            if next_attempt_at is not None:
                message.next_attempt_at = next_attempt_at
            message.status = status
            message.error = error
            message.locked_until = None
            message.attempts += attempts
            if status == "failed":
                await events.record(
                    session,
                    self.domain,
                    "delivery_failed",
                    case_id=message.case_id,
                    data={"outbox": message_id, "error": (error or "")[:200]},
                )

    async def _sent(self, message_id: int, chat_id: int, result: Any) -> None:
        telegram_id = getattr(result, "message_id", None)
        async with self.domain.sessions() as session, session.begin():
            message = await session.get(OutboxMessage, message_id)
            message.status = "sent"
            message.sent_at = self.domain.now()
            message.attempts += 1
            message.locked_until = None
            if message.method != "editMessageText":
                message.telegram_message_id = telegram_id
            if message.purpose == "relay":
                await session.execute(
                    update(RelayLink)
                    .where(RelayLink.outbox_id == message_id)
                    .values(message_id=telegram_id)
                )
            if message.reporter_id is not None and telegram_id is not None:
                session.add(
                    SentMessage(
                        chat_key=self.domain.keys.pseudonym("chat", chat_id),
                        message_id=telegram_id,
                        sent_at=self.domain.now(),
                    )
                )

    async def _blocked(self, message_id: int, chat_id: int, error: str) -> None:
        """403: the recipient blocked the bot or removed it. Stop, and make sure no case
        is left waiting on someone who can no longer hear us."""
        async with self.domain.sessions() as session, session.begin():
            message = await session.get(OutboxMessage, message_id)
            message.status = "blocked"
            message.error = error
            message.locked_until = None
            await events.record(
                session,
                self.domain,
                "recipient_blocked",
                case_id=message.case_id,
                data={
                    "kind": "reporter"
                    if message.reporter_id
                    else ("group" if chat_id < 0 else "person")
                },
            )
            if message.reporter_id is not None:
                reporter = await session.get(Reporter, message.reporter_id)
                reporter.blocked_bot = True
            elif chat_id < 0:
                await group_lost(session, self.domain, chat_id)
            else:
                person = await session.scalar(
                    select(Person).where(Person.telegram_user_id == chat_id)
                )
                if person is not None:
                    await person_unreachable(session, self.domain, person)
        self.domain.on_outbox()

    async def _migrate(self, old: int, new: int) -> None:
        async with self.domain.sessions() as session, session.begin():
            await migrate_group(session, self.domain, old, new)


async def migrate_group(session: Any, domain: Domain, old: int, new: int) -> None:
    """A group upgraded to a supergroup changes id; everything that points at it follows."""
    await session.execute(
        update(ResponderGroup).where(ResponderGroup.chat_id == old).values(chat_id=new)
    )
    await session.execute(update(CaseCard).where(CaseCard.chat_id == old).values(chat_id=new))
    await session.execute(
        update(OutboxMessage).where(OutboxMessage.chat_id == old).values(chat_id=new)
    )
    await events.record(session, domain, "group_migrated", data={"from": old, "to": new})


async def person_unreachable(session: Any, domain: Domain, person: Person) -> None:
    person.unreachable = True
    owned = await session.scalars(
        select(Case).where(Case.owner_person_id == person.id, Case.status == "claimed")
    )
    for case in owned:
        await claims.release(session, domain, case, "owner_unreachable")


async def group_lost(session: Any, domain: Domain, chat_id: int) -> None:
    """The bot was removed from a responder group: its open cards are routed again."""
    group = await session.scalar(select(ResponderGroup).where(ResponderGroup.chat_id == chat_id))
    if group is None or not group.active:
        return
    group.active = False
    await events.record(
        session,
        domain,
        "group_lost",
        data={"chat_id": chat_id, "organisation": group.organisation_id},
    )
    cards = list(
        await session.scalars(
            select(CaseCard).where(CaseCard.chat_id == chat_id, CaseCard.active.is_(True))
        )
    )
    for card in cards:
        card.active = False
        case = await session.get(Case, card.case_id)
        if case is not None and case.status in ("routed", "referred"):
            remaining = await session.scalar(
                select(CaseCard.id)
                .where(CaseCard.case_id == case.id, CaseCard.active.is_(True))
                .limit(1)
            )
            if remaining is None:
                await routing.route(session, domain, case)
            await routing.alert_coordinators(
                session,
                domain,
                case,
                "⚠️ The bot was removed from a responder group; case <b>{code}</b> ({corridor}) was routed again.",
            )
