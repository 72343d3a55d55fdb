"""A bare aiogram echo bot, the reference bench/process_ratio.py measures Corridor against.

python bench/echo_bot.py BASE_URL TOKEN [uvloop]

With ``uvloop`` it runs on uvloop's event loop, as `corridor run` does; without, on asyncio's
own (the bare reference).
"""

from __future__ import annotations

import asyncio
import sys

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Message


async def main(base_url: str, token: str) -> None:
    bot = Bot(token, session=AiohttpSession(api=TelegramAPIServer.from_base(base_url)))
    dispatcher = Dispatcher()

    @dispatcher.message()
    async def echo(message: Message) -> None:
        await message.answer(message.text or "?")

    print("Start polling", flush=True)
    await dispatcher.start_polling(bot, handle_signals=True)


if __name__ == "__main__":
    if sys.argv[3:] == ["uvloop"]:
        import uvloop

        uvloop.run(main(sys.argv[1], sys.argv[2]))
    else:
        asyncio.run(main(sys.argv[1], sys.argv[2]))
