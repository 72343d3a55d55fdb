"""Timers under load: do they keep time while the bot is busy?

The real bot (Harness, real clock, the clock loop running every `tick_seconds` as in a
deployment) gets --timers timers due one after another over the run, while --users users
send /start, --concurrency at a time, for as long as the timers span. For each timer: how
late it fired after its due time; and how many turns the clock loop made against the
number the run's length allows (a turn is never skipped, only delayed).

    .venv/bin/python bench/timers.py [--timers 20] [--spacing 1.5] [--users 400] [--db sqlite|postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import PG_URL, median, percentile, quiet_logs, scratch_postgres, table, write_json


async def run(args: argparse.Namespace, url: str) -> dict[str, Any]:
    from sqlalchemy import select

    from bot.clock import SystemClock
    from bot.domain import timers
    from corridor_dev.harness import Harness
    from models import Timer

    h = await Harness.start(url, clock=SystemClock())  # type: ignore[arg-type]
    try:
        domain = h.app.domain
        start = domain.now() + dt.timedelta(seconds=3)
        async with domain.transaction() as session:
            for n in range(args.timers):
                due = start + dt.timedelta(seconds=n * args.spacing)
                timers.schedule(session, domain, "bench", due, payload={"n": n})
        turns = 0
        original = h.app.run_duties

        async def counted() -> int:
            nonlocal turns
            turns += 1
            return await original()

        h.app.run_duties = counted  # type: ignore[method-assign]
        await h.app.start_background()
        users = [
            (await h.tg.create_user(f"T{i}", language_code="en"))["id"] for i in range(args.users)
        ]
        gate = asyncio.Semaphore(args.concurrency)
        span = 3 + args.timers * args.spacing + 2

        async def one(uid: int) -> None:
            async with gate:
                sent = await h.tg.send_message(uid, "/start")
                with contextlib.suppress(TimeoutError):
                    await h.tg.wait_for_message(
                        uid, after_message_id=sent["message_id"], timeout=60
                    )

        began = time.monotonic()
        load = asyncio.gather(*(one(u) for u in users))
        await asyncio.sleep(span)
        elapsed = time.monotonic() - began
        turns_in_span = turns
        with contextlib.suppress(Exception):
            await asyncio.wait_for(load, 120)

        async def bench_timers() -> list[Timer]:
            async with domain.sessions() as session:
                return list(await session.scalars(select(Timer).where(Timer.kind == "bench")))

        # The last timers fall due near the end: they get two more turns of the clock
        # rather than being counted as never fired.
        settle_until = time.monotonic() + 2 * h.app.config.bot.tick_seconds
        rows = await bench_timers()
        while any(t.fired_at is None for t in rows) and time.monotonic() < settle_until:
            await asyncio.sleep(0.2)
            rows = await bench_timers()
        await h.app.stop_background()
    finally:
        await h.stop(check_privacy=False)
    late = [(t.fired_at - t.due_at).total_seconds() for t in rows if t.fired_at is not None]
    tick = h.app.config.bot.tick_seconds
    return {
        "timers": args.timers,
        "fired": len(late),
        "late_median_s": median(late),
        "late_p99_s": percentile(late, 99),
        "late_max_s": max(late, default=float("nan")),
        "tick_seconds": tick,
        "clock_turns": turns_in_span,
        "turns_the_run_allows": int(elapsed // tick) + 1,
        "updates_sent": args.users,
    }


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    quiet_logs()
    print(f"load average before start: {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory(prefix="bench-timers-") as workdir:
        if args.db == "postgres":
            async with scratch_postgres("bench_timers", PG_URL) as url:
                return await run(args, url)
        return await run(args, f"sqlite+aiosqlite:///{Path(workdir) / 'timers.sqlite3'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timers", type=int, default=20)
    parser.add_argument("--spacing", type=float, default=1.5)
    parser.add_argument("--users", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--json")
    args = parser.parse_args()
    result = asyncio.run(main_async(args))
    rows = [
        [k.replace("_", " "), f"{v:.2f}" if isinstance(v, float) else v] for k, v in result.items()
    ]
    print(table(["", args.db], rows, title="timers while the bot is busy"))
    write_json(args.json, result)


if __name__ == "__main__":
    main()
