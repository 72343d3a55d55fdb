"""Group commit: the running bot's SQLite commits skip the disk flush, and one flush of the
write-ahead log covers every commit made before anyone is told of it (models.durability)."""

from __future__ import annotations

import asyncio
import itertools
import os
import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from models import durability, sqlite_inline
from models.db import make_engine
from models.durability import Durability, GroupCommit
from tests.support import PG_URL

pytestmark = pytest.mark.skipif(bool(PG_URL), reason="SQLite's write-ahead log")


async def pragmas(engine) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    async with engine.connect() as connection:
        synchronous = (await connection.execute(text("PRAGMA synchronous"))).scalar()
        autocheckpoint = (await connection.execute(text("PRAGMA wal_autocheckpoint"))).scalar()
    return synchronous, autocheckpoint


async def write(engine, rows: int = 1, size: int = 100) -> None:  # type: ignore[no-untyped-def]
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE IF NOT EXISTS t (v TEXT)"))
        for _ in range(rows):
            await connection.execute(text("INSERT INTO t VALUES (:v)"), {"v": "x" * size})


@pytest.fixture
async def grouped(tmp_path: Path):  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}", group_commit=True)
    await write(engine)
    kept = await GroupCommit.of(engine)
    assert isinstance(kept, GroupCommit)
    yield engine, kept
    kept.close()
    await engine.dispose()


class Flushes:
    """os.fsync as models.durability calls it, counted, and held while ``gate`` is clear."""

    def __init__(self) -> None:
        self.files: list[str] = []
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()
        self.real = os.fsync

    def __call__(self, descriptor: int) -> None:
        self.entered.set()
        self.gate.wait(10)
        self.files.append(os.readlink(f"/proc/self/fd/{descriptor}"))
        self.real(descriptor)


@pytest.fixture
def flushes(monkeypatch: pytest.MonkeyPatch) -> Flushes:
    spy = Flushes()
    monkeypatch.setattr(durability.os, "fsync", spy)
    return spy


async def test_only_the_running_bots_engine_skips_the_flush_at_commit(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}"
    grouped = make_engine(url, group_commit=True)
    plain = make_engine(url)
    reading = make_engine(url, read_only=True)
    memory = make_engine("sqlite+aiosqlite://", group_commit=True)
    try:
        await write(grouped)
        assert await pragmas(grouped) == (1, 0)  # NORMAL, no automatic checkpoint
        assert await pragmas(plain) == (2, 1000)  # FULL, SQLite's default checkpoints
        assert type(await GroupCommit.of(grouped)) is GroupCommit
        for engine in (plain, reading, memory):
            assert type(await GroupCommit.of(engine)) is Durability
    finally:
        for engine in (grouped, plain, reading, memory):
            await engine.dispose()


async def test_a_sync_flushes_the_log_once_for_the_commits_before_it(grouped, flushes) -> None:  # type: ignore[no-untyped-def]
    engine, kept = grouped
    await kept.sync()
    flushes.files.clear()
    await kept.sync()
    assert flushes.files == []  # nothing committed since: nothing to flush
    await write(engine)
    await kept.sync()
    assert flushes.files == [kept.log_file]
    assert kept.synced == sqlite_inline.commits(kept.commits_key)


async def test_callers_waiting_together_share_one_flush(grouped, flushes) -> None:  # type: ignore[no-untyped-def]
    engine, kept = grouped
    await kept.sync()
    await write(engine)
    flushes.files.clear()
    await asyncio.gather(*(kept.sync() for _ in range(20)))
    assert len(flushes.files) == 1


