"""`corridor run` as a real process against the emulator: the configuration file is the
network's single source of truth, and every start says what it changed; the database
sits next to the configuration whatever folder the bot is started from; the
routine lines (the migrations', per start) stay out of the log unless --verbose."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sqlite3
import sys
from pathlib import Path

from bot.crypto import generate_key
from tests.support import EXAMPLE, ROOT
from tgemulator.server import start_emulator

TOKEN = "7000000012:AAHrestartRESTARTrestartRESTART12345"
EXTRA_PERSON = """
[[people]]
id = "nima"
name = "Nima"
telegram_user_id = 5000099
role = "responder"
organisation = "qa-workers-centre"
"""


def environment(tmp_path: Path, api: str, key: str) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "PYTHONPATH": str(ROOT),
        "CORRIDOR_TELEGRAM_TOKEN": TOKEN,
        "CORRIDOR_TELEGRAM_API_BASE_URL": api,
        "CORRIDOR_ENCRYPTION_KEYS": key,
    }


async def corridor(cwd: Path, env: dict[str, str], *argv: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *argv,
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )


async def run_once(cwd: Path, env: dict[str, str], *argv: str, linger: float = 1.5) -> str:
    """Starts the bot, waits until it polls (and ``linger`` seconds more), stops it with
    SIGTERM; returns everything it logged."""
    process = await corridor(cwd, env, "run", *argv)
    seen: list[str] = []
    try:

        async def until_polling() -> None:
            while True:
                line = await process.stdout.readline()
                if not line:
                    raise AssertionError("run ended before polling:\n" + "".join(seen))
                seen.append(line.decode())
                if "Start polling" in seen[-1]:
                    return

        await asyncio.wait_for(until_polling(), 90)
        await asyncio.sleep(linger)
        process.send_signal(signal.SIGTERM)
        rest, _ = await asyncio.wait_for(process.communicate(), 30)
        seen.append(rest.decode())
        assert process.returncode == 0, "".join(seen)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    return "".join(seen)


async def test_restart_applies_the_configuration_and_says_what_it_undoes(tmp_path: Path) -> None:
    etc, elsewhere = tmp_path / "etc", tmp_path / "elsewhere"
    etc.mkdir()
    elsewhere.mkdir()
    config = etc / "config.toml"
    # A fast tick: nothing may be logged per tick.
    config.write_text(EXAMPLE.read_text().replace("tick_seconds = 5", "tick_seconds = 0.2"))
    other = etc / "other.toml"
    other.write_text(config.read_text() + EXTRA_PERSON)
    server = await start_emulator()
    env = environment(tmp_path, server.base_url, generate_key())
    try:
        # First start, from another folder, --config after the command: a new database
        # beside the configuration, and every change it loads is in the log.
        first = await run_once(elsewhere, env, "--config", "../etc/config.toml")
        database = etc / "corridor.sqlite3"
        assert f"database {database} does not exist: starting a new, empty one" in first
        assert "network: applying" in first and "network: + person sita" in first
        assert database.exists() and list(elsewhere.iterdir()) == []
        polling = first.index("Start polling")
        quiet = [line for line in first[polling:].splitlines()[2:] if "INFO" in line]
        assert all("signal received" in line or "Polling stopped" in line for line in quiet), quiet
        assert "alembic" not in first and "apscheduler" not in first

        # An operator loads another file while the bot runs …
        sync = await corridor(
            elsewhere, env, "network", "sync", str(other), "--config", str(config)
        )
        out, _ = await sync.communicate()
        assert sync.returncode == 0, out.decode()
        assert "+ person nima" in out.decode()
        assert f"`corridor run` applies the network of {config}" in out.decode()
        with sqlite3.connect(database) as db:
            assert db.execute("SELECT active FROM people WHERE id = 'nima'").fetchone() == (1,)

        # … and the next start goes back to the configuration, saying so.
        second = await run_once(elsewhere, env, "--config", str(config), "--verbose")
        assert f"the network loaded from {other} on" in second
        assert "network: - person nima (deactivated)" in second
        assert "INFO alembic" in second  # --verbose lets the routine lines through
        with sqlite3.connect(database) as db:
            assert db.execute("SELECT active FROM people WHERE id = 'nima'").fetchone() == (0,)

        third = await run_once(elsewhere, env, "--config", str(config), linger=0)
        assert f"network: the database already matches {config}" in third
        assert "network: applying" not in third
    finally:
        await server.close()


async def test_run_refuses_what_check_config_refuses(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(EXAMPLE.read_text())
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path)}
    env["PYTHONPATH"] = str(ROOT)
    outputs = []
    for argv in (("run", "--config", str(config)), ("check-config", str(config))):
        process = await corridor(tmp_path, env, *argv)
        out, _ = await asyncio.wait_for(process.communicate(), 90)
        assert process.returncode == 2
        outputs.append(out.decode())
    assert outputs[0] == outputs[1]
    assert "Traceback" not in outputs[0]
    assert outputs[0].splitlines() == [
        f"configuration error: {config}: [telegram] token: missing: set "
        "CORRIDOR_TELEGRAM_TOKEN (the token @BotFather gave)",
        "configuration error: no encryption key: set CORRIDOR_ENCRYPTION_KEYS, or "
        f"[security] key_file in {config} (`corridor keys generate` makes one)",
    ]
    assert os.listdir(tmp_path) == [config.name]


async def test_run_refuses_an_unreachable_redis_in_one_line(tmp_path: Path) -> None:
    # Drafts and the per-chat lock live in Redis: starting without it, every update failed.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    config = tmp_path / "config.toml"
    config.write_text(
        EXAMPLE.read_text()
        .replace('storage = "database"', 'storage = "redis"')
        .replace("redis://127.0.0.1:6379/0", f"redis://127.0.0.1:{closed}/0")
    )
    env = environment(tmp_path, "http://127.0.0.1:9", generate_key())
    process = await corridor(tmp_path, env, "run", "--config", str(config))
    out, _ = await asyncio.wait_for(process.communicate(), 90)
    assert process.returncode == 1, out.decode()
    lines = out.decode().splitlines()
    assert lines == [
        f"cannot start: {config}: [fsm] redis_url: redis://127.0.0.1:{closed}/0 unavailable: "
        + lines[0].split(" unavailable: ", 1)[1]
    ]
    assert not (tmp_path / "corridor.sqlite3").exists()
