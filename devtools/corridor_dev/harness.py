"""Corridor wired to the built-in Bot API emulator: the real bot, real HTTP, a fake clock.

The offline demo, the end-to-end tests and the benchmarks all drive Corridor through this,
so what they show is what production runs, minus Telegram's servers."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import datetime as dt
import tomllib
from dataclasses import dataclass, field
from typing import Any

from bot.app import ALLOWED_UPDATES, CorridorApp, build_app
from bot.clock import FakeClock
from bot.config import EXAMPLE_CONFIG, Config, parse_config
from bot.crypto import generate_key
from bot.polling import poll
from bot.transactions import Violations
from tgemulator.client import EmulatorClient
from tgemulator.server import EmulatorServer, start_emulator

DEMO_TOKEN = "7000000001:AAHdemoDEMOdemoDEMOdemoDEMOdemo12345"


def example_network() -> dict[str, Any]:
    with EXAMPLE_CONFIG.open("rb") as handle:
        return tomllib.load(handle)


@dataclass
class Harness:
    server: EmulatorServer
    tg: EmulatorClient
    app: CorridorApp
    clock: FakeClock
    groups: dict[str, int]  # organisation id → emulator chat id
    staff: dict[str, int]  # person id → telegram user id
    _polling: asyncio.Task | None = None
    _stop_polling: asyncio.Event = field(default_factory=asyncio.Event)
    titles: dict[int, str] = field(default_factory=dict)
    violations_at_start: int = 0

    @classmethod
    async def start(
        cls,
        database_url: str,
        *,
        clock: FakeClock | None = None,
        network: dict[str, Any] | None = None,
        overrides: dict[str, dict[str, Any]] | None = None,
        encryption_key: str | None = None,
        background_sender: bool = True,
    ) -> Harness:
        server = await start_emulator()
        tg = EmulatorClient(server.base_url, DEMO_TOKEN)
        data = copy.deepcopy(network or example_network())
        staff: dict[str, int] = {}
        titles: dict[int, str] = {}
        for person in data.get("people", []):
            user = await tg.create_user(
                person["name"],
                language_code=person.get("language", "en"),
                user_id=person["telegram_user_id"],
                started=True,
            )
            staff[person["id"]] = user["id"]
        groups: dict[str, int] = {}
        for group in data.get("groups", []):
            members = [
                p["telegram_user_id"]
                for p in data["people"]
                if p.get("organisation") == group["organisation"]
            ]
            chat = await tg.create_group(
                group.get("title") or group["organisation"], members, supergroup=True
            )
            # The emulator assigns chat ids; the configuration follows it.
            group["chat_id"] = chat["id"]
            groups[group["organisation"]] = chat["id"]
            titles[chat["id"]] = chat.get("title", "")
        data["telegram"] = {"token": DEMO_TOKEN, "api_base_url": server.base_url}
        data["database"] = {"url": database_url}
        data["security"] = {
            "encryption_keys": [encryption_key or generate_key()],
            "hash_key": "harness",
        }
        # The emulator does not throttle unless asked; keep the pace realistic but quick.
        data["outbox"] = {
            "per_chat_per_second": 50.0,
            "per_group_per_minute": 6000,
            "global_per_second": 300,
        }
        # Scripted users tap far faster than people; the flood guard has its own tests.
        data["limits"] = {"updates_per_minute": 100_000, "cases_per_day": 1000}
        for section, values in (overrides or {}).items():
            data[section] = {**data.get(section, {}), **values}
        config: Config = parse_config(data, "harness.toml", environ={})
        clock = clock or FakeClock()
        app = await build_app(config, clock)
        await app.wait_for_api(attempts=3)
        harness = cls(
            server,
            tg,
            app,
            clock,
            groups,
            staff,
            titles=titles,
            violations_at_start=Violations.count,
        )
        harness._start_polling()
        if background_sender:
            app.sender.start()
        return harness

    async def leaks_into_groups(self, min_length: int = 8) -> list[str]:
        """Anything a reporter typed that shows up in a group chat. The product promise is
        that this is always empty, so every harness checks it when it stops."""
        staff = set(self.staff.values())
        supplied: set[str] = set()
        groups: list[int] = []
        for chat in await self.tg.chats():
            if chat["type"] != "private":
                groups.append(chat["id"])
                continue
            if chat["id"] in staff:
                continue
            for message in await self.tg.transcript(chat["id"], include_deleted=True):
                if message.get("from_bot"):
                    continue
                for text in (message.get("text"), message.get("caption")):
                    if text and not text.startswith("/") and len(text.strip()) >= min_length:
                        supplied.add(text.strip())
        leaks = []
        for chat_id in groups:
            for message in await self.tg.transcript(chat_id, include_deleted=True):
                if not message.get("from_bot"):
                    continue
                shown = [message.get("text") or "", message.get("caption") or ""]
                shown += [h.get("text") or "" for h in message.get("edit_history", [])]
                leaks += [
                    f"{chat_id}: {text!r}" for text in supplied if any(text in s for s in shown)
                ]
        return leaks

    async def stop(self, check_privacy: bool = True) -> None:
        leaks = await self.leaks_into_groups() if check_privacy else []
        await self._shutdown()
        if leaks:
            raise AssertionError(f"reporter-supplied text reached a group chat: {leaks[:5]}")
        if Violations.count != self.violations_at_start:
            raise AssertionError(
                f"{Violations.count - self.violations_at_start} Bot API calls were made "
                "inside a database transaction"
            )

    def _start_polling(self) -> None:
        self._stop_polling = asyncio.Event()
        self._polling = asyncio.create_task(
            poll(
                self.app.bot,
                self.app.dispatcher,
                allowed_updates=ALLOWED_UPDATES,
                timeout=1,
                stop_event=self._stop_polling,
                durable=self.app.domain.durability.sync,
            )
        )

    async def _end_polling(self) -> None:
        self._stop_polling.set()
        if self._polling is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._polling

    async def restart_polling(self) -> None:
        """A new poller, as a restarted process has one: it knows no update taken before, so
        one offered again reaches the bot (whose database knows it was handled)."""
        await self._end_polling()
        self._start_polling()

    async def _shutdown(self) -> None:
        await self._end_polling()
        await self.app.sender.stop(drain=5)
        await self.app.release()
        await self.tg.close()
        await self.server.close()

    async def settle(self, limit: float = 120.0) -> None:
        """Until the bot has handled every update and delivered every due message (each
        delivery round given ``limit`` seconds: a group takes 20 messages a minute)."""
        # The checks below are exact (running updates, due outbox rows), so the emulator's
        # quiet period only has to cover the hop from its queue into aiogram.
        for _ in range(500):
            await self.tg.wait_until_idle(timeout=20, quiet=0.01)
            await self.app.sender.flush(limit)
            await self.app.linker.flush()
            # An update fetched but not yet at the in-flight middleware is caught by the second
            # look: the emulator is quiet only once nothing has been fetched for a while.
            if not self.app.inflight.count and not await self._outbox_busy():
                await self.tg.wait_until_idle(timeout=20, quiet=0.01)
                if (
                    not self.app.inflight.count
                    and self.app.sender.idle()
                    and self.app.linker.idle()
                ):
                    return
            await asyncio.sleep(0.01)
        raise TimeoutError("the bot did not settle")

    async def _outbox_busy(self) -> bool:
        from sqlalchemy import and_, func, or_, select

        from models import OutboxMessage

        async with self.app.domain.sessions() as session:
            count = await session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(
                    or_(
                        OutboxMessage.status == "sending",
                        and_(
                            OutboxMessage.status == "pending",
                            OutboxMessage.next_attempt_at <= self.clock.now(),
                        ),
                    )
                )
            )
        return bool(count)

    async def user(self, name: str, language_code: str = "en", user_id: int | None = None) -> int:
        created = await self.tg.create_user(name, language_code=language_code, user_id=user_id)
        return created["id"]

    async def say(self, user_id: int, text: str, chat_id: int | None = None) -> dict[str, Any]:
        sent = await self.tg.send_message(user_id, text, chat_id=chat_id)
        await self.settle()
        return sent

    async def send(self, kind: str, user_id: int, **args: Any) -> Any:
        sent = await getattr(self.tg, f"send_{kind}")(user_id, **args)
        await self.settle()
        return sent

    async def last_with_button(self, chat_id: int, text: str) -> dict[str, Any]:
        for message in reversed(await self.tg.transcript(chat_id)):
            for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
                if any(text in button.get("text", "") for button in row):
                    return message
        raise LookupError(f"no button {text!r} in chat {chat_id}")

    async def tap(
        self,
        user_id: int,
        text: str,
        chat_id: int | None = None,
        message: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Presses the newest button whose label contains ``text``; returns the callback answer."""
        query = await self.press(user_id, text, chat_id=chat_id, message=message)
        answer = await self.tg.get_callback_answer(query, timeout=20)
        await self.settle()
        return answer

    async def press(
        self,
        user_id: int,
        text: str,
        chat_id: int | None = None,
        message: dict[str, Any] | None = None,
    ) -> str:
        """Presses the newest button whose label contains ``text``; returns the callback query
        id. With ``message`` (a copy taken earlier) the button is pressed as that copy showed
        it, as a phone still showing a message that was edited meanwhile does."""
        chat = chat_id if chat_id is not None else user_id
        target = message or await self.last_with_button(chat, text)
        button = next(
            b
            for row in target["reply_markup"]["inline_keyboard"]
            for b in row
            if text in b.get("text", "")
        )
        if message is None:
            return await self.tg.press_button(
                user_id, chat, target["message_id"], button_text=button["text"]
            )
        return await self.tg.press_button(
            user_id,
            chat,
            target["message_id"],
            data=button["callback_data"],
            button_text=button["text"],
            strict=False,
        )

    async def advance(self, **delta: float) -> None:
        self.clock.advance(**delta)
        await self.app.tick()
        await self.settle()

    async def advance_until(self, moment: dt.datetime, limit: int = 500) -> list[int]:
        """Moves the clock to ``moment`` one due timer at a time, as a running bot would live
        through it (a reminder scheduled by an earlier timer fires in between too); returns
        the ids of the timers that fired, in order."""
        from sqlalchemy import select

        from bot.clock import as_utc
        from models import Timer

        started = self.clock.now()
        for _ in range(limit):
            async with self.app.domain.sessions() as session:
                due = await session.scalar(
                    select(Timer.due_at)
                    .where(Timer.status == "pending", Timer.due_at <= moment)
                    .order_by(Timer.due_at)
                    .limit(1)
                )
            if due is None:
                break
            self.clock.set(max(self.clock.now(), as_utc(due)))
            await self.app.tick()
            await self.settle()
        self.clock.set(max(self.clock.now(), moment))
        await self.app.tick()
        await self.settle()
        async with self.app.domain.sessions() as session:
            return list(
                await session.scalars(
                    select(Timer.id)
                    .where(Timer.status == "done", Timer.fired_at >= started)
                    .order_by(Timer.fired_at, Timer.id)
                )
            )

    async def bot_texts(self, chat_id: int) -> list[str]:
        return [
            m.get("text") or m.get("caption") or ""
            for m in await self.tg.transcript(chat_id)
            if m.get("from_bot")
        ]

    async def last_bot_text(self, chat_id: int) -> str:
        texts = await self.bot_texts(chat_id)
        return texts[-1] if texts else ""

    async def press_data(
        self, user_id: int, match: Any, chat_id: int | None = None
    ) -> dict[str, Any]:
        """Presses the newest button whose callback data satisfies ``match``."""
        chat = chat_id if chat_id is not None else user_id
        for message in reversed(await self.tg.transcript(chat)):
            for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
                for button in row:
                    if match(button.get("callback_data", "")):
                        query = await self.tg.press_button(
                            user_id, chat, message["message_id"], data=button["callback_data"]
                        )
                        answer = await self.tg.get_callback_answer(query, timeout=20)
                        await self.settle()
                        return answer
        raise LookupError(f"no matching button in chat {chat}")

    async def tap_value(self, user_id: int, value: str) -> dict[str, Any]:
        """Answers the current report question with the option whose code is ``value``."""
        return await self.press_data(
            user_id, lambda data: data.startswith("r:") and data.split(":", 2)[2] == value
        )

    async def tap_nav(self, user_id: int, action: str) -> dict[str, Any]:
        return await self.press_data(user_id, lambda data: data.startswith(f"nav:{action}:"))

    async def case_codes(self) -> list[str]:
        from sqlalchemy import select

        from models import Case

        async with self.app.domain.sessions() as session:
            return list(await session.scalars(select(Case.code).order_by(Case.id)))

    async def advance_to_local(self, timezone: str, hour: int, minute: int = 0) -> None:
        """Moves the clock forward to the next ``hour:minute`` in ``timezone``."""
        import datetime as dt
        from zoneinfo import ZoneInfo

        local = self.clock.now().astimezone(ZoneInfo(timezone))
        target = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
        if target <= local:
            target += dt.timedelta(days=1)
        await self.advance(seconds=(target - local).total_seconds())

    async def claim(self, user_id: int, group_chat_id: int) -> dict[str, Any]:
        """Taps Claim on the newest card in a group, whatever the group's language."""
        return await self.press_data(
            user_id, lambda data: data.startswith("claim:"), chat_id=group_chat_id
        )
