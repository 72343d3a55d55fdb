"""Safety by default: erasure, clearing the phone, consent withdrawal, blocking, safe
hours, encryption at rest, the tamper-evident audit trail."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from sqlalchemy import select, update

from bot.domain import cases, claims, relay
from bot.domain.events import verify_chain
from bot.i18n import tr
from corridor_dev.harness import Harness
from models import Case, CaseCard, CaseEvent, Person, Reporter
from tests.support import wage_report

MARKERS = [
    "MARKER-NAME-7731",
    "MARKER-EMPLOYER-8842",
    "MARKER-PHONE",
    "MARKER-STORY-9953",
    "MARKER-AGENCY-1164",
]


async def make_case(h: Harness, user_id: int, **changes) -> Case:  # type: ignore[no-untyped-def]
    domain = h.app.domain
    values = dict(
        language="en",
        area=None,
        description="MARKER-STORY-9953 not paid",
        employer="MARKER-EMPLOYER-8842",
        agency="MARKER-AGENCY-1164",
        worker_name="MARKER-NAME-7731",
        contact_method="phone",
        contact_phone="+97433123456 MARKER-PHONE",
        wage_owed_minor=None,
        wage_currency=None,
    )
    values.update(changes)
    async with domain.sessions() as session, session.begin():
        reporter = await cases.reporter_for(session, domain, user_id, user_id, "en")
        case = await cases.submit_report(session, domain, reporter, wage_report(**values))
    await h.settle()
    return case


async def started_user(h: Harness, name: str) -> int:
    user = await h.user(name)
    await h.say(user, "/start")
    return user


async def test_personal_fields_are_not_readable_in_the_database_file(
    harness: Harness, database_url: str, tmp_path: Path
) -> None:
    user = await started_user(harness, "Marker")
    await make_case(harness, user)
    await harness.say(user, "MARKER-RELAY-5521 more details")
    if database_url.startswith("sqlite"):
        path = Path(database_url.split("///", 1)[1])
        # The main file and its write-ahead log: every byte SQLite wrote.
        raw = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    else:
        assert shutil.which("pg_dump"), "pg_dump is needed for the PostgreSQL scan"
        url = database_url.replace("postgresql+asyncpg://", "postgresql://")
        process = await asyncio.create_subprocess_exec(
            "pg_dump", url, stdout=asyncio.subprocess.PIPE
        )
        raw, _ = await process.communicate()
        assert process.returncode == 0
    for marker in [*MARKERS, "MARKER-RELAY-5521"]:
        assert marker.encode() not in raw, marker
    # The reporter's Telegram id is stored only as a keyed hash.
    assert str(user).encode() not in raw


async def test_forget_erases_personal_data_and_tells_the_owner(harness: Harness) -> None:
    user = await started_user(harness, "Forgetful")
    case = await make_case(harness, user)
    await harness.claim(harness.staff["ramesh"], harness.groups["qa-workers-centre"])
    await harness.say(user, "/forget")
    await harness.tap(user, "erase")
    assert (await harness.bot_texts(user))[-1].startswith("Your data has been erased")
    async with harness.app.domain.sessions() as session:
        erased = await session.get(Case, case.id)
        reporter = await session.scalar(select(Reporter).where(Reporter.chat_id.is_(None)))
    assert erased.erased and erased.status == "closed" and erased.reporter_id is None
    assert erased.employer is None and erased.description is None and erased.contact_phone is None
    assert (
        erased.categories == ["WAGE"] and erased.corridor_code == "NP-QA"
    )  # facts for statistics stay
    assert reporter is not None
    owner_texts = await harness.bot_texts(harness.staff["ramesh"])
    assert any("asked for their data to be erased" in t for t in owner_texts)


async def test_clear_deletes_recent_messages_and_says_what_it_could_not(harness: Harness) -> None:
    user = await started_user(harness, "Clear")
    await harness.say(user, "/status")
    await harness.tg.advance_clock(3 * 24 * 3600)
    harness.clock.advance(days=3)
    await harness.say(user, "/help")
    await harness.say(user, "/clear")
    await harness.tap(user, "clear this chat")
    remaining = await harness.tg.transcript(user)
    # Only the closing note and what was too old to delete are left.
    assert (
        remaining[-1]["text"].startswith("Done.")
        and "could not be deleted" in remaining[-1]["text"]
    )
    assert not any(m.get("text") == "/help" for m in remaining)
    assert any(m.get("text") == "/status" for m in remaining)


async def test_withdrawing_consent_stops_sharing_with_that_side_at_once(harness: Harness) -> None:
    user = await started_user(harness, "Withdraw")
    case = await make_case(harness, user)
    ramesh = harness.staff["ramesh"]
    await harness.claim(ramesh, harness.groups["qa-workers-centre"])
    await harness.say(user, "/consent")
    await harness.tap(user, "country where you work")
    async with harness.app.domain.sessions() as session:
        current = await session.get(Case, case.id)
        active_cards = list(
            await session.scalars(
                select(CaseCard.chat_id).where(
                    CaseCard.case_id == case.id, CaseCard.active.is_(True)
                )
            )
        )
    assert current.owner_person_id is None and current.status == "routed"
    assert active_cards == [harness.groups["np-returnee-shelter"]]
    assert any("withdrew consent" in t for t in await harness.bot_texts(ramesh))
    # The responder can no longer reach the reporter through the relay.
    async with harness.app.domain.sessions() as session, session.begin():
        person = await session.get(Person, "ramesh")
        assert (
            await relay.from_owner(session, harness.app.domain, current, person, "hello")
            == "not_owner"
        )


async def test_blocked_account_is_told_once_then_ignored(harness: Harness) -> None:
    user = await started_user(harness, "Spammer")
    case = await make_case(harness, user)
    await harness.say(harness.staff["sita"], f"/block {case.code}")
    assert "is blocked" in await harness.last_bot_text(harness.staff["sita"])
    await harness.say(user, "/status")
    await harness.say(user, "/status")
    texts = await harness.bot_texts(user)
    notice = tr(
        "en",
        "This account can no longer use this service. If you think this is a mistake, contact the organisation that helped you.",
    )
    assert texts.count(notice) == 1 and texts[-1] == notice


async def test_owner_messages_wait_for_the_reporters_safe_hours(harness: Harness) -> None:
    user = await started_user(harness, "Night")
    case = await make_case(harness, user)
    domain = harness.app.domain
    async with domain.sessions() as session, session.begin():
        reporter = await session.get(Reporter, case.reporter_id)
        reporter.timezone, reporter.safe_hours_start, reporter.safe_hours_end = "Asia/Qatar", 18, 22
        person = await session.get(Person, "ramesh")
        await claims.claim(session, domain, case.id, person, harness.groups["qa-workers-centre"])
    await harness.settle()
    before = len(await harness.bot_texts(user))
    async with domain.sessions() as session, session.begin():
        current = await session.get(Case, case.id)
        await relay.from_owner(
            session, domain, current, await session.get(Person, "ramesh"), "call me"
        )
    await harness.settle()
    assert len(await harness.bot_texts(user)) == before  # 09:00 in Doha: held back
    await harness.advance_to_local("Asia/Qatar", 18, 1)
    texts = await harness.bot_texts(user)
    assert any("call me" in t for t in texts[before:])


async def test_the_audit_trail_detects_tampering(harness: Harness) -> None:
    user = await started_user(harness, "Audit")
    await make_case(harness, user)
    async with harness.app.domain.sessions() as session:
        count, broken = await verify_chain(session)
    assert count >= 2 and broken == []
    async with harness.app.domain.sessions() as session, session.begin():
        first = await session.scalar(select(CaseEvent.id).where(CaseEvent.kind == "created"))
        await session.execute(
            update(CaseEvent).where(CaseEvent.id == first).values(actor="person:someone-else")
        )
    async with harness.app.domain.sessions() as session:
        _, broken = await verify_chain(session)
    assert broken == [first]


async def test_new_cases_per_day_are_limited(harness: Harness) -> None:
    user = await started_user(harness, "Many")
    limit = harness.app.config.limits.cases_per_day
    for _ in range(min(limit, 3)):
        await make_case(harness, user)
    harness.app.domain.config = harness.app.config.model_copy(
        update={"limits": harness.app.config.limits.model_copy(update={"cases_per_day": 3})}
    )
    try:
        await make_case(harness, user)
    except cases.IntakeError as error:
        assert error.reason == "too_many_cases"
    else:
        raise AssertionError("a fourth case in a day was accepted")
    harness.clock.advance(days=1, minutes=1)
    await make_case(harness, user)


async def test_personal_data_of_old_resolved_cases_is_purged(harness: Harness) -> None:
    user = await started_user(harness, "Old case")
    case = await make_case(harness, user)
    domain = harness.app.domain
    async with domain.sessions() as session, session.begin():
        current = await session.get(Case, case.id)
        current.status, current.outcome, current.resolved_at = (
            "resolved",
            "REPATRIATED",
            domain.now(),
        )
    harness.clock.advance(days=30 * 11)
    await harness.advance(minutes=1)
    async with domain.sessions() as session:
        assert (await session.get(Case, case.id)).employer == "MARKER-EMPLOYER-8842"  # not yet
    harness.clock.advance(days=31)
    await harness.advance(minutes=1)
    async with domain.sessions() as session:
        purged = await session.get(Case, case.id)
        kinds = list(
            await session.scalars(select(CaseEvent.kind).where(CaseEvent.case_id == case.id))
        )
    assert purged.erased and purged.employer is None and purged.description is None
    assert purged.outcome == "REPATRIATED" and purged.categories == [
        "WAGE"
    ]  # statistics keep their facts
    assert "erased" in kinds
