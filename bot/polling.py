"""Long polling that one unreadable update cannot block.

aiogram's own polling parses a whole getUpdates batch at once: a single update it cannot
parse (a ``poll`` missing a field, an object of a newer Bot API it does not know, a forged
value of the wrong type) fails the batch, the offset never moves past it, and the same
batch is fetched and fails again, forever, with every later update waiting behind it.

Here the batch is fetched as raw JSON (through aiogram's session, so its timeouts, errors
and request middlewares apply) and each update is validated on its own. One that does not
validate, or is of a type aiogram does not know, is logged with its id (never its
content: it may hold personal data) and skipped, and the offset moves past it. The others
are fed to the dispatcher exactly as aiogram's polling does: each in a task of its own
(``handle_as_tasks``), tracked by update id so the offset never passes an unfinished one.

When ``stop_event`` is set, the pending getUpdates is abandoned, the updates already
fetched are finished (up to ``drain_timeout``) and Telegram is told that they are done,
so a restart does not deliver them again. An update is confirmed to Telegram only after it
was handled and its commit is on disk (``durable``): a process killed mid-update gets it
again after the restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.methods import GetUpdates, TelegramMethod
from aiogram.types import Update
from aiogram.utils.backoff import Backoff, BackoffConfig
from pydantic import ValidationError

log = logging.getLogger(__name__)

DEFAULT_BACKOFF = BackoffConfig(min_delay=1.0, max_delay=5.0, factor=1.3, jitter=0.1)
# While updates are in flight the offset cannot pass them, so each getUpdates brings them
# all back (up to 100 updates, ~100 kB of JSON at 50 busy chats). The next one waits until
# half of those in flight are done (then half of what comes back is new), and no longer
# than a little, longer the more are in flight: waiting for all of them, or for the whole
# pause, left the bot idle while new updates waited at the server.
PAUSE_PER_UPDATE_IN_FLIGHT = 0.005
LONGEST_PAUSE = 0.2


INT64 = (-(2**63), 2**63 - 1)


def out_of_range(raw: Any, path: str = "") -> str | None:
    """Where ``raw`` holds an integer no Bot API field can hold (every one fits a signed
    64-bit integer, which is also what the database stores ids in), or None. Such an
    update is forged or broken; passing it on would end in an overflow in the driver."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        return None if INT64[0] <= raw <= INT64[1] else (path or "update")
    if isinstance(raw, dict):
        items: Any = raw.items()
    elif isinstance(raw, list):
        items = enumerate(raw)
    else:
        return None
    for key, value in items:
        found = out_of_range(value, f"{path}.{key}" if path else str(key))
        if found:
            return found
    return None


# An integer out of the signed 64-bit range has at least 19 digits, and in json.dumps's
# output a number follows "[", ", " or ": " (a string's digits follow a quote: callback
# query ids and chat instances are long digit strings, and are not walked for nothing).
_LONG_NUMBER = re.compile(r"[\[:,]\s*-?\d{19}")


def screen(raw: dict[str, Any]) -> tuple[str | None, bool]:
    """Where ``raw`` holds an integer out of range (see out_of_range), and whether any of its
    text holds a lone UTF-16 surrogate (see handlers/guards.py), found from one JSON dump in
    compiled code: walking every field of every update in Python for both cost more than
    parsing it."""
    dumped = json.dumps(raw, ensure_ascii=False)
    where = out_of_range(raw) if _LONG_NUMBER.search(dumped) else None
    try:
        dumped.encode()
    except UnicodeEncodeError:
        return where, True
    return where, False


def _update_id(raw: Any) -> int | None:
    """The update's id, if it has one a getUpdates offset can move past."""
    if not isinstance(raw, dict):
        return None
    value = raw.get("update_id")
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < INT64[1]:
        return value
    return None


class RawGetUpdates(GetUpdates):
    """getUpdates whose result stays JSON: every update is parsed on its own."""

    __returning__ = list[Any]


def describe_failure(error: ValidationError) -> str:
    """Where and why validation failed, without the values (they may be personal data)."""
    problems = []
    for item in error.errors(include_url=False, include_input=False, include_context=False)[:3]:
        where = ".".join(str(part) for part in item["loc"]) or "update"
        problems.append(f"{where}: {item['type']}")
    more = error.error_count() - len(problems)
    return "; ".join(problems) + (f" (+{more} more)" if more > 0 else "")


async def on_disk_already() -> None:
    """``durable`` where every commit is flushed as it is made."""


