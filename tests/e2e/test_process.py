"""`corridor run` as a real process: unreachable Bot API, polling, graceful SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
from pathlib import Path

from bot.crypto import generate_key
from tests.support import EXAMPLE
from tgemulator.client import EmulatorClient
from tgemulator.server import start_emulator

TOKEN = "7000000009:AAHprocessPROCESSprocessPROCESS12345"


def environment(tmp_path: Path, api: str) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "CORRIDOR_TELEGRAM_TOKEN": TOKEN,
        "CORRIDOR_TELEGRAM_API_BASE_URL": api,
        "CORRIDOR_ENCRYPTION_KEYS": generate_key(),
        "CORRIDOR_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'run.sqlite3'}",
    }


async def start(tmp_path: Path, api: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "--config",
        str(EXAMPLE),
        "run",
        env=environment(tmp_path, api),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )


async def read_until(process: asyncio.subprocess.Process, needle: str, limit: float = 60) -> str:
    seen = []

    async def reader() -> None:
        while True:
            line = await process.stdout.readline()
            if not line:
                raise AssertionError("process ended before " + repr(needle) + ":\n" + "".join(seen))
            seen.append(line.decode())
            if needle in seen[-1]:
                return

    await asyncio.wait_for(reader(), limit)
    return "".join(seen)


async def exit_status(process: asyncio.subprocess.Process, limit: float) -> tuple[int, str]:
    """How a signalled process ended, and what it wrote meanwhile. Its output is read to
    the end while it stops: a process whose pipe nobody reads blocks on a full one and
    never exits."""
    output = (await asyncio.wait_for(process.stdout.read(), limit)).decode()
    return await asyncio.wait_for(process.wait(), limit), output


async def test_unreachable_api_is_retried_and_sigterm_stops_cleanly(tmp_path: Path) -> None:
    process = await start(tmp_path, "http://127.0.0.1:9")
    try:
        output = await read_until(process, "unreachable")
        assert "retrying in" in output and "Traceback" not in output
        process.send_signal(signal.SIGTERM)
        status, output = await exit_status(process, 30)
        assert status == 0, output[-3000:]
    finally:
        if process.returncode is None:
            process.kill()


async def test_polling_answers_and_sigterm_finishes_in_flight_work(tmp_path: Path) -> None:
    server = await start_emulator()
    tg = EmulatorClient(server.base_url, TOKEN)
    process = await start(tmp_path, server.base_url)
    try:
        output = await read_until(process, "Start polling")
        # As deployed: the bot's loop is uvloop's (installed with it on Linux).
        assert "event loop: uvloop" in output
        user = (await tg.create_user("Process user"))["id"]
        sent = await tg.send_message(user, "/help")
        reply = await tg.wait_for_message(user, after_message_id=sent["message_id"], timeout=30)
        assert "help contacts" in reply["text"]
        await tg.send_message(user, "/status")
        process.send_signal(signal.SIGTERM)
        status, output = await exit_status(process, 30)
        assert status == 0, output[-3000:]
        texts = [m.get("text") for m in await tg.transcript(user) if m.get("from_bot")]
        # Either the update was in flight and got its answer before exit, or it had not
        # been fetched yet and waits in Telegram's queue for the next start: never lost.
        pending = await tg.pending_updates()
        assert texts[-1] == "You have no cases yet." or any(
            (u.get("message") or {}).get("text") == "/status" for u in pending
        )
    finally:
        if process.returncode is None:
            process.kill()
        await tg.close()
        await server.close()


def fast_tick_config(tmp_path: Path) -> Path:
    """The example configuration with the clock turning every half second."""
    text = EXAMPLE.read_text().replace("tick_seconds = 5", "tick_seconds = 0.5")
    assert "tick_seconds = 0.5" in text
    path = tmp_path / "fast-tick.toml"
    path.write_text(text)
    return path


async def test_sigterm_during_a_timer_tick_shuts_down_without_a_traceback(
    tmp_path: Path,
) -> None:
    """A tick of the clock is running (held up on the database's write lock, as behind a
    long update) when SIGTERM comes: the clock stops first and its turn is let finish, then
    delivery drains, then the database closes; nothing is cancelled under a running tick,
    and the log shows no traceback (with APScheduler it showed a CancelledError one)."""
    server = await start_emulator()
    env = environment(tmp_path, server.base_url)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "--config",
        str(fast_tick_config(tmp_path)),
        "run",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    database = tmp_path / "run.sqlite3"
    lock = None
    try:
        output = await read_until(process, "Start polling")
        # Hold SQLite's write lock, as a long update would: the clock's next turn (every
        # half second) waits for it, inside its transaction.
        lock = await asyncio.to_thread(
            sqlite3.connect,
            str(database),
            timeout=30,
            isolation_level=None,
            check_same_thread=False,
        )
        await asyncio.to_thread(lock.execute, "BEGIN IMMEDIATE")
        await asyncio.sleep(2)  # several turns of the clock: one is surely waiting
        process.send_signal(signal.SIGTERM)
        output += await read_until(process, "Polling stopped")
        await asyncio.to_thread(lock.execute, "COMMIT")
        status, rest = await exit_status(process, 60)
        output += rest
        assert status == 0, output
        assert "Traceback" not in output, output
        assert "CancelledError" not in output, output
        assert " ERROR " not in output, output
    finally:
        if lock is not None:
            lock.close()
        if process.returncode is None:
            process.kill()
        await server.close()
