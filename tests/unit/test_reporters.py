"""A reporter is created on their first update, once, whoever gets there first."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from bot.domain import cases
from bot.domain.context import Domain
from models import Reporter


async def test_a_new_reporter_is_stored_and_known_in_the_same_transaction(domain: Domain) -> None:
    async with domain.sessions() as session, session.begin():
        reporter = await cases.reporter_for(session, domain, 5150, 5150, "ne")
        assert reporter.id is not None and reporter.language == "ne"
        # The same object for the rest of the update, and its changes are written.
        assert await cases.find_reporter(session, domain, 5150) is reporter
        reporter.timezone = "Asia/Kathmandu"
    async with domain.sessions() as session:
        stored = await session.scalar(select(Reporter).where(Reporter.id == reporter.id))
    assert stored is not None
    assert (stored.language, stored.timezone, stored.chat_id) == ("ne", "Asia/Kathmandu", "5150")
    assert (stored.blocked_bot, stored.banned, stored.safe_hours_start) == (False, False, None)
    assert stored.created_at.tzinfo is not None
    assert abs(stored.created_at - domain.now()) < dt.timedelta(minutes=1)


async def test_a_reporter_another_update_created_meanwhile_is_used_not_duplicated(
    domain: Domain,
) -> None:
    """Two first updates of one person in flight at once (on PostgreSQL, two processes): the
    one that did not see the row before inserting finds it after the conflict."""
    async with domain.sessions() as session, session.begin():
        first = await cases.reporter_for(session, domain, 5151, 5151, "en")
    async with domain.sessions() as session, session.begin():
        # This update looked before the other one committed, and found nobody.
        assert await cases.find_reporter(session, domain, 4000) is None
        session.info["reporters_seen"][domain.keys.pseudonym("user", 5151)] = None
        second = await cases.reporter_for(session, domain, 5151, 5151, "hi")
        assert second.id == first.id and second.language == "en"
    async with domain.sessions() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(Reporter)
            .where(Reporter.user_key == domain.keys.pseudonym("user", 5151))
        )
    assert count == 1
