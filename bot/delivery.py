"""Delivery: the one paced path by which every message reaches Telegram.

A change and the messages it causes are committed together (outbox rows); only then does
delivery send them. Each chat has its own queue, served in order, one call at a time, so a
slow, failing or blocked chat delays nobody else. Pacing keeps Telegram's limits: at most
``global_per_second`` calls in any one-second window, ``per_group_per_minute`` new messages
in any minute of a group, and about ``per_chat_per_second`` proactive messages a second to
one chat; answers to a person's own action go ahead of everything the bot says unasked.

Nothing is sent before the commit that queued it is on disk (``models.durability``: one
flush serves every row waiting at that moment).

Rows committed by this process are handed over straight after their commit (no polling);
rows of other processes, of a process that died, or that waited for safe hours are found by
a poller. A process leases what it holds for a few seconds and renews the lease while the
message waits, so after a crash another process, or the restarted one, sends it within
seconds, and a message that was delivered is not sent again.

A send whose answer is lost (timeout, 5xx) is retried: the person may see it twice, never
not at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import datetime as dt
import itertools
import logging
import time
from collections import deque
from dataclasses import dataclass, field
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
    AnswerCallbackQuery,
    CopyMessage,
    EditMessageText,
    SendDocument,
    SendLocation,
    SendMessage,
    SendPhoto,
    SendVideo,
    SendVoice,
    TelegramMethod,
)
from aiogram.types import BufferedInputFile
from sqlalchemy import and_, bindparam, event, insert, or_, select, update
from sqlalchemy.orm import Session

from bot import calls, translation
from bot.domain import events, outbox, privacy, recipients
from bot.domain.context import Domain
from bot.domain.followups import next_safe_moment
from bot.domain.notices import UntranslatedMessage
from models import OutboxMessage, Person, RelayLink, Reporter
from models.prepared import Prepared

log = logging.getLogger(__name__)

LEASE = dt.timedelta(seconds=8)
RENEW_EVERY = 2.0
POLL_EVERY = 1.0
GATHER_RESULTS = 0.005  # seconds
INTAKE_RETRY_S = 0.5  # after a failed flush of the log, or a failed read of a batch's rows
_OUTBOX = OutboxMessage.__table__
# A send's result: one statement per set of columns it changes (a few kinds of result).
_RECORD_RESULT: dict[tuple[str, ...], Prepared] = {}
# A handler's reply, written as a plain INSERT: the unit of work's flush of one new row cost
# more than the rest of the update's statements together.
_REPLY_COLUMNS = (
    "method",
    "payload",
    "chat_id",
    "reporter_id",
    "case_id",
    "purpose",
    "priority",
    "attempts",
    "created_at",
    "next_attempt_at",
    "status",
    "lease_owner",
    "locked_until",
)
_NEW_REPLY = Prepared(lambda _: insert(_OUTBOX).returning(_OUTBOX.c.id), columns=_REPLY_COLUMNS)


def _result_recorder(columns: tuple[str, ...]) -> Prepared:
    recorder = _RECORD_RESULT.get(columns)
    if recorder is None:
        recorder = _RECORD_RESULT[columns] = Prepared(
            lambda _: update(_OUTBOX).where(_OUTBOX.c.id == bindparam("outbox_id")),
            columns=[c for c in columns if c != "outbox_id"],
        )
    return recorder


MAX_BACKOFF = 60.0
MAX_HELD = 5000
BURST_SECONDS = 3
# Telegram counts calls when they arrive, we when we send them: a call delayed on its way
# and the next one sent on time could arrive closer than the window. A little slack.
JITTER = 0.05
MAX_IN_FLIGHT = 32

# Set while delivery itself calls the Bot API, so the client middleware lets the call through.
delivering: contextvars.ContextVar[bool] = contextvars.ContextVar("delivering", default=False)


class Window:
    """At most ``limit`` events in any ``period`` seconds (a sliding log, not a bucket: a
    bucket lets a full burst follow a full second)."""

    def __init__(self, limit: int, period: float) -> None:
        self.limit = max(1, limit)
        self.period = period
        self.stamps: deque[float] = deque()

    def ready_at(self, now: float, limit: int | None = None) -> float:
        limit = limit or self.limit
        while self.stamps and now - self.stamps[0] >= self.period:
            self.stamps.popleft()
        if len(self.stamps) < limit:
            return now
        return self.stamps[-limit] + self.period

    def record(self, now: float) -> None:
        self.stamps.append(now)


@dataclass
class Item:
    """One call waiting for its chat's turn. Durable items have an outbox row; ephemeral ones
    (a callback's spinner, removing old buttons) are best effort and only logged on failure."""

    chat_id: int
    call: TelegramMethod | None
    outbox_id: int | None = None
    priority: int = 1
    purpose: str = "reply"
    case_id: int | None = None
    reporter_id: int | None = None
    edit_of: int | None = None  # outbox id of the message an edit changes
    # Translations to write into the text before the first attempt (bot/translation.py).
    translations: list[dict[str, Any]] | None = None
    attempts: int = 0
    future: asyncio.Future | None = None
    seq: int = 0

    @property
    def durable(self) -> bool:
        return self.outbox_id is not None


@dataclass
class ChatQueue:
    chat_id: int
    items: deque[Item] = field(default_factory=deque)
    not_before: float = 0.0
    busy: bool = False
    # Unasked messages: the chat's pace per second. Everything: three seconds' worth within
    # any three seconds, so an answer may go out at once after an earlier message.
    second: Window = field(default_factory=lambda: Window(1, 1.0))
    burst: Window = field(default_factory=lambda: Window(3, 3.0))
    minute: Window | None = None
    backoff: float = 1.0


@dataclass
class Recipient:
    chat_id: int | None
    blocked: bool
    safe_from: Any


@dataclass
class Snapshot:
    """What delivery needs of an outbox row, taken while the row is still loaded."""

    outbox_id: int | None
    method: str
    payload: dict[str, Any]
    chat_id: int | None
    reporter_id: int | None
    case_id: int | None
    purpose: str
    priority: int
    attempts: int
    obj: Any = None  # the row itself, until its id is known after the flush
    call: TelegramMethod | None = None  # the call the payload stores, as the handler made it


class Delivery:
    def __init__(self, bot: Bot, domain: Domain) -> None:
        self.bot = bot
        self.domain = domain
        self.limits = domain.config.outbox
        per_second = round(self.limits.global_per_second)
        self.global_window = Window(per_second, 1.0 + JITTER)
        # A second's worth sent at once reaches Telegram spread over the time it takes to
        # send them; the next second's, sent at once on time, then finds its count not yet
        # run down (a 429 now and then in a 1,400-message flood). A third of it at a time.
        self.global_burst = Window(max(1, per_second // 3), (1.0 + JITTER) / 3)
        self.chats: dict[int, ChatQueue] = {}
        # The chats that have (or had, until next_chat looks) something to send: the others,
        # hundreds under load, are not looked at for each send.
        self.backlog: dict[int, ChatQueue] = {}
        self.held: set[int] = set()  # outbox ids in memory (queued or being sent)
        self.delivered: dict[int, tuple[int, int]] = {}  # outbox id → (chat, message id)
        self.incoming: deque[Snapshot | Item] = deque()
        self.results: list[tuple[str, Item, Any]] = []
        self.wake = asyncio.Event()
        self.intake_wake = asyncio.Event()
        self.settle_wake = asyncio.Event()
        self.poll_wake = asyncio.Event()
        self.in_flight: set[asyncio.Task] = set()
        self.tasks: list[asyncio.Task] = []
        self._seq = itertools.count()
        self._busy_intake = False
        self._busy_settle = False
        self._polls = 0  # polls between their query and the hand-over of what they took
        self._stopping = False
        self._next_sweep = 0.0
        self.calls_sent = 0
        self.translator = translation.engine_for(domain.config.translation)

    @property
    def instance(self) -> str:
        """This process, as the outbox's leases name it."""
        return self.domain.liveness.instance

    # ---- handing over -------------------------------------------------------------------

    def attach(self, session_class: type[Session]) -> None:
        """Every outbox row committed through ``session_class`` is leased to this process
        before the commit and handed to delivery right after it."""

        def lease(row: OutboxMessage, now: dt.datetime) -> bool:
            if row.status == "sending" and row.lease_owner == self.instance:
                return True
            if row.status != "pending" or row.next_attempt_at > now:
                return False
            self._take_lease(row, now)
            return True

        @event.listens_for(session_class, "before_flush")
        def _lease_new(session: Session, _context: Any, _instances: Any) -> None:
            # Leased as they are inserted: one INSERT instead of an INSERT and an UPDATE.
            rows = session.info.get("outbox_rows")
            if rows:
                now = self.domain.now()
                for row in rows:
                    if isinstance(row, OutboxMessage) and row in session.new:
                        lease(row, now)

        @event.listens_for(session_class, "before_commit")
        def _lease(session: Session) -> None:
            rows = session.info.get("outbox_rows")
            if not rows:
                return
            now = self.domain.now()
            snaps = []
            for row in rows:
                if isinstance(row, Item | Snapshot):
                    snaps.append(row)
                elif lease(row, now):
                    snaps.append(snapshot(row))
            session.info["outbox_snaps"] = snaps

        @event.listens_for(session_class, "after_flush")
        def _ids(session: Session, _context: Any) -> None:
            for snap in session.info.get("outbox_snaps", ()):
                if (
                    isinstance(snap, Snapshot)
                    and snap.outbox_id is None
                    and snap.obj is not None
                    and snap.obj.id is not None
                ):
                    snap.outbox_id = snap.obj.id

        @event.listens_for(session_class, "after_commit")
        def _hand_over(session: Session) -> None:
            session.info.pop("outbox_rows", None)
            snaps = session.info.pop("outbox_snaps", None)
            if snaps:
                for snap in snaps:
                    if isinstance(snap, Snapshot):
                        snap.obj = None
                self.adopt(snaps)

        @event.listens_for(session_class, "after_rollback")
        def _forget(session: Session) -> None:
            session.info.pop("outbox_rows", None)
            session.info.pop("outbox_snaps", None)

    def _lease_values(self, now: dt.datetime) -> dict[str, Any]:
        """An outbox row's columns while this process holds it."""
        return {"status": "sending", "lease_owner": self.instance, "locked_until": now + LEASE}

    def _take_lease(self, row: OutboxMessage, now: dt.datetime) -> None:
        for column, value in self._lease_values(now).items():
            setattr(row, column, value)

    async def stage_reply(
        self,
        session: Any,
        *,
        method: str,
        payload: dict[str, Any],
        chat_id: int | None,
        call: TelegramMethod | None = None,
    ) -> None:
        """A handler's reply as an outbox row of ``session``'s transaction, leased to this
        process and handed to delivery after the commit, like the rows the domain queues."""
        now = self.domain.now()
        # What delivery takes of the row (a Snapshot) is what the row holds, less its id.
        kept: dict[str, Any] = {
            "method": method,
            "payload": payload,
            "chat_id": chat_id,
            "reporter_id": None,
            "case_id": None,
            "purpose": "reply",
            "priority": 0,
            "attempts": 0,
        }
        outbox_id = (
            await _NEW_REPLY(
                session,
                {**kept, "created_at": now, "next_attempt_at": now, **self._lease_values(now)},
            )
        ).scalar()
        session.info.setdefault("outbox_rows", []).append(
            Snapshot(outbox_id=outbox_id, **kept, call=call)
        )

    def adopt(self, entries: list[Snapshot | Item]) -> None:
        """Takes committed rows (and ephemeral calls, in the order they were made)."""
        for entry in entries:
            if isinstance(entry, Snapshot) and entry.outbox_id is not None:
                self.held.add(entry.outbox_id)
        self.incoming.extend(entries)
        self.intake_wake.set()

    def submit(self, call: TelegramMethod, *, priority: int = 0) -> asyncio.Future:
        """An ephemeral call from outside an update's transaction (an apology after an error),
        delivered through the same pace; the future has its result."""
        future: asyncio.Future = asyncio.get_running_loop().create_future()
        chat = calls.chat_of(call)
        if chat is None or isinstance(call, AnswerCallbackQuery):
            self._fast(call, future)
            return future
        self.adopt([Item(chat_id=chat, call=call, priority=priority, future=future)])
        return future

    def ephemeral(self, call: TelegramMethod) -> None:
        if isinstance(call, AnswerCallbackQuery):
            self._fast(call, None)
            return
        chat = calls.chat_of(call)
        if chat is not None:
            self.adopt([Item(chat_id=chat, call=call, priority=0)])

    def _fast(self, call: TelegramMethod, future: asyncio.Future | None) -> None:
        """Answers to callback queries are not messages: they skip the chat queues (a spinner
        must stop within seconds) and only fail quietly."""

        async def answer() -> None:
            try:
                await self.domain.durability.sync()  # the answer may confirm a change
            except Exception as error:
                # Not on disk: better a spinner that runs out than a confirmation a power
                # cut could take back.
                log.warning("%s not sent: the log flush failed: %s", calls.name(call), error)
                if future is not None and not future.done():
                    future.set_exception(error)
                return
            # A lost answer (timeout, dropped connection, 5xx) is tried again a few times
            # within the seconds the spinner lasts; Telegram ignores a second answer.
            for attempt in range(3):
                try:
                    result = await self._call(call, only_the_message_id=future is None)
                except (TelegramNetworkError, TelegramServerError) as error:
                    if attempt < 2:
                        await asyncio.sleep(0.5 * (attempt + 1))
                        continue
                    failure: Exception = error
                except Exception as error:
                    failure = error
                else:
                    if future is not None and not future.done():
                        future.set_result(result)
                    return
                log.info("%s failed: %s", calls.name(call), failure)
                if future is not None and not future.done():
                    future.set_exception(failure)
                return

        self._spawn(answer())

    # ---- running ------------------------------------------------------------------------

    def start(self) -> None:
        if self.tasks:
            return
        self._stopping = False
        for name, work in (
            ("delivery-intake", self._intake_loop),
            ("delivery-dispatch", self._dispatch_loop),
            ("delivery-settle", self._settle_loop),
            ("delivery-poll", self._poll_loop),
            ("delivery-renew", self._renew_loop),
        ):
            self.tasks.append(asyncio.create_task(work(), name=name))

    async def stop(self, drain: float = 10.0) -> None:
        """Sends what is ready within ``drain`` seconds; the rest stays leased and goes out
        after the next start."""
        if self.tasks:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._until_idle(), drain)
        self._stopping = True
        for waker in (self.wake, self.intake_wake, self.settle_wake, self.poll_wake):
            waker.set()
        # A poll cancelled between its commit and the hand-over would leave rows leased to
        # nobody until the lease runs out; it is let finish its short transaction instead.
        polling = [t for t in self.tasks if t.get_name() == "delivery-poll"]
        if polling:
            await asyncio.wait(polling, timeout=5)
        for task in self.in_flight:
            task.cancel()
        for task in self.tasks:
            task.cancel()
        for task in [*self.tasks, *self.in_flight]:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self.tasks.clear()
        self.in_flight.clear()
        await self._write_results()
        await self._release_held()
        if self.translator is not None:
            await self.translator.close()

    async def flush(self, limit: float = 120.0) -> int:
        """Delivers everything due now and waits until it is settled (tests, the demo)."""
        before = self.calls_sent
        started_here = not self.tasks
        if started_here:
            self.start()
        try:
            await self.poll()
            await asyncio.wait_for(self._until_idle(), limit)
        finally:
            if started_here:
                await self.stop(drain=0)
        return self.calls_sent - before

    def idle(self) -> bool:
        return not (
            self.incoming
            or self._busy_intake
            or self.in_flight
            or self.results
            or self._busy_settle
            or self._polls
            or any(q.items for q in self.backlog.values())
        )

    async def _until_idle(self) -> None:
        # Idleness has many sources (queues, sends in flight, results not yet written); a
        # short poll is simpler and cheaper than an event for each.
        while not self.idle():  # noqa: ASYNC110
            await asyncio.sleep(0.005)

    # ---- intake: rows become calls in chat queues --------------------------------------

    async def _intake_loop(self) -> None:
        while not self._stopping:
            await self.intake_wake.wait()
            self.intake_wake.clear()
            while self.incoming:
                batch = list(self.incoming)
                self.incoming.clear()
                self._busy_intake = True
                try:
                    # What these rows say must not be taken back by a power cut once sent.
                    await self.domain.durability.sync()
                    found = await self._read_for(batch)
                except Exception:
                    # This process holds their leases and renews them: left aside here, they
                    # would never go out. Nothing of the batch was queued yet.
                    log.exception("delivery could not take %d messages; trying again", len(batch))
                    self.incoming.extendleft(reversed(batch))
                    await asyncio.sleep(INTAKE_RETRY_S)
                    continue
                finally:
                    self._busy_intake = False
                self._take(batch, *found)

    async def _read_for(
        self, batch: list[Snapshot | Item]
    ) -> tuple[dict[int, Recipient], dict[int, tuple[int | None, int | None, str]]]:
        """What the rows of ``batch`` need from the database before they can be queued: their
        reporters, and the messages they edit that this process has not seen delivered."""
        needs_reading = [
            s
            for s in batch
            if isinstance(s, Snapshot)
            and (s.reporter_id is not None or s.payload.get("edit_outbox_id") is not None)
        ]
        reporters: dict[int, Recipient] = {}
        originals: dict[int, tuple[int | None, int | None, str]] = {}
        if needs_reading:
            ids = {s.reporter_id for s in needs_reading if s.reporter_id is not None}
            edits = {
                s.payload["edit_outbox_id"]
                for s in needs_reading
                if s.payload.get("edit_outbox_id") is not None
                and s.payload["edit_outbox_id"] not in self.delivered
            }
            # A short read, closed before anything is sent.
            async with self.domain.transaction() as session:
                if ids:
                    for reporter in await session.scalars(
                        select(Reporter).where(Reporter.id.in_(ids))
                    ):
                        reporters[reporter.id] = Recipient(
                            chat_id=int(reporter.chat_id) if reporter.chat_id else None,
                            blocked=reporter.blocked_bot,
                            safe_from=lambda moment, r=reporter: next_safe_moment(r, moment),
                        )
                if edits:
                    for row in await session.execute(
                        select(
                            OutboxMessage.id,
                            OutboxMessage.chat_id,
                            OutboxMessage.telegram_message_id,
                            OutboxMessage.status,
                        ).where(OutboxMessage.id.in_(edits))
                    ):
                        originals[row[0]] = (row[1], row[2], row[3])
        return reporters, originals

    def _take(
        self,
        batch: list[Snapshot | Item],
        reporters: dict[int, Recipient],
        originals: dict[int, tuple[int | None, int | None, str]],
    ) -> None:
        now = self.domain.now()
        for entry in batch:
            if isinstance(entry, Item):
                self._enqueue(entry)
                continue
            try:
                outcome = self._item_for(entry, reporters, originals, now)
            except Exception as error:
                # A row that cannot be read fails alone; the rest of the batch goes out.
                log.exception("outbox message %s cannot be sent", entry.outbox_id)
                outcome = ("failed", f"unreadable outbox message: {type(error).__name__}")
            if isinstance(outcome, Item):
                self._enqueue(outcome)
            else:
                self._result(
                    outcome[0],
                    Item(
                        chat_id=0,
                        call=None,
                        outbox_id=entry.outbox_id,
                        case_id=entry.case_id,
                        reporter_id=entry.reporter_id,
                        purpose=entry.purpose,
                    ),
                    outcome[1],
                )

    def _item_for(
        self,
        snap: Snapshot,
        reporters: dict[int, Recipient],
        originals: dict[int, tuple[int | None, int | None, str]],
        now: dt.datetime,
    ) -> Item | tuple[str, Any]:
        payload = snap.payload
        chat_id = snap.chat_id
        if chat_id is None and "to_chat" in payload:
            chat_id = int(payload["to_chat"])
        if snap.reporter_id is not None and chat_id is None:
            reporter = reporters.get(snap.reporter_id)
            if reporter is None or reporter.chat_id is None:
                return ("failed", "reporter erased")
            if reporter.blocked:
                return ("failed", "reporter blocked the bot")
            if snap.priority > 0:
                safe = reporter.safe_from(now)
                if safe > now:
                    # Every proactive message waits for the reporter's safe hours.
                    return ("later", safe)
            chat_id = int(reporter.chat_id)
        if chat_id is None:
            return ("failed", "no recipient")
        edit_of = payload.get("edit_outbox_id")
        if snap.call is not None and calls.chat_of(snap.call) == chat_id:
            call = snap.call
        else:
            try:
                call = build_call(snap.method, payload, chat_id)
            except (KeyError, ValueError) as error:
                return ("failed", f"unreadable outbox message: {error}")
        if edit_of is not None and edit_of not in self.delivered:
            original = originals.get(edit_of)
            if original is None or original[2] == "failed":
                return ("failed", "the message to edit was never delivered")
            if original[1] is not None:
                self.delivered[edit_of] = (original[0] or chat_id, original[1])
            elif edit_of not in self.held:
                return ("later", now + dt.timedelta(seconds=2))
        return Item(
            chat_id=chat_id,
            call=call,
            outbox_id=snap.outbox_id,
            priority=snap.priority,
            purpose=snap.purpose,
            case_id=snap.case_id,
            reporter_id=snap.reporter_id,
            edit_of=edit_of,
            attempts=snap.attempts,
            translations=payload.get("translate"),
        )

    def _enqueue(self, item: Item) -> None:
        item.seq = next(self._seq)
        queue = self.chats.get(item.chat_id)
        if queue is None:
            queue = ChatQueue(item.chat_id)
            pace = max(1, round(self.limits.per_chat_per_second))
            queue.second = Window(pace, 1.0 + JITTER)
            queue.burst = Window(pace * BURST_SECONDS, BURST_SECONDS + JITTER)
            if item.chat_id < 0:
                queue.minute = Window(self.limits.per_group_per_minute, 60.0 + JITTER)
            self.chats[item.chat_id] = queue
        queue.items.append(item)
        self.backlog[item.chat_id] = queue
        self.wake.set()

    # ---- dispatch: which chat sends next ------------------------------------------------

    def _ready_at(self, queue: ChatQueue, item: Item, now: float) -> float:
        ready = max(queue.not_before, now, queue.burst.ready_at(now))
        api = calls.name(item.call) if item.call is not None else ""
        if item.priority > 0:
            ready = max(ready, queue.second.ready_at(now))
        if queue.minute is not None and calls.is_new_message(api):
            ready = max(ready, queue.minute.ready_at(now))
        return ready

    async def _dispatch_loop(self) -> None:
        while not self._stopping:
            now = time.monotonic()
            queue, wait = self.next_chat(now)
            if queue is not None and len(self.in_flight) < MAX_IN_FLIGHT:
                ready = self.global_ready_at(now)
                if ready <= now:
                    item = queue.items[0]
                    self.record_global(now)
                    queue.second.record(now)
                    queue.burst.record(now)
                    if queue.minute is not None and calls.is_new_message(calls.name(item.call)):
                        queue.minute.record(now)
                    queue.busy = True
                    self._spawn(self._send(queue, item))
                    continue
                wait = min(wait, ready - now)
            elif queue is not None:
                wait = 0.05
            self.wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), max(wait, 0.001))

    def global_ready_at(self, now: float) -> float:
        return max(self.global_window.ready_at(now), self.global_burst.ready_at(now))

    def record_global(self, now: float) -> None:
        self.global_window.record(now)
        self.global_burst.record(now)

    def next_chat(self, now: float) -> tuple[ChatQueue | None, float]:
        """The chat whose first message may go now, and otherwise how long until one may.
        Answers go first; among messages of one priority, the chat with the longest backlog
        does: it can send only about once a second, so starting it late makes everything
        late, while the other chats fill the remaining slots anyway."""
        if now >= self._next_sweep:
            self._forget_idle_chats(now)
        best: tuple[int, int, int, ChatQueue] | None = None
        wait = POLL_EVERY
        for chat_id, queue in list(self.backlog.items()):
            if not queue.items:
                del self.backlog[chat_id]
                continue
            if queue.busy:
                continue
            item = queue.items[0]
            ready = self._ready_at(queue, item, now)
            if ready <= now:
                key = (item.priority, -len(queue.items), item.seq)
                if best is None or key < best[:3]:
                    best = (*key, queue)
            else:
                wait = min(wait, ready - now)
        return (best[3] if best is not None else None), wait

    def _forget_idle_chats(self, now: float) -> None:
        # Idle chats keep their windows only while they still matter. Once a second, not on
        # every send: with hundreds of chats the sweep would cost more than the send.
        self._next_sweep = now + 1.0
        for queue in list(self.chats.values()):
            if queue.items or queue.busy or queue.not_before >= now:
                continue
            horizon = 60.0 if queue.minute is not None else 1.0
            horizon = max(horizon, BURST_SECONDS)
            if not queue.second.stamps or now - queue.second.stamps[-1] > horizon:
                del self.chats[queue.chat_id]

    def _spawn(self, work: Any) -> None:
        task = asyncio.create_task(work)
        self.in_flight.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task) -> None:
        self.in_flight.discard(task)
        self.wake.set()

    async def _call(self, call: TelegramMethod, *, only_the_message_id: bool = False) -> Any:
        token = delivering.set(True)
        lean = calls.only_the_message_id.set(only_the_message_id)
        try:
            return await self.bot(call)
        finally:
            calls.only_the_message_id.reset(lean)
            delivering.reset(token)

    async def _send(self, queue: ChatQueue, item: Item) -> None:
        try:
            if item.translations:
                await self._translate(item)
            await self._attempt(queue, item)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("delivery to chat %s failed unexpectedly", queue.chat_id)
            self._drop_head(queue, item)
            self._result("failed", item, "unexpected error")
        finally:
            queue.busy = False

    async def _translate(self, item: Item) -> None:
        """Writes the requested translations into the call, once, outside any transaction:
        only this chat waits for the engine, and at most its timeout."""
        requests, item.translations = item.translations or [], None
        field_name = "caption" if isinstance(item.call, CopyMessage) else "text"
        text = getattr(item.call, field_name, None)
        if not text:
            return
        limit = 1024 if field_name == "caption" else 4096
        rendered = await translation.render(self.translator, text, requests, limit)
        item.call = item.call.model_copy(update={field_name: rendered.text})
        for chat_id, language, code, reason in rendered.untranslated:
            notice = UntranslatedMessage(code=code, reason=reason)
            self.results.append(
                ("notice", Item(chat_id=chat_id, call=None), (item, notice, language))
            )
        if rendered.untranslated:
            self.settle_wake.set()

    def _drop_head(self, queue: ChatQueue, item: Item) -> None:
        if queue.items and queue.items[0] is item:
            queue.items.popleft()

    async def _attempt(self, queue: ChatQueue, item: Item) -> None:
        call = item.call
        if item.edit_of is not None:
            target = self.delivered.get(item.edit_of)
            if target is None:
                self._drop_head(queue, item)
                self._result("failed", item, "the message to edit was never delivered")
                return
            call = call.model_copy(update={"message_id": target[1]})
        item.attempts += 1
        self.calls_sent += 1
        try:
            # Nobody waits for the Message itself: its id is all that is kept.
            result = await self._call(call, only_the_message_id=item.future is None)
        except TelegramRetryAfter as error:
            log.warning("429 for chat %s: waiting %ss", queue.chat_id, error.retry_after)
            queue.not_before = time.monotonic() + error.retry_after
            item.attempts -= 1
            return
        except TelegramMigrateToChat as error:
            self._migrate(queue, error.migrate_to_chat_id)
            return
        except TelegramForbiddenError as error:
            dropped = list(queue.items)
            queue.items.clear()
            self._result("blocked", item, (queue.chat_id, str(error), dropped))
            return
        except TelegramBadRequest as error:
            self._drop_head(queue, item)
            text = str(error)
            if "message is not modified" in text or ("message to delete not found" in text):
                self._result("sent", item, None)
            elif not item.durable:
                log.info("%s to chat %s not done: %s", calls.name(call), queue.chat_id, text)
                self._result("failed", item, text)
            else:
                log.error("outbox message %s rejected: %s", item.outbox_id, text)
                self._result("failed", item, text)
            return
        except (TelegramServerError, TelegramNetworkError) as error:
            log.warning(
                "%s to chat %s: %s (attempt %s)",
                calls.name(call),
                queue.chat_id,
                error,
                item.attempts,
            )
            if item.attempts >= self.limits.max_attempts:
                self._drop_head(queue, item)
                self._result("failed", item, "too many attempts")
                return
            queue.not_before = time.monotonic() + queue.backoff
            queue.backoff = min(MAX_BACKOFF, queue.backoff * 2)
            return
        queue.backoff = 1.0
        self._drop_head(queue, item)
        self._result("sent", item, result)

    def _migrate(self, queue: ChatQueue, new_chat: int) -> None:
        """A group became a supergroup: its queue, and everything that points at it, moves."""
        self.chats.pop(queue.chat_id, None)
        self.backlog.pop(queue.chat_id, None)
        old = queue.chat_id
        moved = list(queue.items)
        queue.items.clear()
        for item in moved:
            item.call = item.call.model_copy(update={"chat_id": new_chat})
            item.chat_id = new_chat
            self._enqueue(item)
        self.results.append(("migrate", Item(chat_id=new_chat, call=None), old))
        self.settle_wake.set()

    # ---- settling: the outcome is written down -------------------------------------------

    def _result(self, status: str, item: Item, detail: Any) -> None:
        if item.future is not None and not item.future.done():
            if status == "sent":
                item.future.set_result(detail)
            else:
                item.future.set_exception(RuntimeError(f"{status}: {detail}"))
        if status == "sent" and item.outbox_id is not None:
            message_id = getattr(detail, "message_id", None)
            if message_id is not None:
                self.delivered[item.outbox_id] = (item.chat_id, message_id)
        if item.outbox_id is None and status != "blocked":
            return
        self.results.append((status, item, detail))
        self.settle_wake.set()

    async def _settle_loop(self) -> None:
        while not self._stopping:
            await self.settle_wake.wait()
            # A moment for the other sends in flight to finish: one transaction records
            # them all (a crash within it sends them again, as it would a moment later).
            await asyncio.sleep(GATHER_RESULTS)
            self.settle_wake.clear()
            while self.results:
                self._busy_settle = True
                try:
                    await self._write_results()
                except Exception:
                    log.exception("could not record delivery results; retrying")
                    await asyncio.sleep(0.5)
                finally:
                    self._busy_settle = False

    async def _write_results(self) -> None:
        if not self.results:
            return
        batch, self.results = self.results, []
        try:
            # Urgent: until a send is recorded, a crash would send the message again.
            async with self.domain.transaction(urgent=True) as session:
                rows: list[dict[str, Any]] = []
                remembered: list[tuple[int, int]] = []  # (chat, message id) for /clear
                for status, item, detail in batch:
                    row = await self._write_one(session, status, item, detail, remembered)
                    if row is not None:
                        rows.append(row)
                # Plain statements, one per shape of row, each run for the whole batch: the
                # ORM's bulk update cost more than the send it records.
                by_shape: dict[tuple[str, ...], list[dict[str, Any]]] = {}
                for row in rows:
                    by_shape.setdefault(tuple(row), []).append(row)
                for shape, same_shape in by_shape.items():
                    await _result_recorder(shape).many(session, same_shape)
                await privacy.remember_messages(session, self.domain, remembered)
        except BaseException:
            self.results[:0] = batch
            raise
        for status, item, _detail in batch:
            if item.outbox_id is not None and status != "later":
                self.held.discard(item.outbox_id)
            if status == "later" and item.outbox_id is not None:
                self.held.discard(item.outbox_id)
        if len(self.delivered) > 20000:
            for key in list(self.delivered)[:10000]:
                self.delivered.pop(key, None)

    async def _write_one(
        self,
        session: Any,
        status: str,
        item: Item,
        detail: Any,
        remembered: list[tuple[int, int]],
    ) -> dict[str, Any] | None:
        """Records one result; returns the outbox row's new values (its id first), if it has
        a row, and adds a message /clear must be able to delete to ``remembered``."""
        now = self.domain.now()
        if status == "migrate":
            await recipients.migrate_group(session, self.domain, detail, item.chat_id)
            return None
        if status == "blocked":
            await self._blocked(session, item, *detail)
            return None
        if status == "notice":
            about, notice, language = detail
            outbox.queue_notice(
                session,
                self.domain,
                notice,
                language=language,
                purpose="notice",
                chat_id=item.chat_id,
                case_id=about.case_id,
            )
            return None
        if item.outbox_id is None:
            return None
        values: dict[str, Any] = {
            "outbox_id": item.outbox_id,
            "locked_until": None,
            "lease_owner": None,
        }
        if status == "sent":
            telegram_id = getattr(detail, "message_id", None)
            values.update(status="sent", sent_at=now, attempts=item.attempts, error=None)
            if telegram_id is not None and item.edit_of is None:
                values["telegram_message_id"] = telegram_id
            if item.purpose == "relay" and telegram_id is not None:
                await session.execute(
                    update(RelayLink)
                    .where(RelayLink.outbox_id == item.outbox_id)
                    .values(message_id=telegram_id)
                )
            if (
                item.chat_id > 0
                and telegram_id is not None
                and (item.reporter_id is not None or item.priority == 0)
                and item.call is not None
                and calls.is_new_message(calls.name(item.call))
            ):
                # Remembered (pseudonymously) so /clear can delete it from the phone later;
                # an edit changes a message already remembered.
                remembered.append((item.chat_id, telegram_id))
        elif status == "later":
            values.update(status="pending", next_attempt_at=detail, error="outside safe hours")
        else:
            values.update(status="failed", error=str(detail)[:500], attempts=item.attempts)
            await events.record(
                session,
                self.domain,
                "delivery_failed",
                case_id=item.case_id,
                data={"outbox": item.outbox_id, "error": str(detail)[:200]},
            )
            gone = recipients.why_gone(str(detail)) if item.chat_id < 0 else None
            if gone is not None:
                # A card (or its update) for a group Telegram says is not there for us.
                await recipients.group_unreachable(session, self.domain, item.chat_id, gone)
        return values

    async def _blocked(
        self, session: Any, item: Item, chat_id: int, error: str, dropped: list[Item]
    ) -> None:
        """403: the recipient blocked the bot or removed it. Everything else queued for that
        chat is dropped at once, and no case is left waiting on someone who cannot hear us."""
        ids = [i.outbox_id for i in dropped if i.outbox_id is not None]
        for other in dropped:
            if other.future is not None and not other.future.done():
                other.future.set_exception(RuntimeError(f"blocked: {error}"))
        if ids:
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(ids))
                .values(status="blocked", error=error[:500], locked_until=None, lease_owner=None)
            )
            self.held.difference_update(ids)
        kind = "reporter" if item.reporter_id else ("group" if chat_id < 0 else "person")
        await events.record(
            session,
            self.domain,
            "recipient_blocked",
            case_id=item.case_id,
            data={"kind": kind},
        )
        if item.reporter_id is not None:
            await recipients.reporter_unreachable(session, self.domain, item.reporter_id)
        elif chat_id < 0:
            await recipients.group_lost(session, self.domain, chat_id)
        else:
            person = await session.scalar(select(Person).where(Person.telegram_user_id == chat_id))
            if person is not None:
                await recipients.person_unreachable(session, self.domain, person)

    # ---- polling and leases -------------------------------------------------------------

    async def poll(self) -> int:
        """Leases due rows that no live process holds: another process's, a dead one's, or
        rows that waited for safe hours."""
        if len(self.held) >= MAX_HELD:
            return 0
        self._polls += 1
        try:
            return await self._poll()
        finally:
            self._polls -= 1

    async def _poll(self) -> int:
        now = self.domain.now()
        async with self.domain.transaction() as session:
            lapsed = await self.domain.liveness.lapsed(
                session,
                held=OutboxMessage.status == "sending",
                owner=OutboxMessage.lease_owner,
                until=OutboxMessage.locked_until,
                now=now,
            )
            due = and_(
                OutboxMessage.next_attempt_at <= now,
                or_(OutboxMessage.status == "pending", lapsed),
            )
            query = (
                select(OutboxMessage)
                .where(due)
                .order_by(OutboxMessage.priority, OutboxMessage.id)
                .limit(500)
            )
            if session.bind.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            rows = [r for r in await session.scalars(query) if r.id not in self.held]
            for row in rows:
                self._take_lease(row, now)
            snaps = [snapshot(row) for row in rows]
            session.info.pop("outbox_rows", None)
        if snaps:
            self.adopt(snaps)
        return len(snaps)

    async def _poll_loop(self) -> None:
        while not self._stopping:
            try:
                await self.poll()
            except Exception:
                log.exception("outbox poll failed; retrying")
            if self._stopping:
                break
            self.poll_wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.poll_wake.wait(), POLL_EVERY)

    async def _renew_loop(self) -> None:
        while not self._stopping:
            await asyncio.sleep(RENEW_EVERY)
            try:
                await self.domain.liveness.hold()
            except Exception:
                # Until it is back, other processes may take this one's leases: at worst a
                # message goes out twice.
                log.exception("could not hold this process's lease lock")
            try:
                await self._renew()
            except Exception:
                log.exception("could not renew outbox leases")

    async def _renew(self) -> None:
        held = sorted(self.held)
        if not held:
            return
        until = self.domain.now() + LEASE
        async with self.domain.transaction() as session:
            # A row another transaction holds (being settled, a key rotation) is skipped, not
            # waited for: waiting on rows locked in another order deadlocked on PostgreSQL,
            # and a skipped row is renewed on the next round, well inside its lease.
            await _update_leased(
                session, held, locked_until=until, lease_owner=self.instance, skip_locked=True
            )

    async def take_back_orphans(self) -> int:
        """On SQLite one process runs the bot, so a message still leased when it starts was
        leased by a process that died (kill -9, power cut): it goes out now, not once the
        lease runs out. On PostgreSQL other processes may be alive: each poll takes the
        leases of those that are not (models/liveness.py)."""
        bind = self.domain.sessions.kw.get("bind")
        if bind is None or bind.dialect.name != "sqlite":
            return 0
        async with self.domain.transaction() as session:
            result = await session.execute(
                update(OutboxMessage)
                .where(
                    self.domain.liveness.held_by_others(
                        OutboxMessage.status == "sending", OutboxMessage.lease_owner
                    )
                )
                .values(status="pending", locked_until=None, lease_owner=None)
            )
        if result.rowcount:
            log.info("took back %d messages leased by a process that died", result.rowcount)
        return result.rowcount

    async def _release_held(self) -> None:
        """On a clean stop, what was not sent is released at once for the next start."""
        held = sorted(self.held)
        for attempt in range(3):
            if not held:
                break
            try:
                async with self.domain.transaction() as session:
                    await _update_leased(
                        session,
                        held,
                        OutboxMessage.lease_owner == self.instance,
                        status="pending",
                        locked_until=None,
                        lease_owner=None,
                    )
                self.held.clear()
                # What was handed over but not yet queued is the database's again: kept here
                # too, a start of this same delivery (flush) would send it while the next poll
                # took it anew, twice.
                released = set(held)
                self.incoming = deque(
                    entry
                    for entry in self.incoming
                    if not (isinstance(entry, Snapshot) and entry.outbox_id in released)
                )
                break
            except Exception as error:
                # Not fatal: the leases run out within seconds and the rows are taken again.
                log.warning("could not release %d leased messages: %s", len(held), error)
                await asyncio.sleep(0.2 * (attempt + 1))
        for queue in self.chats.values():
            queue.items.clear()


