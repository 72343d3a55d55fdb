"""Shared helpers for tests: configuration, databases (SQLite or PostgreSQL), a domain."""

from __future__ import annotations

import hashlib
import os
import secrets
import tomllib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.config import Config, parse_config
from bot.crypto import KeyRing, generate_key, install
from bot.domain.cases import Report
from models import Corridor

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "config.example.toml"
TEST_KEY = generate_key()
PG_URL = os.environ.get("CORRIDOR_TEST_DATABASE_URL", "")


def wage_report(**changes: Any) -> Report:
    """A worker in Qatar, from Nepal, owed four months' wages, consenting to everything;
    tests change what they are about."""
    values: dict[str, Any] = dict(
        reporter_role="self",
        destination_country="QA",
        origin_country="NP",
        categories=["WAGE"],
        language="ne",
        area="Doha",
        description="Not paid for four months",
        employer="Al Noor Contracting",
        wage_owed_minor=480000,
        wage_currency="QAR",
        consents={"destination_help": True, "origin_help": True, "statistics": True},
    )
    values.update(changes)
    return Report(**values)


def example_corridors(*codes: str) -> list[Corridor]:
    """Active corridors as the wizard sees them, without a database: the example network's
    (NP-QA, NP-MY, ID-MY) unless ``codes`` names others."""
    codes = codes or tuple(c["code"] for c in example_data()["corridors"])
    return [
        Corridor(code=code, origin=code[:2], destination=code[3:], active=True) for code in codes
    ]


def example_data() -> dict[str, Any]:
    with EXAMPLE.open("rb") as handle:
        return tomllib.load(handle)


def make_config(database_url: str, **overrides: Any) -> Config:
    data = example_data()
    data["security"] = {"encryption_keys": [TEST_KEY], "hash_key": "test-hash-key"}
    data["database"] = {"url": database_url}
    data["outbox"] = {
        "per_chat_per_second": 1000.0,
        "per_group_per_minute": 100000,
        "global_per_second": 100000,
    }
    for section, values in overrides.items():
        if isinstance(values, dict) and isinstance(data.get(section), dict):
            data[section] = {**data[section], **values}
        else:
            data[section] = values
    return parse_config(data, "test.toml", environ={})


def install_test_keys() -> KeyRing:
    ring = KeyRing([TEST_KEY], "test-hash-key")
    install(ring)
    return ring


_template_ready = False


def _with_database(url: str, name: str) -> str:
    base, _, _query = url.partition("?")
    return base.rsplit("/", 1)[0] + "/" + name


@asynccontextmanager
async def database(tmp_path: Path) -> AsyncIterator[str]:
    """A fresh, migrated database URL: a SQLite file, or a PostgreSQL database copied from
    a template that was migrated once (copying is much faster than migrating)."""
    global _template_ready
    from models.db import make_engine
    from models.migrate import upgrade

    if not PG_URL:
        url = f"sqlite+aiosqlite:///{tmp_path / 'test.sqlite3'}"
        engine = make_engine(url)
        await upgrade(engine)
        await engine.dispose()
        yield url
        return
    admin = create_async_engine(PG_URL, isolation_level="AUTOCOMMIT")
    # One template per checkout: several work trees (or their CI runs) may share a server,
    # each with migrations of its own.
    template = "corridor_tpl_" + hashlib.sha1(str(ROOT).encode()).hexdigest()[:10]
    try:
        if not _template_ready:
            async with admin.connect() as connection:
                await connection.execute(text(f'DROP DATABASE IF EXISTS "{template}"'))
                await connection.execute(text(f'CREATE DATABASE "{template}"'))
            engine = make_engine(_with_database(PG_URL, template))
            await upgrade(engine)
            await engine.dispose()
            _template_ready = True
        name = "corridor_t_" + secrets.token_hex(5)
        async with admin.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
        try:
            yield _with_database(PG_URL, name)
        finally:
            async with admin.connect() as connection:
                await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()
