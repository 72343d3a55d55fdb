"""How long until someone blocking the bot is acted on, in wall-clock time.

(a) An owner blocks the bot while holding an SOS: time until the case is back in the queue
    and until the coordinator's alert is in their chat.
(b) A reporter blocks the bot while their case is claimed: time until the owner is told.

Both through the real bot and the emulator (Harness, SQLite), --runs times each.

    .venv/bin/python bench/blocked_recipient.py [--runs 5] [--json FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from collections.abc import Awaitable, Callable

from _common import median, ms, quiet_logs, table, write_json

from corridor_dev.harness import Harness
from models.db import make_engine
from models.migrate import upgrade

QA = "qa-workers-centre"


async def until(check: Callable[[], Awaitable[bool]], began: float, limit: float = 60.0) -> float:
    while not await check():
        if time.perf_counter() - began > limit:
            return float("nan")
        await asyncio.sleep(0.01)
    return time.perf_counter() - began


async def owner_blocks(h: Harness, n: int) -> tuple[float, float]:
    worker = await h.user(f"Worker {n}")
    await h.say(worker, "/sos")
    await h.press_data(worker, lambda data: data == "sos:QA")
    code = (await h.case_codes())[-1]
    owner = h.staff["ramesh"]
    await h.claim(owner, h.groups[QA])
    alerts_before = len(await h.bot_texts(h.staff["sita"]))

    async def released() -> bool:
        async with h.app.domain.sessions() as session:
            from sqlalchemy import select

            from models import Case

            case = await session.scalar(select(Case).where(Case.code == code))
            return case is not None and case.owner_person_id is None

    async def alerted() -> bool:
        return any(code in t for t in (await h.bot_texts(h.staff["sita"]))[alerts_before:])

    began = time.perf_counter()
    await h.tg.block_bot(owner)
    back = await until(released, began)
    told = await until(alerted, began)
    return back, told


async def reporter_blocks(h: Harness, n: int) -> float:
    worker = await h.user(f"Reporter {n}")
    await h.say(worker, "/sos")
    await h.press_data(worker, lambda data: data == "sos:QA")
    code = (await h.case_codes())[-1]
    await h.claim(h.staff["aisha"], h.groups[QA])
    before = len(await h.bot_texts(h.staff["aisha"]))

    async def told() -> bool:
        return any(code in t for t in (await h.bot_texts(h.staff["aisha"]))[before:])

    began = time.perf_counter()
    await h.tg.block_bot(worker)
    return await until(told, began)


async def main(runs: int, json_path: str | None) -> None:
    quiet_logs()
    print(f"load average at start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as folder:
        owners, reporters = [], []
        for n in range(runs):
            # A fresh bot each run: the owner who blocked it is gone for good.
            url = f"sqlite+aiosqlite:///{folder}/bench{n}.sqlite3"
            engine = make_engine(url)
            await upgrade(engine)
            await engine.dispose()
            h = await Harness.start(url)
            try:
                owners.append(await owner_blocks(h, n))
                reporters.append(await reporter_blocks(h, n))
            finally:
                await h.stop()
    rows = [
        ("owner blocks → case back in the queue", ms(median([o[0] for o in owners]))),
        ("owner blocks → coordinator alerted", ms(median([o[1] for o in owners]))),
        ("reporter blocks → owner told", ms(median(reporters))),
    ]
    print(table([f"after a block (median of {runs})", "ms"], rows))
    write_json(
        json_path,
        {
            "owner_released_s": [o[0] for o in owners],
            "owner_alerted_s": [o[1] for o in owners],
            "reporter_owner_told_s": reporters,
        },
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json")
    args = parser.parse_args()
    asyncio.run(main(args.runs, args.json))
