"""Runtime behaviour: webhook secret, handler failures, drafts that are left behind."""

from __future__ import annotations

import json

import aiohttp
from sqlalchemy import func, select

from bot.app import webhook_app
from bot.i18n import tr
from corridor_dev.harness import Harness
from models import ConversationState
from tests.support import served


async def test_webhook_requires_the_secret(harness: Harness) -> None:
    secret = "s" * 32
    config = harness.app.config.model_copy(
        update={
            "telegram": harness.app.config.telegram.model_copy(
                update={
                    "mode": "webhook",
                    "webhook": harness.app.config.telegram.webhook.model_copy(
                        update={"secret": secret}
                    ),
                }
            )
        }
    )
    harness.app.config = config
    user = (await harness.tg.create_user("Webhook user", started=True))["id"]
    update = {
        "update_id": 900001,
        "message": {
            "message_id": 1,
            "date": 0,
            "text": "/help",
            "chat": {"id": user, "type": "private"},
            "from": {"id": user, "is_bot": False, "first_name": "W"},
        },
    }
    async with served(webhook_app(harness.app)) as base:
        async with aiohttp.ClientSession() as http:
            url = f"{base}/telegram"
            async with http.post(
                url, data=json.dumps(update), headers={"Content-Type": "application/json"}
            ) as r:
                assert r.status == 401 or r.status == 403
            async with http.post(
                url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"}
            ) as r:
                assert r.status in (401, 403)
            async with http.post(
                url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": secret}
            ) as r:
                assert r.status == 200
            async with http.get(f"{base}/healthz") as r:
                assert (await r.json()) == {"ok": True}
        await harness.settle()
        assert "Verified help contacts" in await harness.last_bot_text(user)


async def test_a_failing_handler_apologises_in_the_users_language(
    harness: Harness, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    import handlers.reporter as reporter_handlers

    async def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("boom")

    monkeypatch.setattr(reporter_handlers, "status_text", broken)
    user = await harness.user("Broken", language_code="id")
    await harness.say(user, "/status")
    expected = tr(
        "id",
        "Sorry, something went wrong on our side. Nothing you sent is lost; please try again in a moment.",
    )
    assert await harness.last_bot_text(user) == expected
    # The bot is still alive for the next update.
    monkeypatch.undo()
    await harness.say(user, "/status")
    assert await harness.last_bot_text(user) == tr("id", "You have no cases yet.")


async def test_an_abandoned_draft_gets_one_reminder_then_expires(harness: Harness) -> None:
    user = await harness.user("Slow", language_code="en")
    await harness.say(user, "/start")
    await harness.tap(user, "📝")
    await harness.tap_value(user, "self")
    reminder = tr(
        "en",
        "Your report is not finished yet. Tap /start to continue where you stopped, or /cancel to discard it.",
    )
    await harness.advance(minutes=61)
    await harness.advance(minutes=61)
    texts = await harness.bot_texts(user)
    assert texts.count(reminder) == 1
    async with harness.app.domain.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ConversationState)) == 1
    await harness.advance(hours=48)
    async with harness.app.domain.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ConversationState)) == 0
    await harness.say(user, "/start")
    assert "unfinished" not in await harness.last_bot_text(user)
