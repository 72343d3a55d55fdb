"""Transactions: what a long read does to everyone else's writes."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select, update

from bot.domain.context import Domain
from models import Person
from models.db import read_only


async def rename(domain: Domain, name: str) -> None:
    async with domain.sessions() as session, session.begin():
        await session.execute(update(Person).where(Person.id == "sita").values(name=name))


async def test_a_read_only_report_does_not_hold_up_writers(domain: Domain) -> None:
    async with domain.sessions() as report:
        await report.scalar(select(func.count()).select_from(Person))  # the caller's lookup
        await read_only(report)
        before = await report.scalar(select(Person.name).where(Person.id == "sita"))
        # With the write lock held, this would wait for the report (up to the 30 s busy
        # timeout on SQLite) instead of finishing at once.
        await asyncio.wait_for(rename(domain, "Sita while a report runs"), timeout=10)
        # The report goes on reading its own snapshot.
        assert await report.scalar(select(Person.name).where(Person.id == "sita")) == before
        await report.commit()
    async with domain.sessions() as session:
        assert await session.scalar(select(Person.name).where(Person.id == "sita")) == (
            "Sita while a report runs"
        )


async def test_an_ordinary_session_on_sqlite_takes_its_turn_to_write(domain: Domain) -> None:
    """The default stays as it is: on SQLite a session that may write holds the write lock
    from its first statement (so a read-then-write never fails on a stale snapshot), and
    others wait their turn. PostgreSQL locks rows, not the database: nobody waits for a read."""
    sqlite = domain.sessions.kw["bind"].dialect.name == "sqlite"
    async with domain.sessions() as first:
        await first.scalar(select(func.count()).select_from(Person))
        second = asyncio.create_task(rename(domain, "second"))
        await asyncio.sleep(0.3)
        assert second.done() is not sqlite
        await first.execute(update(Person).where(Person.id == "sita").values(name="first"))
        await first.commit()
    await asyncio.wait_for(second, timeout=10)
    async with domain.sessions() as session:
        last = await session.scalar(select(Person.name).where(Person.id == "sita"))
    assert last == ("second" if sqlite else "first")
