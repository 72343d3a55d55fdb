"""PostgreSQL: a pooled connection that sat idle is checked when taken and replaced if the
server dropped it; one in steady use is taken without a ping; bursts reuse the pool's
connections instead of opening and closing more."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import event, text

import models.db
from models.db import POOL_SIZE, make_engine


@pytest.fixture
def pg_url(database_url: str) -> str:
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only: SQLite has no pooled server connections")
    return database_url


async def _backend(engine) -> int:  # type: ignore[no-untyped-def]
    async with engine.connect() as connection:
        return (await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one()


async def test_an_idle_connection_the_server_dropped_is_replaced(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(models.db, "IDLE_BEFORE_PING_S", 0.0)
    engine, killer = make_engine(pg_url), make_engine(pg_url)
    try:
        dropped = await _backend(engine)
        async with killer.connect() as connection:
            await connection.execute(text(f"SELECT pg_terminate_backend({dropped})"))
        # The next transaction gets a live connection instead of an error.
        assert await _backend(engine) != dropped
    finally:
        await engine.dispose()
        await killer.dispose()


async def test_a_connection_in_steady_use_is_not_pinged(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(pg_url)
    pings: list[object] = []
    ping = engine.dialect.do_ping
    monkeypatch.setattr(engine.dialect, "do_ping", lambda conn: pings.append(conn) or ping(conn))
    try:
        for _ in range(5):
            await _backend(engine)
        assert pings == []
        monkeypatch.setattr(models.db, "IDLE_BEFORE_PING_S", 0.0)
        await _backend(engine)
        assert len(pings) == 1
    finally:
        await engine.dispose()


async def test_bursts_of_transactions_reuse_the_pooled_connections(pg_url: str) -> None:
    engine = make_engine(pg_url)
    opened: list[object] = []
    event.listen(engine.sync_engine, "connect", lambda connection, _record: opened.append(1))

    async def one() -> None:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT pg_sleep(0.01)"))

    try:
        for _ in range(3):
            await asyncio.gather(*(one() for _ in range(2 * POOL_SIZE)))
    finally:
        await engine.dispose()
    # Overflow connections closed at each return would be opened again at every burst.
    assert len(opened) == POOL_SIZE
