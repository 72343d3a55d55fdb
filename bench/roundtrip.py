"""Round trips through the Bot API emulator, raw and through a bot.

(a) raw HTTP calls (getMe, sendMessage) against start_emulator() with aiohttp: calls/s and
    latency, one at a time and with a number of calls in flight;
(b) updates/s and per-update latency for a trivial command: N distinct users each send /start
    to the real Corridor bot (Harness: real dispatcher polling, SQLite file database), and,
    in the same run, N users send a text to a bare aiogram echo bot on its own emulator token.
    Latency = time from the start of EmulatorClient.send_message until wait_for_message returns
    the bot's reply to that message.

Emulator, bot and load generator share one process and one event loop (as in the harness), so
the numbers are the whole loop's cost on one core, not the bot's alone.

    .venv/bin/python bench/roundtrip.py [--n 300] [--concurrency 50] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from _common import PG_URL, median, ms, percentile, quiet_logs, scratch_postgres, table, write_json

RAW_TOKEN = "7100000001:AAbenchRAWroundTRIPraw0123456789ab"
ECHO_TOKEN = "7100000002:AAbenchECHObotECHObot0123456789ab"


def summary(
    name: str, latencies: list[float], elapsed: float, cpu: float, count: int
) -> dict[str, Any]:
    return {
        "name": name,
        "count": count,
        "elapsed_s": elapsed,
        "cpu_ms_each": cpu / count * 1000 if count else float("nan"),
        "per_s": count / elapsed if elapsed > 0 else float("nan"),
        "median_s": median(latencies),
        "p99_s": percentile(latencies, 99),
        "max_s": max(latencies) if latencies else float("nan"),
    }


async def run_load(
    name: str, count: int, concurrency: int, one: Callable[[int], Awaitable[None]]
) -> dict[str, Any]:
    """Runs one(i) for i in range(count), at most `concurrency` at a time; times each."""
    latencies: list[float] = []
    gate = asyncio.Semaphore(concurrency)

    async def timed(i: int) -> None:
        async with gate:
            started = time.perf_counter()
            await one(i)
            latencies.append(time.perf_counter() - started)

    began = time.perf_counter()
    cpu = time.process_time()
    await asyncio.gather(*(timed(i) for i in range(count)))
    return summary(name, latencies, time.perf_counter() - began, time.process_time() - cpu, count)


# --- (a) raw emulator round trip ----------------------------------------------------------


async def raw_roundtrip(calls: int, concurrency: int) -> list[dict[str, Any]]:
    import aiohttp

    from tgemulator.client import EmulatorClient
    from tgemulator.server import start_emulator

    server = await start_emulator()
    results = []
    try:
        async with EmulatorClient(server.base_url, RAW_TOKEN) as tg:
            user = await tg.create_user("Raw", started=True)
        base = f"{server.base_url}/bot{RAW_TOKEN}"
        connector = aiohttp.TCPConnector(limit=max(concurrency, 1))
        async with aiohttp.ClientSession(connector=connector) as http:

            async def get_me(_: int) -> None:
                async with http.post(f"{base}/getMe") as resp:
                    body = await resp.json()
                assert body["ok"], body

            async def send_message(i: int) -> None:
                payload = {"chat_id": user["id"], "text": f"ping {i}"}
                async with http.post(f"{base}/sendMessage", json=payload) as resp:
                    body = await resp.json()
                assert body["ok"], body

            for label, call in (("getMe", get_me), ("sendMessage", send_message)):
                await run_load("warm-up", 50, 1, call)
                results.append(await run_load(f"{label} x1", calls // 4, 1, call))
                results.append(await run_load(f"{label} x{concurrency}", calls, concurrency, call))
    finally:
        await server.close()
    return results


# --- (b) updates through a bot --------------------------------------------------------------


async def measure_bot(
    tg: Any, label: str, text: str, expect: str | None, n: int, concurrency: int, sequential: int
) -> list[dict[str, Any]]:
    """Each user sends `text` once; the latency is send → bot's reply visible."""
    users: list[int] = []
    gate = asyncio.Semaphore(20)

    async def make(i: int) -> None:
        async with gate:
            users.append((await tg.create_user(f"U{i}", language_code="en"))["id"])

    await asyncio.gather(*(make(i) for i in range(n + sequential + 10)))

    async def one(i: int) -> None:
        sent = await tg.send_message(users[i], text)
        await tg.wait_for_message(
            users[i], contains=expect, after_message_id=sent["message_id"], timeout=60
        )

    warm = await run_load("warm-up", 10, 1, lambda i: one(n + sequential + i))
    del warm
    await tg.wait_until_idle(timeout=30)
    seq = await run_load(f"{label} x1", sequential, 1, lambda i: one(n + i))
    await tg.wait_until_idle(timeout=30)
    burst = await run_load(f"{label} x{concurrency}", n, concurrency, one)
    await tg.wait_until_idle(timeout=60)
    return [seq, burst]


