"""Engine and session factory for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import URL, event, make_url
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import ArgumentError, DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.util import identity_key

from models.sqlite_inline import LOCK_TIMEOUT_S


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (None for PostgreSQL, an in-memory database or a bad URL)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return None
    if not parsed.get_backend_name() == "sqlite":
        return None
    database = parsed.database or ""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database).expanduser()


def resolve_sqlite_url(url: str, base: Path) -> str:
    """A SQLite URL whose relative file name is taken relative to ``base`` (the folder of
    the configuration file that names it), so the database does not depend on the
    directory a command is started from. Other URLs are returned unchanged."""
    path = sqlite_file(url)
    if path is None:
        return url
    absolute = path if path.is_absolute() else (base / path).resolve()
    if str(absolute) == make_url(url).database:
        return url
    return make_url(url).set(database=str(absolute)).render_as_string(hide_password=False)


def read_only_url(url: str) -> URL:
    """The same SQLite database, opened read-only (``mode=ro``): such a connection never
    takes the write lock, so an operator's report cannot keep the running bot waiting."""
    parsed = make_url(url)
    database = parsed.database or ""
    if parsed.query.get("uri") in ("true", "1"):
        return parsed.update_query_dict({"mode": "ro"})
    if not database or database == ":memory:":
        raise ValueError("an in-memory SQLite database cannot be opened read-only")
    return parsed.set(
        database=f"file:{quote(database)}", query={**parsed.query, "mode": "ro", "uri": "true"}
    )


def inline_sqlite_url(url: URL) -> URL:
    """The same database through models.sqlite_inline (statements on the event loop's
    thread, lock waits asynchronous) rather than aiosqlite's thread per connection."""
    return url.set(drivername="sqlite+inline")


LOG_SIZE_LIMIT = 64 * 1024 * 1024  # bytes of SQLite's write-ahead log kept once it restarts


def make_engine(url: str, *, read_only: bool = False, group_commit: bool = False) -> AsyncEngine:
    """The engine for ``url``. ``read_only`` (operator commands that only read): SQLite is
    opened with ``mode=ro``, PostgreSQL sessions are read-only transactions.
    ``group_commit`` (the running bot): SQLite commits do not wait for the disk and the log
    is checkpointed in the background; models.durability flushes it before anyone is told."""
    if url.startswith("sqlite"):
        engine = create_async_engine(
            inline_sqlite_url(read_only_url(url) if read_only else make_url(url)),
            connect_args={"timeout": LOCK_TIMEOUT_S},
        )
        group_commit = group_commit and not read_only

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            if not read_only:
                # WAL lets the outbox sender read while a handler writes (and readers
                # read while anyone writes).
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            if group_commit:
                cursor.execute("PRAGMA synchronous=NORMAL")
                cursor.execute("PRAGMA wal_autocheckpoint=0")
                # A log that grew in a burst is cut back when it starts over.
                cursor.execute(f"PRAGMA journal_size_limit={LOG_SIZE_LIMIT}")
            # Digests sort hundreds of thousands of durations for their medians: in memory,
            # with a helper thread, that takes half the time of spilling to temporary files.
            cursor.execute("PRAGMA temp_store=MEMORY")
            cursor.execute("PRAGMA threads=2")
            cursor.close()
            # Take the write lock at BEGIN: a deferred transaction that reads and then writes
            # fails at once under contention instead of waiting for its turn.
            dbapi_connection.isolation_level = None

        @event.listens_for(engine.sync_engine, "begin")
        def _begin(connection):  # type: ignore[no-untyped-def]
            # Straight to the driver: SQLAlchemy's execution path for this one fixed
            # statement cost more than the rest of a short transaction's start.
            reading = read_only or connection.get_execution_options().get("read_only")
            connection.connection.dbapi_connection.start("BEGIN" if reading else "BEGIN IMMEDIATE")

        return engine
    if read_only:
        return create_async_engine(
            url,
            pool_pre_ping=True,
            connect_args={"server_settings": {"default_transaction_read_only": "on"}},
        )
    engine = create_async_engine(url, pool_size=POOL_SIZE, max_overflow=0)
    ping_when_idle(engine)
    return engine


# PostgreSQL connections one process keeps. Updates beyond that wait their turn for one (a
# transaction holds no network call but the database's, so turns are short). SQLAlchemy's
# overflow connections were closed as soon as they were returned, so a steady 50 updates in
# flight opened and closed connections all the time (each one a login, type set-up and an
# empty statement cache): 2.3-2.6 ms of the bot's CPU per /start against 1.7-1.8 ms now.
# Five processes fit PostgreSQL's default of 100 connections.
POOL_SIZE = 20


