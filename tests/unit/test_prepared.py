"""models.prepared: the hot statements run on the driver's cursor, in the session's own
transaction, with the column types' conversions and SQLAlchemy's errors (both databases)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import bindparam, event, insert, select, text
from sqlalchemy.exc import IntegrityError, PendingRollbackError

from bot.domain.context import Domain
from models import OutboxMessage, Reporter
from models.db import as_loaded_row, dialect_insert
from models.prepared import Prepared

_OUTBOX = OutboxMessage.__table__
_NEW = Prepared(
    lambda _: insert(_OUTBOX).returning(_OUTBOX.c.id),
    columns=("created_at", "chat_id", "method", "payload", "purpose", "next_attempt_at"),
)
_READ = Prepared(
    lambda _: select(_OUTBOX.c.payload, _OUTBOX.c.created_at, _OUTBOX.c.status).where(
        _OUTBOX.c.id == bindparam("id")
    )
)
_REPORTERS = Prepared(
    lambda dialect: dialect_insert(dialect)(Reporter.__table__).on_conflict_do_nothing(
        index_elements=["user_key"]
    ),
    columns=("user_key", "chat_id", "language", "created_at"),
)


def _message(domain: Domain, text_: str) -> dict[str, object]:
    now = domain.now()
    return {
        "created_at": now,
        "next_attempt_at": now,
        "chat_id": 42,
        "method": "sendMessage",
        "payload": {"chat_id": 42, "text": text_},
        "purpose": "reply",
    }


async def test_values_are_converted_both_ways_and_defaults_filled(domain: Domain) -> None:
    async with domain.sessions() as session, session.begin():
        new_id = (await _NEW(session, _message(domain, "Namaste, नमस्ते"))).scalar()
        payload, created_at, status = (await _READ(session, {"id": new_id})).rows[0]
    assert payload == {"chat_id": 42, "text": "Namaste, नमस्ते"}
    assert created_at == domain.now() and created_at.tzinfo is not None
    assert status == "pending"  # the column's default, which the values did not name
    async with domain.sessions() as session:
        row = await session.get(OutboxMessage, new_id)
        raw = (
            await session.execute(text(f"SELECT payload FROM outbox WHERE id = {new_id}"))
        ).scalar_one()
    assert row is not None and row.payload["text"] == "Namaste, नमस्ते" and row.attempts == 0
    assert "Namaste" not in raw  # the column's encryption applied


async def test_it_is_part_of_the_session_transaction(domain: Domain) -> None:
    async with domain.sessions() as session:
        new_id = (await _NEW(session, _message(domain, "undone"))).scalar()
        # The ORM sees the row in the same transaction…
        assert await session.scalar(select(OutboxMessage.id).where(OutboxMessage.id == new_id))
        await session.rollback()
    # …and a rollback takes it away.
    async with domain.sessions() as session:
        assert await session.get(OutboxMessage, new_id) is None


async def test_each_statement_runs_in_the_transaction_of_its_moment(domain: Domain) -> None:
    async with domain.sessions() as session:
        await _NEW(session, _message(domain, "undone"))
        await session.rollback()
        await _NEW(session, _message(domain, "kept"))
        await session.commit()
        # A transaction a failed flush spoiled takes no statement: it must be rolled back.
        session.add(Reporter(user_key="twice", chat_id="1", language="en", created_at=domain.now()))
        session.add(Reporter(user_key="twice", chat_id="2", language="en", created_at=domain.now()))
        with pytest.raises(IntegrityError):
            await session.flush()
        with pytest.raises(PendingRollbackError):
            await _NEW(session, _message(domain, "spoiled"))
        await session.rollback()
    async with domain.sessions() as session:
        texts = [row.payload["text"] for row in await session.scalars(select(OutboxMessage))]
    assert "kept" in texts and "undone" not in texts and "spoiled" not in texts


async def test_rowcount_many_and_driver_errors(domain: Domain) -> None:
    now = domain.now()
    rows = [
        {"user_key": f"k{i}", "chat_id": str(i), "language": "en", "created_at": now}
        for i in range(3)
    ]
    async with domain.sessions() as session, session.begin():
        await _REPORTERS.many(session, rows)
        again = await _REPORTERS(session, rows[0])
        assert again.rowcount == 0  # ON CONFLICT DO NOTHING
    plain = Prepared(lambda _: insert(Reporter.__table__), columns=tuple(rows[0]))
    async with domain.sessions() as session:
        with pytest.raises(IntegrityError):
            await plain(session, rows[1])
        await session.rollback()
    async with domain.sessions() as session:
        keys = set(await session.scalars(select(Reporter.user_key)))
    assert {"k0", "k1", "k2"} <= keys


async def test_cursor_events_are_fired(domain: Domain) -> None:
    seen: list[tuple[str, bool]] = []
    engine = domain.sessions.kw["bind"].sync_engine

    def note(_conn, _cursor, statement, _params, _context, many) -> None:  # type: ignore[no-untyped-def]
        seen.append((statement.split()[0].upper(), many))

    event.listen(engine, "after_cursor_execute", note)
    try:
        async with domain.sessions() as session, session.begin():
            await _NEW(session, _message(domain, "counted"))
            await _REPORTERS.many(
                session,
                [{"user_key": "e1", "chat_id": "1", "language": "en", "created_at": domain.now()}],
            )
    finally:
        event.remove(engine, "after_cursor_execute", note)
    assert ("INSERT", False) in seen and ("INSERT", True) in seen


async def test_a_row_read_plainly_joins_the_session_once(domain: Domain) -> None:
    now = dt.datetime.now(dt.UTC)
    async with domain.sessions() as session, session.begin():
        await _REPORTERS(
            session, {"user_key": "joined", "chat_id": "9", "language": "ne", "created_at": now}
        )
        columns = [c.key for c in Reporter.__table__.c]
        row = (
            await session.execute(
                select(*Reporter.__table__.c).where(Reporter.user_key == "joined")
            )
        ).one()
        values = dict(zip(columns, row, strict=True))
        first = as_loaded_row(session, Reporter, values)
        assert as_loaded_row(session, Reporter, values) is first  # the session's own row
        first.language = "en"
    async with domain.sessions() as session:
        stored = await session.scalar(select(Reporter).where(Reporter.user_key == "joined"))
    assert stored is not None and stored.language == "en"
