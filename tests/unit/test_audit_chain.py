"""The audit trail is one hash chain. Events are committed unlinked and linked afterwards by
one writer, so overlapping transactions never wait for the chain's head nor break it."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select, update

from bot.domain import events
from bot.domain.context import Domain
from models import CaseEvent


async def test_overlapping_transactions_make_one_unbroken_chain(domain: Domain) -> None:
    async def writer(n: int) -> None:
        async with domain.transaction() as session:
            await events.record(session, domain, "note", actor=f"writer:{n}", data={"n": n})
            await asyncio.sleep(0.01 * (n % 3))  # ids and commits in different orders
            await events.record(session, domain, "note", actor=f"writer:{n}", data={"n": -n})

    await asyncio.gather(*(writer(n) for n in range(20)))
    assert await events.link_pending(domain) == 40
    async with domain.sessions() as session:
        count, broken = await events.verify_chain(session)
        positions = list(await session.scalars(select(CaseEvent.seq).order_by(CaseEvent.seq)))
    assert (count, broken) == (40, [])
    assert positions == list(range(1, 41))


async def test_events_committed_while_linking_join_the_next_run(domain: Domain) -> None:
    async with domain.transaction() as session:
        await events.record(session, domain, "early")
    async with domain.sessions() as session:
        assert await events.unlinked_count(session) == 1
        assert await events.verify_chain(session) == (0, [])
    linking = asyncio.create_task(events.link_pending(domain))
    async with domain.transaction() as session:
        await events.record(session, domain, "meanwhile")
    await linking
    await events.link_pending(domain)
    async with domain.sessions() as session:
        assert await events.unlinked_count(session) == 0
        assert await events.verify_chain(session) == (2, [])


async def test_a_rolled_back_transaction_leaves_no_gap(domain: Domain) -> None:
    async with domain.transaction() as session:
        await events.record(session, domain, "first")
    try:
        async with domain.transaction() as session:
            await events.record(session, domain, "undone")
            raise RuntimeError("the handler failed")
    except RuntimeError:
        pass
    async with domain.transaction() as session:
        await events.record(session, domain, "second")
    await events.link_pending(domain)
    async with domain.sessions() as session:
        assert await events.verify_chain(session) == (2, [])


async def test_an_edited_event_breaks_the_chain(domain: Domain) -> None:
    for kind in ("first", "second", "third"):
        async with domain.transaction() as session:
            await events.record(session, domain, kind)
        await events.link_pending(domain)
    async with domain.transaction() as session:
        await session.execute(
            update(CaseEvent).where(CaseEvent.kind == "second").values(actor="someone else")
        )
        second = await session.scalar(select(CaseEvent.id).where(CaseEvent.kind == "second"))
    async with domain.sessions() as session:
        count, broken = await events.verify_chain(session)
        assert count == await session.scalar(select(func.count()).select_from(CaseEvent))
    assert broken == [second]
