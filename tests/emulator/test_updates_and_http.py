"""The HTTP surface (encodings, errors) and update delivery: polling and webhooks."""

import asyncio
import json

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, F
from aiogram.exceptions import TelegramConflictError
from aiogram.types import Message
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from tgemulator import EmulatorClient, EmulatorServer


@pytest.fixture
async def http():
    async with aiohttp.ClientSession() as session:
        yield session


def api(server: EmulatorServer, token: str, method: str) -> str:
    return f"{server.base_url}/bot{token}/{method}"


async def test_unauthorized_and_unknown_method(server, http, token):
    async with http.get(f"{server.base_url}/botnot-a-token/getMe") as resp:
        assert resp.status == 401
        assert await resp.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    async with http.post(api(server, token, "sendTelepathy")) as resp:
        assert resp.status == 404
        assert await resp.json() == {
            "ok": False,
            "error_code": 404,
            "description": "Not Found: method not found",
        }
    async with http.post(api(server, token, "sendInvoice")) as resp:
        assert resp.status == 501  # a real method the emulator does not play


async def test_method_names_are_case_insensitive_and_get_works(server, http, token, tg):
    async with http.get(api(server, token, "GETME")) as resp:
        me = (await resp.json())["result"]
    assert me["id"] == int(token.split(":")[0]) and me["is_bot"] is True
    user = await tg.create_user("Q", started=True)
    url = api(server, token, "sendmessage") + f"?chat_id={user['id']}&text=via+GET"
    async with http.get(url) as resp:
        assert (await resp.json())["result"]["text"] == "via GET"
    assert (await tg.stats())["getMe"] == 1


async def test_json_urlencoded_and_multipart_bodies(server, http, token, tg):
    user = await tg.create_user("Enc", started=True)
    markup = {"inline_keyboard": [[{"text": "a", "callback_data": "a"}]]}
    async with http.post(
        api(server, token, "sendMessage"),
        json={"chat_id": user["id"], "text": "json", "reply_markup": markup},
    ) as resp:
        assert (await resp.json())["result"]["reply_markup"] == markup
    async with http.post(
        api(server, token, "sendMessage"),
        data={"chat_id": str(user["id"]), "text": "form", "reply_markup": json.dumps(markup)},
    ) as resp:
        assert (await resp.json())["result"]["text"] == "form"
    form = aiohttp.FormData()
    form.add_field("chat_id", str(user["id"]))
    form.add_field("document", b"direct-bytes", filename="notes.md")
    async with http.post(api(server, token, "sendDocument"), data=form) as resp:
        doc = (await resp.json())["result"]["document"]
    assert doc["file_name"] == "notes.md" and doc["file_size"] == 12
    assert await tg.get_file_bytes(doc["file_id"]) == b"direct-bytes"


async def test_reply_keyboards_are_not_echoed_in_the_message(server, http, token, tg):
    user = await tg.create_user("K", started=True)
    body = {"chat_id": user["id"], "text": "k", "reply_markup": {"keyboard": [["One"]]}}
    async with http.post(api(server, token, "sendMessage"), json=body) as resp:
        assert "reply_markup" not in (await resp.json())["result"]
    (entry,) = await tg.transcript(user["id"])
    assert entry["reply_markup"] == {"keyboard": [["One"]]}


async def test_bad_json_parameter(server, http, token, tg):
    user = await tg.create_user("J", started=True)
    body = {"chat_id": str(user["id"]), "text": "x", "reply_markup": "{nope"}
    async with http.post(api(server, token, "sendMessage"), data=body) as resp:
        assert resp.status == 400
        assert (await resp.json())["description"] == (
            "Bad Request: can't parse reply keyboard markup JSON object"
        )


async def test_get_updates_offsets_limit_and_allowed_updates(bot: Bot, tg: EmulatorClient):
    user = await tg.create_user("Poll")
    for text in ("one", "two", "three"):
        await tg.send_message(user["id"], text)
    first = await bot.get_updates(limit=2)
    assert [u.message.text for u in first] == ["one", "two"]
    again = await bot.get_updates()
    assert len(again) == 3  # nothing is confirmed until an offset passes it
    rest = await bot.get_updates(offset=first[-1].update_id + 1)
    assert [u.message.text for u in rest] == ["three"]
    assert await bot.get_updates(offset=rest[-1].update_id + 1) == []

    await bot.get_updates(allowed_updates=["callback_query"])
    await tg.send_message(user["id"], "ignored")  # filtered out, like Telegram
    menu = await bot.send_message(
        user["id"],
        "m",
        reply_markup={"inline_keyboard": [[{"text": "b", "callback_data": "b"}]]},
    )
    await tg.press_button(user["id"], user["id"], menu.message_id, data="b")
    (only,) = await bot.get_updates()
    assert only.callback_query.data == "b"
    assert only.callback_query.message.message_id == menu.message_id


async def test_negative_offset_keeps_the_last_updates(bot: Bot, tg: EmulatorClient):
    user = await tg.create_user("Neg")
    for text in ("a", "b", "c"):
        await tg.send_message(user["id"], text)
    assert [u.message.text for u in await bot.get_updates(offset=-1)] == ["c"]
    assert [u.message.text for u in await bot.get_updates()] == ["c"]


