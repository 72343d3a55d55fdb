"""Statements of every update, run on the transaction's own driver connection.

A handful of statements run for every update: the handled update, the conversation state,
the reply put in the outbox, the newest message of the chat, delivery's record of a send.
Through ``AsyncSession.execute`` each one passes SQLAlchemy's ORM and Core execution layers
(an execution context, the compiled cache, a result object): measured at about 90 µs a
statement against 20 µs for the driver call itself, a third of the CPU of a ``/start``.

A ``Prepared`` statement is compiled once per kind of database. Running it takes the
session's connection (which begins the transaction as any statement would: SQLite's
``BEGIN IMMEDIATE``, the update's transaction bookkeeping), converts the values with the
column types' own processors (encryption included), and calls the driver's cursor in the
same transaction. Driver errors are raised as SQLAlchemy's ``DBAPIError`` family, and the
engine's cursor events (``before_cursor_execute``, ``after_cursor_execute``) are fired for
whoever listens (statement counters in tests), as from ``session.execute``; the ORM's
execution events are not, and nothing listens to them for these tables.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.sql import Executable

Processor = Callable[[Any], Any] | None


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]  # bind parameter names, in the driver's positional order
    fixed: Mapping[str, Any]  # values the statement itself holds
    binds: tuple[Processor, ...]
    results: tuple[Processor, ...]


@dataclass(frozen=True, slots=True)
class Outcome:
    rows: list[tuple[Any, ...]]
    rowcount: int

    def scalar(self) -> Any:
        return self.rows[0][0] if self.rows else None


class Prepared:
    """``build(dialect)`` compiled once per database, run with ``await prepared(session,
    values)`` (or ``prepared.many`` for several rows at once); values are given by bind
    parameter name. ``columns``: the columns an INSERT or UPDATE sets, each bound under
    its own name, as ``session.execute`` does with the keys of its values."""

    def __init__(
        self, build: Callable[[Dialect], Executable], *, columns: Sequence[str] = ()
    ) -> None:
        self.build = build
        self.columns = list(columns)
        self._compiled: dict[str, _Compiled] = {}

    async def __call__(self, session: AsyncSession, values: Mapping[str, Any]) -> Outcome:
        return await session.run_sync(self.run, values)

    async def many(self, session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
        if rows:
            await session.run_sync(self.run_many, rows)

    def run(self, session: Session, values: Mapping[str, Any]) -> Outcome:
        connection, compiled = self._on(session)
        parameters = _bound(compiled, values)
        with _cursor(connection, compiled, parameters, many=False) as cursor:
            cursor.execute(compiled.sql, parameters)
            rows = cursor.fetchall() if cursor.description else []
            rowcount = cursor.rowcount
        if rows and any(compiled.results):
            rows = [_processed(row, compiled.results) for row in rows]
        return Outcome(rows=rows, rowcount=rowcount)

    def run_many(self, session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
        connection, compiled = self._on(session)
        parameters = [_bound(compiled, values) for values in rows]
        with _cursor(connection, compiled, parameters, many=True) as cursor:
            cursor.executemany(compiled.sql, parameters)

    def _on(self, session: Session) -> tuple[Connection, _Compiled]:
        """The session's connection (its transaction begun) and the statement for its
        database."""
        connection = _connection(session)
        dialect = connection.dialect
        return connection, self._compiled.get(dialect.name) or self._compile(dialect)

    def _compile(self, dialect: Dialect) -> _Compiled:
        statement = self.build(dialect)
        compiled = statement.compile(  # type: ignore[attr-defined]
            dialect=dialect, column_keys=self.columns or None
        )
        names = tuple(compiled.positiontup or ())
        binds = tuple(
            compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
            for name in names
        )
        fixed = {
            name: bind.value
            for name, bind in compiled.binds.items()
            if not bind.required and bind.callable is None
        }
        # Columns the values leave out get their Python-side defaults, as the ORM gives them.
        for column in [*compiled.insert_prefetch, *compiled.update_prefetch]:
            default = column.default if column in compiled.insert_prefetch else column.onupdate
            if default is None or not default.is_scalar:
                raise ValueError(
                    f"{column.key} has a computed default: give its value to a Prepared statement"
                )
            fixed[column.key] = default.arg
        columns = getattr(statement, "exported_columns", ())
        results = tuple(
            column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns
        )
        made = _Compiled(compiled.string, names, fixed, binds, results)
        self._compiled[dialect.name] = made
        return made


_KEPT_CONNECTION = "prepared_connection"


@event.listens_for(Session, "after_transaction_end")
def _forget_connection(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_KEPT_CONNECTION, None)


def _connection(session: Session) -> Connection:
    """``session.connection()``, asked once per transaction: each call goes through the
    session's transaction bookkeeping, and that cost as much as a short statement."""
    transaction = session.get_transaction()
    kept = session.info.get(_KEPT_CONNECTION)
    # Forgotten when its transaction ends, and kept with it meanwhile, so a new transaction
    # cannot take its identity. One that failed is asked again, and raises as it should.
    if kept is not None and kept[0] is transaction and transaction.is_active:
        return kept[1]
    connection = session.connection()
    session.info[_KEPT_CONNECTION] = (session.get_transaction(), connection)
    return connection


@contextmanager
def _cursor(
    connection: Connection, compiled: _Compiled, parameters: Any, *, many: bool
) -> Iterator[Any]:
    """A cursor of the connection's driver, for one statement: the engine's cursor events
    around it, the driver's errors raised as SQLAlchemy's, the cursor closed."""
    dialect = connection.dialect
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        _fire(
            connection.dispatch.before_cursor_execute,
            connection,
            cursor,
            compiled,
            parameters,
            many,
        )
        yield cursor
        _fire(
            connection.dispatch.after_cursor_execute, connection, cursor, compiled, parameters, many
        )
    except dialect.loaded_dbapi.Error as error:
        raise DBAPIError.instance(
            compiled.sql, parameters, error, dialect.loaded_dbapi.Error, dialect=dialect
        ) from error
    finally:
        cursor.close()


def _fire(
    listeners: Any,
    connection: Connection,
    cursor: Any,
    compiled: _Compiled,
    parameters: Any,
    many: bool,
) -> None:
    if listeners:
        for listener in listeners:
            listener(connection, cursor, compiled.sql, parameters, None, many)


def _bound(compiled: _Compiled, values: Mapping[str, Any]) -> tuple[Any, ...]:
    merged = {**compiled.fixed, **values}
    return tuple(
        value if process is None else process(value)
        for value, process in zip(
            (merged[name] for name in compiled.names), compiled.binds, strict=True
        )
    )


def _processed(row: Sequence[Any], processors: tuple[Processor, ...]) -> tuple[Any, ...]:
    return tuple(
        value if process is None else process(value)
        for value, process in zip(row, processors, strict=False)
    )
