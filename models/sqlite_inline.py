"""SQLite for one asyncio process: statements run on the event loop's own thread.

aiosqlite hands every call (cursor, execute, fetch, close) to a thread of its own and back;
for the few-millisecond statements of a bot update those hand-offs cost more than SQLite
itself (0.13 ms a statement against 0.007 ms in the sqlite3 module). Here a statement is a
plain sqlite3 call, with the waits that can be long made asynchronous instead:

- **the write lock.** Writers of this process queue on an asyncio lock before ``BEGIN
  IMMEDIATE``; another process's writer (an operator command) is waited for with short
  asynchronous sleeps, never by blocking the loop in SQLite's busy handler;
- **a slow disk.** A commit that wrote is made inline while the disk is quick, on a worker
  thread for a while after one was slow (``SLOW_COMMIT_S``);
- **long reads.** A transaction begun read-only (reports, the dashboard, ``/stats``: see
  ``models.db.read_only``) runs its statements on a worker thread, so a year of figures does
  not stop the bot from answering.

Registered as the SQLAlchemy dialect ``sqlite+inline``; ``models.db.make_engine`` uses it
for every ``sqlite+aiosqlite`` URL of the running bot.
"""

from __future__ import annotations

import asyncio
import collections
import sqlite3
import time
import weakref
from typing import Any

from sqlalchemy import pool
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.engine.interfaces import AdaptedConnection
from sqlalchemy.util.concurrency import await_, in_greenlet

# How long a writer waits for the write lock before "database is locked" (as SQLite's own
# busy timeout did), and the longest pause between two tries against another process.
LOCK_TIMEOUT_S = 30.0
_MAX_PAUSE_S = 0.05

# A commit that wrote may wait for the disk: an fsync where each commit is flushed, a
# stalled write-back otherwise (the running bot's group commit, models.durability). A hop
# to a worker thread and back costs more than a quick disk, and it keeps the write lock
# through a whole turn of a busy loop while this process's other writers queue: the commit
# is made inline. Once one takes longer than SLOW_COMMIT_S, the commits of the next
# SLOW_DISK_FOR_S wait on a worker thread instead, so the loop goes on meanwhile. The bar is
# well above a quick disk's flush (about a millisecond) and above the few milliseconds a
# busy process may take to hand the GIL back after SQLite released it: at 2 ms, that alone
# sent a group-committing bot's commits to the thread for good.
SLOW_COMMIT_S = 0.01
SLOW_DISK_FOR_S = 30.0
_slow_disk_until: dict[str, float] = {}  # database file → until when commits are offloaded
# Commits that wrote, per database file: models.durability flushes the log up to a count.
_commits: collections.Counter[str] = collections.Counter()


def commits(path: str) -> int:
    """How many commits that wrote this process has made to the database file ``path``."""
    return _commits[path]


# One writer queue per event loop and database file.
_writers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Lock]] = (
    weakref.WeakKeyDictionary()
)


def _writer_lock(path: str) -> asyncio.Lock:
    loop = asyncio.get_running_loop()
    return _writers.setdefault(loop, {}).setdefault(path, asyncio.Lock())


def _is_busy(error: sqlite3.OperationalError) -> bool:
    return "locked" in str(error) or "busy" in str(error)


class InlineCursor:
    """A sqlite3 cursor whose rows are read at once; in a read-only transaction the
    statement and its rows are read on a worker thread."""

    __slots__ = ("_connection", "_cursor", "_description", "_rowcount", "_rows")

    arraysize = 1

    def __init__(self, connection: InlineConnection) -> None:
        self._connection = connection
        self._cursor = connection.driver.cursor()
        self._rows: collections.deque[Any] | None = None
        self._description: Any = None
        self._rowcount = -1

    @property
    def description(self) -> Any:
        return self._cursor.description if self._rows is None else self._description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount if self._rows is None else self._rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    def execute(self, operation: str, parameters: Any = ()) -> Any:
        connection = self._connection
        self._rows = None
        if operation.startswith("BEGIN"):
            connection.begin(self._cursor, operation)
            return self
        # Rows are read now, as aiosqlite did: an unfinished statement would keep its read
        # snapshot open after the result was dropped.
        if connection.offload and in_greenlet():
            self._rows, self._description, self._rowcount = await_(
                asyncio.to_thread(_execute_and_fetch, self._cursor, operation, parameters)
            )
            return self
        self._rows, self._description, self._rowcount = connection.retrying(
            _execute_and_fetch, self._cursor, operation, parameters
        )
        if in_greenlet():
            # SQLAlchemy's AsyncConnection.execute requires the call to have awaited
            # something; a finished coroutine costs two greenlet switches, not a loop turn.
            await_(_done())
        return self

    def executemany(self, operation: str, seq_of_parameters: Any) -> Any:
        self._rows = None
        self._connection.retrying(self._cursor.executemany, operation, seq_of_parameters)
        return self

    def fetchone(self) -> Any:
        if self._rows is None:
            return self._cursor.fetchone()
        return self._rows.popleft() if self._rows else None

    def fetchmany(self, size: int | None = None) -> list[Any]:
        if self._rows is None:
            return self._cursor.fetchmany(size or self.arraysize)
        count = size or self.arraysize
        return [self._rows.popleft() for _ in range(min(count, len(self._rows)))]

    def fetchall(self) -> list[Any]:
        if self._rows is None:
            return self._cursor.fetchall()
        rows = list(self._rows)
        self._rows.clear()
        return rows

    def close(self) -> None:
        self._rows = None
        self._cursor.close()

    async def _async_soft_close(self) -> None:
        """SQLAlchemy's asyncio layer closes a driver's cursor here once its rows were
        read; ours were read in execute and stay with the cursor until it closes."""

    def setinputsizes(self, *sizes: Any) -> None:
        pass

    def setoutputsize(self, *args: Any) -> None:
        pass


