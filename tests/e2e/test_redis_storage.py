"""Half-written reports kept in Redis ([fsm] storage = "redis") survive a restart, and are
as protected there as in the database: keys from the keyed hash, values encrypted with
the key ring (re-encrypted by `corridor keys rotate`), expiring with the draft.

Runs only when CORRIDOR_TEST_REDIS_URL points at a Redis server (the CI sets it). The
tests touch only the keys of their own, randomly numbered, Telegram users and delete
them; the scan for personal data reads every key of the database, so give the tests a
Redis database of their own."""

from __future__ import annotations

import asyncio
import os
import secrets
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from aiogram.fsm.storage.base import StorageKey
from cryptography.fernet import Fernet
from sqlalchemy import func, select

from bot.clock import FakeClock
from bot.crypto import KeyRing, generate_key
from bot.domain.wizard import REPORT_STEPS
from bot.fsm import PseudonymKeyBuilder
from bot.i18n import tr
from corridor_dev.harness import DEMO_TOKEN, Harness
from models import Case, ConversationState
from tests.support import EXAMPLE

REDIS_URL = os.environ.get("CORRIDOR_TEST_REDIS_URL", "")
pytestmark = pytest.mark.skipif(not REDIS_URL, reason="CORRIDOR_TEST_REDIS_URL is not set")

QUESTION = {spec.name: spec.question for spec in REPORT_STEPS}
UNFINISHED = "You have an unfinished report. Continue where you stopped, or start again?"


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        b for row in (message.get("reply_markup") or {}).get("inline_keyboard", []) for b in row
    ]


BOT_ID = int(DEMO_TOKEN.split(":")[0])
HASH_KEY = "harness"  # what Harness configures as [security] hash_key


def key_prefix(uid: int) -> str:
    """The Redis key of a user's draft in their private chat, without its part."""
    builder = PseudonymKeyBuilder(KeyRing([generate_key()], HASH_KEY))
    return builder.build(StorageKey(bot_id=BOT_ID, chat_id=uid, user_id=uid))


