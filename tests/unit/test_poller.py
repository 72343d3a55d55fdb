"""The poller hands each update to the dispatcher once, however often getUpdates returns it,
and asks for more while updates are still in flight."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest
from aiogram import Dispatcher

from bot import polling
from bot.polling import Poller


def message_update(update_id: int) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 0,
            "chat": {"id": 5, "type": "private"},
            "text": "hi",
        },
    }


class ScriptedBot:
    """Answers getUpdates from a script: each entry is the batch, or a coroutine function
    run before answering with the batch it returns."""

    def __init__(self, script: list[Any], stop: asyncio.Event) -> None:
        self.script, self.stop = script, stop
        self.session = SimpleNamespace(timeout=None)
        self.offsets: list[int | None] = []

    async def me(self) -> Any:
        return SimpleNamespace(username="corridor_test_bot", id=1)

    async def __call__(self, method: Any, **_: Any) -> list[Any]:
        self.offsets.append(method.offset)
        if method.timeout == 0:  # the confirmation at shutdown
            return []
        if not self.script:
            self.stop.set()
            await asyncio.sleep(3600)
        step = self.script.pop(0)
        return await step() if callable(step) else step


class Recording(Poller):
    def __init__(self, *args: Any, handling: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.handling = handling
        self.handled: list[int] = []
        self.finished = asyncio.Event()

    async def _handle(self, update: Any, unencodable: bool = False) -> None:
        self.handled.append(update.update_id)
        await asyncio.sleep(self.handling)
        self.finished.set()


async def test_an_update_finished_while_getupdates_was_on_its_way_is_not_handled_again() -> None:
    stop = asyncio.Event()
    poller: Recording

    async def returned_again_after_it_finished() -> list[Any]:
        # Asked while update 10 was in flight (offset 10); answered after it finished.
        await poller.finished.wait()
        return [message_update(10), message_update(11)]

    bot = ScriptedBot([[message_update(10)], returned_again_after_it_finished], stop)
    poller = Recording(bot, Dispatcher(), stop_event=stop, timeout=1, handling=0.05)  # type: ignore[arg-type]
    await asyncio.wait_for(poller.run(), timeout=10)
    assert poller.handled == [10, 11]
    assert bot.offsets[:2] == [None, 10]
    assert bot.offsets[-1] == 12  # both confirmed at shutdown


async def test_a_batch_out_of_order_is_taken_in_order() -> None:
    stop = asyncio.Event()
    bot = ScriptedBot([[message_update(21), message_update(20)]], stop)
    poller = Recording(bot, Dispatcher(), stop_event=stop, timeout=1, handling=0)  # type: ignore[arg-type]
    await asyncio.wait_for(poller.run(), timeout=10)
    assert poller.handled == [20, 21]


async def test_the_next_getupdates_goes_once_half_of_those_in_flight_are_done(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Waiting for every update in flight (or for the whole pause) left the bot idle while
    new updates waited at the server."""
    monkeypatch.setattr(polling, "PAUSE_PER_UPDATE_IN_FLIGHT", 60.0)
    monkeypatch.setattr(polling, "LONGEST_PAUSE", 60.0)
    stop = asyncio.Event()
    asked_again = asyncio.Event()

    async def second_request() -> list[Any]:
        asked_again.set()
        return [message_update(5)]

    class Slow(Poller):
        handled: list[int] = []

        async def _handle(self, update: Any, unencodable: bool = False) -> None:
            if update.update_id in (3, 4):
                await asyncio.wait_for(asked_again.wait(), 30)
            self.handled.append(update.update_id)

    bot = ScriptedBot([[message_update(i) for i in (1, 2, 3, 4)], second_request], stop)
    poller = Slow(bot, Dispatcher(), stop_event=stop, timeout=1)  # type: ignore[arg-type]
    await asyncio.wait_for(poller.run(), timeout=10)
    assert bot.offsets[1] == 3  # 1 and 2 done; 3 and 4 still in flight
    assert sorted(poller.handled) == [1, 2, 3, 4, 5]
