"""The outbox against the emulator: Telegram's errors, order, message ids, pacing."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from bot.domain import cases, events
from bot.domain.outbox import queue
from corridor_dev.harness import Harness
from models import CaseEvent, OutboxMessage, Reporter


async def queue_to(h: Harness, chat_id: int, *texts: str) -> list[int]:
    async with h.app.domain.sessions() as session, session.begin():
        rows = [
            queue(session, h.app.domain, purpose="test", chat_id=chat_id, text=t) for t in texts
        ]
        await session.flush()
        return [r.id for r in rows]


async def rows(h: Harness, ids: list[int]) -> list[OutboxMessage]:
    async with h.app.domain.sessions() as session:
        return list(
            await session.scalars(
                select(OutboxMessage).where(OutboxMessage.id.in_(ids)).order_by(OutboxMessage.id)
            )
        )


async def test_retry_after_is_honoured(quiet_harness: Harness) -> None:
    h = quiet_harness
    sita = h.staff["sita"]
    await h.tg.fail_next("sendMessage", 429, retry_after=1, chat_id=sita)
    ids = await queue_to(h, sita, "hello")
    started = time.monotonic()
    await h.app.sender.flush()
    assert time.monotonic() - started >= 1.0
    [row] = await rows(h, ids)
    assert row.status == "sent" and row.attempts == 1 and row.telegram_message_id is not None
    assert [m["text"] for m in await h.tg.transcript(sita)] == ["hello"]


@pytest.mark.parametrize(
    "failure", [{"error_code": 500}, {"error_code": 502}, {"disconnect": True}]
)
async def test_server_errors_and_dropped_connections_are_retried(
    quiet_harness: Harness, failure: dict
) -> None:
    h = quiet_harness
    sita = h.staff["sita"]
    await h.tg.fail_next("sendMessage", times=2, chat_id=sita, **failure)
    ids = await queue_to(h, sita, "still arrives")
    await h.app.sender.flush()
    [row] = await rows(h, ids)
    assert row.status == "sent"
    assert [m["text"] for m in await h.tg.transcript(sita)] == ["still arrives"]


async def test_messages_to_one_chat_keep_their_order_and_ids(quiet_harness: Harness) -> None:
    h = quiet_harness
    group = h.groups["qa-workers-centre"]
    texts = [f"message {n}" for n in range(12)]
    ids = await queue_to(h, group, *texts)
    await h.app.sender.flush()
    assert [m["text"] for m in await h.tg.transcript(group)] == texts
    delivered = await rows(h, ids)
    assert len({r.telegram_message_id for r in delivered}) == 12


async def test_an_edit_waits_for_and_targets_its_original(quiet_harness: Harness) -> None:
    h = quiet_harness
    group = h.groups["qa-workers-centre"]
    async with h.app.domain.sessions() as session, session.begin():
        original = queue(session, h.app.domain, purpose="card", chat_id=group, text="card v1")
        await session.flush()
        queue(
            session,
            h.app.domain,
            purpose="card_edit",
            chat_id=group,
            method="editMessageText",
            text="card v2",
            extra={"edit_outbox_id": original.id},
        )
    await h.app.sender.flush()
    [message] = await h.tg.transcript(group)
    assert message["text"] == "card v2" and message["edited"]


async def test_a_reporter_who_blocked_the_bot_is_recorded_and_not_retried(
    quiet_harness: Harness,
) -> None:
    h = quiet_harness
    worker = await h.user("Worker")
    domain = h.app.domain
    async with domain.sessions() as session, session.begin():
        reporter = await cases.reporter_for(session, domain, worker, worker, "en")
        await session.flush()
        reporter_id = reporter.id
        first = queue(
            session, domain, purpose="test", reporter_id=reporter_id, text="are you safe?"
        )
        await events.record(session, domain, "test")
        await session.flush()
        first_id = first.id
    # Learnt from the send's 403 here: polling stops first, so Telegram's my_chat_member
    # announcement of the block (handlers/membership.py, tested on its own) cannot come first.
    h._stop_polling.set()
    await h._polling
    await h.tg.block_bot(worker)
    await h.app.sender.flush()
    async with domain.sessions() as session, session.begin():
        assert (await session.get(OutboxMessage, first_id)).status == "blocked"
        assert (await session.get(Reporter, reporter_id)).blocked_bot is True
        kinds = list(await session.scalars(select(CaseEvent.kind)))
        second = queue(session, domain, purpose="test", reporter_id=reporter_id, text="again")
        await session.flush()
        second_id = second.id
    assert "recipient_blocked" in kinds
    before = (await h.tg.stats()).get("sendMessage", 0)
    await h.app.sender.flush()
    async with domain.sessions() as session:
        assert (await session.get(OutboxMessage, second_id)).status == "failed"
    assert (await h.tg.stats()).get("sendMessage", 0) == before


async def test_a_message_telegram_rejects_is_failed_with_its_reason(quiet_harness: Harness) -> None:
    h = quiet_harness
    ids = await queue_to(h, -100999999, "to a chat that does not exist")
    await h.app.sender.flush()
    [row] = await rows(h, ids)
    assert row.status == "failed" and "chat not found" in (row.error or "")


async def test_a_flood_keeps_telegrams_limits(database_url: str) -> None:
    """300 messages to 60 private chats and 3 groups against an emulator that answers 429
    past Telegram's limits: none is refused, and no window of the send log is over a limit."""
    h = await Harness.start(
        database_url,
        overrides={
            "outbox": {
                "per_chat_per_second": 1,
                "per_group_per_minute": 20,
                "global_per_second": 30,
            }
        },
    )
    try:
        await h.tg.set_flood_control(True)
        people = [(await h.tg.create_user(f"P{n}", started=True))["id"] for n in range(60)]
        groups = list(h.groups.values())[:3]
        domain = h.app.domain
        async with domain.sessions() as session, session.begin():
            for n in range(4):
                for person in people:
                    queue(session, domain, purpose="test", chat_id=person, text=f"note {n}")
            for group in groups:
                for n in range(20):
                    queue(session, domain, purpose="test", chat_id=group, text=f"card {n}")
        started = time.monotonic()
        await h.settle()
        elapsed = time.monotonic() - started
        async with domain.sessions() as session:
            delivered = list(await session.scalars(select(OutboxMessage)))
        assert [m.status for m in delivered].count("sent") == 300
        # Not one 429: every message went out at its first attempt.
        assert all(m.attempts == 1 for m in delivered)
        # 300 at 30 a second is at least 10 s; the pace does not add much to that.
        assert elapsed >= 9.0
    finally:
        await h.stop()


