"""Corridor and a bare aiogram echo bot, each run as its own process, as a deployment runs.

The emulator (standing in for Telegram's Bot API server) and the simulated users share this
process; each bot is a separate process polling it over HTTP: `corridor run` with the
example network, and bench/echo_bot.py. For each bot, --users people act, --concurrency at
a time:
- `/start`: each sends /start (the echo bot: a text) and waits for the answer;
- report steps (Corridor): each opens the guided report and answers it to the end, as
  bench/report_steps.py does (tests.support's hurried player).

Per row: updates/s, latency (send → answer seen), and the bot process's own CPU per update
(/proc: user + system time of the bot process, threads included), so the emulator's and the
users' work is not charged to the bot. The ratio goals of issue 10 set Corridor's rate
against the echo bot's, measured in the same run.

On a 2-core machine the bot has one core and the emulator with the users the other: when
the emulator's core is the one that is full, a rate says more about it than about the bot,
so compare the CPU per update too.

    .venv/bin/python bench/process_ratio.py [--users 200] [--concurrency 50] [--db sqlite|postgres]
        [--rounds 1] [--echo-loop asyncio|uvloop]

With --rounds N both bots run throughout and are measured alternately N times (new people
each round); each round's ratios are against the echo bot measured just before, and their
median is given too: on a machine whose speed drifts from minute to minute that says more
than one run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from _common import ROOT, ms, percentile, quiet_logs, table, write_json
from crash import (
    BotProcess,
    config_file,
    corridor_env,
    corridor_run,
    emulate_network,
    on_database,
)

from tests.support import ReportPlayer, Step, play_report

CORRIDOR_TOKEN = "7000000011:AAHratioRATIOratioRATIOratio1234567"
ECHO_TOKEN = "7000000012:AAHechoECHOechoECHOechoECHO12345678"
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


class MeasuredBot(BotProcess):
    """A bot process whose CPU time can be read, running for the ``async with`` block."""

    @property
    def cpu(self) -> float:
        return cpu_seconds(self.process.pid)

    async def __aenter__(self) -> MeasuredBot:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.stop()


async def measure(
    name: str, bot: MeasuredBot, people: list[int], concurrency: int, one: Any
) -> dict[str, Any]:
    latencies: list[float] = []
    gate = asyncio.Semaphore(concurrency)

    async def person(uid: int) -> None:
        async with gate:
            await one(uid, latencies)

    began, cpu = time.perf_counter(), bot.cpu
    await asyncio.gather(*(person(uid) for uid in people))
    elapsed, used = time.perf_counter() - began, bot.cpu - cpu
    count = len(latencies)
    return {
        "name": name,
        "count": count,
        "per_s": count / elapsed,
        "bot_cpu_ms_each": used / count * 1000,
        "median_s": sorted(latencies)[count // 2],
        "p99_s": percentile(latencies, 99),
    }


def answered_text(tg: Any, text: str, expect: str) -> Any:
    async def one(uid: int, latencies: list[float]) -> None:
        started = time.perf_counter()
        sent = await tg.send_message(uid, text)
        await tg.wait_for_message(
            uid, contains=expect, after_message_id=sent["message_id"], timeout=120
        )
        latencies.append(time.perf_counter() - started)

    return one


def report_steps(tg: Any) -> Any:
    harness = SimpleNamespace(tg=tg)

    async def act(uid: int, step: Step, message: dict[str, Any] | None, latencies: list) -> None:
        started = time.perf_counter()
        if step.data is None:
            sent = await tg.send_message(uid, step.text)
            await tg.wait_for_message(uid, after_message_id=sent["message_id"], timeout=120)
        else:
            query = await tg.press_button(uid, uid, message["message_id"], data=step.data)
            await tg.get_callback_answer(query, timeout=120)
        if not step.opening:
            latencies.append(time.perf_counter() - started)
        await asyncio.sleep(0.05)  # the next question follows the answer through the outbox

    async def one(uid: int, latencies: list[float]) -> None:
        async def step(uid: int, step: Step, message: dict[str, Any] | None) -> None:
            await act(uid, step, message, latencies)

        await play_report(harness, uid, "report", ReportPlayer(), act=step)  # type: ignore[arg-type]

    return one


async def run(args: argparse.Namespace, database_url: str, folder: Path) -> list[dict[str, Any]]:
    from tgemulator.client import EmulatorClient
    from tgemulator.server import start_emulator

    server = await start_emulator()
    rows: list[dict[str, Any]] = []
    try:
        echo_tg = EmulatorClient(server.base_url, ECHO_TOKEN)
        tg = EmulatorClient(server.base_url, CORRIDOR_TOKEN)
        _groups, chat_ids = await emulate_network(tg)
        echo = MeasuredBot(
            [
                sys.executable,
                str(ROOT / "bench" / "echo_bot.py"),
                server.base_url,
                ECHO_TOKEN,
                *(["uvloop"] if args.echo_loop == "uvloop" else []),
            ],
            {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(ROOT)},
        )
        corridor = MeasuredBot(
            corridor_run(config_file(folder, chat_ids)),
            corridor_env(folder, server.base_url, CORRIDOR_TOKEN, database_url),
        )
        # Both run throughout (the one not measured waits in a long poll, idle): each round
        # measures the echo bot just before Corridor, so a machine's slower minutes weigh on
        # both sides of that round's ratios.
        async with echo, corridor:
            for round_ in range(1, args.rounds + 1):
                echo_people = [
                    (await echo_tg.create_user(f"E{round_}.{i}", started=True))["id"]
                    for i in range(args.users)
                ]
                starters = [
                    (await tg.create_user(f"S{round_}.{i}", language_code="en"))["id"]
                    for i in range(args.users)
                ]
                reporters = [
                    (await tg.create_user(f"R{round_}.{i}", language_code="en"))["id"]
                    for i in range(args.reporters)
                ]
                for name, bot, people, one in (
                    (
                        f"echo bot, a text ({args.echo_loop})",
                        echo,
                        echo_people,
                        answered_text(echo_tg, "hello", "hello"),
                    ),
                    (
                        "Corridor /start",
                        corridor,
                        starters,
                        answered_text(tg, "/start", "Welcome to Corridor"),
                    ),
                    ("Corridor report steps", corridor, reporters, report_steps(tg)),
                ):
                    row = await measure(name, bot, people, args.concurrency, one)
                    rows.append({**row, "round": round_})
        await echo_tg.close()
        await tg.close()
    finally:
        await server.close()
    return rows


def ratios(rows: list[dict[str, Any]]) -> dict[str, list[tuple[float, float]]]:
    """Per Corridor row name, each round's (rate ÷ the echo bot's, the echo bot's CPU per
    update ÷ Corridor's), against the echo bot of the same round."""
    echo = {r["round"]: r for r in rows if r["name"].startswith("echo bot")}
    found: dict[str, list[tuple[float, float]]] = {}
    for row in rows:
        if row["name"].startswith("echo bot"):
            continue
        reference = echo[row["round"]]
        found.setdefault(row["name"], []).append(
            (
                row["per_s"] / reference["per_s"],
                reference["bot_cpu_ms_each"] / row["bot_cpu_ms_each"],
            )
        )
    return found


