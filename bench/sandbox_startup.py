"""How long `corridor sandbox` takes to a usable page, and how heavy that page is.

1. `corridor sandbox --port P --no-browser` as a subprocess, --runs times: seconds from the
   spawn until the page (GET /) and its first state (GET /api/state) both answer, and the
   "ready in X s" the command prints (after its imports: emulator, migrations, network).
2. With Chromium at /usr/bin/chromium and the playwright package: seconds from navigation
   until the page has drawn the open chats (what a person sees as usable).
3. Page weight: the HTML, script and style sheet, and the first state, raw and gzipped.

    .venv/bin/python bench/sandbox_startup.py [--runs 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import os
import re
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from _common import ROOT, table, write_json

from tests.support import free_port

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read()


def until_usable(url: str, limit: float = 180) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            fetch(url)
            fetch(url + "api/state")
            return
        except OSError:
            time.sleep(0.02)
    raise SystemExit(f"the sandbox did not answer on {url} within {limit:.0f}s")


async def browser_ready(url: str) -> float | None:
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        return None
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        page = await browser.new_page(viewport={"width": 1600, "height": 900})
        began = time.perf_counter()
        await page.goto(url)
        await page.wait_for_selector('[data-chat="sita"] .composer')
        elapsed = time.perf_counter() - began
        await browser.close()
    return elapsed


def one_run(measure_browser: bool) -> dict[str, Any]:
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    began = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "sandbox", "--port", str(port), "--no-browser"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "DISPLAY": ""},
    )
    try:
        until_usable(url)
        result: dict[str, Any] = {"spawn to usable page (s)": time.perf_counter() - began}
        banner = b""
        while b"ready in" not in banner:
            banner += process.stdout.readline()
        found = re.search(rb"ready in ([\d.]+)s", banner)
        result["its own 'ready in' (s)"] = float(found.group(1)) if found else float("nan")
        weights = {
            name: fetch(url + path)
            for name, path in (
                ("index.html", ""),
                ("sandbox.js", "static/sandbox.js"),
                ("sandbox.css", "static/sandbox.css"),
                ("first /api/state", "api/state"),
            )
        }
        result["weights"] = {
            name: (len(body), len(gzip.compress(body))) for name, body in weights.items()
        }
        if measure_browser and CHROMIUM.exists():
            result["browser: navigation to chats drawn (s)"] = asyncio.run(browser_ready(url))
        return result
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json")
    args = parser.parse_args()
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    runs = [one_run(measure_browser=True) for _ in range(args.runs)]
    rows = []
    summary: dict[str, Any] = {}
    for key in (
        "spawn to usable page (s)",
        "its own 'ready in' (s)",
        "browser: navigation to chats drawn (s)",
    ):
        values = [r[key] for r in runs if r.get(key) is not None]
        if not values:
            rows.append((key, "—", "—"))
            continue
        summary[key] = {"min": min(values), "median": statistics.median(values)}
        rows.append((key, f"{min(values):.2f}", f"{statistics.median(values):.2f}"))
    print(table(("start-up", "min", "median"), rows, title=f"corridor sandbox, {args.runs} runs"))
    weights = runs[0]["weights"]
    total = [sum(raw for raw, _ in weights.values()), sum(zipped for _, zipped in weights.values())]
    print(
        table(
            ("page weight", "bytes", "gzipped"),
            [(name, raw, zipped) for name, (raw, zipped) in weights.items()] + [("total", *total)],
        )
    )
    summary["weights"] = weights
    write_json(args.json, summary)


if __name__ == "__main__":
    main()
