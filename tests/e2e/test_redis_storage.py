"""Half-written reports kept in Redis ([fsm] storage = "redis") survive a restart.

Runs only when CORRIDOR_TEST_REDIS_URL points at a Redis server (the CI sets it). The test
touches only the keys of its own, randomly numbered, Telegram user and deletes them."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.clock import FakeClock
from bot.crypto import generate_key
from bot.harness import Harness
from bot.i18n import tr
from handlers.intake import REPORT_STEPS
from models import Case, ConversationState

REDIS_URL = os.environ.get("CORRIDOR_TEST_REDIS_URL", "")
pytestmark = pytest.mark.skipif(not REDIS_URL, reason="CORRIDOR_TEST_REDIS_URL is not set")

QUESTION = {spec.name: spec.question for spec in REPORT_STEPS}
UNFINISHED = "You have an unfinished report. Continue where you stopped, or start again?"


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        b for row in (message.get("reply_markup") or {}).get("inline_keyboard", []) for b in row
    ]


@asynccontextmanager
async def running(database_url: str, clock: FakeClock, key: str) -> AsyncIterator[Harness]:
    h = await Harness.start(
        database_url,
        clock=clock,
        encryption_key=key,
        overrides={"fsm": {"storage": "redis", "redis_url": REDIS_URL}},
    )
    try:
        yield h
    finally:
        await h.stop()
        await h.app.dispatcher.storage.close()


@pytest.fixture
async def redis_user() -> AsyncIterator[tuple[int, Any]]:
    """A Telegram user id nobody else uses, and a client to inspect (and clean) its keys."""
    from redis.asyncio import Redis

    client = Redis.from_url(REDIS_URL)
    uid = 6_000_000_000 + secrets.randbelow(1_000_000_000)

    async def forget() -> None:
        keys = [k async for k in client.scan_iter(match=f"fsm:*{uid}*")]
        if keys:
            await client.delete(*keys)

    await forget()
    try:
        yield uid, client
    finally:
        await forget()
        await client.aclose()


async def question(h: Harness, uid: int) -> str:
    return await h.last_bot_text(uid)


async def test_unfinished_report_in_redis_survives_a_restart(
    database_url: str, redis_user: tuple[int, Any]
) -> None:
    uid, redis = redis_user
    lang = "ne"
    clock, key = FakeClock(), generate_key()

    async with running(database_url, clock, key) as h:
        await h.tg.create_user("Hari", language_code=lang, user_id=uid)
        await h.say(uid, "/start")
        await h.press_data(uid, lambda data: data == f"lang:{lang}")
        await h.press_data(uid, lambda data: data == "menu:report")
        for step, value in (
            ("role", "self"),
            ("destination", "QA"),
            ("origin", "NP"),
            ("area", "Doha"),
        ):
            assert await question(h, uid) == tr(lang, QUESTION[step])
            await h.tap_value(uid, value)
        await h.tap_value(uid, "WAGE")
        await h.tap_value(uid, "THRT")
        await h.tap_nav(uid, "done")
        await h.tap_value(uid, "months")  # since
        await h.tap_value(uid, "no")  # danger
        await h.say(uid, "12")  # workers, typed
        assert await question(h, uid) == tr(lang, QUESTION["employer"])

        # The draft is in Redis, not in the database.
        keys = [k async for k in redis.scan_iter(match=f"fsm:*{uid}*")]
        assert keys, "no FSM key in Redis for this user"
        async with h.app.domain.sessions() as session:
            assert await session.scalar(select(func.count()).select_from(ConversationState)) == 0

    async with running(database_url, clock, key) as h:
        await h.tg.create_user("Hari", language_code=lang, user_id=uid, started=True)
        await h.say(uid, "/start")
        prompt = (await h.tg.transcript(uid))[-1]
        assert prompt["text"] == tr(lang, UNFINISHED)
        assert [(b["text"], b["callback_data"].split(":")[:2]) for b in buttons(prompt)] == [
            (tr(lang, "Continue"), ["nav", "resume"]),
            (tr(lang, "Start again"), ["nav", "restart"]),
        ]
        await h.press_data(uid, lambda data: data.split(":")[:2] == ["nav", "resume"])
        assert await question(h, uid) == tr(lang, QUESTION["employer"])

        # Finishing the report proves that every earlier answer was kept.
        await h.say(uid, "Al Noor Contracting")  # employer
        await h.tap_nav(uid, "skip")  # agency
        assert await question(h, uid) == tr(lang, QUESTION["wages"])
        await h.say(uid, "4800")
        await h.tap_nav(uid, "skip")  # description
        await h.tap_value(uid, "chat")
        await h.tap_value(uid, "any")
        for _ in range(3):
            await h.tap_value(uid, "yes")
        await h.tap_nav(uid, "submit")

        async with h.app.domain.sessions() as session:
            cases = list(await session.scalars(select(Case)))
        assert len(cases) == 1
        case = cases[0]
        assert (case.destination_country, case.origin_country, case.area) == ("QA", "NP", "Doha")
        assert case.categories == ["THRT", "WAGE"]
        assert (case.since, case.in_danger, case.workers_affected) == ("months", False, 12)
        assert case.employer == "Al Noor Contracting"
        assert (case.wage_owed_minor, case.wage_currency) == (480000, "QAR")
        assert case.language == lang
        # A submitted report leaves no draft behind.
        assert [k async for k in redis.scan_iter(match=f"fsm:*{uid}*")] == []