async def corridor_updates(
    n: int, concurrency: int, sequential: int, db: str
) -> list[dict[str, Any]]:
    from corridor_dev.harness import Harness

    with tempfile.TemporaryDirectory(prefix="bench-roundtrip-") as workdir:
        async with contextlib.AsyncExitStack() as stack:
            if db == "postgres":
                url = await stack.enter_async_context(scratch_postgres("bench_roundtrip", PG_URL))
            else:
                url = f"sqlite+aiosqlite:///{Path(workdir) / 'corridor.sqlite3'}"
            harness = await Harness.start(url)
            try:
                rows = await measure_bot(
                    harness.tg,
                    "Corridor /start",
                    "/start",
                    "Welcome to Corridor",
                    n,
                    concurrency,
                    sequential,
                )
                return rows + await measure_sos(harness, n, concurrency, sequential)
            finally:
                await harness.stop()


async def measure_sos(h: Any, n: int, concurrency: int, sequential: int) -> list[dict[str, Any]]:
    """The SOS, a report in two steps: /sos → the country question; the tap on the country →
    the case stored, "SOS sent" to the worker and the card in the destination's group."""
    tg = h.tg
    group = h.groups["qa-workers-centre"]
    users = [
        (await tg.create_user(f"S{i}", language_code="en", started=True))["id"]
        for i in range(n + sequential)
    ]
    questions: dict[int, int] = {}
    cards: list[float] = []
    confirmations: list[float] = []

    async def ask(i: int) -> None:
        sent = await tg.send_message(users[i], "/sos")
        question = await tg.wait_for_message(
            users[i], contains="Which country", after_message_id=sent["message_id"], timeout=60
        )
        questions[i] = question["message_id"]

    async def submit(i: int) -> None:
        pressed = time.perf_counter()
        await tg.press_button(users[i], users[i], questions[i], data="sos:QA")
        told = await tg.wait_for_message(
            users[i], contains="SOS sent", after_message_id=questions[i], timeout=60
        )
        confirmations.append(time.perf_counter() - pressed)
        code = told["text"].split("case code is ", 1)[1].split(".", 1)[0]
        await tg.wait_for_message(group, contains=code, timeout=60)
        cards.append(time.perf_counter() - pressed)

    rows = []
    for label, first, count, width in (
        ("x1", n, sequential, 1),
        (f"x{concurrency}", 0, n, concurrency),
    ):
        rows.append(
            await run_load(
                f"Corridor /sos {label}", count, width, lambda i, first=first: ask(first + i)
            )
        )
        await h.settle()
        cards.clear()
        confirmations.clear()
        submitted = await run_load(
            f"Corridor SOS tap {label}", count, width, lambda i, first=first: submit(first + i)
        )
        rows.append(submitted)
        rows.append(
            summary(
                f"SOS tap → confirmation {label}",
                list(confirmations),
                submitted["elapsed_s"],
                0.0,
                len(confirmations),
            )
        )
        rows.append(
            summary(
                f"SOS tap → card {label}",
                list(cards),
                submitted["elapsed_s"],
                0.0,
                len(cards),
            )
        )
        await h.settle()
    return rows