# How long a pooled PostgreSQL connection may sit unused before it is checked at checkout.
IDLE_BEFORE_PING_S = 10.0


def ping_when_idle(engine: AsyncEngine) -> None:
    """A connection that sat idle in the pool may have been dropped meanwhile (a server
    restart, an idle timeout, a proxy): it is pinged when taken, and replaced if it is gone.
    One in steady use is not: SQLAlchemy's ``pool_pre_ping`` pings at every checkout, three
    round trips with asyncpg, about 0.3 ms of the bot's CPU per transaction. A connection
    that breaks while in use fails its transaction and the pool is renewed, as before."""
    dialect = engine.dialect

    @event.listens_for(engine.sync_engine, "checkin")
    def _returned(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _taken(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.pop("idle_since", None)
        if since is None or time.monotonic() - since < IDLE_BEFORE_PING_S:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            if dialect.is_disconnect(error, dbapi_connection, None):
                # The pool closes this one and takes another (or connects anew).
                raise DisconnectionError("a pooled connection was gone") from error
            raise


def make_sessionmaker(
    engine: AsyncEngine, session_class: type[Session] = Session
) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, sync_session_class=session_class)


def _written_flag(model: type) -> str:
    return f"wrote_{model.__name__}"


def wrote_in_transaction(session: Session, model: type) -> bool:
    """Whether the session's open transaction wrote ``model`` rows (flushed, or by an ORM
    statement); known only for session classes watched by after_commits_writing."""
    return bool(session.info.get(_written_flag(model)))


def after_commits_writing(
    session_class: type[Session],
    model: type,
    then: Callable[[], None],
    *,
    inserts_only: bool = False,
) -> None:
    """Calls ``then()`` after every commit through ``session_class`` that wrote ``model``
    rows (as objects or, unless ``inserts_only``, as ORM statements); never after a
    rollback, so nobody acts on a change that did not happen."""
    flag = _written_flag(model)

    @event.listens_for(session_class, "after_flush")
    def _flushed(session: Session, _context: Any) -> None:
        touched = (
            session.new
            if inserts_only
            else itertools.chain(session.new, session.dirty, session.deleted)
        )
        if any(isinstance(obj, model) for obj in touched):
            session.info[flag] = True

    if not inserts_only:

        @event.listens_for(session_class, "do_orm_execute")
        def _statement(state: Any) -> None:
            if (state.is_update or state.is_delete or state.is_insert) and (
                state.bind_mapper is not None and state.bind_mapper.class_ is model
            ):
                state.session.info[flag] = True

    @event.listens_for(session_class, "after_commit")
    def _committed(session: Session) -> None:
        if session.info.pop(flag, False):
            then()

    @event.listens_for(session_class, "after_rollback")
    def _rolled_back(session: Session) -> None:
        session.info.pop(flag, None)


def is_sqlite(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "sqlite"


def upsert_insert(session: Session | AsyncSession) -> Callable[..., Any]:
    """The dialect's ``insert`` (with ``on_conflict_do_nothing`` / ``do_update``) for the
    session's database: both SQLite and PostgreSQL have it, the generic insert has not."""
    return dialect_insert(session.get_bind().dialect)


def dialect_insert(dialect: Dialect) -> Callable[..., Any]:
    return postgresql_insert if dialect.name == "postgresql" else sqlite_insert


def as_loaded(session: Session | AsyncSession, row: Any) -> Any:
    """``row``, built with every column (from a plain INSERT … RETURNING, or kept in
    memory), joined to ``session`` as if a query had loaded it: no SELECT, and changes to it
    are written with the transaction."""
    make_transient_to_detached(row)
    session.add(row)
    return row


def as_loaded_row(session: Session | AsyncSession, model: type, values: dict[str, Any]) -> Any:
    """The ``model`` row of ``values`` (every column, as read by a plain statement): the one
    the session already holds if it does, else a new one joined to it as if loaded."""
    known = session.identity_map.get(identity_key(model, values["id"]))
    return known if known is not None else as_loaded(session, model(**values))


async def read_only(session: AsyncSession) -> None:
    """Ends the session's transaction and goes on in one that only reads, from one snapshot
    so a report's figures agree with each other. On SQLite that transaction does not take the
    single write lock, so a long report (a year of /stats) does not make every other update
    wait."""
    await session.commit()
    if is_sqlite(session.bind):
        options: dict[str, object] = {"read_only": True}
    else:
        options = {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
    await session.connection(execution_options=options)
    # Whatever is written next (the reply to the report) needs a transaction that may write.
    session.info["read_only"] = True


async def writable(session: AsyncSession) -> None:
    """Ends a read-only transaction begun by read_only(), if one is open."""
    if session.info.pop("read_only", False):
        await session.commit()
