"""The bot's HTTP session: a call without files goes as a JSON body, one with a file as a
form, and both mean the same to the Bot API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup
from aiohttp import web

from bot import calls
from bot.app import TelegramSession
from tests.support import served

TOKEN = "42:TEST"


@pytest.fixture
async def api() -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    seen: list[dict[str, Any]] = []

    async def method(request: web.Request) -> web.Response:
        if request.content_type == "application/json":
            fields = await request.json()
        else:
            form = await request.post()
            fields = {k: v if isinstance(v, str) else v.file.read() for k, v in form.items()}
        seen.append(
            {"method": request.match_info["method"], "type": request.content_type, **fields}
        )
        if fields.get("text") == "refuse":
            return web.json_response(
                {"ok": False, "error_code": 400, "description": "Bad Request: refused"}, status=400
            )
        message = {"message_id": 7, "date": 0, "chat": {"id": 5, "type": "private"}}
        return web.json_response({"ok": True, "result": message})

    app = web.Application()
    app.router.add_post("/bot{token}/{method}", method)
    async with served(app) as base:
        yield base, seen


async def test_a_call_without_files_is_one_json_body_with_the_bots_defaults(api) -> None:  # type: ignore[no-untyped-def]
    base, seen = api
    bot = Bot(
        TOKEN,
        session=TelegramSession(api=TelegramAPIServer.from_base(base)),
        default=DefaultBotProperties(protect_content=True),
    )
    try:
        keyboard = InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text="SOS", callback_data="menu:sos")]]
        )
        sent = await bot.send_message(5, "नमस्ते", reply_markup=keyboard)
        assert sent.message_id == 7
        with pytest.raises(TelegramBadRequest, match="refused"):
            await bot.send_message(5, "refuse")
    finally:
        await bot.session.close()
    first = seen[0]
    assert (first["method"], first["type"]) == ("sendMessage", "application/json")
    assert first["chat_id"] == 5 and first["text"] == "नमस्ते"
    assert first["protect_content"] is True  # the bot's default, filled in
    assert first["reply_markup"] == {
        "inline_keyboard": [[{"text": "SOS", "callback_data": "menu:sos"}]]
    }
    assert "parse_mode" not in first  # nothing that was not set


async def test_a_call_with_a_file_is_a_form(api) -> None:  # type: ignore[no-untyped-def]
    base, seen = api
    bot = Bot(TOKEN, session=TelegramSession(api=TelegramAPIServer.from_base(base)))
    try:
        await bot.send_photo(5, BufferedInputFile(b"\x89PNG...", "chart.png"), caption="chart")
    finally:
        await bot.session.close()
    (call,) = seen
    assert (call["method"], call["type"]) == ("sendPhoto", "multipart/form-data")
    assert call["caption"] == "chart"
    assert b"\x89PNG..." in [v for v in call.values() if isinstance(v, bytes)]
    assert call["chat_id"] == "5"


async def test_delivery_reads_only_the_message_id_and_errors_stay_errors(api) -> None:  # type: ignore[no-untyped-def]
    base, _seen = api
    bot = Bot(TOKEN, session=TelegramSession(api=TelegramAPIServer.from_base(base)))
    token = calls.only_the_message_id.set(True)
    try:
        assert await bot.send_message(5, "hello") == calls.Sent(message_id=7)
        with pytest.raises(TelegramBadRequest, match="refused"):
            await bot.send_message(5, "refuse")
    finally:
        calls.only_the_message_id.reset(token)
        await bot.session.close()
