"""Delivery under Telegram's limits and under faults, through the real bot and the emulator.

flood   N messages queued at once to P private chats and G groups (the emulator enforcing
        Telegram's limits: ~1/s per chat with bursts of 3, 20/min per group, 30/s overall),
        with the bot at Telegram's own pace: how many 429s, and the total time against the
        minimum the limits allow.
faults  R reporters each send an SOS and, once it is claimed, a message for their helper,
        while a share of every chat call the bot makes fails (429 with retry_after, 500, 502
        before or after delivery, dropped connections after delivery, answers slower than the
        bot's timeout): SOS confirmations without a case, "Sent" confirmations whose message
        never reached the owner, calls to a chat before its retry_after ran out, and
        messages a person saw twice.

    .venv/bin/python bench/delivery.py flood [--messages 1400 --chats 300 --groups 10]
    .venv/bin/python bench/delivery.py faults [--reporters 50 --rate 0.2] [--db sqlite|postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from _common import PG_URL, quiet_logs, table, write_json

TELEGRAM_PACE = {"per_chat_per_second": 1, "per_group_per_minute": 20, "global_per_second": 30}
# Fifty cards for one group at 20 a minute, with a fifth of the calls failing and backing
# off, take minutes.
LONG_SETTLE = 900.0


@contextlib.asynccontextmanager
async def database(kind: str) -> AsyncIterator[str]:
    if kind == "postgres":
        os.environ.setdefault("CORRIDOR_TEST_DATABASE_URL", PG_URL)
        import tests.support as support

        support.PG_URL = os.environ["CORRIDOR_TEST_DATABASE_URL"]
        with tempfile.TemporaryDirectory() as workdir:
            async with support.database(Path(workdir)) as url:
                yield url
        return
    with tempfile.TemporaryDirectory(prefix="bench-delivery-") as workdir:
        from models.db import make_engine
        from models.migrate import upgrade

        url = f"sqlite+aiosqlite:///{Path(workdir) / 'corridor.sqlite3'}"
        engine = make_engine(url)
        await upgrade(engine)
        await engine.dispose()
        yield url


async def flood(args: argparse.Namespace) -> dict[str, Any]:
    from sqlalchemy import select

    from bot.domain.outbox import queue
    from corridor_dev.harness import Harness
    from models import OutboxMessage

    async with database(args.db) as url:
        h = await Harness.start(url, overrides={"outbox": TELEGRAM_PACE})
        try:
            await h.tg.set_flood_control(True)
            people = [
                (await h.tg.create_user(f"P{n}", started=True))["id"] for n in range(args.chats)
            ]
            groups = [
                (await h.tg.create_group(f"G{n}", [people[0]], supergroup=True))["id"]
                for n in range(args.groups)
            ]
            per_group = 20
            to_groups = min(args.messages // 5, per_group * len(groups))
            to_people = args.messages - to_groups
            domain = h.app.domain
            async with domain.transaction() as session:
                for n in range(to_people):
                    chat = people[n % len(people)]
                    queue(session, domain, purpose="bench", chat_id=chat, text=f"note {n}")
                for n in range(to_groups):
                    chat = groups[n % len(groups)]
                    queue(session, domain, purpose="bench", chat_id=chat, text=f"card {n}")
            started = time.monotonic()
            await h.settle()
            elapsed = time.monotonic() - started
            async with domain.sessions() as session:
                statuses = Counter(await session.scalars(select(OutboxMessage.status)))
            retry = await h.tg.retry_stats()
        finally:
            await h.stop(check_privacy=False)
    per_chat = -(-to_people // len(people))
    to_each_group = -(-to_groups // len(groups))
    minimum = max(
        args.messages / TELEGRAM_PACE["global_per_second"],
        # Every chat, groups too: three at once, then one a second.
        max(0, max(per_chat, to_each_group) - 3),
        # A group also takes twenty at once, then one every three seconds.
        max(0, to_each_group - 20) * 3,
    )
    result = {
        "messages": args.messages,
        "private_chats": len(people),
        "groups": len(groups),
        "sent": statuses.get("sent", 0),
        "refused_429": retry["refused_429"],
        "early_calls": retry["early_calls"],
        "elapsed_s": elapsed,
        "minimum_s": minimum,
        "over_minimum": elapsed / minimum - 1,
    }
    print(
        table(
            ["", "value"],
            [
                ["messages queued / sent", f"{args.messages} / {result['sent']}"],
                ["429 answers", result["refused_429"]],
                ["calls before retry_after ran out", result["early_calls"]],
                ["total time", f"{elapsed:.1f} s"],
                ["minimum the limits allow", f"{minimum:.1f} s"],
                ["over the minimum", f"{result['over_minimum']:.1%}"],
            ],
            title=f"flood: {args.messages} messages to {len(people)} chats and {len(groups)} groups",
        )
    )
    return result


async def faults(args: argparse.Namespace) -> dict[str, Any]:
    from sqlalchemy import func, select

    from corridor_dev.harness import Harness
    from models import Case

    async with database(args.db) as url:
        h = await Harness.start(
            url, overrides={"telegram": {"request_timeout": 2.0}, "outbox": TELEGRAM_PACE}
        )
        try:
            qa_group = h.groups["qa-workers-centre"]
            workers = [
                (await h.tg.create_user(f"W{n}", started=True))["id"] for n in range(args.reporters)
            ]
            await h.tg.set_chaos(args.rate, seed=args.seed, slow_seconds=3.0)

            async def sos(worker: int) -> None:
                sent = await h.tg.send_message(worker, "/sos")
                question = await h.tg.wait_for_message(
                    worker, after_message_id=sent["message_id"], contains="🆘", timeout=120
                )
                await h.tg.press_button(worker, worker, question["message_id"], data="sos:QA")

            await asyncio.gather(*(sos(w) for w in workers))
            await h.settle(limit=LONG_SETTLE)
            # Responders claim every card, then each worker writes to their helper.
            claimed: set[int] = set()
            for message in await h.tg.transcript(qa_group):
                for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
                    for button in row:
                        data = button.get("callback_data", "")
                        if data.startswith("claim:") and data not in claimed:
                            claimed.add(data)
                            await h.tg.press_button(
                                h.staff["ramesh"], qa_group, message["message_id"], data=data
                            )
            await h.settle(limit=LONG_SETTLE)
            for n, worker in enumerate(workers):
                await h.tg.send_message(worker, f"marker-{n} the employer took my passport")
            await h.settle(limit=LONG_SETTLE)
            await h.tg.set_chaos(0)
            await h.settle(limit=LONG_SETTLE)

            async with h.app.domain.sessions() as session:
                cases = await session.scalar(select(func.count()).select_from(Case))
            owner_texts = [m.get("text") or "" for m in await h.tg.transcript(h.staff["ramesh"])]
            lost_sos = lost_relays = duplicates = 0
            confirmed_relays = 0
            for n, worker in enumerate(workers):
                bot_texts = [
                    m.get("text") or "" for m in await h.tg.transcript(worker) if m.get("from_bot")
                ]
                counts = Counter(bot_texts)
                duplicates += sum(c - 1 for c in counts.values() if c > 1)
                if any("SOS sent" in t for t in bot_texts) and cases == 0:
                    lost_sos += 1
                if any("Sent to your helper" in t for t in bot_texts):
                    confirmed_relays += 1
                    if not any(f"marker-{n} " in t for t in owner_texts):
                        lost_relays += 1
            duplicates += sum(c - 1 for c in Counter(owner_texts).values() if c > 1)
            retry = await h.tg.retry_stats()
            stats = await h.tg.stats()
        finally:
            await h.stop(check_privacy=False)
    result = {
        "reporters": args.reporters,
        "rate": args.rate,
        "cases": cases,
        "sos_confirmed_without_case": lost_sos,
        "relays_confirmed": confirmed_relays,
        "relays_confirmed_but_lost": lost_relays,
        "early_calls": retry["early_calls"],
        "messages_seen_twice": duplicates,
        "bot_api_calls": sum(v for k, v in stats.items() if k != "getUpdates"),
    }
    print(
        table(
            ["", "value"],
            [[k.replace("_", " "), v] for k, v in result.items()],
            title=f"faults: {args.rate:.0%} of chat calls fail ({args.db})",
        )
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("what", choices=["flood", "faults"])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--messages", type=int, default=1400)
    parser.add_argument("--chats", type=int, default=300)
    parser.add_argument("--groups", type=int, default=10)
    parser.add_argument("--reporters", type=int, default=50)
    parser.add_argument("--rate", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    quiet_logs()
    print(f"load average before start: {os.getloadavg()[0]:.2f}")
    work = flood if args.what == "flood" else faults
    write_json(args.json, asyncio.run(work(args)))


if __name__ == "__main__":
    main()