async def _update_leased(
    session: Any, ids: list[int], *where: Any, skip_locked: bool = False, **values: Any
) -> None:
    """Sets ``values`` on these rows while they are still being sent, 500 ids a statement;
    with ``skip_locked`` (PostgreSQL) only on those no other transaction holds."""
    skip_locked = skip_locked and session.bind.dialect.name == "postgresql"
    for start in range(0, len(ids), 500):
        chosen: Any = OutboxMessage.id.in_(ids[start : start + 500])
        if skip_locked:
            chosen = OutboxMessage.id.in_(
                select(OutboxMessage.id)
                .where(chosen)
                .order_by(OutboxMessage.id)
                .with_for_update(skip_locked=True)
                .scalar_subquery()
            )
        await session.execute(
            update(OutboxMessage)
            .where(chosen, OutboxMessage.status == "sending", *where)
            .values(**values)
        )


def snapshot(row: OutboxMessage) -> Snapshot:
    return Snapshot(
        outbox_id=row.id,
        method=row.method,
        payload=dict(row.payload or {}),
        chat_id=row.chat_id,
        reporter_id=row.reporter_id,
        case_id=row.case_id,
        purpose=row.purpose,
        priority=row.priority if row.priority is not None else 1,
        attempts=row.attempts or 0,
        obj=row if row.id is None else None,
    )


