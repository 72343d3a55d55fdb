"""10,000 random and mutated updates through the real bot; counts unhandled exceptions.

The updates (see devtools/corridor_dev/fuzz.py) are texts, media, taps on real and forged buttons and raw
updates mutated out of shape, sent one at a time by strangers, reporters (mid-report, or
with a case a responder owns), a responder and a coordinator in private, and a responder
and a visitor in a responder group. The goal is 0 unhandled exceptions, 0 unanswered
callback queries and nothing a reporter typed in a group.

    .venv/bin/python bench/fuzz_updates.py [--n 10000] [--seed 1] [--db sqlite|postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

from _common import PG_URL, quiet_logs, scratch_postgres, table, write_json

from corridor_dev.fuzz import Report, fuzz, summary


@contextlib.asynccontextmanager
async def database(kind: str) -> AsyncIterator[str]:
    if kind == "postgres":
        async with scratch_postgres("corridor_fuzz", PG_URL) as url:
            yield url
        return
    with tempfile.TemporaryDirectory() as folder:
        yield f"sqlite+aiosqlite:///{Path(folder) / 'fuzz.sqlite3'}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--json", help="also write the numbers here")
    args = parser.parse_args()
    quiet_logs()
    # devtools/corridor_dev/fuzz.py counts the polling loop's "skipped" notes itself; they need not scroll by.
    logging.getLogger("bot.polling").propagate = False
    print(f"load average at start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")

    shown = [0]
    began = time.perf_counter()

    def progress(report: Report) -> None:
        if report.updates >= shown[0] + 500:
            shown[0] = report.updates - report.updates % 500
            print(
                f"  {report.updates} updates, {report.unhandled_count} unhandled, "
                f"{time.perf_counter() - began:.0f}s",
                flush=True,
            )

    async def run() -> Report:
        from models.db import make_engine
        from models.migrate import upgrade

        async with database(args.db) as url:
            engine = make_engine(url)
            await upgrade(engine)
            await engine.dispose()
            return await fuzz(url, args.n, args.seed, progress)

    report = asyncio.run(run())
    rows = [
        ["updates", report.updates],
        ["  of which callback queries", report.callbacks],
        ["refused by the client (not updates)", report.refused_by_client],
        ["unhandled exceptions (goal 0)", report.unhandled_count],
        ["unanswered callback queries (goal 0)", len(report.unanswered)],
        ["unparseable updates skipped by polling", report.skipped_unparseable],
        ["reporter text in groups (goal 0)", len(report.leaks)],
        ["seconds", f"{report.seconds:.0f}"],
        ["updates/s", f"{report.updates / max(report.seconds, 1e-9):.1f}"],
    ]
    print(table(["fuzz_updates", args.db], rows, left=1))
    if report.unhandled:
        print(table(["kind", "unhandled"], sorted(report.unhandled_by_kind.items())))
        print(table(["exception", "count"], report.exception_types.most_common()))
        print(table(["category", "count"], report.by_category.most_common()))
        print(summary(report))
    write_json(
        args.json,
        {
            "db": args.db,
            "seed": args.seed,
            "updates": report.updates,
            "by_kind": dict(report.by_kind),
            "callbacks": report.callbacks,
            "refused_by_client": report.refused_by_client,
            "unhandled": report.unhandled_count,
            "unhandled_by_kind": dict(report.unhandled_by_kind),
            "exception_types": dict(report.exception_types),
            "by_category": dict(report.by_category),
            "unhandled_examples": [str(escaped) for escaped in report.unhandled[:50]],
            "unanswered": len(report.unanswered),
            "skipped_unparseable": report.skipped_unparseable,
            "leaks": len(report.leaks),
            "seconds": report.seconds,
        },
    )
    return 0 if report.unhandled_count == 0 and not report.unanswered and not report.leaks else 1


if __name__ == "__main__":
    sys.exit(main())
