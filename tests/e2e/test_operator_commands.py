"""Operator commands against the database of a running bot: nobody hits "database is locked".

SQLite has one write lock, and every update the bot handles takes it for its transaction.
The read-only commands (network dump, audit verify, digest, the reads of an export) open
SQLite read-only, so they neither take nor wait for it; commands that write (the audit
record of an export, digest --send, keys rotate) take it for short transactions only.
The commands run as real processes (`python -m bot …`) while the bot handles updates.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.clock import utcnow
from bot.crypto import generate_key
from bot.domain import cases, claims
from bot.i18n import tr
from corridor_dev.harness import Harness
from models import Person
from tests.support import EXAMPLE, PG_URL, wage_report

KEY = generate_key()
LOCKED = "database is locked"


@pytest.fixture
async def harness(database_url: str) -> AsyncIterator[Harness]:
    # The outbox is flushed by settle(): when idle, the bot does not touch the database.
    running = await Harness.start(database_url, encryption_key=KEY, background_sender=False)
    try:
        yield running
    finally:
        await running.stop()


async def corridor(tmp_path: Path, database_url: str, *args: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "--config",
        str(EXAMPLE),
        *args,
        env={
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(tmp_path),
            "CORRIDOR_ENCRYPTION_KEYS": KEY,
            "CORRIDOR_HASH_KEY": "harness",
            "CORRIDOR_DATABASE_URL": database_url,
            "CORRIDOR_EXPORT_PASSPHRASE": "a passphrase long enough",
        },
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output = (await asyncio.wait_for(process.communicate(), 300))[0].decode()
    return process.returncode, output


async def busy_reporter(h: Harness, name: str, rounds: int, done: asyncio.Event) -> int:
    """A reporter whose case Ramesh owns, writing to it (each message a write transaction
    with a relay to the owner) until told to stop; returns how many were relayed."""
    uid = (await h.tg.create_user(name, language_code="en", started=True))["id"]
    domain = h.app.domain
    async with domain.sessions() as session, session.begin():
        reporter = await cases.reporter_for(session, domain, uid, uid, "en")
        case = await cases.submit_report(session, domain, reporter, wage_report(language="en"))
        ramesh = await session.get(Person, "ramesh")
        await claims.claim(session, domain, case.id, ramesh, h.groups["qa-workers-centre"])
    await h.settle()
    sent = tr("en", "Sent to your helper (case {code}).", code=case.code)
    count = 0
    while count < rounds or not done.is_set():
        await h.say(uid, f"Update number {count} from {name}")
        assert await h.last_bot_text(uid) == sent
        count += 1
    return count


def problems(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        f"{r.name}: {r.getMessage()[:200]}"
        for r in caplog.records
        if r.levelno >= logging.ERROR or LOCKED in r.getMessage()
    ]


async def test_commands_run_while_the_bot_works(
    harness: Harness, database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    h = harness
    caplog.set_level(logging.INFO)
    done = asyncio.Event()
    workers = [
        asyncio.create_task(busy_reporter(h, f"Worker {n}", rounds=3, done=done)) for n in range(2)
    ]
    await asyncio.sleep(0)
    commands = [
        ("network", "dump", "--out", "network.toml"),
        ("audit", "verify"),
        ("digest", "--now"),
        ("digest", "--now", "--send"),
        ("export", "--format", "csv", "--out", "stats.csv"),
        ("export", "--format", "json", "--audience", "partner", "--out", "stats.json"),
        ("export", "--full", "--out", "full.bin"),
        ("keys", "rotate"),
    ]
    try:
        results = await asyncio.gather(
            *(corridor(tmp_path, database_url, *command) for command in commands)
        )
    finally:
        done.set()
    relayed = await asyncio.gather(*workers)
    for command, (status, output) in zip(commands, results, strict=True):
        assert status == 0, f"{command}: {output}"
        assert LOCKED not in output, f"{command}: {output}"
    assert all(count >= 3 for count in relayed)
    assert (tmp_path / "network.toml").read_text().startswith("#")
    assert (tmp_path / "stats.csv").exists() and (tmp_path / "full.bin").stat().st_size > 0
    # The digests queued by --send (on the real clock) reach the coordinators through the
    # running bot.
    h.clock.set(utcnow())
    await h.settle()
    assert any("📊" in text for text in await h.bot_texts(h.staff["sita"]))
    assert problems(caplog) == []


@pytest.mark.skipif(bool(PG_URL), reason="SQLite's single write lock")
async def test_read_only_commands_do_not_wait_for_the_write_lock(
    harness: Harness, database_url: str, tmp_path: Path
) -> None:
    """The bot is in the middle of a long update (here: the write lock held by the test):
    reports still run, instead of waiting 30 seconds and failing with "database is
    locked"; and once the update is over, the bot goes on as before."""
    h = harness
    uid = await h.user("Before")
    await h.say(uid, "/help")
    path = database_url.split("///", 1)[1]
    lock = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    try:
        await asyncio.to_thread(lock.execute, "BEGIN IMMEDIATE")
        commands = [
            ("network", "dump", "--out", "network.toml"),
            ("audit", "verify"),
            ("digest", "--now"),
        ]
        results = await asyncio.gather(
            *(corridor(tmp_path, database_url, *command) for command in commands)
        )
        await asyncio.to_thread(lock.execute, "COMMIT")
    finally:
        lock.close()
    for command, (status, output) in zip(commands, results, strict=True):
        assert status == 0, f"{command}: {output}"
        assert LOCKED not in output
    assert "audit trail intact" in results[1][1]
    assert "Sita" in results[2][1]
    await h.say(uid, "/status")
    assert await h.last_bot_text(uid) == tr("en", "You have no cases yet.")
