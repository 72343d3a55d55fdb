"""A dead process's outbox leases are taken back at once on PostgreSQL, a live one's never
(models/liveness.py)."""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import create_async_engine

from bot.domain.outbox import queue
from corridor_dev.harness import Harness
from models import OutboxMessage
from models.liveness import Liveness, lock_key, process_name
from tests.support import PG_URL

needs_postgres = pytest.mark.skipif(not PG_URL, reason="on SQLite one process runs the bot")


def test_a_lock_key_is_the_instance_as_a_signed_64_bit_number() -> None:
    assert lock_key("held:0000000000000001") == 1
    assert lock_key("held:7fffffffffffffff") == 2**63 - 1
    assert lock_key("held:8000000000000000") == -(2**63)
    assert lock_key("held:ffffffffffffffff") == -1
    assert lock_key("held:not an instance!") is None
    assert lock_key("held:abc") is None
    # The name an older version gave itself: it holds no lock to go by.
    assert lock_key("0000000000000001") is None


@pytest.fixture
def h(quiet_harness: Harness) -> Harness:
    return quiet_harness


async def leased_elsewhere(
    h: Harness, owner: str, text_: str, not_before: dt.timedelta = dt.timedelta(0)
) -> int:
    """A message for Sita leased for an hour by ``owner``, to be sent ``not_before`` from
    now (a chat's retry_after, safe hours)."""
    async with h.app.domain.sessions() as session, session.begin():
        row = queue(session, h.app.domain, purpose="test", chat_id=h.staff["sita"], text=text_)
        await session.flush()
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row.id)
            .values(
                status="sending",
                lease_owner=owner,
                locked_until=h.clock.now() + dt.timedelta(hours=1),
                next_attempt_at=h.clock.now() + not_before,
            )
        )
        return row.id


async def status_of(h: Harness, outbox_id: int) -> tuple[str, str | None]:
    async with h.app.domain.sessions() as session:
        row = await session.get(OutboxMessage, outbox_id)
        assert row is not None
        return row.status, row.lease_owner


@needs_postgres
async def test_a_dead_process_messages_go_out_before_their_lease_runs_out(h: Harness) -> None:
    live = await Liveness.of(h.app.engine)
    try:
        held_by_live = await leased_elsewhere(h, live.instance, "kept by a live process")
        dead = process_name()
        held_by_dead = await leased_elsewhere(h, dead, "left by a dead one")
        not_yet = await leased_elsewhere(h, dead, "later", not_before=dt.timedelta(minutes=1))
        older_version = secrets.token_hex(8)  # its process held no lock, alive or not
        held_by_older = await leased_elsewhere(h, older_version, "an older version's")
        await h.app.sender.flush()
        assert (await status_of(h, held_by_dead))[0] == "sent"
        assert await status_of(h, not_yet) == ("sending", dead)  # taken once it is due
        assert await status_of(h, held_by_live) == ("sending", live.instance)
        assert await status_of(h, held_by_older) == ("sending", older_version)
        assert [m["text"] for m in await h.tg.transcript(h.staff["sita"])] == ["left by a dead one"]
    finally:
        await live.close()  # the process dies: its connection closes
    # The server lets the lock go once it has seen the connection close.
    for _ in range(50):
        await h.app.sender.flush()
        if (await status_of(h, held_by_live))[0] == "sent":
            break
        await asyncio.sleep(0.1)
    assert (await status_of(h, held_by_live))[0] == "sent"
    assert [m["text"] for m in await h.tg.transcript(h.staff["sita"])] == [
        "left by a dead one",
        "kept by a live process",
    ]


@needs_postgres
async def test_the_lock_is_taken_again_after_its_connection_is_cut(h: Harness) -> None:
    live = await Liveness.of(h.app.engine)
    instance = live.instance
    key = lock_key(instance)
    assert key is not None
    admin = create_async_engine(h.app.engine.url, isolation_level="AUTOCOMMIT")
    try:

        async def dead() -> bool:
            async with h.app.domain.sessions() as session, session.begin():
                return await h.app.domain.liveness.dead_among(session, [instance]) == [instance]

        assert not await dead()
        async with admin.connect() as connection:
            # A bigint advisory key is shown as its high and low 32 bits.
            holder = await connection.scalar(
                text(
                    "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
                    " AND classid::bigint = :high AND objid::bigint = :low"
                ),
                {"high": (key >> 32) & 0xFFFFFFFF, "low": key & 0xFFFFFFFF},
            )
            assert holder is not None
            assert await connection.scalar(select(func.pg_terminate_backend(holder)))
        for _ in range(50):
            if await dead():
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("the lock outlived its connection")
        await live.hold()
        assert not await dead()
    finally:
        await live.close()
        await admin.dispose()
