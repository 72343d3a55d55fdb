"""kill -9 in the middle of many SOS or report conversations: what survives.

`corridor run` runs as its own process against the emulator (in this process). --users
workers each send /sos and tap their country (the two-tap SOS: a case, a card to the
responders' group, a confirmation to the worker), --concurrency at a time; with --flow
report each files the guided report instead, from /start to "Send report" as a hurried
person would (tests.support's player: about ten steps, "Your report is registered" at the
end). Meanwhile the bot is killed with SIGKILL every few seconds (--kills times, at random
moments) and started again at once. A worker who hears nothing within --patience seconds
taps again, as people do.

Afterwards, from the emulator's chats and the database:
- confirmations without a stored case (goal 0): a code a worker was told that no case has;
- duplicated cases (goal 0): workers with more than one case;
- cards delivered twice (goal 0, reported): a case with more than one card message;
- confirmations delivered twice (reported): the same code told twice to a worker;
- the longest delay of a card that was waiting when the bot was killed, counted from the
  kill (the restart is spawned at once; goal under 10 s);
- retries: taps a worker had to make again because nothing came back, an update lost.

With --mode webhook the bot takes its updates on a webhook the emulator posts to (and posts
again until it is answered), instead of polling.

    .venv/bin/python bench/crash.py [--users 300] [--concurrency 20] [--kills 8] [--db sqlite|postgres]
        [--mode polling|webhook] [--flow sos|report]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import os
import random
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from _common import PG_URL, ROOT, scratch_postgres, table, write_json

from tests.support import ReportPlayer, Step, free_port, in_webhook_mode, play_report

TOKEN = "7000000009:AAHprocessPROCESSprocessPROCESS12345"
FIRST_USER = 6_300_000_001
FAILURES: Counter[str] = Counter()
CODE = re.compile(r"case code is (\S+?)\.")


WEBHOOK_SECRET = "crash-webhook-secret-0123456789"


def config_file(folder: Path, chat_ids: dict[int, int], webhook_port: int | None = None) -> Path:
    """The example network with the pacing raised: the run measures crashes, not the 20
    cards a minute Telegram allows a group (bench/delivery.py measures the pacing). With
    ``webhook_port``, in webhook mode on that local port."""
    text = (ROOT / "config.example.toml").read_text()
    if webhook_port is not None:
        text = in_webhook_mode(text, webhook_port, WEBHOOK_SECRET)
    text = re.sub(r"(?m)^per_chat_per_second = .*$", "per_chat_per_second = 50.0", text)
    text = re.sub(r"(?m)^per_group_per_minute = .*$", "per_group_per_minute = 100000", text)
    text = re.sub(r"(?m)^global_per_second = .*$", "global_per_second = 1000", text)
    text = re.sub(r"(?m)^updates_per_minute = .*$", "updates_per_minute = 100000", text)
    text = re.sub(r"(?m)^cases_per_day = .*$", "cases_per_day = 100000", text)
    # The emulator numbers the groups itself.
    for configured, actual in chat_ids.items():
        text = re.sub(rf"(?m)^chat_id = {configured}$", f"chat_id = {actual}", text)
    path = folder / "config.toml"
    path.write_text(text)
    return path


class BotProcess:
    """A bot run as its own process (``argv``), ready once it logs ``ready`` ("Start
    polling", or in webhook mode the line naming where Telegram posts); its output is read
    and dropped after that."""

    def __init__(self, argv: list[str], env: dict[str, str], ready: str = "Start polling") -> None:
        self.argv, self.env, self.ready_line = argv, env, ready
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            *self.argv,
            env=self.env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            cwd=ROOT,
        )
        lines: list[str] = []
        while not lines or self.ready_line not in lines[-1]:
            line = await asyncio.wait_for(self.process.stdout.readline(), 120)
            if not line:
                raise RuntimeError(f"{self.argv[-1]} ended:\n" + "".join(lines[-20:]))
            lines.append(line.decode())
        self._drain = asyncio.create_task(self._read_rest())

    async def _read_rest(self) -> None:
        with contextlib.suppress(Exception):
            while await self.process.stdout.readline():
                pass

    async def stop(self) -> int:
        self.process.terminate()
        return await asyncio.wait_for(self.process.wait(), 60)


def corridor_run(config: Path) -> list[str]:
    return [sys.executable, "-m", "bot", "--config", str(config), "run"]


def corridor_env(folder: Path, base_url: str, token: str, database_url: str) -> dict[str, str]:
    from bot.crypto import generate_key

    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(folder),
        "CORRIDOR_TELEGRAM_TOKEN": token,
        "CORRIDOR_TELEGRAM_API_BASE_URL": base_url,
        "CORRIDOR_ENCRYPTION_KEYS": generate_key(),
        "CORRIDOR_DATABASE_URL": database_url,
    }


async def emulate_network(
    tg: Any, network: dict[str, Any] | None = None
) -> tuple[dict[str, int], dict[int, int]]:
    """The people and responder groups of ``network`` (the example network by default) on
    the emulator: the group of each organisation, and the emulator's chat id for each
    configured one."""
    from corridor_dev.harness import example_network

    network = network or example_network()
    for person in network["people"]:
        await tg.create_user(person["name"], user_id=person["telegram_user_id"], started=True)
    groups, chat_ids = {}, {}
    for group in network["groups"]:
        members = [
            p["telegram_user_id"]
            for p in network["people"]
            if p.get("organisation") == group["organisation"]
        ]
        chat = await tg.create_group(group["title"], members, supergroup=True)
        chat_ids[group["chat_id"]] = chat["id"]
        groups[group["organisation"]] = chat["id"]
    return groups, chat_ids


async def on_database(db: str, name: str, run: Any) -> Any:
    """``run(database_url, folder)`` on a fresh SQLite file or a scratch PostgreSQL database."""
    with tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as workdir:
        folder = Path(workdir)
        if db == "postgres":
            async with scratch_postgres(f"bench_{name}", PG_URL) as url:
                return await run(url, folder)
        return await run(f"sqlite+aiosqlite:///{folder / (name + '.sqlite3')}", folder)


class Bot(BotProcess):
    """The `corridor run` process, killed and restarted."""

    def __init__(self, config: Path, env: dict[str, str], ready: str = "Start polling") -> None:
        super().__init__(corridor_run(config), env, ready)
        self.kills: list[float] = []  # wall-clock seconds
        self.ready: list[float] = []

    async def start(self) -> None:
        await super().start()
        self.ready.append(time.time())

    async def kill(self) -> None:
        self.process.kill()
        await self.process.wait()
        self.kills.append(time.time())


async def converse(tg: Any, user: int, patience: float, told: dict[int, list[str]]) -> int:
    """One worker's SOS; returns how many times they had to try."""
    tries = 0
    while True:
        tries += 1
        try:
            sent = await tg.send_message(user, "/sos")
            question = await tg.wait_for_message(
                user,
                contains="Which country",
                after_message_id=sent["message_id"],
                timeout=patience,
            )
            await tg.press_button(user, user, question["message_id"], data="sos:QA", strict=False)
            await tg.wait_for_message(
                user, contains="SOS sent", after_message_id=question["message_id"], timeout=patience
            )
        except Exception as error:
            FAILURES[type(error).__name__ + ": " + str(error)[:80]] += 1
        codes = await confirmations(tg, user)
        if codes or tries >= 10:
            told[user] = codes
            return tries


async def file_report(tg: Any, user: int, patience: float, told: dict[int, list[str]]) -> int:
    """One worker's guided report, played by what the bot shows; returns how many steps
    they had to take again because nothing came back within ``patience``."""
    again = 0

    async def act(uid: int, step: Step, message: dict[str, Any] | None) -> None:
        nonlocal again
        try:
            if step.data is None:
                sent = await tg.send_message(uid, step.text)
                await tg.wait_for_message(
                    uid, after_message_id=sent["message_id"], timeout=patience
                )
            else:
                # The question may have been edited meanwhile: the press is sent as it was.
                query = await tg.press_button(
                    uid, uid, message["message_id"], data=step.data, strict=False
                )
                await tg.get_callback_answer(query, timeout=patience)
        except Exception as error:
            # Unanswered: the person looks at the chat again and does what it now asks.
            FAILURES[type(error).__name__ + ": " + str(error)[:80]] += 1
            again += 1
        await asyncio.sleep(0.05)  # the next question follows the answer through the outbox

    for _ in range(3):
        try:
            await play_report(SimpleNamespace(tg=tg), user, "report", ReportPlayer(), act=act)  # type: ignore[arg-type]
            await tg.wait_for_message(user, contains="registered", timeout=patience)
        except Exception as error:
            FAILURES[type(error).__name__ + ": " + str(error)[:80]] += 1
            again += 1
        if codes := await confirmations(tg, user):
            told[user] = codes
            return again
    told[user] = []
    return again


async def confirmations(tg: Any, user: int) -> list[str]:
    """The case codes the worker was told: by the SOS's confirmation or the report's."""
    codes = []
    for message in await tg.transcript(user):
        if message.get("from_bot"):
            found = CODE.search(message.get("text") or "")
            if found and ("SOS sent" in message["text"] or "registered" in message["text"]):
                codes.append(found.group(1))
    return codes


async def watch_cards(
    tg: Any, group: int, seen: dict[int, list[float]], stop: asyncio.Event
) -> None:
    """Records when each card message first appears (by message id), per case id."""
    known: set[int] = set()
    while not stop.is_set():
        for message in await tg.transcript(group):
            if message["message_id"] in known or not message.get("from_bot"):
                continue
            case_id = claim_button(message)
            if case_id is not None:
                known.add(message["message_id"])
                seen.setdefault(case_id, []).append(time.time())
        await asyncio.sleep(0.2)


def claim_button(message: dict[str, Any]) -> int | None:
    for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
        for button in row:
            data = button.get("callback_data") or ""
            if data.startswith("claim:"):
                return int(data.split(":", 1)[1])
    return None


async def run(args: argparse.Namespace, database_url: str, folder: Path) -> dict[str, Any]:
    from sqlalchemy import select

    from models import Case
    from models.db import make_engine, make_sessionmaker
    from tgemulator.client import EmulatorClient
    from tgemulator.server import start_emulator

    server = await start_emulator()
    tg = EmulatorClient(server.base_url, TOKEN)
    groups, chat_ids = await emulate_network(tg)
    users = [
        (await tg.create_user(f"Worker {i}", user_id=FIRST_USER + i, started=True))["id"]
        for i in range(args.users)
    ]
    env = corridor_env(folder, server.base_url, TOKEN, database_url)
    if args.mode == "webhook":
        bot = Bot(config_file(folder, chat_ids, free_port()), env, "webhook: Telegram posts to")
    else:
        bot = Bot(config_file(folder, chat_ids), env)
    told: dict[int, list[str]] = {}
    cards: dict[int, list[float]] = {}
    stop_watching = asyncio.Event()
    started = time.time()
    await bot.start()
    # A report's card goes to the group its answers route it to: every group is watched.
    watchers = [
        asyncio.create_task(watch_cards(tg, group, cards, stop_watching))
        for group in groups.values()
    ]
    gate = asyncio.Semaphore(args.concurrency)
    retries: list[int] = []

    async def worker(user: int) -> None:
        async with gate:
            if args.flow == "report":
                retries.append(await file_report(tg, user, args.patience, told))
            else:
                retries.append(await converse(tg, user, args.patience, told) - 1)

    async def killer() -> None:
        for _ in range(args.kills):
            await asyncio.sleep(random.uniform(2.0, 6.0))
            await bot.kill()
            await bot.start()

    conversations = asyncio.gather(*(worker(u) for u in users))
    await asyncio.gather(conversations, killer())
    # Everything committed must come out: wait for the cards of every stored case.
    engine = make_engine(database_url)
    sessions = make_sessionmaker(engine)
    async with sessions() as session:
        stored = {row.id: row for row in await session.scalars(select(Case))}
    deadline = time.time() + 60
    while time.time() < deadline and not set(stored) <= set(cards):  # noqa: ASYNC110
        await asyncio.sleep(0.5)
    await asyncio.sleep(2)
    stop_watching.set()
    await asyncio.gather(*watchers)
    status = await bot.stop()
    elapsed = time.time() - started

    async with sessions() as session:
        stored = {row.id: row for row in await session.scalars(select(Case))}
        by_code = {row.code: row for row in stored.values()}
        per_reporter: dict[int, int] = {}
        for row in stored.values():
            per_reporter[row.reporter_id] = per_reporter.get(row.reporter_id, 0) + 1
    await engine.dispose()
    for user in users:
        told[user] = await confirmations(tg, user)
    await tg.close()
    await server.close()

    codes_told = [code for codes in told.values() for code in set(codes)]
    lost = [code for code in codes_told if code not in by_code]
    told_twice = sum(len(codes) - len(set(codes)) for codes in told.values())
    delays = []
    for case_id, seen in cards.items():
        created = stored[case_id].created_at.replace(tzinfo=dt.UTC).timestamp()
        first = seen[0]
        for kill in bot.kills:
            if created < kill < first:
                # The restart is spawned at once, and it delivers before it polls.
                delays.append(first - kill)
    return {
        "users": args.users,
        "kills": len(bot.kills),
        "elapsed_s": elapsed,
        "cases": len(stored),
        "workers_told": sum(1 for codes in told.values() if codes),
        "confirmations_without_case": len(lost),
        "duplicated_cases": sum(1 for n in per_reporter.values() if n > 1),
        "cards_missing": len(set(stored) - set(cards)),
        "cards_twice": sum(1 for seen in cards.values() if len(seen) > 1),
        "confirmations_twice": told_twice,
        "retries": sum(retries),
        "cards_waiting_at_a_kill": len(delays),
        "longest_card_delay_after_kill_s": max(delays, default=0.0),
        "exit_status": status,
    }


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    return await on_database(args.db, "crash", lambda url, folder: run(args, url, folder))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--kills", type=int, default=8)
    parser.add_argument("--patience", type=float, default=30.0)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--mode", choices=["polling", "webhook"], default="polling")
    parser.add_argument("--flow", choices=["sos", "report"], default="sos")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json")
    args = parser.parse_args()
    random.seed(args.seed)
    print(f"load average before start: {os.getloadavg()[0]:.2f}")
    result = asyncio.run(main_async(args))
    rows = [
        [key.replace("_", " "), f"{value:.1f}" if isinstance(value, float) else value]
        for key, value in result.items()
    ]
    what = "SOS" if args.flow == "sos" else "report"
    title = f"kill -9 during {args.users} {what} conversations ({args.mode})"
    print(table(["", args.db], rows, title=title))
    for failure, count in FAILURES.most_common(5):
        print(f"  a worker's try failed {count}x: {failure}")
    write_json(args.json, result)


if __name__ == "__main__":
    main()
