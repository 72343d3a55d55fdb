"""What machine translation adds to a relayed message.

A Nepali worker's SOS is claimed by an English-speaking responder; the worker then sends N
messages one at a time. Latency = from the emulator accepting the worker's message until the
owner's copy is in the owner's chat (real bot, real HTTP, SQLite file database). Measured
three ways: translation off, on against a local server speaking LibreTranslate's API that
answers at once (the bot's own cost: one HTTP round trip, composing the text), and on with an
engine that takes ``--engine-ms`` to answer (a realistic CPU-bound LibreTranslate). The engine
is the fake in emulator/tgemulator/libretranslate.py, so its own translation time is not measured.

    .venv/bin/python bench/translation_latency.py [--n 100] [--engine-ms 150] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import median, ms, percentile, quiet_logs, table, write_json

from corridor_dev.harness import Harness
from tgemulator.libretranslate import FakeLibreTranslate


async def one_setting(
    name: str, n: int, engine: FakeLibreTranslate | None, folder: Path
) -> dict[str, Any]:
    settings = (
        {"backend": "libretranslate", "url": engine.url, "timeout": 5.0}
        if engine is not None
        else {}
    )
    url = f"sqlite+aiosqlite:///{folder / (name.replace(' ', '_') + '.sqlite3')}"
    h = await Harness.start(url, overrides={"translation": settings})
    try:
        worker = await h.user("Worker", "ne")
        await h.say(worker, "/sos")
        await h.press_data(worker, lambda data: data == "sos:QA")
        owner = h.staff["ramesh"]
        await h.claim(owner, h.groups["qa-workers-centre"])
        latencies = []
        for i in range(n):
            words = f"मालिकले आज फेरि धम्की दियो {i:05d}"
            started = time.perf_counter()
            await h.tg.send_message(worker, words)
            await h.tg.wait_for_message(owner, contains=f"{i:05d}", timeout=30)
            latencies.append(time.perf_counter() - started)
        await h.settle()
    finally:
        await h.stop()
    return {
        "name": name,
        "count": n,
        "median_s": median(latencies),
        "p99_s": percentile(latencies, 99),
        "max_s": max(latencies),
        "engine_requests": len(engine.requests) if engine is not None else 0,
    }


async def main(n: int, engine_ms: float) -> list[dict[str, Any]]:
    quiet_logs()
    results = []
    with tempfile.TemporaryDirectory() as folder:
        results.append(await one_setting("translation off", n, None, Path(folder)))
        for delay in (0.0, engine_ms / 1000):
            engine = await FakeLibreTranslate(default_language="ne", delay=delay).start()
            try:
                label = f"translation on, engine answers in {delay * 1000:.0f} ms"
                results.append(await one_setting(label, n, engine, Path(folder)))
            finally:
                await engine.close()
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--engine-ms", type=float, default=150.0)
    parser.add_argument("--json")
    args = parser.parse_args()
    print(f"load average: {os.getloadavg()[0]:.1f}")
    rows = asyncio.run(main(args.n, args.engine_ms))
    off = rows[0]["median_s"]
    print(
        table(
            [
                "relay reporter → owner",
                "messages",
                "p50 ms",
                "p99 ms",
                "added p50 ms",
                "engine calls",
            ],
            [
                [
                    r["name"],
                    r["count"],
                    ms(r["median_s"]),
                    ms(r["p99_s"]),
                    ms(r["median_s"] - off),
                    r["engine_requests"],
                ]
                for r in rows
            ],
        )
    )
    write_json(args.json, {"results": rows})
