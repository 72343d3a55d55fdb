"""The network in memory: read once, forgotten when this process changes it, and read again
within seconds when another process does."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import event, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from bot.domain import directory
from bot.domain.context import Domain
from bot.domain.people import on_call
from models import Corridor, Person, RotaOverride
from models.db import make_sessionmaker


@pytest.fixture
async def watched(domain: Domain) -> AsyncIterator[tuple[Domain, list[str]]]:
    """The domain with sessions of their own class, watched by what it keeps in memory as
    the bot's are, and the statements they run."""
    session_class = type("WatchedSession", (Session,), {})
    engine = domain.sessions.kw["bind"]
    domain.sessions = make_sessionmaker(engine, session_class)
    for kept in (domain.staff, domain.corridors, domain.rota, domain.organisations):
        kept.watch(session_class)
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    yield domain, statements
    event.remove(engine.sync_engine, "before_cursor_execute", record)


async def close_corridor(sessions: async_sessionmaker[AsyncSession], code: str) -> None:
    async with sessions() as session, session.begin():
        await session.execute(update(Corridor).where(Corridor.code == code).values(active=False))


async def test_corridors_are_read_once_and_again_after_a_change(
    watched: tuple[Domain, list[str]],
) -> None:
    domain, statements = watched
    async with domain.sessions() as session:
        first = await domain.corridors.active(session)
        again = await domain.corridors.active(session)
    assert [c.code for c in first] == sorted(c.code for c in first)
    assert again == first
    assert sum("FROM corridors" in s for s in statements) == 1

    closing = first[0].code
    await close_corridor(domain.sessions, closing)
    async with domain.sessions() as session:
        after = await domain.corridors.active(session)
        found = await domain.corridors.find(session, closing)
    assert closing not in [c.code for c in after]
    assert found is not None and found.active is False  # routing still knows it


async def test_a_change_made_elsewhere_is_seen_within_seconds(
    watched: tuple[Domain, list[str]],
) -> None:
    domain, _statements = watched
    async with domain.sessions() as session:
        before = await domain.corridors.active(session)
    # Another process (`corridor network sync`) closes a corridor: no commit here to tell.
    await close_corridor(make_sessionmaker(domain.sessions.kw["bind"]), before[0].code)
    async with domain.sessions() as session:
        assert await domain.corridors.active(session) == before
        later = domain.corridors.monotonic() + directory.REFRESH_SECONDS + 0.1
        domain.corridors.monotonic = lambda: later
        assert before[0] not in await domain.corridors.active(session)


async def test_the_rota_is_read_once_and_a_holiday_counts_at_once(
    watched: tuple[Domain, list[str]],
) -> None:
    domain, statements = watched
    monday_morning_in_doha = dt.datetime(2026, 3, 2, 6, 0, tzinfo=dt.UTC)
    async with domain.sessions() as session:
        before = await on_call(session, domain, ["qa-workers-centre"], monday_morning_in_doha)
        again = await on_call(session, domain, ["qa-workers-centre"], monday_morning_in_doha)
    assert [p.id for p in before] == [p.id for p in again] == ["ramesh"]
    assert sum("FROM people" in s for s in statements) == 1

    async with domain.sessions() as session, session.begin():
        session.add(
            RotaOverride(
                person_id="ramesh",
                starts_at=monday_morning_in_doha - dt.timedelta(hours=1),
                ends_at=monday_morning_in_doha + dt.timedelta(days=1),
                on_call=False,
                note="holiday",
            )
        )
    async with domain.sessions() as session:
        assert await on_call(session, domain, ["qa-workers-centre"], monday_morning_in_doha) == []


async def test_a_transaction_that_changes_the_network_reads_its_own_change(
    watched: tuple[Domain, list[str]],
) -> None:
    """Not the kept copy: a change not yet committed (or not even flushed) is what this
    transaction works with, and nobody else sees it before the commit."""
    domain, _statements = watched
    async with domain.sessions() as session:
        before = await domain.corridors.active(session)
    closing = before[0].code
    async with domain.sessions() as session, session.begin():
        corridor = await session.get(Corridor, closing)
        assert corridor is not None
        corridor.active = False  # pending, not flushed
        assert closing not in [c.code for c in await domain.corridors.active(session)]
        async with domain.sessions() as elsewhere:
            assert closing in [c.code for c in await domain.corridors.active(elsewhere)]
    async with domain.sessions() as session:
        assert closing not in [c.code for c in await domain.corridors.active(session)]


async def test_a_group_lost_in_this_transaction_gets_no_card(
    watched: tuple[Domain, list[str]],
) -> None:
    """The organisations are kept in memory, but a transaction that marks a group
    unreachable and then reroutes (delivery does both at once) sees the group gone."""
    from sqlalchemy import select

    from bot.domain.routing import with_active_group
    from models import ResponderGroup

    domain, _statements = watched
    async with domain.sessions() as session:
        known = await domain.organisations.get(session)
        org = next(o for o in known.by_id.values() if known.group_chats.get(o.id))
        assert await with_active_group(session, domain, [org]) == [org]
    async with domain.sessions() as session, session.begin():
        for group in await session.scalars(
            select(ResponderGroup).where(ResponderGroup.organisation_id == org.id)
        ):
            group.active = False
        assert await with_active_group(session, domain, [org]) == []
    async with domain.sessions() as session:
        assert await with_active_group(session, domain, [org]) == []


async def a_staff_member(domain: Domain) -> tuple[int, str]:
    """(Telegram id, person id) of an active person of the example network."""
    async with domain.sessions() as session:
        someone = await session.scalar(select(Person).where(Person.active.is_(True)))
        return someone.telegram_user_id, someone.id


async def test_a_staff_members_row_comes_from_memory_and_their_changes_are_written(
    watched: tuple[Domain, list[str]],
) -> None:
    domain, statements = watched
    user_id, person_id = await a_staff_member(domain)
    statements.clear()
    async with domain.sessions() as session, session.begin():
        person = await domain.staff.person(session, user_id)
        assert person is not None and person.id == person_id
        assert await domain.staff.person(session, user_id) is person
        assert await domain.staff.person(session, 1) is None  # not staff
        person.language = "ne" if person.language != "ne" else "en"
        chosen = person.language
    assert sum("FROM people" in s for s in statements) == 1  # the directory's one read
    # This process changed a person: the next update reads the row as it now is.
    async with domain.sessions() as session:
        again = await domain.staff.person(session, user_id)
        assert again is not None and again.language == chosen
        stored = await session.scalar(select(Person.language).where(Person.id == person_id))
        assert stored == chosen
    statements.clear()
    async with domain.sessions() as session:
        await domain.staff.person(session, user_id)
    assert not any("FROM people" in s for s in statements)


async def test_a_person_deactivated_elsewhere_is_no_longer_staff_within_seconds(
    watched: tuple[Domain, list[str]],
) -> None:
    domain, _statements = watched
    user_id, _person_id = await a_staff_member(domain)
    async with domain.sessions() as session:
        assert await domain.staff.person(session, user_id) is not None
    other_process = make_sessionmaker(domain.sessions.kw["bind"])
    async with other_process() as session, session.begin():
        await session.execute(
            update(Person).where(Person.telegram_user_id == user_id).values(active=False)
        )
    later = domain.staff.monotonic() + directory.REFRESH_SECONDS + 0.1
    domain.staff.monotonic = lambda: later
    async with domain.sessions() as session:
        assert await domain.staff.person(session, user_id) is None
