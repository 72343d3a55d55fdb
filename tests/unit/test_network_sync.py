from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from bot.config import parse_config
from bot.domain.context import Domain
from bot.domain.network import sync_network
from models import Person, ResponderGroup
from tests.support import EXAMPLE, TEST_KEY, example_data


async def test_sync_is_idempotent(domain: Domain) -> None:
    async with domain.sessions() as session, session.begin():
        report = await sync_network(session, domain.config)
    assert report.changes == []


async def test_sync_shows_and_applies_differences(domain: Domain) -> None:
    data = example_data()
    data["people"] = [p for p in data["people"] if p["id"] != "farid"]
    data["people"][1]["name"] = "Ramesh K."
    data["groups"].append({"organisation": "my-legal-aid", "chat_id": -1009, "title": "KL night"})
    changed = parse_config(data, "x.toml", environ={})
    async with domain.sessions() as session, session.begin():
        report = await sync_network(session, changed)
    assert "~ person ramesh: name 'Ramesh' → 'Ramesh K.'" in report.changes
    assert "- person farid (deactivated)" in report.changes
    assert "+ group -1009" in report.changes
    async with domain.sessions() as session:
        assert (await session.get(Person, "farid")).active is False
        assert (
            await session.scalar(select(ResponderGroup).where(ResponderGroup.chat_id == -1009))
            is not None
        )
        again = await sync_network(session, changed)
    assert again.changes == []


def test_cli_sync_dry_run_changes_nothing(tmp_path: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": "/tmp",
        "CORRIDOR_ENCRYPTION_KEYS": TEST_KEY,
        "CORRIDOR_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'c.sqlite3'}",
    }

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot", "--config", str(EXAMPLE), *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )

    dry = run("network", "sync", str(EXAMPLE), "--dry-run")
    assert dry.returncode == 0 and "+ corridor NP-QA" in dry.stdout and "would change" in dry.stdout
    real = run("network", "sync", str(EXAMPLE))
    assert "+ corridor NP-QA" in real.stdout
    again = run("network", "sync", str(EXAMPLE))
    assert again.returncode == 0 and "network already up to date" in again.stdout
