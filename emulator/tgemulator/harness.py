"""Pointing aiogram at the emulator (for tests and the offline demo).

    bot = make_bot(server.base_url, "123456:TEST")

is the same as `Bot(token, session=AiohttpSession(api=TelegramAPIServer.from_base(url)))`
except that closing the session skips aiohttp's 250 ms TLS grace sleep, which
plain-HTTP test runs do not need.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer


class EmulatorSession(AiohttpSession):
    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()


def emulator_session(base_url: str, **kwargs: Any) -> AiohttpSession:
    return EmulatorSession(api=TelegramAPIServer.from_base(base_url), **kwargs)


def make_bot(base_url: str, token: str, **bot_kwargs: Any) -> Bot:
    return Bot(token, session=emulator_session(base_url), **bot_kwargs)


@asynccontextmanager
async def run_polling(
    dispatcher: Dispatcher, bot: Bot, *, polling_timeout: int = 5, **kwargs: Any
) -> AsyncIterator[asyncio.Task[None]]:
    """Long-poll in a background task for the duration of the block.

    Stops through `dispatcher.stop_polling()`: cancelling the start_polling task
    instead would leave aiogram's inner polling task running.
    """
    started = asyncio.Event()

    async def mark_started() -> None:
        started.set()

    dispatcher.startup.register(mark_started)
    task = asyncio.create_task(
        dispatcher.start_polling(
            bot,
            handle_signals=False,
            close_bot_session=False,
            polling_timeout=polling_timeout,
            **kwargs,
        )
    )
    waiter = asyncio.create_task(started.wait())
    await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    waiter.cancel()
    try:
        if task.done():
            task.result()  # surfaces a startup failure
        yield task
    finally:
        observer = dispatcher.startup
        observer.handlers = [h for h in observer.handlers if h.callback is not mark_started]
        if not task.done():
            await dispatcher.stop_polling()
            await task
