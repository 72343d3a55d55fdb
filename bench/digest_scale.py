"""Digest and /stats over many seeded cases: wall time and peak memory.

    .venv/bin/python bench/digest_scale.py --cases 1000000 --db sqlite|postgres

Cases are bulk-inserted without personal fields (the digest never reads them), spread
over two years across the example network's corridors; then the coordinator's daily
digest (figures, text and 30-day chart) and a 30-day /stats are computed as the bot does.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import resource
import secrets
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import create_async_engine

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.clock import FakeClock
from bot.crypto import KeyRing, generate_key, install
from bot.domain import digest, network
from bot.domain.context import Domain
from bot.domain.people import coordinator_corridors
from models import Case, Person
from models.db import make_engine, make_sessionmaker
from models.migrate import upgrade
from tests.support import make_config

PG_ADMIN = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
CORRIDORS = [
    ("NP-QA", "NP", "QA", "QAR"),
    ("NP-MY", "NP", "MY", "MYR"),
    ("ID-MY", "ID", "MY", "MYR"),
]
OUTCOMES = [
    "WAGES_RECOVERED",
    "REPATRIATED",
    "DOCUMENTS_RETURNED",
    "REFERRED_TO_AUTHORITY",
    "UNABLE_TO_CONTACT",
]


def load_average() -> str:
    return Path("/proc/loadavg").read_text().split()[0]


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def seed(domain: Domain, count: int, now: dt.datetime) -> float:
    started = time.perf_counter()
    rng = random.Random(7)
    batch: list[dict] = []
    async with domain.sessions() as session:
        for n in range(count):
            code, origin, destination, currency = CORRIDORS[n % 3]
            created = now - dt.timedelta(minutes=rng.randrange(0, 730 * 24 * 60))
            claimed = (
                created + dt.timedelta(minutes=rng.randrange(1, 600))
                if rng.random() < 0.9
                else None
            )
            resolved = (
                claimed + dt.timedelta(hours=rng.randrange(1, 2000))
                if claimed and rng.random() < 0.8
                else None
            )
            resolved = resolved if resolved and resolved < now else None
            outcome = rng.choice(OUTCOMES) if resolved else None
            batch.append(
                {
                    "code": f"B{n:08d}",
                    "corridor_code": code,
                    "reporter_id": None,
                    "reporter_role": "self",
                    "categories": ["WAGE"],
                    "urgency": rng.choice(["normal", "normal", "high", "sos"]),
                    "urgency_reason": "",
                    "status": "resolved" if resolved else ("claimed" if claimed else "routed"),
                    "side": "destination",
                    "language": "en",
                    "destination_country": destination,
                    "origin_country": origin,
                    "worker_location": "destination",
                    "in_danger": False,
                    "workers_affected": 1,
                    "wage_owed_minor": rng.randrange(10_000, 1_000_000),
                    "wage_currency": currency,
                    "created_at": created,
                    "claimed_at": claimed,
                    "resolved_at": resolved,
                    "outcome": outcome,
                    "outcome_amount_minor": rng.randrange(10_000, 500_000)
                    if outcome == "WAGES_RECOVERED"
                    else None,
                    "outcome_currency": currency if outcome == "WAGES_RECOVERED" else None,
                    "last_activity_at": resolved or claimed or created,
                    "escalation_level": 0,
                    "erased": False,
                    "contact_method": "chat",
                }
            )
            if len(batch) == 20_000:
                await session.execute(insert(Case), batch)
                batch.clear()
        if batch:
            await session.execute(insert(Case), batch)
        await session.commit()
        if session.bind.dialect.name == "sqlite":
            await session.execute(text("ANALYZE"))
        else:
            await session.execute(text("ANALYZE cases"))
        await session.commit()
    return time.perf_counter() - started


async def measure(domain: Domain) -> list[tuple[str, float, float]]:
    results = []
    async with domain.sessions() as session:
        sita = await session.get(Person, "sita")
        corridors = await coordinator_corridors(session, sita)
        for name, work in (
            (
                "daily digest (text + 30-day chart)",
                lambda: digest.build(session, domain, corridors, "en"),
            ),
            ("weekly digest", lambda: digest.build(session, domain, corridors, "en", weekly=True)),
            (
                "/stats 30 days",
                lambda: digest.collect(
                    session,
                    corridors,
                    domain.now() - dt.timedelta(days=30),
                    domain.now(),
                    domain.now(),
                ),
            ),
            (
                "/stats 365 days",
                lambda: digest.collect(
                    session,
                    corridors,
                    domain.now() - dt.timedelta(days=365),
                    domain.now(),
                    domain.now(),
                ),
            ),
        ):
            before = peak_mb()
            started = time.perf_counter()
            await work()
            results.append((name, time.perf_counter() - started, peak_mb() - before))
    return results


async def main(count: int, db: str) -> None:
    now = dt.datetime(2026, 11, 20, 6, 0, tzinfo=dt.UTC)
    scratch = None
    if db == "sqlite":
        url = f"sqlite+aiosqlite:///{tempfile.mkdtemp(prefix='corridor-bench-')}/digest.sqlite3"
    else:
        scratch = "bench_digest_" + secrets.token_hex(4)
        admin = create_async_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        async with admin.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{scratch}"'))
        await admin.dispose()
        url = PG_ADMIN.rsplit("/", 1)[0] + "/" + scratch
    key = generate_key()
    install(KeyRing([key], "bench"))
    config = make_config(url)
    engine = make_engine(url)
    try:
        await upgrade(engine)
        domain = Domain(
            config=config,
            clock=FakeClock(now),
            sessions=make_sessionmaker(engine),
            keys=KeyRing([key], "bench"),
        )
        async with domain.sessions() as session, session.begin():
            await network.sync_network(session, config)
        seconds = await seed(domain, count, now)
        print(
            f"load average {load_average()}; seeded {count:,} cases on {db} in {seconds:.0f} s; process peak so far {peak_mb():.0f} MB"
        )
        print(f"{'operation':38} {'wall':>8} {'peak Δ MB':>10}")
        for name, wall, memory in await measure(domain):
            print(f"{name:38} {wall:8.3f} {memory:10.1f}")
        print(f"process peak RSS {peak_mb():.0f} MB (includes seeding)")
    finally:
        await engine.dispose()
        if scratch:
            admin = create_async_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
            async with admin.connect() as connection:
                await connection.execute(text(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))
            await admin.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.cases, arguments.db))