async def test_newer_get_updates_terminates_the_older(bot: Bot):
    older = asyncio.create_task(bot.get_updates(timeout=20))
    await asyncio.sleep(0.05)
    assert await bot.get_updates() == []
    with pytest.raises(TelegramConflictError, match="terminated by other getUpdates request"):
        await older


async def test_wait_until_idle_and_timeouts(bot: Bot, tg: EmulatorClient):
    from tgemulator.harness import run_polling

    user = await tg.create_user("Idle")
    await tg.send_message(user["id"], "nobody polls")
    with pytest.raises(TimeoutError, match="1 update"):
        await tg.wait_until_idle(timeout=0.2)
    with pytest.raises(TimeoutError, match="nobody polls"):
        await tg.wait_for_message(user["id"], timeout=0.1)

    dp = Dispatcher()

    @dp.message()
    async def slow_echo(message: Message) -> None:
        await asyncio.sleep(0.01)
        await message.answer(message.text.upper())

    async with run_polling(dp, bot):
        for text in ("a", "b", "c"):
            await tg.send_message(user["id"], text)
        await tg.wait_until_idle()
        replies = [m["text"] for m in await tg.transcript(user["id"]) if m["from_bot"]]
        assert sorted(replies) == ["A", "B", "C", "NOBODY POLLS"]


@pytest.fixture
async def receiver():
    """A local webhook endpoint recording what the emulator POSTs."""
    calls: list[tuple[dict, dict]] = []
    statuses: list[int] = []

    async def handle(request: web.Request) -> web.Response:
        calls.append((dict(request.headers), await request.json()))
        status = statuses.pop(0) if statuses else 200
        return web.Response(status=status, text="{}")

    app = web.Application()
    app.router.add_post("/hook", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    yield url, calls, statuses
    await runner.cleanup()


async def test_webhook_delivery_with_secret_and_retries(bot: Bot, tg: EmulatorClient, receiver):
    url, calls, statuses = receiver
    user = await tg.create_user("Hook")
    assert await bot.set_webhook(url, secret_token="s3cr3t-token_1")
    with pytest.raises(TelegramConflictError, match="webhook is active"):
        await bot.get_updates()

    statuses.extend([500, 500])
    await tg.send_message(user["id"], "via webhook")
    await tg.wait_until_idle()
    assert len(calls) == 3  # two failures, then acknowledged
    headers, update = calls[-1]
    assert headers["X-Telegram-Bot-Api-Secret-Token"] == "s3cr3t-token_1"
    assert update["message"]["text"] == "via webhook"
    assert calls[0][1] == update  # the same update is retried
    info = await bot.get_webhook_info()
    assert info.url == url and info.pending_update_count == 0
    assert info.last_error_message == "Wrong response from the webhook: 500 Internal Server Error"

    assert await bot.delete_webhook()
    await tg.send_message(user["id"], "polling again")
    assert [u.message.text for u in await bot.get_updates()] == ["polling again"]


async def test_aiogram_webhook_handler_end_to_end(bot: Bot, tg: EmulatorClient):
    dp = Dispatcher()

    @dp.message(F.text)
    async def echo(message: Message) -> None:
        await message.answer(f"hook: {message.text}")

    app = web.Application()
    SimpleRequestHandler(dispatcher=dp, bot=bot, secret_token="abc").register(app, path="/tg")
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        await bot.set_webhook(f"http://127.0.0.1:{runner.addresses[0][1]}/tg", secret_token="abc")
        user = await tg.create_user("Web")
        await tg.send_message(user["id"], "hi")
        reply = await tg.wait_for_message(user["id"], contains="hook:")
        assert reply["text"] == "hook: hi"
        await tg.wait_until_idle()
        await bot.delete_webhook()
    finally:
        await runner.cleanup()


async def test_method_in_webhook_reply_is_executed(tg: EmulatorClient, bot: Bot):
    async def handle(request: web.Request) -> web.Response:
        update = await request.json()
        chat_id = update["message"]["chat"]["id"]
        return web.json_response({"method": "sendMessage", "chat_id": chat_id, "text": "inline"})

    app = web.Application()
    app.router.add_post("/r", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        await bot.set_webhook(f"http://127.0.0.1:{runner.addresses[0][1]}/r")
        user = await tg.create_user("Reply")
        await tg.send_message(user["id"], "go")
        assert (await tg.wait_for_message(user["id"]))["text"] == "inline"
        await bot.delete_webhook()
    finally:
        await runner.cleanup()


async def test_legacy_reply_and_preview_parameters(server, http, token, tg):
    user = await tg.create_user("Legacy", started=True)
    first = await tg.send_message(user["id"], "question")
    body = {
        "chat_id": user["id"],
        "text": "see https://ex.org",
        "reply_to_message_id": first["message_id"],
        "disable_web_page_preview": True,
        "protect_content": True,
        "disable_notification": True,
    }
    async with http.post(api(server, token, "sendMessage"), json=body) as resp:
        result = (await resp.json())["result"]
    assert result["reply_to_message"]["text"] == "question"
    assert result["link_preview_options"] == {"is_disabled": True}
    assert result["has_protected_content"] is True
    assert result["entities"] == [{"type": "url", "offset": 4, "length": 14}]
    entry = (await tg.transcript(user["id"]))[-1]
    assert entry["disable_notification"] is True and entry["protect_content"] is True
