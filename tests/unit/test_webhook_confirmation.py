"""Webhook mode tells Telegram an update is done (200) only once it is handled and its
commit is on disk: real aiogram dispatch behind the real aiohttp application, over HTTP."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
from aiogram import Bot, Dispatcher
from aiogram.types import Message

from bot.webhook import SECRET_HEADER, make_webhook_app
from tests.support import served

TOKEN = "7000000015:AAHconfirmCONFIRMconfirmCONFIRM12345"
SECRET = "confirmation-secret"


def update(update_id: int) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 1_700_000_000,
            "chat": {"id": 42, "type": "private", "first_name": "Amina"},
            "from": {"id": 42, "is_bot": False, "first_name": "Amina"},
            "text": "hello",
        },
    }


async def post(http: aiohttp.ClientSession, url: str, body: dict[str, Any]) -> int:
    async with http.post(url, json=body, headers={SECRET_HEADER: SECRET}) as response:
        return response.status


async def test_the_answer_waits_for_the_handler_and_the_disk() -> None:
    handling, release = asyncio.Event(), asyncio.Event()
    flushed: list[int] = []
    failing = False
    dispatcher = Dispatcher()

    @dispatcher.message()
    async def slow(message: Message) -> None:
        handling.set()
        await release.wait()

    async def durable() -> None:
        if failing:
            raise OSError(5, "Input/output error")
        flushed.append(len(flushed))

    app = make_webhook_app(dispatcher, Bot(TOKEN), secret=SECRET, path="/telegram", durable=durable)
    async with served(app) as base, aiohttp.ClientSession() as http:
        answer = asyncio.ensure_future(post(http, f"{base}/telegram", update(1)))
        await asyncio.wait_for(handling.wait(), 5)
        await asyncio.sleep(0.2)
        assert not answer.done() and not flushed  # nothing confirmed while it is handled
        release.set()
        assert await asyncio.wait_for(answer, 5) == 200
        assert flushed == [0]  # and the disk flushed before the answer

        failing = True
        assert await post(http, f"{base}/telegram", update(2)) == 503