async def test_a_commit_made_during_a_flush_waits_for_the_next_one(grouped, flushes) -> None:  # type: ignore[no-untyped-def]
    engine, kept = grouped
    await kept.sync()
    await write(engine)
    flushes.files.clear()
    flushes.gate.clear()
    first = asyncio.ensure_future(kept.sync())
    await asyncio.to_thread(flushes.entered.wait, 10)
    await write(engine)  # not covered by the flush under way
    second = asyncio.ensure_future(kept.sync())
    await asyncio.sleep(0.05)
    assert not first.done() and not second.done()
    flushes.gate.set()
    await asyncio.wait_for(asyncio.gather(first, second), 10)
    assert len(flushes.files) == 2
    assert kept.synced == sqlite_inline.commits(kept.commits_key)


async def test_a_failed_flush_is_raised_and_the_next_caller_tries_again(
    grouped, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    engine, kept = grouped
    await write(engine)

    def broken(_descriptor: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(durability.os, "fsync", broken)
    with pytest.raises(OSError):
        await kept.sync()
    assert kept.synced < sqlite_inline.commits(kept.commits_key)
    monkeypatch.undo()
    await kept.sync()
    assert kept.synced == sqlite_inline.commits(kept.commits_key)


async def test_checkpoints_copy_the_log_and_keep_it_from_growing(grouped) -> None:  # type: ignore[no-untyped-def]
    engine, kept = grouped
    sizes = []
    for _ in range(5):
        await write(engine, rows=300, size=400)
        done = await kept.checkpoint()
        assert done is not None and not done.busy
        assert done.log_frames > 0 and done.copied_frames == done.log_frames
        sizes.append(os.path.getsize(kept.log_file))  # noqa: ASYNC240 - a stat, in a test
    # Each round's log is written over the last one's once it was copied.
    assert max(sizes) <= 2 * sizes[0]
    async with engine.connect() as connection:
        count = (await connection.execute(text("SELECT count(*) FROM t"))).scalar()
    assert count == 1 + 5 * 300


def log_restarts(kept: GroupCommit) -> int:
    """The write-ahead log header's checkpoint sequence number: SQLite adds one each time it
    starts the log over (https://sqlite.org/fileformat.html#the_write_ahead_log)."""
    with open(kept.log_file, "rb") as log:
        return int.from_bytes(log.read(32)[12:16], "big")


async def log_sizes_under_load(  # type: ignore[no-untyped-def]
    engine, kept: GroupCommit, held: bool, restarts: list[int] | None = None
) -> list[int]:
    """The log's size after each of 12 checkpoints made while a writer keeps writing (and,
    in ``restarts``, how many times SQLite had started it over by then)."""
    turn = asyncio.Lock()
    stop = False

    async def writer() -> None:
        while not stop:
            async with turn:
                await write(engine, rows=20, size=400)
            await asyncio.sleep(0)

    writing = asyncio.ensure_future(writer())
    sizes = []
    try:
        for _ in range(12):
            await kept.checkpoint(writers_held=(lambda: turn) if held else None)
            await asyncio.sleep(0.02)
            sizes.append(os.path.getsize(kept.log_file))  # noqa: ASYNC240 - a stat, in a test
            if restarts is not None:
                restarts.append(log_restarts(kept))
    finally:
        stop = True
        await writing
    return sizes


async def test_under_steady_writes_the_log_starts_over_after_each_checkpoint(grouped) -> None:  # type: ignore[no-untyped-def]
    engine, kept = grouped
    restarts: list[int] = []
    sizes = await log_sizes_under_load(engine, kept, held=True, restarts=restarts)
    # The writer's next write after each checkpoint starts the log over. (Its size says
    # the same on a quiet machine, but one slow round on a busy one can double it.)
    assert all(later > earlier for earlier, later in itertools.pairwise(restarts)), restarts
    # Copied only while the writer goes on, the log is never complete when a writer begins,
    # so SQLite never starts it over: it grows with every round.
    unheld_restarts: list[int] = []
    unheld = await log_sizes_under_load(engine, kept, held=False, restarts=unheld_restarts)
    assert len(set(unheld_restarts)) == 1, unheld_restarts
    assert unheld[-1] > 2 * max(sizes), (unheld, sizes)
