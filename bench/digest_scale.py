"""Digest and /stats over a million seeded cases: wall time and peak memory.

    .venv/bin/python bench/digest_scale.py --cases 1000000 --db sqlite|postgres
    .venv/bin/python bench/digest_scale.py --db postgres --keep    # keep the seeded database
    CORRIDOR_BENCH_KEY=… .venv/bin/python bench/digest_scale.py --reuse URL   # measure only

Seeding: cases spread over two years across the example network's three corridors, about
1,400 a day, with what a real network's rows carry: encrypted employer, agency, worker name
and description (so rows are as wide as real ones), name fingerprints, a few employers
and agencies named again and again (pattern alerts), owed and recovered wages, outcomes,
escalation events and pending check-ins, some of them overdue. As in a working network,
only the last two days hold unclaimed cases (older ones that nobody claimed were closed)
and only the last 90 days hold cases still being worked.

Measuring happens in a fresh interpreter, so its peak RSS is the digest's and not the
seeding's. Each operation runs three times: the first run reads from disk and, for the
first chart, imports matplotlib; the best of three is what a running bot sees.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import functools
import json
import os
import random
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import create_async_engine

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot import crypto
from bot.app import make_domain
from bot.clock import FakeClock
from bot.crypto import KeyRing, generate_key
from bot.domain import digest, evidence, network, rollups
from bot.domain.context import Domain
from bot.domain.people import coordinator_corridors
from bot.names import stored_fingerprint
from bot.views.digest import digest_chart, digest_text, render
from models import Case, CaseEvent, Consent, Person, Reporter, Timer
from models.db import make_engine, make_sessionmaker
from models.migrate import upgrade
from tests.support import make_config

PG_ADMIN = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
NOW = dt.datetime(2026, 11, 20, 6, 0, tzinfo=dt.UTC)
HASH_KEY = "bench"
KEY_VARIABLE = "CORRIDOR_BENCH_KEY"
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
    "RESCUED_OR_SHELTERED",
    "LEGAL_CASE_FILED",
]
CATEGORIES = ["WAGE", "DOCS", "DEBT", "ABUSE", "STRANDED", "DETAINED"]
SPELLINGS = ["{} Contracting W.L.L.", "{} contracting wll", "{} CONTRACTING", "{} Trading Co."]
WORDS = "Al Noor Gulf Star Sunrise Himalayan Jaya Sinar Crescent Pearl Desert Palm Falcon".split()


def load_average() -> str:
    return Path("/proc/loadavg").read_text().split()[0]


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def employer_name(rng: random.Random) -> str:
    """Heavy-tailed: a few employers are named in hundreds of cases, most in one or two."""
    rank = min(int(rng.paretovariate(0.8)), 40_000)
    base = f"{WORDS[rank % len(WORDS)]} {WORDS[(rank // len(WORDS)) % len(WORDS)]} {rank}"
    return rng.choice(SPELLINGS).format(base)


def agency_name(rng: random.Random) -> str | None:
    if rng.random() < 0.5:
        return None
    rank = min(int(rng.paretovariate(1.0)), 3_000)
    return f"{WORDS[rank % len(WORDS)]} Overseas {rank} Pvt. Ltd."


def case_row(n: int, rng: random.Random) -> dict:
    code, origin, destination, currency = CORRIDORS[n % 3]
    created = NOW - dt.timedelta(minutes=rng.randrange(0, 730 * 24 * 60))
    claimed = resolved = outcome = None
    if rng.random() < 0.92:
        claimed = created + dt.timedelta(minutes=rng.randrange(1, 600))
        # Most cases are resolved within weeks; what stays open is recent.
        if rng.random() < 0.85 or NOW - created > dt.timedelta(days=90):
            resolved = claimed + dt.timedelta(hours=rng.randrange(1, 2000))
            outcome = rng.choice(OUTCOMES)
    elif NOW - created > dt.timedelta(days=2):
        resolved = created + dt.timedelta(days=3)
        outcome = "UNABLE_TO_CONTACT"
    if resolved and resolved >= NOW:
        resolved = outcome = None
    claimed = claimed if claimed and claimed < NOW else None
    status = (
        ("resolved" if claimed else "closed") if resolved else ("claimed" if claimed else "routed")
    )
    employer = employer_name(rng) if rng.random() < 0.85 else None
    agency = agency_name(rng)
    recovered = outcome == "WAGES_RECOVERED"
    return {
        "id": n + 1,
        "code": f"B{n:08d}",
        "corridor_code": code,
        "reporter_id": None,
        "reporter_role": rng.choice(["self", "self", "family", "advocate"]),
        "categories": [rng.choice(CATEGORIES)],
        "urgency": rng.choice(["normal", "normal", "normal", "high", "sos"]),
        "urgency_reason": "",
        "status": status,
        "side": "destination",
        "language": "ne" if origin == "NP" else "id",
        "destination_country": destination,
        "origin_country": origin,
        "area": "Doha" if destination == "QA" else "Kuala Lumpur",
        "worker_location": "destination",
        "in_danger": False,
        "workers_affected": 1,
        "employer": employer,
        "employer_key": stored_fingerprint(employer),
        "agency": agency,
        "agency_key": stored_fingerprint(agency),
        "worker_name": f"Worker {n % 5000}",
        "description": "Not paid for four months; the supervisor keeps our passports. " * 2,
        "wage_owed_minor": rng.randrange(10_000, 1_000_000),
        "wage_currency": currency,
        "created_at": created,
        "routed_at": created,
        "claimed_at": claimed,
        "resolved_at": resolved,
        "outcome": outcome,
        "outcome_amount_minor": rng.randrange(10_000, 500_000) if recovered else None,
        "outcome_currency": currency if recovered else None,
        "last_activity_at": resolved or claimed or created,
        "escalation_level": 0,
        "erased": False,
        "contact_method": "chat",
        "sector": rng.choice(["SECTOR_F", "SECTOR_T", "SECTOR_I", None]),
        "gender": rng.choice(["MAN", "MAN", "WOMAN", None]),
    }


async def seed(domain: Domain, count: int) -> float:
    started = time.perf_counter()
    rng = random.Random(7)
    ring = crypto.active()
    # Seeding only: a name encrypted once is reused, as its token is as wide as any other.
    ring.encrypt = functools.lru_cache(maxsize=None)(ring.encrypt)  # type: ignore[method-assign]
    cases: list[dict] = []
    events: list[dict] = []
    timers: list[dict] = []
    consents: list[dict] = []
    async with domain.sessions() as session:
        reporter = Reporter(user_key="bench", language="ne", created_at=NOW)
        session.add(reporter)
        await session.flush()
        for n in range(count):
            row = case_row(n, rng)
            cases.append(row)
            consents.append(
                {
                    "reporter_id": reporter.id,
                    "case_id": row["id"],
                    "purpose": "statistics",
                    "granted": rng.random() < 0.8,
                    "version": 2,
                    "text_shown": "",
                    "language": "ne",
                    "given_at": row["created_at"],
                }
            )
            if rng.random() < 0.1:
                events.append(
                    {
                        "case_id": row["id"],
                        "at": row["created_at"] + dt.timedelta(minutes=30),
                        "kind": "escalated",
                        "actor": "system",
                        "data": {"level": 1},
                        "prev_hash": "0" * 64,
                        "hash": "0" * 64,
                    }
                )
            if row["status"] == "claimed":
                timers.append(
                    {
                        "kind": "checkin",
                        "case_id": row["id"],
                        # A running bot fires check-ins when due; a few are stuck.
                        "due_at": NOW
                        + dt.timedelta(
                            hours=rng.randrange(-72, 0)
                            if rng.random() < 0.02
                            else rng.randrange(1, 72)
                        ),
                        "status": "pending",
                        "attempts": 0,
                        "payload": {},
                        "created_at": row["claimed_at"],
                    }
                )
            if len(cases) == 10_000:
                await flush(session, cases, events, timers, consents)
        await flush(session, cases, events, timers, consents)
        await session.commit()
        # A bulk INSERT bypasses the session events that keep rollups in step: rebuild them,
        # as `corridor rollups rebuild` does after an import.
        rebuilt = time.perf_counter()
        await rollups.rebuild(session)
        await session.commit()
        print(f"rollups rebuilt in {time.perf_counter() - rebuilt:.0f} s", file=sys.stderr)
        if session.bind.dialect.name == "sqlite":
            await session.execute(text("ANALYZE"))
        else:
            await session.execute(text("ANALYZE"))
        await session.commit()
    if session.bind.dialect.name == "postgresql":
        # Index-only scans need the visibility map that VACUUM writes; autovacuum would
        # get there on its own a little later.
        engine = create_async_engine(domain.config.database.url, isolation_level="AUTOCOMMIT")
        async with engine.connect() as connection:
            await connection.execute(text("VACUUM ANALYZE"))
        await engine.dispose()
    return time.perf_counter() - started


async def flush(
    session, cases: list[dict], events: list[dict], timers: list[dict], consents: list[dict]
) -> None:  # type: ignore[no-untyped-def]
    for model, rows in ((Case, cases), (CaseEvent, events), (Timer, timers), (Consent, consents)):
        if rows:
            # The table, not the ORM entity: one executemany per batch (the ORM's bulk
            # insert costs a round trip to aiosqlite's thread per row).
            await session.execute(insert(model.__table__), rows)
            rows.clear()


async def operations(domain: Domain):  # type: ignore[no-untyped-def]
    def stats(days: int):  # type: ignore[no-untyped-def]
        async def run(session, corridors):  # type: ignore[no-untyped-def]
            now = domain.now()
            data = await digest.collect(session, corridors, now - dt.timedelta(days=days), now, now)
            return render(data, "en", now)

        return run

    async def daily(session, corridors):  # type: ignore[no-untyped-def]
        built = await digest.build(session, domain, corridors)
        return digest_text(built, "en"), digest_chart(built)

    async def weekly(session, corridors):  # type: ignore[no-untyped-def]
        built = await digest.build(session, domain, corridors, weekly=True)
        return digest_text(built, "en"), digest_chart(built)

    async def report_figures(session, corridors):  # type: ignore[no-untyped-def]
        built = await evidence.build(
            session,
            corridor="NP-QA",
            first=dt.date(2025, 12, 1),
            last=dt.date(2026, 11, 1),
            audience="partner",
            language="ne",
            today=NOW.date(),
        )
        drawn.append(built)
        return f"{built.cases} cases, {len(built.names)} names listed"

    async def report_files(session, corridors):  # type: ignore[no-untyped-def]
        page, pdf = evidence.to_html(drawn[-1]), evidence.to_pdf(drawn[-1])
        return f"{len(page)} chars of HTML, {len(pdf)} bytes of PDF"

    drawn: list[evidence.Evidence] = []
    return [
        ("daily digest (text, patterns, chart)", daily),
        ("weekly digest", weekly),
        ("/stats 7 days", stats(7)),
        ("/stats 30 days", stats(30)),
        ("/stats 90 days", stats(90)),
        ("/stats 365 days", stats(365)),
        ("/stats 3660 days (all)", stats(3660)),
        ("report NP-QA 12 months: figures (ne)", report_figures),
        ("report NP-QA 12 months: HTML + PDF", report_files),
    ]


async def measure(url: str, key: str) -> dict:
    config = make_config(url)
    crypto.install(KeyRing([key], HASH_KEY))
    engine = make_engine(url)
    domain = make_domain(
        config, make_sessionmaker(engine), clock=FakeClock(NOW), keys=KeyRing([key], HASH_KEY)
    )
    results = {"baseline_rss_mb": round(peak_mb(), 1), "operations": []}
    try:
        async with domain.sessions() as session:
            sita = await session.get(Person, "sita")
            corridors = await coordinator_corridors(session, sita)
            results["corridors"] = corridors
            results["cases_in_scope"] = await session.scalar(
                text("SELECT count(*) FROM cases WHERE corridor_code IN ('NP-QA', 'NP-MY')")
            )
            for name, work in await operations(domain):
                runs = []
                for _ in range(3):
                    started = time.perf_counter()
                    output = await work(session, corridors)
                    runs.append(time.perf_counter() - started)
                text_out = output[0] if isinstance(output, tuple) else output
                results["operations"].append(
                    {
                        "name": name,
                        "first_s": round(runs[0], 3),
                        "best_s": round(min(runs), 3),
                        "message_chars": len(text_out),
                    }
                )
    finally:
        await engine.dispose()
    results["peak_rss_mb"] = round(peak_mb(), 1)
    return results


async def prepare(count: int, db: str) -> tuple[str, str | None, float]:
    scratch = None
    if db == "sqlite":
        path = Path(tempfile.mkdtemp(prefix="corridor-bench-")) / "digest.sqlite3"
        url = f"sqlite+aiosqlite:///{path}"
    else:
        scratch = "bench_digest_" + secrets.token_hex(4)
        admin = create_async_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        async with admin.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{scratch}"'))
        await admin.dispose()
        url = PG_ADMIN.rsplit("/", 1)[0] + "/" + scratch
    config = make_config(url)
    engine = make_engine(url)
    try:
        await upgrade(engine)
        domain = make_domain(
            config, make_sessionmaker(engine), clock=FakeClock(NOW), keys=crypto.active()
        )
        async with domain.sessions() as session, session.begin():
            await network.sync_network(session, config)
        seconds = await seed(domain, count)
    finally:
        await engine.dispose()
    return url, scratch, seconds


async def drop(scratch: str) -> None:
    admin = create_async_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.execute(text(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))
    await admin.dispose()


def report(results: dict, db: str) -> None:
    print(
        f"{db}: {results['cases_in_scope']:,} cases in the coordinator's corridors "
        f"({', '.join(results['corridors'])}); load average {load_average()}"
    )
    print(f"{'operation':40} {'first s':>8} {'best s':>8} {'chars':>6}")
    for op in results["operations"]:
        print(f"{op['name']:40} {op['first_s']:8.3f} {op['best_s']:8.3f} {op['message_chars']:6}")
    print(
        f"measuring process: RSS {results['baseline_rss_mb']:.0f} MB after imports (the bot's, "
        f"aiogram included), peak {results['peak_rss_mb']:.0f} MB: "
        f"{results['peak_rss_mb'] - results['baseline_rss_mb']:.0f} MB for the work"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--keep", action="store_true", help="keep the seeded database")
    parser.add_argument("--reuse", help="URL of a database seeded earlier with --keep")
    parser.add_argument("--json", help="also write the numbers to this file")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.measure:
        results = asyncio.run(measure(arguments.measure, os.environ[KEY_VARIABLE]))
        print(json.dumps(results))
        return
    scratch = None
    if arguments.reuse:
        url = arguments.reuse
        key = os.environ[KEY_VARIABLE]
    else:
        key = os.environ.get(KEY_VARIABLE) or generate_key()
        crypto.install(KeyRing([key], HASH_KEY))
        url, scratch, seconds = asyncio.run(prepare(arguments.cases, arguments.db))
        print(
            f"seeded {arguments.cases:,} cases on {arguments.db} in {seconds:.0f} s "
            f"(load average {load_average()})"
        )
        if arguments.keep:
            print(f"kept; measure again with {KEY_VARIABLE}={key} ... --reuse {url}")
            scratch = None
    try:
        done = subprocess.run(
            [sys.executable, __file__, "--measure", url],
            env={**os.environ, KEY_VARIABLE: key},
            capture_output=True,
            text=True,
            check=True,
        )
        results = json.loads(done.stdout.strip().splitlines()[-1])
        report(results, "postgres" if url.startswith("postgresql") else "sqlite")
        if arguments.json:
            Path(arguments.json).write_text(json.dumps(results, indent=2))
    finally:
        if scratch:
            asyncio.run(drop(scratch))


if __name__ == "__main__":
    main()