async def _acquire(lock: asyncio.Lock, within: float) -> None:
    async with asyncio.timeout(within):
        await lock.acquire()


async def _done() -> None:
    return None


def _execute_and_fetch(
    cursor: sqlite3.Cursor, operation: str, parameters: Any
) -> tuple[collections.deque[Any], Any, int]:
    cursor.execute(operation, parameters)
    rows = collections.deque(cursor.fetchall()) if cursor.description else collections.deque()
    return rows, cursor.description, cursor.rowcount


class InlineConnection(AdaptedConnection):
    """A sqlite3 connection whose transactions take this process's writer lock."""

    __slots__ = ("_changes_at_begin", "_holding", "_timeout", "driver", "offload", "path")

    def __init__(self, driver: sqlite3.Connection, path: str, timeout: float) -> None:
        self.driver = driver
        self._connection = driver
        self.path = path
        self.offload = False
        self._holding: asyncio.Lock | None = None
        self._timeout = timeout
        self._changes_at_begin = 0

    def cursor(self, server_side: bool = False) -> InlineCursor:
        return InlineCursor(self)

    def start(self, operation: str) -> None:
        """Begins a transaction (``BEGIN`` or ``BEGIN IMMEDIATE``)."""
        self.begin(self.driver.cursor(), operation)

    def begin(self, cursor: sqlite3.Cursor, operation: str) -> None:
        self._changes_at_begin = self.driver.total_changes
        if operation.strip().upper() == "BEGIN":
            self.retrying(cursor.execute, operation)
            self.offload = True
            return
        if in_greenlet():
            lock = _writer_lock(self.path)
            try:
                await_(lock.acquire() if not lock.locked() else _acquire(lock, self._timeout))
            except TimeoutError:
                raise sqlite3.OperationalError("database is locked") from None
            self._holding = lock
        try:
            self.retrying(cursor.execute, operation)
        except BaseException:
            self._release()
            raise

    def retrying(self, call: Any, *args: Any) -> Any:
        """``call(*args)``, tried again while another process holds a lock SQLite says it
        needs, for at most the busy timeout; the loop keeps running between the tries."""
        deadline = time.monotonic() + self._timeout
        pause = 0.001
        while True:
            try:
                return call(*args)
            except sqlite3.OperationalError as error:
                if not _is_busy(error) or time.monotonic() + pause > deadline:
                    raise
            if in_greenlet():
                await_(asyncio.sleep(pause))
            else:
                time.sleep(pause)
            pause = min(pause * 2, _MAX_PAUSE_S)

    def _release(self) -> None:
        self.offload = False
        lock, self._holding = self._holding, None
        if lock is not None and lock.locked():
            lock.release()

    def commit(self) -> None:
        wrote = self.driver.total_changes != self._changes_at_begin
        try:
            if not in_greenlet() or not wrote:
                self.retrying(self.driver.commit)
            elif time.monotonic() < _slow_disk_until.get(self.path, 0.0):
                await_(asyncio.to_thread(self.retrying, self.driver.commit))
            else:
                started = time.monotonic()
                self.retrying(self.driver.commit)
                if time.monotonic() - started > SLOW_COMMIT_S:
                    _slow_disk_until[self.path] = time.monotonic() + SLOW_DISK_FOR_S
            if wrote:
                _commits[self.path] += 1
        finally:
            if not self.driver.in_transaction:
                self._release()

    def rollback(self) -> None:
        try:
            self.driver.rollback()
        finally:
            self._release()

    def close(self) -> None:
        try:
            self.driver.close()
        finally:
            self._release()

    def create_function(self, *args: Any, **kw: Any) -> None:
        self.driver.create_function(*args, **kw)

    @property
    def isolation_level(self) -> str | None:
        return self.driver.isolation_level

    @isolation_level.setter
    def isolation_level(self, value: str | None) -> None:
        self.driver.isolation_level = value

    @property
    def in_transaction(self) -> bool:
        return self.driver.in_transaction

    def terminate(self) -> None:
        self.close()


class InlineDBAPI:
    """The sqlite3 module, with ``connect`` giving InlineConnections."""

    paramstyle = "qmark"

    def __getattr__(self, name: str) -> Any:
        return getattr(sqlite3, name)

    def connect(self, database: str, **kw: Any) -> InlineConnection:
        timeout = float(kw.pop("timeout", LOCK_TIMEOUT_S))
        kw["check_same_thread"] = False
        # SQLite's own busy handler would block the event loop: waits are ours (retrying).
        driver = sqlite3.connect(database, timeout=0, **kw)
        shared = database != ":memory:" and "mode=memory" not in database
        return InlineConnection(driver, database if shared else f"memory:{id(driver)}", timeout)


class SQLiteDialect_inline(SQLiteDialect_pysqlite):
    driver = "inline"
    is_async = True
    supports_statement_cache = True
    has_terminate = True

    @classmethod
    def import_dbapi(cls) -> Any:
        return InlineDBAPI()

    @classmethod
    def get_pool_class(cls, url: Any) -> type[pool.Pool]:
        if cls._is_url_file_db(url):
            return pool.AsyncAdaptedQueuePool
        return pool.StaticPool

    def get_driver_connection(self, connection: Any) -> Any:
        return connection.driver

    def do_terminate(self, dbapi_connection: Any) -> None:
        dbapi_connection.terminate()


registry.register("sqlite.inline", __name__, "SQLiteDialect_inline")