def build_call(method: str, payload: dict[str, Any], chat_id: int) -> TelegramMethod:
    """The Bot API call for an outbox row: a stored call (a handler's reply), or what the
    domain queued (text, keyboard, a file, a copy, a location)."""
    if "call" in payload:
        return calls.load(method, {**payload["call"], "chat_id": chat_id})
    common: dict[str, Any] = {"chat_id": chat_id}
    if payload.get("protect_content"):
        common["protect_content"] = True
    markup = payload.get("reply_markup")
    if method == "sendMessage":
        return SendMessage(
            **common,
            text=payload["text"],
            parse_mode=payload.get("parse_mode"),
            reply_markup=markup,
        )
    if method == "editMessageText":
        # The message id is filled in when the message it edits has been delivered.
        return EditMessageText(
            chat_id=chat_id,
            message_id=0,
            text=payload["text"],
            parse_mode=payload.get("parse_mode"),
            reply_markup=markup,
        )
    if method == "copyMessage":
        return CopyMessage(
            **common,
            from_chat_id=payload["from_chat_id"],
            message_id=payload["message_id"],
            caption=payload.get("caption") if payload.get("kind") != "location" else None,
        )
    if method == "sendLocation":
        return SendLocation(**common, latitude=payload["latitude"], longitude=payload["longitude"])
    media = {
        "sendPhoto": (SendPhoto, "photo"),
        "sendDocument": (SendDocument, "document"),
        "sendVoice": (SendVoice, "voice"),
        "sendVideo": (SendVideo, "video"),
    }
    if method in media:
        cls, field_name = media[method]
        if "file_b64" in payload:
            import base64

            file: Any = BufferedInputFile(
                base64.b64decode(payload["file_b64"]), filename=payload.get("filename", "file")
            )
        else:
            file = payload[field_name]
        return cls(
            **common, **{field_name: file}, caption=payload.get("caption"), reply_markup=markup
        )
    raise ValueError(f"unknown method {method}")
