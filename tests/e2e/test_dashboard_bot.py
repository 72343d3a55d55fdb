"""How coordinators open the dashboard from Telegram: /dashboard, the menu button, and
the button under every digest."""

from __future__ import annotations

from corridor_dev.harness import Harness
from tests.dashboard import DASHBOARD_CONFIG, PUBLIC_URL
from tests.support import served


def web_app_urls(message: dict) -> list[str]:
    return [
        button["web_app"]["url"]
        for row in (message.get("reply_markup") or {}).get("inline_keyboard", [])
        for button in row
        if "web_app" in button
    ]


async def test_dashboard_command_menu_button_and_digest_button(database_url: str) -> None:
    h = await Harness.start(database_url, overrides=DASHBOARD_CONFIG)
    try:
        sita, ramesh = h.staff["sita"], h.staff["ramesh"]
        await h.say(sita, "/dashboard")
        [last] = (await h.tg.transcript(sita))[-1:]
        assert web_app_urls(last) == [PUBLIC_URL]
        await h.say(ramesh, "/dashboard")
        assert await h.last_bot_text(ramesh) == "This command is for coordinators."
        await h.app.set_dashboard_buttons()
        button = await h.app.bot.get_chat_menu_button(chat_id=sita)
        assert button.type == "web_app" and button.web_app.url == PUBLIC_URL
        assert (await h.app.bot.get_chat_menu_button(chat_id=ramesh)).type == "default"
        await h.say(sita, "/digest")
        photo = next(
            m for m in reversed(await h.tg.transcript(sita)) if m.get("media_kind") == "photo"
        )
        assert web_app_urls(photo) == [PUBLIC_URL]
    finally:
        await h.stop()


async def test_without_a_public_address_there_is_no_dashboard(harness: Harness) -> None:
    sita = harness.staff["sita"]
    await harness.say(sita, "/dashboard")
    assert "not set up" in await harness.last_bot_text(sita)
    await harness.app.set_dashboard_buttons()
    assert (await harness.app.bot.get_chat_menu_button(chat_id=sita)).type == "default"
    await harness.say(sita, "/digest")
    photo = next(
        m for m in reversed(await harness.tg.transcript(sita)) if m.get("media_kind") == "photo"
    )
    assert web_app_urls(photo) == []


async def get(url: str) -> tuple[int, str, str]:
    import aiohttp

    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, response.content_type, await response.text()


async def test_served_by_the_webhook_server_and_in_polling_mode(database_url: str) -> None:
    import socket

    from bot.app import webhook_app

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    overrides = {"webapp": {**DASHBOARD_CONFIG["webapp"], "listen": f"127.0.0.1:{port}"}}
    h = await Harness.start(database_url, overrides=overrides)
    try:
        polling_site = await h.app.start_dashboard()
        assert polling_site is not None
        try:
            status, kind, body = await get(f"http://127.0.0.1:{port}/webapp/")
            assert (status, kind) == (200, "text/html") and "static/app.js" in body
            assert (await get(f"http://127.0.0.1:{port}/webapp/api/board"))[0] == 403
        finally:
            await polling_site.cleanup()
        async with served(webhook_app(h.app)) as hook:
            status, kind, _ = await get(f"{hook}/webapp/static/charts.js")
            assert (status, kind) == (200, "text/javascript")
            assert (await get(f"{hook}/webapp/static/x.js"))[0] == 404
            assert (await get(f"{hook}/webapp/api/me"))[0] == 403
    finally:
        await h.stop()
