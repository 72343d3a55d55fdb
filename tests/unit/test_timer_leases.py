"""A timer left running by a process that died fires again at once, not once its five-minute
lease runs out; a live process's timer is never taken from it."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import update

from bot.domain import duties, timers
from bot.domain.context import Domain
from models import Timer
from models.liveness import Liveness, process_name
from tests.support import PG_URL


async def running_timer(domain: Domain, owner: str) -> int:
    """A timer due now, leased for five minutes by ``owner``."""
    async with domain.sessions() as session, session.begin():
        timer = timers.schedule(session, domain, "test", domain.now())
        await session.flush()
        await session.execute(
            update(Timer)
            .where(Timer.id == timer.id)
            .values(
                status="running",
                lease_owner=owner,
                locked_until=domain.now() + timers.LEASE,
            )
        )
        return timer.id


async def claim(domain: Domain) -> list[int]:
    async with domain.sessions() as session, session.begin():
        return [t.id for t in await timers.claim_due(session, domain)]


async def test_a_dead_process_timer_is_due_again_at_once_and_a_live_one_is_kept(
    domain: Domain,
) -> None:
    engine = domain.sessions.kw["bind"]
    domain.liveness = await Liveness.of(engine)
    other = await Liveness.of(engine)  # another process, alive (PostgreSQL) or not (SQLite)
    try:
        left_by_dead = await running_timer(domain, process_name())
        held_by_other = await running_timer(domain, other.instance)
        if PG_URL:
            assert await claim(domain) == [left_by_dead]
            await other.close()  # that process dies too
            for _ in range(50):  # the server lets its lock go once it sees the connection close
                if taken := await claim(domain):
                    break
                await asyncio.sleep(0.1)
            assert taken == [held_by_other]
        else:
            # One process runs the timers: at its start every other one is dead.
            assert await claim(domain) == []
            assert await duties.take_back_orphans(domain) == 2
            assert sorted(await claim(domain)) == sorted([left_by_dead, held_by_other])
        async with domain.sessions() as session:
            for timer_id in (left_by_dead, held_by_other):
                timer = await session.get(Timer, timer_id)
                assert timer is not None
                assert (timer.status, timer.lease_owner) == ("running", domain.liveness.instance)
                assert timer.attempts == 1
    finally:
        await other.close()
        await domain.liveness.close()


async def test_a_timer_taken_by_another_process_meanwhile_is_not_fired_here(
    domain: Domain, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A lease can run out under a slow process (a digest built for minutes) and the timer be
    taken by another: the first one then leaves it to its new owner."""
    async with domain.sessions() as session, session.begin():
        timer = timers.schedule(session, domain, "digest", domain.now(), payload={})
        await session.flush()
        timer_id = timer.id
    fired: list[int] = []

    async def building_while_another_takes_it(domain_: Domain, timer_id_: int) -> None:
        async with domain.sessions() as session, session.begin():
            await session.execute(
                update(Timer).where(Timer.id == timer_id_).values(lease_owner=process_name())
            )

    async def fire(session, domain_, timer, built):  # type: ignore[no-untyped-def]
        fired.append(timer.id)

    monkeypatch.setattr(duties, "_digest_ahead", building_while_another_takes_it)
    monkeypatch.setattr(duties, "_fire", fire)
    assert await duties.run_due(domain) == 1
    assert fired == []
    async with domain.sessions() as session:
        timer = await session.get(Timer, timer_id)
        assert timer is not None and timer.status == "running" and timer.fired_at is None