class Poller:
    """``await Poller(bot, dispatcher, ...).run()`` until ``stop_event`` is set."""

    def __init__(
        self,
        bot: Bot,
        dispatcher: Dispatcher,
        *,
        allowed_updates: list[str] | None = None,
        timeout: int = 30,
        stop_event: asyncio.Event,
        limit: int = 100,
        backoff: BackoffConfig = DEFAULT_BACKOFF,
        handle_as_tasks: bool = True,
        drain_timeout: float = 30.0,
        durable: Callable[[], Awaitable[None]] = on_disk_already,
        **workflow: Any,
    ) -> None:
        self.bot = bot
        self.dispatcher = dispatcher
        self.allowed_updates = allowed_updates
        self.timeout = timeout
        self.stop_event = stop_event
        self.limit = limit
        self.backoff = Backoff(config=backoff)
        self.handle_as_tasks = handle_as_tasks
        self.drain_timeout = drain_timeout
        # Awaited before an offset confirms updates to Telegram: their commits must be on
        # disk first, or a power cut would lose updates Telegram no longer holds.
        self.durable = durable
        self.workflow = {"bots": (bot,), **workflow}
        self.skipped = 0  # updates that could not be parsed
        self.pending: dict[int, asyncio.Task[Any]] = {}  # update id → its task
        # The highest update id taken. Update ids only grow, so one at or below it came back
        # because a getUpdates was asked before the offset passed it: in flight, or already
        # finished while that request was on its way.
        self.newest: int | None = None
        # Set once no more than ``_drained_to`` updates are in flight (-1: nobody waits).
        self._drained = asyncio.Event()
        self._drained_to = -1

    @property
    def offset(self) -> int | None:
        """What getUpdates confirms: everything before the oldest update still being
        handled. An update is confirmed to Telegram only once it is committed, so after a
        kill -9 the updates that were in flight are fetched again (the handled-updates
        table makes sure one that did commit is not handled twice)."""
        if self.pending:
            return min(self.pending)
        return None if self.newest is None else self.newest + 1

    # -- the loop --------------------------------------------------------------------------
    async def run(self) -> None:
        try:
            # Cached on the bot, as aiogram's polling does: command filters compare
            # "/start@name" with it, and must not ask the Bot API in the middle of an update.
            me = await self.bot.me()
            log.info("Run polling for bot @%s id=%d", me.username, me.id)
        except Exception as error:
            log.warning("getMe failed before polling (%s); going on", type(error).__name__)
        await self.dispatcher.emit_startup(bot=self.bot, **self.workflow)
        log.info("Start polling (updates: %s)", ", ".join(self.allowed_updates or ["default"]))
        try:
            while not self.stop_event.is_set():
                batch = await self._fetch_or_stop()
                if batch is None:
                    break
                await self._take(batch)
                await self._pause_while_busy()
        finally:
            await self._finish()
            log.info("Polling stopped")
            await self.dispatcher.emit_shutdown(bot=self.bot, **self.workflow)

    async def _fetch_or_stop(self) -> list[Any] | None:
        """The next batch, or None once ``stop_event`` is set (the request is abandoned)."""
        fetch = asyncio.ensure_future(self._fetch())
        stop = asyncio.ensure_future(self.stop_event.wait())
        try:
            await asyncio.wait({fetch, stop}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
        if not fetch.done():
            fetch.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await fetch
            return None
        return fetch.result()

    async def _fetch(self) -> list[Any]:
        await self._until_durable()
        method = RawGetUpdates(
            offset=self.offset,
            limit=self.limit,
            timeout=self.timeout,
            allowed_updates=self.allowed_updates,
        )
        kwargs = {}
        if self.bot.session.timeout:
            kwargs["request_timeout"] = int(self.bot.session.timeout + self.timeout)
        while True:
            try:
                batch = await self.bot(method, **kwargs)
            except Exception as error:
                log.error("getUpdates failed (%s: %s)", type(error).__name__, error)
                log.warning("retrying getUpdates in %.1fs", self.backoff.next_delay)
                await self.backoff.asleep()
                continue
            self.backoff.reset()
            return batch if isinstance(batch, list) else []

    async def _until_durable(self) -> None:
        """``durable``, tried again until it succeeds: nothing is confirmed to Telegram
        meanwhile, and polling goes on once the disk is back."""
        while True:
            try:
                await self.durable()
            except Exception as error:
                log.error("commits not flushed to disk (%s: %s)", type(error).__name__, error)
                log.warning("confirming nothing; trying again in %.1fs", self.backoff.next_delay)
                await self.backoff.asleep()
                continue
            return

    async def _take(self, batch: list[Any]) -> None:
        usable = sorted(
            (raw for raw in batch if _update_id(raw) is not None), key=lambda raw: raw["update_id"]
        )
        if len(usable) < len(batch):
            self.skipped += len(batch) - len(usable)
            log.warning("skipped %d update(s) without a usable update_id", len(batch) - len(usable))
            if not usable:
                # Nothing to move the offset past: wait rather than ask again at once.
                await self.backoff.asleep()
                return
        fresh = 0
        for raw in usable:
            update_id = raw["update_id"]
            if self.newest is not None and update_id <= self.newest:
                continue  # taken before: fetched again while the offset could not pass it
            fresh += 1
            self.newest = update_id
            parsed = self._parse(raw)
            if parsed is not None:
                await self._dispatch(*parsed)
        if not fresh and self.pending:
            # Only updates still in flight came back: wait for one to finish rather than
            # asking again at once.
            await asyncio.wait(
                set(self.pending.values()),
                timeout=self.timeout,
                return_when=asyncio.FIRST_COMPLETED,
            )

    async def _pause_while_busy(self) -> None:
        if not self.pending:
            return
        pause = min(LONGEST_PAUSE, PAUSE_PER_UPDATE_IN_FLIGHT * len(self.pending))
        self._drained_to = len(self.pending) // 2
        self._drained.clear()
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._drained.wait(), pause)
        finally:
            self._drained_to = -1

    def _parse(self, raw: dict[str, Any]) -> tuple[Update, bool] | None:
        """The update, and whether its text is unencodable; None if it cannot be used."""
        update_id = raw["update_id"]
        where, unencodable = screen(raw)
        if where is not None:
            self.skipped += 1
            log.warning("update %s skipped: a number out of range at %s", update_id, where)
            return None
        try:
            update = Update.model_validate(raw, context={"bot": self.bot})
            update.event_type  # noqa: B018 - raises for an update of an unknown type
        except ValidationError as error:
            self.skipped += 1
            log.warning(
                "update %s skipped: aiogram cannot read it (%s)",
                update_id,
                describe_failure(error),
            )
            return None
        except Exception as error:  # UpdateTypeLookupError and anything else parsing raises
            self.skipped += 1
            kinds = sorted(key for key in raw if key != "update_id")
            log.warning(
                "update %s skipped: %s (fields: %s)",
                update_id,
                type(error).__name__,
                ", ".join(kinds)[:200],
            )
            return None
        return update, unencodable

    async def _dispatch(self, update: Update, unencodable: bool) -> None:
        handling = self._handle(update, unencodable)
        if not self.handle_as_tasks:
            await handling
            return
        task = asyncio.create_task(handling, name=f"update-{update.update_id}")
        self.pending[update.update_id] = task
        task.add_done_callback(lambda _: self._finished(update.update_id))

    def _finished(self, update_id: int) -> None:
        self.pending.pop(update_id, None)
        if len(self.pending) <= self._drained_to:
            self._drained.set()

    async def _handle(self, update: Update, unencodable: bool) -> None:
        try:
            response = await self.dispatcher.feed_update(
                self.bot, update, unencodable=unencodable, **self.workflow
            )
            if isinstance(response, TelegramMethod):
                await self.dispatcher.silent_call_request(bot=self.bot, result=response)
        except Exception:
            # Handlers' errors are the errors router's job; this is what escaped it.
            log.exception("update %s failed", update.update_id)

    # -- stopping --------------------------------------------------------------------------
    async def _finish(self) -> None:
        """Finishes the updates already fetched, then confirms them to Telegram."""
        running = set(self.pending.values())
        if running:
            log.info("stopping: finishing %d update(s) in flight", len(running))
            _done, late = await asyncio.wait(running, timeout=self.drain_timeout)
            if late:
                log.warning("%d update(s) still running at shutdown", len(late))
        unfinished = [update_id for update_id, task in self.pending.items() if not task.done()]
        confirm = min(unfinished) if unfinished else self.offset
        if confirm is None:
            return
        try:
            await self.durable()
        except Exception as error:
            # Fetched again at the next start; the handled ones are known and skipped.
            log.error("confirming nothing at shutdown: commits not flushed (%s)", error)
            return
        # getUpdates with an offset confirms everything before it; whatever it returns
        # stays queued for the next start.
        with contextlib.suppress(Exception):
            await asyncio.wait_for(
                self.bot(RawGetUpdates(offset=confirm, limit=1, timeout=0), request_timeout=5),
                timeout=10,
            )


async def poll(
    bot: Bot,
    dispatcher: Dispatcher,
    *,
    allowed_updates: list[str] | None = None,
    timeout: int = 30,  # noqa: ASYNC109 - getUpdates' long-poll wait, sent to the server
    stop_event: asyncio.Event,
    **options: Any,
) -> Poller:
    """Polls until ``stop_event`` is set; returns the poller (``skipped`` counts the
    updates that could not be parsed)."""
    poller = Poller(
        bot,
        dispatcher,
        allowed_updates=allowed_updates,
        timeout=timeout,
        stop_event=stop_event,
        **options,
    )
    await poller.run()
    return poller