async def test_leases_are_renewed_and_a_row_held_elsewhere_is_skipped(
    quiet_harness: Harness,
) -> None:
    """Messages being sent keep their lease while the sender works on them. On PostgreSQL a
    row another transaction holds (being settled, a key rotation) is skipped for this round
    rather than waited for: waiting deadlocked with operator commands."""
    import asyncio

    from sqlalchemy import update

    from tests.support import PG_URL

    h = quiet_harness
    sender = h.app.sender
    ids = await queue_to(h, h.staff["sita"], "one", "two")
    start = h.clock.now()
    async with h.app.domain.sessions() as session, session.begin():
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids))
            .values(status="sending", lease_owner=sender.instance, locked_until=start)
        )
    sender.held.update(ids)
    h.clock.advance(seconds=5)
    async with h.app.domain.sessions() as other:
        if PG_URL:
            await other.execute(
                select(OutboxMessage.id).where(OutboxMessage.id == ids[0]).with_for_update()
            )
        await asyncio.wait_for(sender._renew(), 10)
        await other.rollback()
    renewed = {row.id: row.locked_until for row in await rows(h, ids)}
    assert renewed[ids[1]] > start
    assert (renewed[ids[0]] == start) if PG_URL else (renewed[ids[0]] > start)


async def test_a_row_that_cannot_be_read_fails_alone(quiet_harness: Harness) -> None:
    h = quiet_harness
    sita = h.staff["sita"]
    async with h.app.domain.sessions() as session, session.begin():
        broken = queue(session, h.app.domain, purpose="test", chat_id=sita, text="lost")
        broken.chat_id = None
        broken.payload = {**broken.payload, "to_chat": "no chat at all"}
        fine = queue(session, h.app.domain, purpose="test", chat_id=sita, text="delivered")
        await session.flush()
        ids = [broken.id, fine.id]
    await h.app.sender.flush()
    bad, good = await rows(h, ids)
    assert bad.status == "failed" and "unreadable" in (bad.error or "")
    assert good.status == "sent"
    assert [m["text"] for m in await h.tg.transcript(sita)] == ["delivered"]
    # Delivery goes on: the next message is sent too.
    await queue_to(h, sita, "and the next")
    await h.app.sender.flush()
    assert [m["text"] for m in await h.tg.transcript(sita)][-1] == "and the next"


async def test_what_a_stop_hands_back_goes_out_once_after_the_next_start(
    quiet_harness: Harness,
) -> None:
    """Messages committed while delivery is stopped are handed to it, and a stop gives them
    back to the database; the next start sends each of them once, not once from memory and
    once more from the database."""
    h = quiet_harness
    sita = h.staff["sita"]
    ids = await queue_to(h, sita, "first", "second")
    await h.app.sender.stop(drain=0)
    assert {r.status for r in await rows(h, ids)} == {"pending"}
    await h.app.sender.flush()
    assert [r.status for r in await rows(h, ids)] == ["sent", "sent"]
    assert [m["text"] for m in await h.tg.transcript(sita)] == ["first", "second"]
