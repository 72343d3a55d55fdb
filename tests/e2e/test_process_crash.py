"""`corridor run` killed with SIGKILL between the commit and the delivery: after a restart the
committed message goes out within seconds, and the case exists once."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from models import Case
from models.db import make_engine, make_sessionmaker
from tests.e2e.test_process import TOKEN, environment, exit_status, read_until
from tests.support import EXAMPLE
from tgemulator.client import EmulatorClient
from tgemulator.server import start_emulator


async def launch(env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "--config",
        str(EXAMPLE),
        "run",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )


async def confirmation(tg: EmulatorClient, user: int) -> bool:
    return any(
        "SOS sent" in (m.get("text") or "") for m in await tg.transcript(user) if m.get("from_bot")
    )


async def test_a_confirmation_committed_before_a_kill_is_sent_after_the_restart(
    tmp_path: Path,
) -> None:
    server = await start_emulator()
    tg = EmulatorClient(server.base_url, TOKEN)
    processes = []
    env = environment(tmp_path, server.base_url)  # one key for both lives of the process
    try:
        first = await launch(env)
        processes.append(first)
        await read_until(first, "Start polling")
        worker = (await tg.create_user("Worker", started=True))["id"]
        sent = await tg.send_message(worker, "/sos")
        question = await tg.wait_for_message(
            worker, after_message_id=sent["message_id"], timeout=30
        )
        # The answer to the confirmation hangs: the process is killed while it waits.
        await tg.fail_next("sendMessage", chat_id=worker, error_code=0, delay=120)
        before = (await tg.stats()).get("sendMessage", 0)
        await tg.press_button(worker, worker, question["message_id"], data="sos:QA")
        for _ in range(300):
            if (await tg.stats()).get("sendMessage", 0) > before:
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the confirmation was never sent")
        first.kill()
        await first.wait()
        assert not await confirmation(tg, worker)

        second = await launch(env)
        processes.append(second)
        await read_until(second, "Start polling")
        ready_at = time.monotonic()
        for _ in range(1200):
            if await confirmation(tg, worker):
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the confirmation was not sent after the restart")
        # Leases last seconds, not minutes (they were ten minutes once), and a restarted
        # process does not wait for the dead one's to run out (SQLite: it takes them back as
        # it starts; PostgreSQL: the dead process's lease lock is free).
        assert time.monotonic() - ready_at < 60
        second.send_signal(signal.SIGTERM)
        status, output = await exit_status(second, 30)
        assert status == 0, output[-3000:]
    finally:
        for process in processes:
            if process.returncode is None:
                process.kill()
                await process.wait()
        await tg.close()
        await server.close()
    engine = make_engine(env["CORRIDOR_DATABASE_URL"])
    try:
        async with make_sessionmaker(engine)() as session:
            assert await session.scalar(select(func.count()).select_from(Case)) == 1
    finally:
        await engine.dispose()


async def test_an_update_killed_before_its_commit_is_handled_after_the_restart(
    tmp_path: Path,
) -> None:
    """Telegram is told an update is done (the getUpdates offset) only once it committed:
    a process killed while the update waits for the database gets it again on restart."""
    server = await start_emulator()
    tg = EmulatorClient(server.base_url, TOKEN)
    processes = []
    env = environment(tmp_path, server.base_url)
    database = env["CORRIDOR_DATABASE_URL"].split("///", 1)[1]
    lock = None
    try:
        first = await launch(env)
        processes.append(first)
        await read_until(first, "Start polling")
        worker = (await tg.create_user("Worker", started=True))["id"]
        # The bot's next transaction waits on SQLite's write lock, held here.
        lock = sqlite3.connect(database, timeout=30, isolation_level=None)
        lock.execute("BEGIN IMMEDIATE")
        sent = await tg.send_message(worker, "/start")
        await asyncio.sleep(2)  # fetched, and the next long poll is out
        waiting = [u["update_id"] for u in await tg.pending_updates()]
        assert any(
            (u.get("message") or {}).get("message_id") == sent["message_id"]
            for u in await tg.pending_updates()
        ), f"confirmed while still being handled: {waiting}"
        first.kill()
        await first.wait()
        lock.execute("ROLLBACK")
        lock.close()
        lock = None

        second = await launch(env)
        processes.append(second)
        await read_until(second, "Start polling")
        reply = await tg.wait_for_message(
            worker, contains="Welcome", after_message_id=sent["message_id"], timeout=60
        )
        assert reply["text"].startswith("Welcome")
        second.send_signal(signal.SIGTERM)
        status, output = await exit_status(second, 30)
        assert status == 0, output[-3000:]
    finally:
        if lock is not None:
            lock.close()
        for process in processes:
            if process.returncode is None:
                process.kill()
                await process.wait()
        await tg.close()
        await server.close()