async def main_async(args: argparse.Namespace) -> list[dict[str, Any]]:
    quiet_logs()
    return await on_database(args.db, "ratio", lambda url, folder: run(args, url, folder))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=200, help="people sending /start")
    parser.add_argument("--reporters", type=int, default=60, help="people filing a report")
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument(
        "--rounds", type=int, default=1, help="measure both bots this many times, alternately"
    )
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument(
        "--echo-loop",
        choices=["asyncio", "uvloop"],
        default="asyncio",
        help="the echo bot's event loop: asyncio's own (the bare reference), or uvloop's as "
        "`corridor run` uses where it is installed",
    )
    parser.add_argument("--json")
    args = parser.parse_args()
    print(f"load average before start: {os.getloadavg()[0]:.2f}")
    rows = asyncio.run(main_async(args))
    print(
        table(
            ["", "round", "count", "per s", "bot CPU ms each", "median ms", "p99 ms"],
            [
                [
                    r["name"],
                    r["round"],
                    r["count"],
                    f"{r['per_s']:.0f}",
                    f"{r['bot_cpu_ms_each']:.1f}",
                    ms(r["median_s"]),
                    ms(r["p99_s"]),
                ]
                for r in rows
            ],
            title=f"each bot its own process ({args.db}), {args.concurrency} people at a time",
        )
    )
    print(
        "\nRatio to the echo bot of the same round (rate; and the echo bot's CPU per update ÷ "
        "the bot's), each round, then the median:"
    )
    for name, found in ratios(rows).items():
        each = "  ".join(f"{rate:.2f}/{cpu:.2f}" for rate, cpu in found)
        middle = (
            statistics.median(rate for rate, _ in found),
            statistics.median(cpu for _, cpu in found),
        )
        print(f"  {name:<24} {each}   median: rate {middle[0]:.2f}   CPU {middle[1]:.2f}")
    write_json(args.json, rows)


if __name__ == "__main__":
    main()
