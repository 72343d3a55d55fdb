"""Conversation state in the database: read once per transaction, written at its commit with
plain statements, encrypted, and gone with a rollback."""

from __future__ import annotations

from aiogram.fsm.storage.base import StorageKey
from sqlalchemy import event, select, text

from bot.domain.context import Domain
from bot.fsm import DatabaseStorage
from bot.middlewares import current_session
from models import ConversationState

KEY = StorageKey(bot_id=1, chat_id=77, user_id=77)


def _statements(domain: Domain) -> list[str]:
    seen: list[str] = []
    engine = domain.sessions.kw["bind"].sync_engine

    @event.listens_for(engine, "before_cursor_execute")
    def _note(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        seen.append(statement.split()[0].upper())

    return seen


async def _in_one_transaction(domain: Domain, work) -> None:  # type: ignore[no-untyped-def]
    async with domain.sessions() as session:
        token = current_session.set(session)
        try:
            await work(session)
            await session.commit()
        finally:
            current_session.reset(token)


async def test_state_and_data_are_read_once_and_written_once_at_the_commit(domain: Domain) -> None:
    storage = DatabaseStorage(domain)
    seen = _statements(domain)

    async def step(_session) -> None:  # type: ignore[no-untyped-def]
        assert await storage.get_state(KEY) is None
        assert await storage.get_data(KEY) == {}
        await storage.set_state(KEY, "Report:filling")
        await storage.set_data(KEY, {"answers": {"who": ["me"]}})
        assert await storage.get_state(KEY) == "Report:filling"
        assert seen.count("SELECT") == 1 and "INSERT" not in seen

    await _in_one_transaction(domain, step)
    assert seen.count("SELECT") == 1 and seen.count("INSERT") == 1
    assert await storage.get_state(KEY) == "Report:filling"
    assert await storage.get_data(KEY) == {"answers": {"who": ["me"]}}
    async with domain.sessions() as session:
        row = await session.scalar(select(ConversationState))
        raw = (await session.execute(text("SELECT data FROM conversation_states"))).scalar_one()
    assert row.data == {"answers": {"who": ["me"]}, "_chat_id": 77}
    assert row.updated_at is not None
    assert "who" not in str(raw)  # stored encrypted


async def test_a_handler_changing_what_it_read_does_not_change_the_draft(domain: Domain) -> None:
    storage = DatabaseStorage(domain)
    await storage.set_data(KEY, {"answers": {"who": ["me"]}})
    got = await storage.get_data(KEY)
    got["answers"]["who"].append("them")
    assert await storage.get_data(KEY) == {"answers": {"who": ["me"]}}


async def test_a_rolled_back_transaction_leaves_the_draft_as_it_was(domain: Domain) -> None:
    storage = DatabaseStorage(domain)
    await storage.set_state(KEY, "Report:filling")
    async with domain.sessions() as session:
        token = current_session.set(session)
        try:
            await storage.set_state(KEY, "Report:other")
            await session.rollback()
            # Read again after the rollback: the stored state, not the abandoned one.
            assert await storage.get_state(KEY) == "Report:filling"
        finally:
            current_session.reset(token)
    assert await storage.get_state(KEY) == "Report:filling"


async def test_clearing_the_state_and_data_deletes_the_row(domain: Domain) -> None:
    storage = DatabaseStorage(domain)
    await storage.set_state(KEY, "Report:filling")
    await storage.set_data(KEY, {"a": 1})

    async def clear(_session) -> None:  # type: ignore[no-untyped-def]
        await storage.set_state(KEY, None)
        await storage.set_data(KEY, {})

    await _in_one_transaction(domain, clear)
    async with domain.sessions() as session:
        assert await session.scalar(select(ConversationState)) is None
    # Clearing what is not there writes nothing.
    seen = _statements(domain)
    await _in_one_transaction(domain, clear)
    assert "DELETE" not in seen and "INSERT" not in seen


async def test_a_state_without_data_keeps_the_chat_for_the_reminder(domain: Domain) -> None:
    storage = DatabaseStorage(domain)
    await storage.set_state(KEY, "Report:filling")
    async with domain.sessions() as session:
        row = await session.scalar(select(ConversationState))
    assert row.state == "Report:filling" and row.data == {"_chat_id": 77}
    await storage.forget(KEY)
    assert await storage.get_state(KEY) is None


async def test_the_next_transaction_of_a_session_reads_the_draft_again(domain: Domain) -> None:
    """A session that commits and goes on (a report read in a read-only transaction) sees
    what another transaction (the draft reminder) wrote meanwhile."""
    storage = DatabaseStorage(domain)
    await storage.set_data(KEY, {"step": 1})
    async with domain.sessions() as session:
        token = current_session.set(session)
        try:
            assert await storage.get_data(KEY) == {"step": 1}
            await session.commit()
            async with domain.sessions() as other, other.begin():
                row = await other.scalar(select(ConversationState))
                row.data = {**row.data, "step": 2}
            assert await storage.get_data(KEY) == {"step": 2}
        finally:
            current_session.reset(token)
