"""Runs every benchmark (each in its own interpreter) and prints a combined summary.

demo_time, roundtrip and claim_race on SQLite; claim_race on PostgreSQL too when the server
answers (CORRIDOR_BENCH_PG_URL, default postgresql+asyncpg://postgres@127.0.0.1:5432/test).

    .venv/bin/python bench/run_all.py      (or: make bench)
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import PG_URL, ROOT, ms, postgres_available, table

BENCH = Path(__file__).resolve().parent


def run(name: str, *args: str) -> dict[str, Any] | None:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        out = Path(handle.name)
    command = [sys.executable, str(BENCH / name), *args, "--json", str(out)]
    print(
        f"\n$ {' '.join(Path(c).name if c == sys.executable else c for c in command[:-2])}",
        flush=True,
    )
    began = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT)
    elapsed = time.perf_counter() - began
    try:
        if done.returncode != 0:
            print(f"!! {name} exited with {done.returncode} after {elapsed:.0f}s", flush=True)
        if out.stat().st_size == 0:
            return None
        result = json.loads(out.read_text())
        result["_exit"] = done.returncode
        return result
    finally:
        out.unlink(missing_ok=True)


def unexpected(claim: dict[str, Any]) -> int:
    """Presses answered with something other than won/taken (e.g. an error message)."""
    return sum(n for kind, n in claim["outcomes"].items() if kind not in ("won", "taken"))


def main() -> int:
    began = time.perf_counter()
    print(f"load average at start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    results: dict[str, dict[str, Any] | None] = {
        "demo": run("demo_time.py"),
        "roundtrip": run("roundtrip.py"),
        "claim sqlite": run("claim_race.py", "--db", "sqlite"),
    }
    if asyncio.run(postgres_available(PG_URL)):
        results["claim postgres"] = run("claim_race.py", "--db", "postgres")
    else:
        print(f"\nPostgreSQL at {PG_URL} does not answer: skipping claim_race --db postgres")

    rows: list[list[str]] = []
    demo = results["demo"]
    if demo:
        rows.append(
            [
                "corridor demo --quiet, wall (min / median)",
                f"{demo['wall_min_s']:.1f} s / {demo['wall_median_s']:.1f} s",
            ]
        )
        rows.append(
            [
                "  demo in-process, excl. start-up (min / median)",
                f"{demo['in_process_min_s']:.1f} s / {demo['in_process_median_s']:.1f} s",
            ]
        )
        rows.append(["  import aiogram", f"{demo['imports_s']['import aiogram']:.1f} s"])
    trip = results["roundtrip"]
    if trip:
        for row in trip["raw"]:
            rows.append(
                [
                    f"emulator {row['name']}",
                    f"{row['per_s']:.0f} calls/s, median {ms(row['median_s'])} ms, p99 {ms(row['p99_s'])} ms",
                ]
            )
        for row in trip["echo"] + trip["corridor"]:
            rows.append(
                [
                    row["name"],
                    f"{row['per_s']:.0f} updates/s, median {ms(row['median_s'])} ms, "
                    f"p99 {ms(row['p99_s'])} ms, {row['cpu_ms_each']:.1f} ms CPU each",
                ]
            )
    for key in ("claim sqlite", "claim postgres"):
        claim = results.get(key)
        if claim:
            rows.append(
                [
                    f"claim race {claim['db']} ({claim['answered']}/{claim['presses']} presses, "
                    f"{claim['cases_raced']} cases)",
                    f"{claim['claims_per_s']:.0f} presses/s, median {ms(claim['median_s'])} ms, "
                    f"p99 {ms(claim['p99_s'])} ms, {claim['cpu_ms_per_press']:.1f} ms CPU each, "
                    f"double claims {claim['double_claims']}, "
                    f"error answers {sum(claim['errors'].values()) + unexpected(claim)}",
                ]
            )
    failed = [name for name, result in results.items() if result is None or result.get("_exit")]
    print()
    print(table(["benchmark", "result"], rows, title="=== summary ===", left=2))
    if failed:
        print("failed or incomplete: " + ", ".join(failed))
    print(f"(all benchmarks: {time.perf_counter() - began:.0f}s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