@asynccontextmanager
async def running(
    database_url: str, clock: FakeClock, key: str, *, keys: list[str] | None = None
) -> AsyncIterator[Harness]:
    h = await Harness.start(
        database_url,
        clock=clock,
        encryption_key=key,
        overrides={
            "fsm": {"storage": "redis", "redis_url": REDIS_URL},
            **({"security": {"encryption_keys": keys}} if keys else {}),
        },
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
        keys = [k async for k in client.scan_iter(match=f"{key_prefix(uid)}*")]
        keys += [k async for k in client.scan_iter(match=f"fsm:*{uid}*")]
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
        await h.press_data(uid, lambda data: data == "menu:report")
        for step, value in (("role", "self"), ("destination", "QA")):
            assert await question(h, uid) == tr(lang, QUESTION[step])
            await h.tap_value(uid, value)
        await h.tap_value(uid, "WAGE")
        await h.tap_value(uid, "THRT")
        await h.tap_nav(uid, "done")
        await h.tap_value(uid, "no")  # danger
        await h.tap_value(uid, "chat")
        await h.tap_value(uid, "all")  # consent
        await h.tap_nav(uid, "details")
        assert await question(h, uid) == tr(lang, QUESTION["area"])
        await h.tap_value(uid, "Doha")
        await h.tap_value(uid, "months")  # since
        await h.say(uid, "12")  # workers, typed
        assert await question(h, uid) == tr(lang, QUESTION["employer"])

        # The draft is in Redis, not in the database.
        keys = [k async for k in redis.scan_iter(match=f"{key_prefix(uid)}*")]
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
        await h.tap_value(uid, "any")  # hours
        await h.tap_nav(uid, "skip")  # sector
        await h.tap_nav(uid, "skip")  # gender
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
        assert [k async for k in redis.scan_iter(match=f"{key_prefix(uid)}*")] == []


# -- what Redis holds ------------------------------------------------------------------------

MARKERS = {
    "employer": "Zephyrine Dredging Holdings",
    "agency": "Quillfeather Manpower Agency",
    "worker_name": "Parbati Kumari Thapaliya",
    "description": "Passport kept in the locked drawer of the camp boss",
    "phone": "+97433123456",
}


async def everything_in(redis: Any) -> list[tuple[bytes, bytes]]:
    """Every key of the database and everything it holds, however it is stored."""
    found = []
    async for name in redis.scan_iter(count=1000):
        kind = (await redis.type(name)).decode()
        values: list[bytes] = []
        if kind == "string":
            values.append(await redis.get(name) or b"")
        elif kind == "hash":
            values += [b for pair in (await redis.hgetall(name)).items() for b in pair]
        elif kind == "list":
            values += await redis.lrange(name, 0, -1)
        elif kind in ("set", "zset"):
            values += list(
                await redis.smembers(name) if kind == "set" else await redis.zrange(name, 0, -1)
            )
        values.append(await redis.dump(name) or b"")
        found += [(name, value) for value in values]
    return found


async def fill_draft(h: Harness, uid: int, lang: str) -> None:
    """A family member's report, stopped before submitting, with every personal field."""
    await h.tg.create_user("Ram", language_code=lang, user_id=uid)
    await h.say(uid, "/start")
    await h.press_data(uid, lambda data: data == "menu:report")
    for step, value in (("role", "parent"), ("destination", "QA")):
        assert await question(h, uid) == tr(lang, QUESTION[step])
        await h.tap_value(uid, value)
    await h.tap_value(uid, "WAGE")
    await h.tap_nav(uid, "done")
    await h.tap_value(uid, "no")
    await h.tap_value(uid, "phone")
    assert await question(h, uid) == tr(lang, QUESTION["phone"])
    await h.say(uid, "+974 3312 3456")
    assert await question(h, uid) == tr(lang, QUESTION["safe_hours"])
    await h.tap_value(uid, "any")
    await h.tap_value(uid, "all")  # consent
    await h.tap_nav(uid, "details")
    await h.tap_value(uid, "Doha")
    await h.tap_value(uid, "months")
    await h.say(uid, "12")
    for step in ("employer", "agency"):
        assert await question(h, uid) == tr(lang, QUESTION[step])
        await h.say(uid, MARKERS[step])
    await h.say(uid, "4800")  # wages
    assert await question(h, uid) == tr(lang, QUESTION["worker_name"])
    await h.say(uid, MARKERS["worker_name"])
    await h.say(uid, MARKERS["description"])
    await h.tap_nav(uid, "done")
    assert await question(h, uid) == tr(lang, QUESTION["sector"])


def leaks(found: list[tuple[bytes, bytes]], uid: int) -> list[str]:
    needles = [m.encode() for m in MARKERS.values()] + [str(uid).encode(), b"3312"]
    needles += [m.lower().encode() for m in MARKERS.values()]
    return [
        f"{name!r} holds {needle!r}"
        for name, value in found
        for needle in needles
        if needle in name or needle in value
    ]


async def test_a_draft_in_redis_holds_no_personal_data_in_clear(
    database_url: str, redis_user: tuple[int, Any]
) -> None:
    uid, redis = redis_user
    clock, key = FakeClock(), generate_key()
    async with running(database_url, clock, key) as h:
        await fill_draft(h, uid, "ne")
        found = await everything_in(redis)
        mine = [(name, value) for name, value in found if name.startswith(key_prefix(uid).encode())]
        assert {name for name, _ in mine} == {
            f"{key_prefix(uid)}:state".encode(),
            f"{key_prefix(uid)}:data".encode(),
        }
        assert leaks(found, uid) == []
        # Encrypted with the configured key, and complete.
        data = KeyRing([key], HASH_KEY).decrypt(
            (await redis.get(f"{key_prefix(uid)}:data")).decode()
        )
        for marker in ("employer", "agency", "worker_name", "description"):
            assert MARKERS[marker] in data
        # It expires with the draft, counted from the last change.
        expiry = h.app.config.bot.draft_expiry_hours * 3600
        for part in ("state", "data"):
            ttl = await redis.ttl(f"{key_prefix(uid)}:{part}")
            assert expiry - 600 < ttl <= expiry, (part, ttl)


def rotate_config(tmp_path: Path, database_url: str) -> Path:
    text = EXAMPLE.read_text()
    text = text.replace('storage = "database"', 'storage = "redis"').replace(
        'redis_url = "redis://127.0.0.1:6379/0"', f'redis_url = "{REDIS_URL}"'
    )
    text = text.replace('hash_key = ""', f'hash_key = "{HASH_KEY}"')
    text = text.replace('url = "sqlite+aiosqlite:///corridor.sqlite3"', f'url = "{database_url}"')
    path = tmp_path / "rotate.toml"
    path.write_text(text)
    return path


async def test_keys_rotate_re_encrypts_drafts_in_redis(
    database_url: str, redis_user: tuple[int, Any], tmp_path: Path
) -> None:
    uid, redis = redis_user
    clock, old = FakeClock(), generate_key()
    new = generate_key()
    async with running(database_url, clock, old) as h:
        await fill_draft(h, uid, "id")
    ttl_before = await redis.pttl(f"{key_prefix(uid)}:data")
    started = time.monotonic()

    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "--config",
        str(rotate_config(tmp_path, database_url)),
        "keys",
        "rotate",
        env={
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(tmp_path),
            "CORRIDOR_ENCRYPTION_KEYS": f"{new},{old}",
        },
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output = (await process.communicate())[0].decode()
    assert process.returncode == 0, output
    assert "re-encrypted 2 draft values in Redis" in output

    # The new key alone reads both values; the expiry is unchanged.
    for part in ("state", "data"):
        Fernet(new.encode()).decrypt(await redis.get(f"{key_prefix(uid)}:{part}"))
    # The expiry is kept, not renewed: what is left is what was left, less the time the
    # command took (which on a busy machine can be more than a minute).
    elapsed_ms = (time.monotonic() - started) * 1000
    ttl_after = await redis.pttl(f"{key_prefix(uid)}:data")
    assert ttl_before - elapsed_ms - 1000 <= ttl_after <= ttl_before, (ttl_before, ttl_after)
    # The bot, now with the new key only, resumes the draft.
    async with running(database_url, clock, new, keys=[new]) as h:
        await h.tg.create_user("Ram", language_code="id", user_id=uid, started=True)
        await h.say(uid, "/start")
        await h.press_data(uid, lambda data: data.split(":")[:2] == ["nav", "resume"])
        assert await question(h, uid) == tr("id", QUESTION["sector"])
