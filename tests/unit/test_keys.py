"""Encryption keys: rotation re-encrypts every personal field, pseudonyms stay stable."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select, text

from bot import crypto
from bot.domain import cases
from bot.domain.context import Domain
from bot.keys import encrypted_columns, rotate_all
from models import Case, Reporter
from tests.support import PG_URL, TEST_KEY, wage_report


async def test_rotation_moves_every_value_to_the_new_key(domain: Domain) -> None:
    async with domain.sessions() as session, session.begin():
        reporter = await cases.reporter_for(session, domain, 4242, 4242, "en")
        await cases.submit_report(
            session,
            domain,
            reporter,
            wage_report(
                language="en",
                consents={"destination_help": True},
                employer="Rotating Employer",
                description="story",
            ),
        )
    new_key = crypto.generate_key()
    rotated = crypto.KeyRing([new_key, TEST_KEY], "test-hash-key")
    crypto.install(rotated)
    try:
        count = await rotate_all(domain.sessions)
        assert count >= 3
        # Only the new key is needed from now on.
        crypto.install(crypto.KeyRing([new_key], "test-hash-key"))
        async with domain.sessions() as session:
            case = await session.scalar(select(Case))
            assert case.employer == "Rotating Employer" and case.description == "story"
            reporter = await session.scalar(select(Reporter))
            assert reporter.chat_id == "4242"
            assert reporter.user_key == crypto.active().pseudonym("user", 4242)
    finally:
        crypto.install(domain.keys)


async def test_a_second_rotation_has_nothing_to_do(domain: Domain) -> None:
    async with domain.sessions() as session, session.begin():
        reporter = await cases.reporter_for(session, domain, 4343, 4343, "en")
        await cases.submit_report(session, domain, reporter, wage_report(language="en"))
    crypto.install(crypto.KeyRing([crypto.generate_key(), TEST_KEY], "test-hash-key"))
    try:
        assert await rotate_all(domain.sessions) >= 3
        assert await rotate_all(domain.sessions) == 0
    finally:
        crypto.install(domain.keys)


@pytest.mark.skipif(not PG_URL, reason="row locks are PostgreSQL's")
async def test_rotation_steps_around_a_row_the_bot_holds_and_takes_it_after(
    domain: Domain,
) -> None:
    """Rotation never waits for a lock while holding others (it could deadlock with the
    bot): a locked row is skipped, and taken once the bot's transaction ends."""
    async with domain.sessions() as session, session.begin():
        reporter = await cases.reporter_for(session, domain, 4444, 4444, "en")
        await cases.submit_report(session, domain, reporter, wage_report(language="en"))
    new_key = crypto.generate_key()
    crypto.install(crypto.KeyRing([new_key, TEST_KEY], "test-hash-key"))
    try:
        async with domain.sessions() as holder, holder.begin():
            await holder.execute(text("SELECT id FROM cases FOR UPDATE"))
            rotation = asyncio.create_task(rotate_all(domain.sessions))
            await asyncio.sleep(1.0)
            assert not rotation.done()  # the case row is still to do
            async with domain.sessions() as session:
                raw = await session.scalar(text("SELECT chat_id FROM reporters"))
            assert crypto.active().is_current(raw)  # the rows around it are done
        assert await rotation >= 3
        crypto.install(crypto.KeyRing([new_key], "test-hash-key"))
        async with domain.sessions() as session:
            assert (await session.scalar(select(Case))).employer is not None
    finally:
        crypto.install(domain.keys)


def test_every_personal_column_is_encrypted() -> None:
    columns = {(table, column) for table, _pk, column in encrypted_columns()}
    for expected in [
        ("cases", "employer"),
        ("cases", "agency"),
        ("cases", "description"),
        ("cases", "worker_name"),
        ("cases", "contact_phone"),
        ("cases", "precise_location"),
        ("attachments", "file_id"),
        ("attachments", "text"),
        ("reporters", "chat_id"),
        ("outbox", "payload"),
        ("conversation_states", "data"),
    ]:
        assert expected in columns, expected


async def test_ciphertext_is_what_the_database_holds(domain: Domain) -> None:
    async with domain.sessions() as session, session.begin():
        reporter = await cases.reporter_for(session, domain, 99, 99, "en")
        await session.flush()
        raw = (
            await session.execute(
                text("SELECT chat_id FROM reporters WHERE id = :id"), {"id": reporter.id}
            )
        ).scalar()
    assert raw != "99" and raw.startswith("gAAAA")
