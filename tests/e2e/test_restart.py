"""A restart loses no follow-up and fires none twice.

Each test runs the bot, stops it, moves the (shared, fake) clock past a due time while it
is down, and starts a new bot on the same database with the same encryption key. The new
bot talks to a fresh emulator, so the people involved are re-created there with their old
Telegram ids: what reaches them afterwards can only come from what the database kept.
(The fresh emulator does not hold the cards the first bot posted, so re-rendering them
after the restart logs "message to edit not found": expected here, not in production.)"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import func, select

from bot.clock import FakeClock, as_utc
from bot.crypto import generate_key
from bot.i18n import tr
from corridor_dev.harness import Harness
from models import Case, CaseCard, CaseEvent, Timer

CHECKIN = "Checking in about your case {code}. Are you safe? Has anything changed?"
SAFE_REPLY = "Thank you. We are glad you are safe. Write here any time."
BACKUP_PING = (
    "⏰ Case {code} ({corridor}, {urgency}) is still unclaimed. "
    "You are backup: please look at your group."
)


@asynccontextmanager
async def running(database_url: str, clock: FakeClock, key: str) -> AsyncIterator[Harness]:
    h = await Harness.start(database_url, clock=clock, encryption_key=key)
    try:
        yield h
    finally:
        await h.stop()


async def sos_case(h: Harness, worker: int, country: str = "QA") -> Case:
    await h.say(worker, "/sos")
    await h.press_data(worker, lambda data: data == f"sos:{country}")
    async with h.app.domain.sessions() as session:
        case = await session.scalar(select(Case).order_by(Case.id.desc()).limit(1))
    assert case is not None and case.status == "routed"
    return case


async def count_events(h: Harness, case_id: int, kind: str) -> int:
    async with h.app.domain.sessions() as session:
        return await session.scalar(
            select(func.count())
            .select_from(CaseEvent)
            .where(CaseEvent.case_id == case_id, CaseEvent.kind == kind)
        )


async def pending_timer(h: Harness, case_id: int, kind: str) -> Timer:
    async with h.app.domain.sessions() as session:
        timers = list(
            await session.scalars(
                select(Timer).where(
                    Timer.case_id == case_id, Timer.kind == kind, Timer.status == "pending"
                )
            )
        )
    assert len(timers) == 1, timers
    return timers[0]


def due(timer: Timer) -> dt.datetime:
    return as_utc(timer.due_at)


async def test_checkin_due_while_down_is_sent_exactly_once(database_url: str) -> None:
    clock, key = FakeClock(), generate_key()
    async with running(database_url, clock, key) as h:
        hari = await h.user("Hari", "en")
        case = await sos_case(h, hari)
        answer = await h.claim(h.staff["ramesh"], h.groups["qa-workers-centre"])
        assert case.code in (answer.get("text") or "")
        checkin_at = due(await pending_timer(h, case.id, "checkin"))
        assert checkin_at > clock.now()
        checkin = tr("en", CHECKIN, code=case.code)
        assert checkin not in await h.bot_texts(hari)

    # Down past the due time.
    clock.advance(seconds=(checkin_at - clock.now()).total_seconds() + 3600)

    async with running(database_url, clock, key) as h:
        await h.tg.create_user("Hari", language_code="en", user_id=hari, started=True)
        assert checkin not in await h.bot_texts(hari)
        await h.advance(seconds=1)
        assert (await h.bot_texts(hari)).count(checkin) == 1
        assert await count_events(h, case.id, "checkin_sent") == 1
        # The next one is a full interval away, not "overdue" again.
        assert due(await pending_timer(h, case.id, "checkin")) > clock.now()

        await h.advance(seconds=1)
        await h.advance(minutes=30)
        assert (await h.bot_texts(hari)).count(checkin) == 1
        assert await count_events(h, case.id, "checkin_sent") == 1

        # The new instance handles the answer to the check-in the old one scheduled.
        await h.tap(hari, tr("en", "🙂 I am safe"))
        assert await h.last_bot_text(hari) == tr("en", SAFE_REPLY)


async def test_escalation_due_while_down_fires_exactly_once(database_url: str) -> None:
    clock, key = FakeClock(), generate_key()
    async with running(database_url, clock, key) as h:
        siti = await h.user("Siti", "en")
        case = await sos_case(h, siti)
        escalate_at = due(await pending_timer(h, case.id, "escalate"))
        aisha = h.staff["aisha"]  # the Doha centre's backup responder
        ping = tr("en", BACKUP_PING, code=case.code, corridor="NP-QA", urgency="SOS")
        assert ping not in await h.bot_texts(aisha)

    clock.advance(seconds=(escalate_at - clock.now()).total_seconds() + 60)

    async with running(database_url, clock, key) as h:
        aisha = h.staff["aisha"]
        assert ping not in await h.bot_texts(aisha)
        await h.advance(seconds=1)
        assert (await h.bot_texts(aisha)).count(ping) == 1
        assert await count_events(h, case.id, "escalated") == 1
        async with h.app.domain.sessions() as session:
            escalated = await session.get(Case, case.id)
            assert escalated is not None and escalated.escalation_level == 1

        await h.advance(seconds=1)
        await h.advance(minutes=2)
        assert (await h.bot_texts(aisha)).count(ping) == 1
        assert await count_events(h, case.id, "escalated") == 1

        # The ladder goes on from where it was: the next rung fires once, on time.
        next_at = due(await pending_timer(h, case.id, "escalate"))
        await h.advance(seconds=(next_at - clock.now()).total_seconds() + 1)
        await h.advance(minutes=1)
        assert await count_events(h, case.id, "escalated") == 2
        assert (await h.bot_texts(aisha)).count(ping) == 1
        async with h.app.domain.sessions() as session:
            orgs = sorted(
                await session.scalars(
                    select(CaseCard.organisation_id).where(CaseCard.case_id == case.id)
                )
            )
        assert orgs == ["np-returnee-shelter", "qa-workers-centre"]
        shelter = h.groups["np-returnee-shelter"]
        cards = [
            m
            for m in await h.tg.transcript(shelter)
            if m.get("from_bot") and case.code in (m.get("text") or "")
        ]
        assert len(cards) == 1