async def echo_updates(n: int, concurrency: int, sequential: int) -> list[dict[str, Any]]:
    from aiogram import Bot, Dispatcher
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer
    from aiogram.types import Message

    from tgemulator.client import EmulatorClient
    from tgemulator.server import start_emulator

    server = await start_emulator()
    bot = Bot(ECHO_TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(server.base_url)))
    dp = Dispatcher()

    @dp.message()
    async def echo(message: Message) -> None:
        await message.answer(message.text or "?")

    polling = asyncio.create_task(
        dp.start_polling(bot, handle_signals=False, close_bot_session=False, polling_timeout=1)
    )
    tg = EmulatorClient(server.base_url, ECHO_TOKEN)
    try:
        return await measure_bot(tg, "echo bot", "hello", "hello", n, concurrency, sequential)
    finally:
        with contextlib.suppress(RuntimeError):
            await dp.stop_polling()
        with contextlib.suppress(asyncio.CancelledError):
            await polling
        await bot.session.close()
        await tg.close()
        await server.close()


def render(rows: list[dict[str, Any]], unit: str, title: str) -> str:
    return table(
        ["", "count", f"{unit}/s", "CPU ms each", "median ms", "p99 ms", "max ms"],
        [
            [
                r["name"],
                r["count"],
                f"{r['per_s']:.0f}",
                f"{r['cpu_ms_each']:.2f}",
                ms(r["median_s"]),
                ms(r["p99_s"]),
                ms(r["max_s"]),
            ]
            for r in rows
        ],
        title=title,
    )


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    quiet_logs()
    print(
        f"load average before start: {os.getloadavg()[0]:.2f} "
        "(2-core machine: >1 means other work competes)"
    )
    raw = await raw_roundtrip(args.raw_calls, args.concurrency)
    print(
        render(
            raw,
            "calls",
            "(a) raw Bot API round trip against start_emulator() (aiohttp, same process)",
        )
    )
    print()
    echo = await echo_updates(args.n, args.concurrency, args.sequential)
    corridor = await corridor_updates(args.n, args.concurrency, args.sequential, args.db)
    rows = echo + corridor
    print(
        render(
            rows,
            "updates",
            f"(b) user message → bot reply, {args.n} distinct users in the burst rows "
            f"(x1 = one at a time, {args.sequential} users)",
        )
    )
    echo_rate = {"x1": echo[0]["per_s"], "burst": echo[1]["per_s"]}
    print(f"\nRatio to the echo bot's rate on the same emulator ({args.db}):")
    for row in corridor:
        if row["name"].startswith("SOS tap →"):
            continue
        burst = "x1" if row["name"].endswith(" x1") else "burst"
        print(f"  {row['name']:<28} {row['per_s'] / echo_rate[burst]:.2f}")
    emulator_p99 = next(r["p99_s"] for r in raw if r["name"] == "sendMessage x1")
    for row in corridor:
        if row["name"].startswith("SOS tap → card"):
            print(
                f"  {row['name']}: p99 {ms(row['p99_s'])} ms, the emulator's own sendMessage p99 "
                f"{ms(emulator_p99)} ms (upper bound: timed until the worker's confirmation and "
                "the card were both seen)"
            )
    print(
        "CPU ms each = CPU time of this whole process (bot + emulator + load generator, incl. "
        "SQLite threads) per update; latency = send_message start → reply seen by wait_for_message."
    )
    return {
        "raw": raw,
        "echo": echo,
        "corridor": corridor,
        "n": args.n,
        "concurrency": args.concurrency,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=300, help="users (updates) per bot in the burst")
    parser.add_argument(
        "--sequential", type=int, default=30, help="updates sent one at a time first"
    )
    parser.add_argument("--concurrency", type=int, default=50, help="messages in flight at once")
    parser.add_argument("--raw-calls", type=int, default=2000, help="raw Bot API calls per method")
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    started = time.perf_counter()
    result = asyncio.run(main_async(args))
    result["wall_s"] = time.perf_counter() - started
    print(f"(total {result['wall_s']:.1f}s)")
    write_json(args.json, result)


if __name__ == "__main__":
    main()
