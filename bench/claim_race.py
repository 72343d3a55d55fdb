"""Claim race: many responders press Claim on many cards at once, through the emulator.

1. Starts the real Corridor app (Harness) on the example network plus R extra responders in
   qa-workers-centre (members of its Qatar group).
2. Creates C cases through the domain (cases.submit_report, NP→QA wage reports from C distinct
   reporters), so the cards go to the Qatar group; the outbox posts them (harness.settle()).
3. Every responder presses Claim on every card (press_button with callback_data
   "claim:<case_id>", strict=False so that a press also reaches the bot after the card was
   edited, like a stale client) — the R presses of a card are issued together, at most
   --concurrency presses in flight overall. Latency = press_button → get_callback_answer.
   The bot answers a few dozen presses a second, so 1000 cards × 50 responders (50,000
   presses) would take tens of minutes: by default no new card is started after
   --race-seconds, and the table says how many cards were raced.
4. Checks over the raced cards: exactly one "claimed" CaseEvent and exactly one
   "You own case" answer per case (double claims must be 0).

The outbox rate limits are raised far above Telegram's (see OUTBOX below), so the run measures
the bot, not the pacing the outbox imposes on purpose.

With --process the bot runs as a deployment does: `corridor run` as its own process, polling
the emulator (in this process) over HTTP. The cases come from --cases workers sending an SOS
through the bot (/sos, tap Qatar), so their cards reach the Qatar group as in real use; each
responder then presses one card at a time (--concurrency 50: one press in flight per
responder), every card is raced, and the CPU column is the bot process's own (from /proc).
Double claims are counted from the database afterwards.

    .venv/bin/python bench/claim_race.py [--db sqlite|postgres] [--cases 300] [--responders 50]
        [--concurrency 100] [--race-seconds 30]    (--cases 1000 --race-seconds 0: everything)
    .venv/bin/python bench/claim_race.py --process [--cases 100] [--concurrency 50] [--db ...]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import tempfile
import time
from collections import Counter, defaultdict
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _common import (
    PG_URL,
    median,
    ms,
    percentile,
    quiet_logs,
    scratch_postgres,
    table,
    write_json,
)

# Outbox pacing far above Telegram's limits: the benchmark measures the bot.
OUTBOX = {
    "per_chat_per_second": 1_000_000.0,
    "per_group_per_minute": 1_000_000_000,
    "global_per_second": 1_000_000,
}
GROUP = "qa-workers-centre"
FIRST_RESPONDER_ID = 6_100_000_001
FIRST_REPORTER_ID = 6_200_000_001


def network_with_responders(count: int) -> dict[str, Any]:
    from corridor_dev.harness import example_network

    data = example_network()
    for i in range(count):
        data["people"].append(
            {
                "id": f"bench-{i:03d}",
                "name": f"Bench Responder {i:03d}",
                "telegram_user_id": FIRST_RESPONDER_ID + i,
                "role": "responder",
                "organisation": GROUP,
                "language": "en",
                "timezone": "Asia/Qatar",
            }
        )
    return data


def wage_report(i: int) -> Any:
    from bot.domain.cases import Report

    return Report(
        reporter_role="self",
        destination_country="QA",
        origin_country="NP",
        categories=["WAGE"],
        language="en",
        area="Doha",
        description=f"Benchmark report {i}: not paid for four months",
        employer="Al Noor Contracting",
        wage_owed_minor=480000,
        wage_currency="QAR",
        consents={"destination_help": True, "origin_help": True, "statistics": True},
    )


async def create_cases(h: Any, count: int) -> list[int]:
    from bot.domain import cases

    domain = h.app.domain
    gate = asyncio.Semaphore(20)
    reporters: list[int] = [0] * count

    async def make_user(i: int) -> None:
        async with gate:
            user = await h.tg.create_user(
                f"Reporter {i}", language_code="en", user_id=FIRST_REPORTER_ID + i, started=True
            )
            reporters[i] = user["id"]

    await asyncio.gather(*(make_user(i) for i in range(count)))
    ids = []
    for i, user_id in enumerate(reporters):
        async with domain.sessions() as session, session.begin():
            reporter = await cases.reporter_for(session, domain, user_id, user_id, "en")
            case = await cases.submit_report(session, domain, reporter, wage_report(i))
            ids.append(case.id)
    return ids


async def card_messages(tg: Any, chat_id: int) -> dict[int, int]:
    """case id → message id of its card in the group."""
    found: dict[int, int] = {}
    for message in await tg.transcript(chat_id):
        for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
            for button in row:
                data = button.get("callback_data", "")
                if data.startswith("claim:"):
                    found[int(data.split(":", 1)[1])] = message["message_id"]
    return found


async def count_claimed_events(sessions: Any) -> tuple[Counter[int], dict[int, str | None]]:
    from sqlalchemy import select

    from models import Case, CaseEvent

    async with sessions() as session:
        kinds = Counter(
            await session.scalars(select(CaseEvent.case_id).where(CaseEvent.kind == "claimed"))
        )
        owners = dict((await session.execute(select(Case.id, Case.owner_person_id))).all())
    return kinds, owners


@dataclass
class Raced:
    latencies: list[float] = field(default_factory=list)
    answers: dict[int, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    winners: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter[str] = field(default_factory=Counter)
    raced: list[int] = field(default_factory=list)
    presses: int = 0
    seconds: float = 0.0
    cpu: float = 0.0  # this process's CPU seconds during the race


async def press_every_card(
    tg: Any,
    group: int,
    cards: dict[int, int],
    case_ids: list[int],
    responders: list[int],
    args: argparse.Namespace,
    cpu: Any = time.process_time,
) -> Raced:
    """Every responder presses Claim on every card (in a shuffled order per card), at most
    ``args.concurrency`` presses in flight; ``cpu()`` is the clock of whose CPU is counted."""
    rng = random.Random(1)
    presses: list[tuple[int, list[int]]] = []
    for case_id in case_ids:
        users = responders[:]
        rng.shuffle(users)
        presses.append((case_id, users))

    result = Raced()
    gate = asyncio.Semaphore(args.concurrency)

    async def press(case_id: int, user_id: int) -> None:
        try:
            started = time.perf_counter()
            try:
                query = await tg.press_button(
                    user_id, group, cards[case_id], data=f"claim:{case_id}", strict=False
                )
                answer = await tg.get_callback_answer(query, timeout=120)
            except Exception as exc:
                result.errors[type(exc).__name__ + ": " + str(exc)[:80]] += 1
                return
            result.latencies.append(time.perf_counter() - started)
        finally:
            gate.release()
        text = answer.get("text") or ""
        if text.startswith("You own case"):
            kind = "won"
            result.winners[case_id].append(user_id)
        elif text.startswith("Already claimed"):
            kind = "taken"
        else:
            kind = text[:40] or "(empty answer)"
        result.answers[case_id][kind] += 1

    # The R presses of one card go out together; the next card's follow as slots free up.
    # With a budget, no new card is started once it is spent (the rest stay unclaimed).
    began = time.perf_counter()
    used = cpu()
    deadline = began + args.race_seconds if args.race_seconds > 0 else float("inf")
    tasks: list[asyncio.Task[None]] = []
    for case_id, users in presses:
        if time.perf_counter() >= deadline:
            break
        result.raced.append(case_id)
        for user_id in users:
            await gate.acquire()
            tasks.append(asyncio.create_task(press(case_id, user_id)))
    await asyncio.gather(*tasks)
    result.seconds = time.perf_counter() - began
    result.cpu = cpu() - used
    result.presses = len(tasks)
    return result


async def race(h: Any, args: argparse.Namespace, url: str) -> dict[str, Any]:
    group = h.groups[GROUP]
    responders = [FIRST_RESPONDER_ID + i for i in range(args.responders)]
    phases: dict[str, float] = {}

    began = time.perf_counter()
    case_ids = await create_cases(h, args.cases)
    phases["create cases (domain)"] = time.perf_counter() - began

    began = time.perf_counter()
    await h.settle()
    cards = await card_messages(h.tg, group)
    for _ in range(20):  # settle() gives up after a few rounds; a large backlog needs more
        if len(cards) >= len(case_ids):
            break
        await h.settle()
        cards = await card_messages(h.tg, group)
    phases["rest of the cards (settle)"] = time.perf_counter() - began
    missing = [c for c in case_ids if c not in cards]
    if missing:
        raise SystemExit(f"{len(missing)} of {len(case_ids)} cards never reached the group")

    raced_run = await press_every_card(h.tg, group, cards, case_ids, responders, args)
    phases["claim race"] = raced_run.seconds

    began = time.perf_counter()
    await h.settle()
    phases["drain outbox after race"] = time.perf_counter() - began

    events, owners = await count_claimed_events(h.app.domain.sessions)
    return summary(args, case_ids, raced_run, events, owners, phases)


def summary(
    args: argparse.Namespace,
    case_ids: list[int],
    run: Raced,
    events: Counter[int],
    owners: dict[int, str | None],
    phases: dict[str, float],
) -> dict[str, Any]:
    raced, winners = run.raced, run.winners
    outcome: Counter[str] = Counter()
    for per_case in run.answers.values():
        outcome.update(per_case)
    double_events = [c for c in raced if events.get(c, 0) > 1]
    double_answers = [c for c in raced if len(winners.get(c, [])) > 1]
    unclaimed = [c for c in raced if events.get(c, 0) == 0 or owners.get(c) is None]
    winner_mismatch = [
        c
        for c in raced
        if len(winners.get(c, [])) == 1
        and owners.get(c) != f"bench-{winners[c][0] - FIRST_RESPONDER_ID:03d}"
    ]
    return {
        "db": args.db,
        "process": args.process,
        "cases": len(case_ids),
        "cases_raced": len(raced),
        "race_budget_s": args.race_seconds,
        "responders": args.responders,
        "presses": run.presses,
        "answered": len(run.latencies),
        "concurrency": args.concurrency,
        "phases_s": phases,
        "claims_per_s": len(run.latencies) / run.seconds if run.seconds else float("nan"),
        "cpu_ms_per_press": run.cpu / run.presses * 1000 if run.presses else float("nan"),
        "median_s": median(run.latencies),
        "p99_s": percentile(run.latencies, 99),
        "max_s": max(run.latencies) if run.latencies else float("nan"),
        "outcomes": dict(outcome),
        "errors": dict(run.errors),
        "double_claims_events": len(double_events),
        "double_claims_answers": len(double_answers),
        "unclaimed": len(unclaimed),
        "winner_not_owner": len(winner_mismatch),
        "double_claims": len(set(double_events) | set(double_answers)),
        "outbox": OUTBOX,
    }


def responders_toml(count: int) -> str:
    """The extra responders of network_with_responders, as the configuration file's
    ``[[people]]`` entries."""
    return "".join(
        f"""
