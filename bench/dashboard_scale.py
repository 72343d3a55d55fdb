"""The dashboard over many cases: board and trend query times, payload sizes, page weight,
and the time to a drawn board in headless Chromium.

    .venv/bin/python bench/dashboard_scale.py --cases 100000 --db sqlite|postgres [--browser]
    CORRIDOR_BENCH_KEY=… .venv/bin/python bench/dashboard_scale.py --reuse URL [--browser]

Seeding is bench/digest_scale.py's (cases over two years in three corridors, unclaimed
ones only in the last two days, pending check-ins, escalations); the coordinator is Sita
(NP-QA and NP-MY, two thirds of the cases). Measuring runs in a fresh interpreter; each
query runs three times: the first reads from disk, the best is what a running bot sees.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from digest_scale import HASH_KEY, KEY_VARIABLE, NOW, drop, load_average, prepare
from sqlalchemy import text

from bot import app, crypto
from bot.clock import FakeClock
from bot.crypto import KeyRing, generate_key
from bot.domain import dashboard, trends
from bot.domain.context import Domain
from bot.webapp import views
from bot.webapp.auth import sign_init_data
from bot.webapp.routes import STATIC, STATIC_FILES
from corridor_dev.harness import DEMO_TOKEN
from models.db import make_engine, make_sessionmaker, read_only
from tests.browser.chromium import CHROMIUM, CHROMIUM_ARGS, PHONE
from tests.support import make_config

SITA = 5000001


def page_weight() -> dict:
    files = ["index.html", *STATIC_FILES]
    raw = {name: len((STATIC / name).read_bytes()) for name in files}
    zipped = {name: len(gzip.compress((STATIC / name).read_bytes(), 6)) for name in files}
    return {"raw_bytes": sum(raw.values()), "gzip_bytes": sum(zipped.values()), "files": raw}


def make_domain(url: str, key: str) -> Domain:
    config = make_config(url, telegram={"token": DEMO_TOKEN})
    crypto.install(KeyRing([key], HASH_KEY))
    return app.make_domain(
        config,
        make_sessionmaker(make_engine(url)),
        clock=FakeClock(NOW),
        keys=KeyRing([key], HASH_KEY),
    )


async def timed(domain: Domain, work) -> tuple[list[float], object]:  # type: ignore[no-untyped-def]
    runs, output = [], None
    for _ in range(3):
        async with domain.sessions() as session:
            await read_only(session)
            started = time.perf_counter()
            output = await work(session)
            runs.append(time.perf_counter() - started)
    return runs, output


async def measure(url: str, key: str) -> dict:
    domain = make_domain(url, key)
    now = domain.now()
    results: dict = {"operations": []}
    async with domain.sessions() as session:
        results["cases_total"] = await session.scalar(text("SELECT count(*) FROM cases"))
        results["cases_in_scope"] = await session.scalar(
            text("SELECT count(*) FROM cases WHERE corridor_code IN ('NP-MY', 'NP-QA')")
        )
    work = [
        ("board, NP-MY + NP-QA", lambda s: dashboard.board(s, ["NP-MY", "NP-QA"], now), "board"),
        ("board, NP-QA", lambda s: dashboard.board(s, ["NP-QA"], now), "board"),
    ]
    for days in trends.WINDOWS:
        work.append(
            (
                f"trends {days} days, NP-MY + NP-QA",
                lambda s, d=days: trends.trends(s, ["NP-MY", "NP-QA"], now, d),
                "trends",
            )
        )
    for name, job, kind in work:
        runs, output = await timed(domain, job)
        payload = (
            views.board_json(output, "en", now)  # type: ignore[arg-type]
            if kind == "board"
            else views.trends_json(output, "en")  # type: ignore[arg-type]
        )
        body = json.dumps(payload).encode()
        results["operations"].append(
            {
                "name": name,
                "first_s": round(runs[0], 3),
                "best_s": round(min(runs), 3),
                "json_bytes": len(body),
                "json_gzip_bytes": len(gzip.compress(body, 6)),
            }
        )
    await domain.sessions.kw["bind"].dispose()
    return results


async def first_render(url: str, key: str, runs: int = 3) -> list[float]:
    """Milliseconds from navigation to a drawn board, as the page reports it."""
    from aiohttp import web
    from playwright.async_api import async_playwright

    from bot.webapp.routes import mount

    domain = make_domain(url, key)
    web_app = web.Application()
    mount(web_app, domain)
    runner = web.AppRunner(web_app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    timings = []
    try:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=CHROMIUM,
                args=CHROMIUM_ARGS,
            )
            for _ in range(runs):
                context = await browser.new_context(**PHONE)
                page = await context.new_page()
                init_data = quote(sign_init_data(DEMO_TOKEN, SITA, NOW), safe="")
                await page.goto(f"http://127.0.0.1:{port}/webapp/#initData={init_data}")
                await page.wait_for_selector("body[data-ready='1']", timeout=60_000)
                timings.append(float(await page.evaluate("document.body.dataset.readyMs")))
                await context.close()
            await browser.close()
    finally:
        await runner.cleanup()
        await domain.sessions.kw["bind"].dispose()
    return timings


def report(results: dict, db: str) -> None:
    print(
        f"{db}: {results['cases_total']:,} cases, {results['cases_in_scope']:,} in Sita's "
        f"corridors; load average {load_average()}"
    )
    print(f"{'operation':36} {'first s':>8} {'best s':>8} {'JSON B':>8} {'gzip B':>7}")
    for op in results["operations"]:
        print(
            f"{op['name']:36} {op['first_s']:8.3f} {op['best_s']:8.3f} "
            f"{op['json_bytes']:8} {op['json_gzip_bytes']:7}"
        )
    weight = results["page"]
    print(
        f"page: {weight['raw_bytes']:,} bytes in {len(weight['files'])} files "
        f"({weight['gzip_bytes']:,} gzip-compressed, as served)"
    )
    if results.get("first_render_ms"):
        ms = results["first_render_ms"]
        print(f"first render in headless Chromium: first {ms[0]:.0f} ms, best {min(ms):.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--keep", action="store_true", help="keep the seeded database")
    parser.add_argument("--reuse", help="URL of a database seeded earlier with --keep")
    parser.add_argument("--browser", action="store_true", help="also time the first render")
    parser.add_argument("--json", help="also write the numbers to this file")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.measure:
        key = os.environ[KEY_VARIABLE]
        results = asyncio.run(measure(arguments.measure, key))
        if arguments.browser:
            results["first_render_ms"] = asyncio.run(first_render(arguments.measure, key))
        print(json.dumps(results))
        return
    scratch = None
    if arguments.reuse:
        url, key = arguments.reuse, os.environ[KEY_VARIABLE]
    else:
        key = os.environ.get(KEY_VARIABLE) or generate_key()
        crypto.install(KeyRing([key], HASH_KEY))
        url, scratch, seconds = asyncio.run(prepare(arguments.cases, arguments.db))
        print(f"seeded {arguments.cases:,} cases on {arguments.db} in {seconds:.0f} s")
        if arguments.keep:
            print(f"kept; measure again with {KEY_VARIABLE}={key} ... --reuse {url}")
            scratch = None
    try:
        command = [sys.executable, __file__, "--measure", url]
        if arguments.browser:
            command.append("--browser")
        done = subprocess.run(
            command, env={**os.environ, KEY_VARIABLE: key}, capture_output=True, text=True
        )
        if done.returncode != 0:
            sys.exit(f"measuring failed: {done.stderr.strip().splitlines()[-1:]}")
        results = json.loads(done.stdout.strip().splitlines()[-1])
        results["page"] = page_weight()
        report(results, "postgres" if url.startswith("postgresql") else "sqlite")
        if arguments.json:
            Path(arguments.json).write_text(json.dumps(results, indent=2))
    finally:
        if scratch:
            asyncio.run(drop(scratch))


if __name__ == "__main__":
    main()
