"""The guided report, step by step, next to a bare aiogram echo bot on the same emulator.

--users reporters (at most --concurrency at a time) each open the report from the menu and
answer it to the end as a hurried person would: the first offered answer, "Done" or "Skip"
where there is one, a short text where the question wants words, then "Send report". One
step = one tap or typed answer; its latency runs until the bot has answered it: for a tap,
the callback's answer (sent once the step is committed; the next question follows it
through the outbox), for a typed answer, the next message. The steps' rate is
set against the echo bot's rate for plain messages, measured in the same run.

    .venv/bin/python bench/report_steps.py [--users 100] [--concurrency 50] [--db sqlite|postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import PG_URL, ms, percentile, quiet_logs, scratch_postgres, table, write_json
from roundtrip import echo_updates, summary

from tests.support import ReportPlayer, Step, play_report


async def walk(h: Any, uid: int, latencies: list[float]) -> int:
    """One report from the menu to "Send report" (tests.support's hurried player); returns
    the number of steps."""
    steps = 0

    async def act(uid: int, step: Step, message: dict[str, Any] | None) -> None:
        nonlocal steps
        started = time.perf_counter()
        if step.data is None:
            sent = await h.tg.send_message(uid, step.text)
            await h.tg.wait_for_message(uid, after_message_id=sent["message_id"], timeout=60)
        else:
            query = await h.tg.press_button(uid, uid, message["message_id"], data=step.data)
            await h.tg.get_callback_answer(query, timeout=60)
        if not step.opening:  # getting to the report is not a step
            latencies.append(time.perf_counter() - started)
            steps += 1
        # The next question (sent after the step's commit, or the same one changed in place).
        await asyncio.sleep(0.05)

    await play_report(h, uid, "report", ReportPlayer(), act=act)
    return steps


async def corridor_steps(args: argparse.Namespace) -> dict[str, Any]:
    from corridor_dev.harness import Harness

    with tempfile.TemporaryDirectory(prefix="bench-steps-") as workdir:
        async with contextlib.AsyncExitStack() as stack:
            if args.db == "postgres":
                url = await stack.enter_async_context(scratch_postgres("bench_steps", PG_URL))
            else:
                url = f"sqlite+aiosqlite:///{Path(workdir) / 'corridor.sqlite3'}"
            h = await Harness.start(url)
            try:
                users = [
                    (await h.tg.create_user(f"R{i}", language_code="en"))["id"]
                    for i in range(args.users)
                ]
                latencies: list[float] = []
                counts: list[int] = []
                gate = asyncio.Semaphore(args.concurrency)

                async def one(uid: int) -> None:
                    async with gate:
                        counts.append(await walk(h, uid, latencies))

                began, cpu = time.perf_counter(), time.process_time()
                await asyncio.gather(*(one(u) for u in users))
                elapsed = time.perf_counter() - began
                row = summary(
                    f"Corridor report steps x{args.concurrency}",
                    latencies,
                    elapsed,
                    time.process_time() - cpu,
                    len(latencies),
                )
                row["steps_per_report"] = sum(counts) / len(counts)
                return row
            finally:
                await h.stop()


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    quiet_logs()
    print(f"load average before start: {os.getloadavg()[0]:.2f}")
    echo = await echo_updates(args.users, args.concurrency, 10)
    steps = await corridor_steps(args)
    rows = [*echo, steps]
    print(
        table(
            ["", "count", "per s", "CPU ms each", "median ms", "p99 ms"],
            [
                [
                    r["name"],
                    r["count"],
                    f"{r['per_s']:.0f}",
                    f"{r['cpu_ms_each']:.2f}",
                    ms(r["median_s"]),
                    ms(percentile([r["p99_s"]], 100)),
                ]
                for r in rows
            ],
            title=f"guided report ({args.db}), {args.users} reporters, "
            f"{steps['steps_per_report']:.1f} steps each",
        )
    )
    print(
        f"\nratio of the report steps' rate to the echo bot's: {steps['per_s'] / echo[1]['per_s']:.2f}"
    )
    return {"echo": echo, "steps": steps, "db": args.db}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--json")
    args = parser.parse_args()
    result = asyncio.run(main_async(args))
    write_json(args.json, result)


if __name__ == "__main__":
    main()
