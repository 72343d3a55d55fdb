"""An update aiogram cannot parse is logged with its id and skipped; the next ones flow.

aiogram's polling parses a getUpdates batch as a whole, so one bad update (a ``poll``
missing a field, a value of the wrong type) made it fetch the same batch forever and every
later update waited behind it. The emulator's ``inject_update`` queues such raw updates
exactly as a Bot API server (or a newer one, or a forger) might send them."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from bot.i18n import tr
from bot.polling import Poller
from corridor_dev.harness import Harness

BROKEN: list[dict[str, Any]] = [
    # A poll missing its required fields.
    {"poll": {"id": "1", "question": "q"}},
    # A message whose chat has no type.
    {"message": {"message_id": 1, "date": 0, "chat": {"id": 1}}},
    # A value of the wrong type.
    {
        "message": {
            "message_id": "one",
            "date": 0,
            "chat": {"id": 5, "type": "private"},
            "text": 5,
        }
    },
    # A callback query without its sender.
    {"callback_query": {"id": "7", "chat_instance": "x", "data": "menu:help"}},
    # An update of a type this aiogram does not know.
    {"business_weather_report": {"sunny": True}},
    # Nothing at all.
    {},
]


def valid_message(user: dict[str, Any], text: str, extra: dict[str, Any]) -> dict[str, Any]:
    sender = {k: user[k] for k in ("id", "is_bot", "first_name", "language_code") if k in user}
    return {
        "message": {
            "message_id": 900_001,
            "date": 1_700_000_000,
            "chat": {"id": user["id"], "type": "private", "first_name": user["first_name"]},
            "from": sender,
            "text": text,
            **extra,
        }
    }


def skipped(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "bot.polling"]


async def test_unreadable_updates_are_skipped_and_the_next_ones_flow(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    h = harness
    caplog.set_level(logging.INFO)
    user = await h.tg.create_user("Patient", language_code="en")
    injected = [await h.tg.inject_update(raw) for raw in BROKEN]
    sent = await h.tg.send_message(user["id"], "/help")
    reply = await h.tg.wait_for_message(user["id"], after_message_id=sent["message_id"], timeout=30)
    assert "help contacts" in reply["text"]
    await h.settle()
    assert await h.tg.pending_updates() == []
    lines = skipped(caplog)
    for raw in injected:
        assert any(f"update {raw['update_id']} skipped" in line for line in lines), raw
    # The log names where validation failed, never a value (updates carry personal data).
    assert any("poll.options: missing" in line for line in lines)
    assert not any("Patient" in line or "question" in line.split(":")[0] for line in lines)
    errors = [
        r.getMessage()
        for r in caplog.records
        if r.levelno >= logging.ERROR and r.name.startswith(("handlers", "aiogram", "bot"))
    ]
    assert errors == []


async def test_an_unknown_nested_object_does_not_stop_a_valid_update(harness: Harness) -> None:
    """Newer Bot API fields aiogram does not know are kept aside; the message is handled."""
    h = harness
    user = await h.tg.create_user("Newer client", language_code="en", started=True)
    await h.tg.inject_update(
        valid_message(user, "/help", {"story_reaction": {"kind": {"nested": [1, {"x": None}]}}})
    )
    await h.settle()
    assert "help contacts" in await h.last_bot_text(user["id"])


async def pause_polling(h: Harness) -> None:
    h._stop_polling.set()
    await h._polling


class OneBatch(Poller):
    """Stops after its first batch, as if a signal came while the batch was handled."""

    async def _take(self, batch: list[Any]) -> None:
        self.batches.append(len(batch))
        await super()._take(batch)
        self.stop_event.set()


async def test_a_bad_update_between_good_ones_in_one_batch(harness: Harness) -> None:
    """Good updates before and after a bad one, fetched in one getUpdates, all handled;
    and on stopping, those handled are confirmed, so a restart does not handle them twice."""
    h = harness
    await pause_polling(h)
    first = await h.tg.create_user("First", language_code="en", started=True)
    second = await h.tg.create_user("Second", language_code="id", started=True)
    await h.tg.inject_update(valid_message(first, "/help", {}))
    await h.tg.inject_update(BROKEN[0])
    await h.tg.inject_update(valid_message(second, "/status", {}))
    poller = OneBatch(h.app.bot, h.app.dispatcher, timeout=1, stop_event=asyncio.Event())
    poller.batches = []
    await poller.run()
    assert poller.batches == [3] and poller.skipped == 1
    await h.settle()
    assert "help contacts" in await h.last_bot_text(first["id"])
    assert await h.last_bot_text(second["id"]) == tr("id", "You have no cases yet.")
    assert await h.tg.pending_updates() == []


async def test_numbers_out_of_every_range_are_skipped_before_the_dispatcher(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    """No Bot API integer exceeds a signed 64-bit one (nor does the database's): a forged
    user id of 2**64 used to end in an OverflowError in the middleware's lookup."""
    h = harness
    caplog.set_level(logging.INFO)
    user = await h.tg.create_user("Overflow", language_code="en", started=True)
    forged = valid_message(user, "/help", {})
    forged["message"]["from"]["id"] = 2**64
    injected = await h.tg.inject_update(forged)
    negative = valid_message(user, "/help", {"reply_to_message": {"message_id": -(2**63) - 1}})
    injected_too = await h.tg.inject_update(negative)
    await h.say(user["id"], "/status")
    assert await h.last_bot_text(user["id"]) == tr("en", "You have no cases yet.")
    lines = skipped(caplog)
    assert any(
        f"update {injected['update_id']} skipped: a number out of range at message.from.id" in line
        for line in lines
    )
    assert any(f"update {injected_too['update_id']} skipped" in line for line in lines)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


async def test_forged_shapes_that_parse_are_refused_quietly(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    """Valid to aiogram, impossible from Telegram: a private message without a sender, a
    button of an inline message (this bot sends none)."""
    h = harness
    caplog.set_level(logging.INFO)
    user = await h.tg.create_user("Shapes", language_code="ne", started=True)
    orphan = valid_message(user, "hello there", {})
    del orphan["message"]["from"]
    await h.tg.inject_update(orphan)
    sender = {"id": user["id"], "is_bot": False, "first_name": "Shapes", "language_code": "ne"}
    await h.tg.inject_update(
        {
            "callback_query": {
                "id": "4242",
                "from": sender,
                "chat_instance": "1",
                "inline_message_id": "AAA",
                "data": "menu:help",
            }
        }
    )
    answer = await h.tg.get_callback_answer("4242", timeout=20)
    await h.settle()
    assert answer["text"] == tr("ne", "This button is no longer valid.")
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


async def test_a_command_addressed_by_name_first_of_all_needs_no_getme_mid_update(
    harness: Harness,
) -> None:
    """The poller learns the bot's name before the first update, as aiogram's polling does:
    "/help@name" is checked against it, never by calling getMe inside the update's
    transaction (which the harness counts, and fails on when it stops)."""
    h = harness
    user = await h.tg.create_user("Addresser", language_code="en")
    await h.say(user["id"], f"/help@{h.app.domain.bot_username}")
    assert "help contacts" in await h.last_bot_text(user["id"])