[[people]]
id = "{person["id"]}"
name = "{person["name"]}"
telegram_user_id = {person["telegram_user_id"]}
role = "responder"
organisation = "{GROUP}"
language = "en"
timezone = "Asia/Qatar"
"""
        for person in network_with_responders(count)["people"]
        if person["id"].startswith("bench-")
    )


async def race_a_process(args: argparse.Namespace, url: str, folder: Path) -> dict[str, Any]:
    """The race against `corridor run` as its own process (see the module's docstring)."""
    from crash import TOKEN, config_file, converse, corridor_env, corridor_run, emulate_network
    from process_ratio import MeasuredBot

    from models.db import make_engine, make_sessionmaker
    from tgemulator.client import EmulatorClient
    from tgemulator.server import start_emulator

    server = await start_emulator()
    tg = EmulatorClient(server.base_url, TOKEN)
    groups, chat_ids = await emulate_network(tg, network_with_responders(args.responders))
    config = config_file(folder, chat_ids)
    config.write_text(config.read_text() + responders_toml(args.responders))
    workers = [
        (await tg.create_user(f"Worker {i}", user_id=FIRST_REPORTER_ID + i, started=True))["id"]
        for i in range(args.cases)
    ]
    group = groups[GROUP]
    responders = [FIRST_RESPONDER_ID + i for i in range(args.responders)]
    phases: dict[str, float] = {}
    engine = make_engine(url)
    try:
        async with MeasuredBot(
            corridor_run(config), corridor_env(folder, server.base_url, TOKEN, url)
        ) as bot:
            began = time.perf_counter()
            gate = asyncio.Semaphore(20)
            told: dict[int, list[str]] = {}

            async def sos(user: int) -> None:
                async with gate:
                    await converse(tg, user, 30.0, told)

            await asyncio.gather(*(sos(user) for user in workers))
            phases["SOS from every worker"] = time.perf_counter() - began
            began = time.perf_counter()
            cards = await card_messages(tg, group)
            while len(cards) < len(workers) and time.perf_counter() - began < 120:
                await asyncio.sleep(0.2)
                cards = await card_messages(tg, group)
            phases["rest of the cards"] = time.perf_counter() - began
            case_ids = sorted(cards)
            if len(case_ids) < len(workers):
                raise SystemExit(f"{len(case_ids)} of {len(workers)} cards reached the group")
            run = await press_every_card(
                tg, group, cards, case_ids, responders, args, cpu=lambda: bot.cpu
            )
            phases["claim race"] = run.seconds
        events, owners = await count_claimed_events(make_sessionmaker(engine))
    finally:
        await engine.dispose()
        await tg.close()
        await server.close()
    return summary(args, case_ids, run, events, owners, phases)


def report(result: dict[str, Any]) -> str:
    phases = result["phases_s"]
    budget = (
        f", race budget {result['race_budget_s']:g}s: {result['cases_raced']} of "
        f"{result['cases']} cards raced"
        if result["race_budget_s"] > 0
        else ""
    )
    where = "`corridor run` as its own process" if result["process"] else "in this process"
    rows = [
        [
            name,
            f"{seconds:.1f}",
            f"{result['claims_per_s']:.0f} presses/s" if name == "claim race" else "",
        ]
        for name, seconds in phases.items()
    ]
    lines = [
        table(
            ["phase", "seconds", "rate"],
            rows,
            title=(
                f"claim race on {result['db']}, the bot {where}: {result['cases']} cases, "
                f"{result['responders']} responders each pressing every card, "
                f"≤{result['concurrency']} presses in flight" + budget
            ),
        ),
        "",
        table(
            [
                "presses answered",
                "presses/s",
                "CPU ms/press",
                "median ms",
                "p99 ms",
                "max ms",
                "double claims",
                "unclaimed",
            ],
            [
                [
                    f"{result['answered']}/{result['presses']}",
                    f"{result['claims_per_s']:.0f}",
                    f"{result['cpu_ms_per_press']:.1f}",
                    ms(result["median_s"]),
                    ms(result["p99_s"]),
                    ms(result["max_s"]),
                    result["double_claims"],
                    result["unclaimed"],
                ]
            ],
        ),
        "",
        "answers: " + ", ".join(f"{k}={v}" for k, v in sorted(result["outcomes"].items())),
        f"double claims: {result['double_claims_events']} by CaseEvent rows, "
        f"{result['double_claims_answers']} by 'You own case' answers; raced cases without an "
        f"owner: {result['unclaimed']}; winner≠owner: {result['winner_not_owner']}",
        "latency = press_button → get_callback_answer, incl. queueing behind the presses in "
        "flight; CPU = "
        + (
            "the bot process's own (/proc)"
            if result["process"]
            else "this process (bot + emulator + load), not the database server"
        ),
    ]
    if not result["process"]:
        lines.insert(
            -1,
            "outbox limits raised for the run: "
            + ", ".join(f"{k}={v:g}" for k, v in result["outbox"].items())
            + " (Telegram's real limits would pace card posts and edits instead)",
        )
    if result["errors"]:
        lines.append("errors: " + "; ".join(f"{v}× {k}" for k, v in result["errors"].items()))
    return "\n".join(lines)


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    from corridor_dev.harness import Harness

    quiet_logs()
    if args.process:
        from crash import on_database

        return await on_database(
            args.db, "claim", lambda url, folder: race_a_process(args, url, folder)
        )
    async with AsyncExitStack() as stack:
        if args.db == "postgres":
            url = await stack.enter_async_context(scratch_postgres("bench_claim", args.pg_url))
        else:
            workdir = stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-claim-"))
            url = f"sqlite+aiosqlite:///{Path(workdir) / 'corridor.sqlite3'}"
        h = await Harness.start(
            url, network=network_with_responders(args.responders), overrides={"outbox": OUTBOX}
        )
        try:
            return await race(h, args, url)
        finally:
            await h.stop()
    raise AssertionError("unreachable")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--pg-url", default=PG_URL, help="server to create the scratch database on")
    parser.add_argument(
        "--process",
        action="store_true",
        help="run the bot as its own process (`corridor run`); defaults then: --cases 100 "
        "--concurrency 50 --race-seconds 0",
    )
    parser.add_argument(
        "--cases",
        type=int,
        help="cases created (default 300 keeps the run near a minute; --cases 1000 for the full set)",
    )
    parser.add_argument("--responders", type=int, default=50)
    parser.add_argument("--concurrency", type=int, help="presses in flight at once (default 100)")
    parser.add_argument(
        "--race-seconds",
        type=float,
        help="stop starting new cards after this long (0: race every card; 1000 cards x 50 "
        "responders = 50,000 presses, tens of minutes at the rates measured)",
    )
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    defaults = (100, 50, 0.0) if args.process else (300, 100, 30.0)
    for name, default in zip(("cases", "concurrency", "race_seconds"), defaults, strict=True):
        if getattr(args, name) is None:
            setattr(args, name, default)
    started = time.perf_counter()
    print(
        f"load average before start: {os.getloadavg()[0]:.2f} (2-core machine: >1 means other work competes)"
    )
    result = asyncio.run(main_async(args))
    result["wall_s"] = time.perf_counter() - started
    print(report(result))
    print(f"(total {result['wall_s']:.1f}s)")
    write_json(args.json, result)
    if result["double_claims"]:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
