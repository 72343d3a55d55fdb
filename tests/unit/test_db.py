"""Transactions: what a long read does to everyone else's writes."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import func, make_url, select, text, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import create_async_engine

from bot.domain.context import Domain
from models import Person
from models.db import inline_sqlite_url, read_only


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


# --- SQLite in the bot's own process (models.sqlite_inline) -------------------------------


class Ticker:
    """Counts the event loop's turns while something else runs: a loop stopped by a blocking
    call counts none."""

    def __init__(self) -> None:
        self.ticks = 0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(0.01)
            self.ticks += 1

    def __enter__(self) -> Ticker:
        self._task = asyncio.create_task(self._run())
        return self

    def __exit__(self, *_: object) -> None:
        assert self._task is not None
        self._task.cancel()


@contextlib.contextmanager
def another_process_writing(domain: Domain) -> Iterator[sqlite3.Connection]:
    """A plain sqlite3 connection holding the database's write lock (as an operator command
    beside the bot would) until it commits or the block ends."""
    bind = domain.sessions.kw["bind"]
    if bind.dialect.name != "sqlite":
        pytest.skip("PostgreSQL has no database-wide write lock")
    other = sqlite3.connect(bind.url.database, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield other
    finally:
        other.close()


# About half a second of SQLite's own work, whatever the data.
SLOW_COUNT = text(
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000000) "
    "SELECT count(*) FROM n"
)


async def test_a_long_report_does_not_stop_the_bot_from_answering(domain: Domain) -> None:
    async with domain.sessions() as report:
        await read_only(report)
        with Ticker() as ticker:
            assert await report.scalar(SLOW_COUNT) == 3_000_000
        await report.commit()
    # The loop kept turning (every 10 ms) while SQLite counted.
    assert ticker.ticks >= 5


async def test_a_writer_in_another_process_is_waited_for_without_stopping_the_loop(
    domain: Domain,
) -> None:
    with another_process_writing(domain) as other, Ticker() as ticker:
        waiting = asyncio.create_task(rename(domain, "after the other process"))
        await asyncio.sleep(0.3)
        assert not waiting.done()
        other.execute("COMMIT")
        await asyncio.wait_for(waiting, timeout=10)
    assert ticker.ticks >= 10
    async with domain.sessions() as session:
        assert await session.scalar(select(Person.name).where(Person.id == "sita")) == (
            "after the other process"
        )


async def test_a_writer_held_up_too_long_hears_database_is_locked(
    domain: Domain,
) -> None:
    with another_process_writing(domain):
        engine = create_async_engine(
            inline_sqlite_url(make_url(domain.sessions.kw["bind"].url)),
            connect_args={"timeout": 0.3},
        )
        try:
            async with engine.connect() as connection:
                with pytest.raises(OperationalError, match="database is locked"):
                    await connection.exec_driver_sql("BEGIN IMMEDIATE")
        finally:
            await engine.dispose()


async def test_writers_of_one_process_take_turns_and_all_land(domain: Domain) -> None:
    """Sessions that do not go through Domain.writing still queue, instead of failing on
    the lock another session of the same process holds."""
    await asyncio.wait_for(
        asyncio.gather(*(rename(domain, f"writer {n}") for n in range(20))), timeout=30
    )
    async with domain.sessions() as session:
        name = await session.scalar(select(Person.name).where(Person.id == "sita"))
    assert name is not None and name.startswith("writer ")


async def test_rows_read_after_the_commit_are_all_there(domain: Domain) -> None:
    """A result stays readable after its transaction ended."""
    async with domain.sessions() as session:
        result = await session.execute(select(Person.id).order_by(Person.id))
        await session.commit()
        ids = result.scalars().all()
    async with domain.sessions() as session:
        assert ids == list(await session.scalars(select(Person.id).order_by(Person.id)))
    assert len(ids) > 1


class SlowDisk:
    """A sqlite3 connection whose commits take ``seconds`` longer, and say on which thread."""

    def __init__(self, driver: sqlite3.Connection, seconds: float) -> None:
        self._driver, self._seconds = driver, seconds
        self.commit_threads: list[int] = []

    def __getattr__(self, name: str) -> object:
        return getattr(self._driver, name)

    def commit(self) -> None:
        self.commit_threads.append(threading.get_ident())
        time.sleep(self._seconds)
        self._driver.commit()


async def test_a_commit_is_made_inline_until_the_disk_is_slow(domain: Domain) -> None:
    """A quick commit costs less than a hop to a worker thread; after a slow one, commits
    wait on a worker thread and the loop keeps turning."""
    from models import sqlite_inline

    engine = domain.sessions.kw["bind"]
    if engine.dialect.name != "sqlite":
        pytest.skip("the inline driver is SQLite's")
    loop_thread = threading.get_ident()
    sqlite_inline._slow_disk_until.clear()
    async with engine.connect() as connection:
        inline = (await connection.get_raw_connection()).dbapi_connection
        slow = SlowDisk(inline.driver, 0.0)
        inline.driver = slow
        try:
            for name, delay in (("quick", 0.0), ("slow", 0.05), ("after", 0.3)):
                slow._seconds = delay
                with Ticker() as ticker:
                    await connection.execute(
                        update(Person).where(Person.id == "sita").values(name=name)
                    )
                    await connection.commit()
                if name == "after":
                    assert ticker.ticks >= 10  # the loop turned while the disk was slow
        finally:
            inline.driver = slow._driver
            sqlite_inline._slow_disk_until.clear()
    assert slow.commit_threads[:2] == [loop_thread, loop_thread]
    assert slow.commit_threads[2] != loop_thread
    async with domain.sessions() as session:
        assert await session.scalar(select(Person.name).where(Person.id == "sita")) == "after"
