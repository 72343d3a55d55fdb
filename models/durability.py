"""Commits on disk before anyone hears of them, without a disk flush per commit.

With SQLite's default ``synchronous=FULL`` every commit flushes the write-ahead log to disk
and holds the one write lock meanwhile: the bot's writers take turns each waiting for the
disk (a millisecond or more), and the loop sits idle while they wait.

The running bot's engine uses ``synchronous=NORMAL`` instead (``make_engine(...,
group_commit=True)``). A commit then reaches the operating system and is safe if the process
dies (kill -9 included); it is on disk once the log is flushed. What must never happen is
that someone is told of a change that a power cut then takes back: "SOS sent" for a case that
is gone. So before delivery sends what a commit queued, and before getUpdates confirms
handled updates to Telegram, :meth:`Durability.sync` flushes the log once for every commit
made until then (a group commit): one flush, on a worker thread, serves every message and
update waiting at that moment, and the writers go on meanwhile.

SQLite's automatic checkpoint would also run on a writer's commit, holding the lock through
two flushes; it is turned off and :meth:`Durability.checkpoint` copies the log into the
database from a connection of its own, on a worker thread, every second (the last few
frames with this process's writers held back for that moment, so the log starts over).

PostgreSQL, and SQLite engines opened without group commit (operator commands, tests that
build their own engine), flush at each commit: their :class:`Durability` has nothing to do.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from models import sqlite_inline

log = logging.getLogger(__name__)

CHECKPOINT_EVERY_S = 1.0
NORMAL = 1  # PRAGMA synchronous


@dataclass(frozen=True)
class Checkpointed:
    """What one checkpoint did: frames in the log, and how many of them are now in the
    database file (all of them unless a reader still needed older pages)."""

    busy: bool
    log_frames: int
    copied_frames: int


class Durability:
    """Nothing to do: every commit is flushed as it is made."""

    async def sync(self) -> None:
        return None

    async def checkpoint(
        self, writers_held: Callable[[], AbstractAsyncContextManager[Any]] | None = None
    ) -> Checkpointed | None:
        return None

    def close(self) -> None:
        return None


class GroupCommit(Durability):
    """Flushes the write-ahead log of one SQLite database for all commits made so far."""

    def __init__(self, commits_key: str, database_file: str) -> None:
        self.commits_key = commits_key
        self.database_file = database_file
        self.log_file = f"{database_file}-wal"
        self.synced = 0  # commits known to be on disk
        self._flushing: asyncio.Future[None] | None = None
        self._checkpointer: sqlite3.Connection | None = None

    @classmethod
    async def of(cls, engine: AsyncEngine) -> Durability:
        """The engine's durability: a group commit for a file database opened with
        ``group_commit=True``, nothing to do otherwise."""
        if engine.dialect.name != "sqlite":
            return Durability()
        async with engine.connect() as connection:
            raw = await connection.get_raw_connection()
            adapted = raw.dbapi_connection
            if not isinstance(adapted, sqlite_inline.InlineConnection):
                return Durability()
            driver = adapted.driver
            (synchronous,) = driver.execute("PRAGMA synchronous").fetchone()
            (autocheckpoint,) = driver.execute("PRAGMA wal_autocheckpoint").fetchone()
            (database_file,) = driver.execute(
                "SELECT file FROM pragma_database_list WHERE name = 'main'"
            ).fetchone()
        if synchronous != NORMAL or autocheckpoint != 0 or not database_file:
            return Durability()  # each commit flushed, or in memory: nothing to add
        return cls(adapted.path, database_file)

    async def sync(self) -> None:
        """Returns once every commit made before the call is on disk. Callers that arrive
        while a flush is under way wait for it and share the next one."""
        target = sqlite_inline.commits(self.commits_key)
        while self.synced < target:
            if self._flushing is None:
                self._flushing = asyncio.ensure_future(self._flush())
            await asyncio.shield(self._flushing)

    async def _flush(self) -> None:
        covering = sqlite_inline.commits(self.commits_key)
        try:
            await asyncio.to_thread(self._fsync_log)
            self.synced = max(self.synced, covering)
        finally:
            self._flushing = None

    def _fsync_log(self) -> None:
        try:
            descriptor = os.open(self.log_file, os.O_RDONLY)
        except FileNotFoundError:
            return  # no log: everything is in the database file, flushed by its checkpoint
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)

    async def checkpoint(
        self, writers_held: Callable[[], AbstractAsyncContextManager[Any]] | None = None
    ) -> Checkpointed | None:
        """Copies the log into the database file: as much as it can while writers go on,
        then, inside ``writers_held()`` (this process's writers wait their turn), the frames
        written meanwhile. SQLite starts the log over only when a writer begins while all of
        it is copied: under steady load a copy made while writers go on is never complete
        at that moment, and the log grew without bound (230 MB in a minute of the ratio
        benchmark). None if the database refused (another checkpoint under way)."""
        try:
            done = await asyncio.to_thread(self._checkpoint)
            if writers_held is None or done.log_frames == 0:
                return done
            async with writers_held():
                return await asyncio.to_thread(self._checkpoint)
        except sqlite3.Error as error:
            log.warning("checkpoint of %s failed: %s", self.database_file, error)
            return None

    def _checkpoint(self) -> Checkpointed:
        if self._checkpointer is None:
            self._checkpointer = sqlite3.connect(
                self.database_file, timeout=0, check_same_thread=False, isolation_level=None
            )
        busy, log_frames, copied = self._checkpointer.execute(
            "PRAGMA wal_checkpoint(PASSIVE)"
        ).fetchone()
        return Checkpointed(bool(busy), log_frames, copied)

    def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.close()
            self._checkpointer = None
