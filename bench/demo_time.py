"""How long the offline demo takes, and where the time goes.

1. `corridor demo --quiet` as a subprocess, --runs times: wall time min/median, and the
   "demo finished in X s" the demo measures itself from inside the process (harness start,
   scenario, stop; after every import), so wall − that = interpreter start-up and imports.
2. In this process: the import of aiogram alone (measured first, while nothing has imported
   it yet) and the rest of the app's imports. With --breakdown, also the scenario in this
   process (corridor_dev.demo.scenario), split into harness start-up, scenario and shutdown.

    .venv/bin/python bench/demo_time.py [--runs 3] [--breakdown] [--json out.json]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from _common import ROOT, quiet_logs, table, write_json


def timed_imports() -> dict[str, float]:
    if "aiogram" in sys.modules:
        raise SystemExit("aiogram is already imported: the import time would be wrong")
    began = time.perf_counter()
    import aiogram  # noqa: F401

    aiogram_s = time.perf_counter() - began
    began = time.perf_counter()
    import corridor_dev.demo
    import corridor_dev.harness  # noqa: F401
    import handlers

    handlers.routers()
    app_s = time.perf_counter() - began
    return {"import aiogram": aiogram_s, "import the rest of the app": app_s}


async def in_process_scenario() -> dict[str, float]:
    import shutil
    import tempfile

    from corridor_dev.demo import Narrator, scenario
    from corridor_dev.harness import Harness

    workdir = Path(tempfile.mkdtemp(prefix="bench-demo-"))
    times: dict[str, float] = {}
    began = time.perf_counter()
    h = await Harness.start(f"sqlite+aiosqlite:///{workdir / 'corridor.sqlite3'}")
    times["harness start (emulator, migrations, app)"] = time.perf_counter() - began
    try:
        began = time.perf_counter()
        await scenario(h, Narrator(quiet=True))
        times["demo scenario"] = time.perf_counter() - began
    finally:
        began = time.perf_counter()
        await h.stop()
        times["harness stop"] = time.perf_counter() - began
        shutil.rmtree(workdir, ignore_errors=True)
    return times


def corridor_command() -> list[str]:
    script = Path(sys.executable).with_name("corridor")
    if script.exists():
        return [str(script), "demo", "--quiet"]
    return [sys.executable, "-m", "bot", "demo", "--quiet"]


def subprocess_runs(runs: int) -> list[dict[str, float]]:
    command = corridor_command()
    results = []
    for _ in range(runs):
        began = time.perf_counter()
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
        wall = time.perf_counter() - began
        if done.returncode != 0:
            sys.stderr.write(done.stdout[-3000:] + done.stderr[-3000:])
            raise SystemExit(f"{' '.join(command)} failed with exit code {done.returncode}")
        match = re.search(r"demo finished in ([\d.]+)s", done.stderr)
        results.append(
            {"wall_s": wall, "reported_s": float(match.group(1)) if match else float("nan")}
        )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--runs", type=int, default=3, help="subprocess runs of `corridor demo --quiet`"
    )
    parser.add_argument(
        "--breakdown",
        action="store_true",
        help="also run the scenario in this process, split into harness start, scenario, stop",
    )
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    started = time.perf_counter()
    print(
        f"load average before start: {os.getloadavg()[0]:.2f} "
        "(2-core machine: >1 means other work competes)"
    )
    imports = timed_imports()  # first: nothing may have imported aiogram yet

    runs = subprocess_runs(args.runs)
    walls = [r["wall_s"] for r in runs]
    reported = [r["reported_s"] for r in runs]
    rows = [
        [
            f"run {i + 1}",
            f"{r['wall_s']:.2f}",
            f"{r['reported_s']:.1f}",
            f"{r['wall_s'] - r['reported_s']:.1f}",
        ]
        for i, r in enumerate(runs)
    ]
    rows.append(["min", f"{min(walls):.2f}", f"{min(reported):.1f}", ""])
    rows.append(
        ["median", f"{statistics.median(walls):.2f}", f"{statistics.median(reported):.1f}", ""]
    )
    print(
        table(
            ["", "wall s", "in-process s", "start-up s"],
            rows,
            title=f"(1) {' '.join(corridor_command())} (subprocess)",
        )
    )
    print(
        "in-process = the demo's own 'demo finished in' (harness start + scenario + stop, after "
        "all imports); start-up = wall − in-process (interpreter, imports, exit)"
    )

    rows = [[k, f"{v:.2f}"] for k, v in imports.items()]
    breakdown: dict[str, float] = {}
    if args.breakdown:
        quiet_logs()
        import asyncio

        breakdown = asyncio.run(in_process_scenario())
        rows += [[k, f"{v:.2f}"] for k, v in breakdown.items()]
    print()
    print(
        table(["in this process", "seconds"], rows, title="(2) imports, measured in this process")
    )
    result: dict[str, Any] = {
        "imports_s": imports,
        "breakdown_s": breakdown,
        "subprocess": runs,
        "wall_min_s": min(walls),
        "wall_median_s": statistics.median(walls),
        "in_process_min_s": min(reported),
        "in_process_median_s": statistics.median(reported),
        "total_s": time.perf_counter() - started,
    }
    print(f"(total {result['total_s']:.1f}s)")
    write_json(args.json, result)


if __name__ == "__main__":
    main()
