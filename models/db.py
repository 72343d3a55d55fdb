"""Engine and session factory for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session


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


def make_engine(url: str) -> AsyncEngine:
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            # WAL lets the outbox sender read while a handler writes.
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
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
            if connection.get_execution_options().get("read_only"):
                connection.exec_driver_sql("BEGIN")
            else:
                connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_async_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


def make_sessionmaker(
    engine: AsyncEngine, session_class: type[Session] = Session
) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, sync_session_class=session_class)


def is_sqlite(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "sqlite"


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
