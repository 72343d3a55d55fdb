"""The case lifecycle through the domain alone: no Telegram, a fake clock, a real database."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlalchemy import func, select

from bot.domain import cases, claims, digest, duties, followups, referral, relay, resolution
from bot.domain.context import Domain
from models import Case, CaseCard, CaseEvent, OutboxMessage, Person, Timer
from tests.support import wage_report

QA_GROUP = -1001000000001
NP_GROUP = -1001000000002
MY_GROUP = -1001000000003
ID_GROUP = -1001000000004


async def submit(domain: Domain, user_id: int = 777, **changes) -> Case:  # type: ignore[no-untyped-def]
    async with domain.sessions() as session, session.begin():
        reporter = await cases.reporter_for(session, domain, user_id, user_id, "ne")
        case = await cases.submit_report(session, domain, reporter, wage_report(**changes))
    return case


async def outbox(domain: Domain, **where) -> list[OutboxMessage]:  # type: ignore[no-untyped-def]
    async with domain.sessions() as session:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        for key, value in where.items():
            query = query.where(getattr(OutboxMessage, key) == value)
        return list(await session.scalars(query))


async def person(domain: Domain, person_id: str) -> Person:
    async with domain.sessions() as session:
        return await session.get(Person, person_id)


async def test_report_is_routed_to_destination_group_with_a_card_free_of_personal_details(
    domain: Domain,
) -> None:
    case = await submit(domain)
    assert case.status == "routed" and case.urgency == "normal"
    cards = await outbox(domain, purpose="card")
    assert [c.chat_id for c in cards] == [QA_GROUP]
    text = cards[0].payload["text"]
    assert case.code in text and "Not paid or paid less" in text and "Doha" in text
    assert "WAGE" not in text and "Language: Nepali" in text
    for secret in ("Al Noor", "four months", "4800"):
        assert secret not in text


async def test_family_report_about_a_worker_abroad_goes_to_where_he_is_and_informs_home(
    domain: Domain,
) -> None:
    case = await submit(domain, reporter_role="family", relationship="parent")
    assert case.side == "destination"
    assert [c.chat_id for c in await outbox(domain, purpose="card")] == [QA_GROUP, NP_GROUP]


async def test_family_report_without_origin_consent_goes_only_where_the_worker_is(
    domain: Domain,
) -> None:
    case = await submit(
        domain,
        reporter_role="family",
        relationship="parent",
        consents={"destination_help": True, "origin_help": False},
    )
    assert case.side == "destination"
    assert [c.chat_id for c in await outbox(domain, purpose="card")] == [QA_GROUP]


async def test_worker_back_home_goes_to_the_origin_side(domain: Domain) -> None:
    for role in ("self", "family"):
        await submit(
            domain,
            user_id=800 if role == "self" else 801,
            reporter_role=role,
            worker_location="origin",
            area=None,
        )
    assert [c.chat_id for c in await outbox(domain, purpose="card")] == [NP_GROUP, NP_GROUP]


async def test_danger_in_destination_goes_to_destination_first_even_for_family(
    domain: Domain,
) -> None:
    case = await submit(domain, reporter_role="family", in_danger=True, categories=["PHYS"])
    assert case.urgency == "sos" and case.side == "destination"
    assert [c.chat_id for c in await outbox(domain, purpose="card")] == [QA_GROUP, NP_GROUP]


async def test_missing_person_reported_by_family_goes_to_the_destination_only(
    domain: Domain,
) -> None:
    case = await submit(domain, reporter_role="family", categories=["MISS"])
    assert case.side == "destination"
    assert [c.chat_id for c in await outbox(domain, purpose="card")] == [QA_GROUP]


async def test_no_destination_consent_routes_to_origin_only(domain: Domain) -> None:
    await submit(
        domain, consents={"destination_help": False, "origin_help": True, "statistics": False}
    )
    assert [c.chat_id for c in await outbox(domain, purpose="card")] == [NP_GROUP]


async def test_case_matching_no_group_goes_to_the_coordinator(domain: Domain) -> None:
    # ID-MY has no origin-side group handling this? It does; remove groups to force the rule.
    async with domain.sessions() as session, session.begin():
        for card_group in await session.scalars(select(CaseCard)):
            await session.delete(card_group)
        from models import ResponderGroup

        for group in await session.scalars(select(ResponderGroup)):
            group.active = False
    await submit(domain)
    alerts = await outbox(domain, purpose="alert")
    sita = await person(domain, "sita")
    assert [a.chat_id for a in alerts] == [sita.telegram_user_id]


async def test_exactly_one_of_many_concurrent_claims_wins(domain: Domain) -> None:
    case = await submit(domain)
    ramesh, aisha = await person(domain, "ramesh"), await person(domain, "aisha")

    async def attempt(who: Person) -> str:
        async with domain.sessions() as session, session.begin():
            return (await claims.claim(session, domain, case.id, who, QA_GROUP)).outcome

    results = await asyncio.gather(*(attempt(p) for p in [ramesh, aisha] * 10))
    assert results.count("won") == 1
    assert results.count("taken") == 19
    async with domain.sessions() as session:
        claimed = await session.get(Case, case.id)
        kinds = list(
            await session.scalars(select(CaseEvent.kind).where(CaseEvent.case_id == case.id))
        )
    assert claimed.status == "claimed" and claimed.owner_person_id in ("ramesh", "aisha")
    assert kinds.count("claimed") == 1 and "details_read" in kinds


async def test_a_lost_press_names_the_owner_without_reading_the_case_in_full(
    domain: Domain,
) -> None:
    """Most presses of a race lose: they read the case's status and owner, not (and do not
    decrypt) its personal fields; the owner's name comes from the rota in memory."""
    case = await submit(domain)
    ramesh, aisha = await person(domain, "ramesh"), await person(domain, "aisha")
    async with domain.sessions() as session, session.begin():
        won = await claims.claim(session, domain, case.id, ramesh, QA_GROUP)
        assert won.outcome == "won" and won.case.description == case.description
    async with domain.sessions() as session, session.begin():
        lost = await claims.claim(session, domain, case.id, aisha, QA_GROUP)
        assert (lost.outcome, lost.owner_name) == ("taken", ramesh.name)
        assert "description" not in lost.case.__dict__ and lost.case.code == case.code


async def test_claim_by_someone_outside_the_organisation_changes_nothing(domain: Domain) -> None:
    case = await submit(domain)
    bishnu = await person(domain, "bishnu")  # Nepal shelter, not the Qatar group
    async with domain.sessions() as session, session.begin():
        result = await claims.claim(session, domain, case.id, bishnu, QA_GROUP)
    assert result.outcome == "not_member"
    async with domain.sessions() as session:
        assert (await session.get(Case, case.id)).status == "routed"


async def test_escalation_ladder_backup_then_other_side_then_coordinator(domain: Domain) -> None:
    case = await submit(domain)
    clock = domain.clock
    clock.advance(minutes=241)
    await duties.run_due(domain)
    aisha = await person(domain, "aisha")
    assert [
        m.chat_id for m in await outbox(domain, purpose="ping") if "backup" in m.payload["text"]
    ] == [aisha.telegram_user_id]
    clock.advance(minutes=241)
    await duties.run_due(domain)
    assert NP_GROUP in [c.chat_id for c in await outbox(domain, purpose="card")]
    clock.advance(minutes=241)
    await duties.run_due(domain)
    sita = await person(domain, "sita")
    assert sita.telegram_user_id in [a.chat_id for a in await outbox(domain, purpose="alert")]
    async with domain.sessions() as session:
        steps = [
            e.data["step"]
            for e in await session.scalars(
                select(CaseEvent)
                .where(CaseEvent.case_id == case.id, CaseEvent.kind == "escalated")
                .order_by(CaseEvent.id)
            )
        ]
    assert steps == ["backup", "other_side", "coordinator"]


async def test_escalation_stops_once_claimed(domain: Domain) -> None:
    case = await submit(domain)
    ramesh = await person(domain, "ramesh")
    async with domain.sessions() as session, session.begin():
        await claims.claim(session, domain, case.id, ramesh, QA_GROUP)
    domain.clock.advance(hours=10)
    await duties.run_due(domain)
    async with domain.sessions() as session:
        escalations = await session.scalar(
            select(func.count()).select_from(CaseEvent).where(CaseEvent.kind == "escalated")
        )
    assert escalations == 0


async def test_relay_both_ways_hides_accounts(domain: Domain) -> None:
    case = await submit(domain)
    ramesh = await person(domain, "ramesh")
    async with domain.sessions() as session, session.begin():
        await claims.claim(session, domain, case.id, ramesh, QA_GROUP)
    async with domain.sessions() as session, session.begin():
        c = await session.get(Case, case.id)
        assert (
            await relay.from_reporter(
                session, domain, c, relay.Incoming(kind="text", text="Still no pay")
            )
            == "relayed"
        )
        assert (
            await relay.from_owner(session, domain, c, ramesh, "We are calling your employer")
            == "sent"
        )
    to_owner = [
        m for m in await outbox(domain, purpose="relay") if m.chat_id == ramesh.telegram_user_id
    ]
    assert (
        "Still no pay" in to_owner[0].payload["text"] and case.code in to_owner[0].payload["text"]
    )
    to_reporter = [m for m in await outbox(domain, purpose="relay") if m.reporter_id is not None]
    assert "Doha Migrant Workers Centre" in to_reporter[0].payload["text"]
    assert "Ramesh" not in to_reporter[0].payload["text"]


async def test_followups_fire_until_resolution_and_respect_safe_hours(domain: Domain) -> None:
    case = await submit(domain)
    async with domain.sessions() as session, session.begin():
        from models import Reporter

        reporter = await session.get(Reporter, case.reporter_id)
        reporter.timezone = "Asia/Qatar"
        reporter.safe_hours_start, reporter.safe_hours_end = 18, 22
        await claims.claim(session, domain, case.id, await session.get(Person, "ramesh"), QA_GROUP)
    # Claimed at 06:00 UTC Monday; a normal check-in is due 72 h later at 06:00 UTC = 09:00 in Doha,
    # outside the safe window: it must wait until 18:00 Doha (15:00 UTC).
    domain.clock.advance(hours=72)
    await duties.run_due(domain)
    assert await outbox(domain, purpose="checkin") == []
    domain.clock.advance(hours=9)
    await duties.run_due(domain)
    checkins = await outbox(domain, purpose="checkin")
    assert len(checkins) == 1
    async with domain.sessions() as session, session.begin():
        c = await session.get(Case, case.id)
        assert await followups.answer_checkin(session, domain, c, "unsafe") == "unsafe"
        assert c.urgency == "high"
        await resolution.resolve(
            session,
            domain,
            c,
            await session.get(Person, "ramesh"),
            "WAGES_RECOVERED",
            "paid in full",
            480000,
            "QAR",
        )
    async with domain.sessions() as session:
        pending = await session.scalar(
            select(func.count())
            .select_from(Timer)
            .where(Timer.case_id == case.id, Timer.status == "pending")
        )
    assert pending == 0
    assert len(await outbox(domain, purpose="resolved")) == 1


async def test_referral_needs_consent_and_asks_for_it(domain: Domain) -> None:
    case = await submit(domain, consents={"destination_help": True})
    ramesh = await person(domain, "ramesh")
    async with domain.sessions() as session, session.begin():
        await claims.claim(session, domain, case.id, ramesh, QA_GROUP)
    async with domain.sessions() as session, session.begin():
        from models import Organisation

        c = await session.get(Case, case.id)
        shelter = await session.get(Organisation, "np-returnee-shelter")
        assert (
            await referral.refer(session, domain, c, ramesh, shelter, "arrives Friday")
            == "consent_asked"
        )
    assert NP_GROUP not in [c.chat_id for c in await outbox(domain, purpose="card")]
    async with domain.sessions() as session, session.begin():
        c = await session.get(Case, case.id)
        assert await referral.answer_consent(session, domain, c, "origin_help", True) == "granted"
        assert c.status == "referred" and c.owner_person_id is None
    assert NP_GROUP in [c.chat_id for c in await outbox(domain, purpose="card")]


async def test_a_reporter_who_said_no_is_asked_again_and_the_owner_told_the_answer(
    domain: Domain,
) -> None:
    from models import Organisation, Reporter

    case = await submit(domain, consents={"destination_help": True, "origin_help": False})
    ramesh = await person(domain, "ramesh")
    async with domain.sessions() as session, session.begin():
        await claims.claim(session, domain, case.id, ramesh, QA_GROUP)
    async with domain.sessions() as session, session.begin():
        c = await session.get(Case, case.id)
        shelter = await session.get(Organisation, "np-returnee-shelter")
        assert await referral.refer(session, domain, c, ramesh, shelter, "x") == "consent_asked"
        # Asked once at a time: a second /refer does not ask twice.
        assert await referral.refer(session, domain, c, ramesh, shelter, "x") == "consent_pending"
    [question] = await outbox(domain, purpose="consent_request")
    assert "Kathmandu" not in question.payload["text"]  # the kind, not the name
    assert "नेपाल" in question.payload["text"]  # the country in the reporter's language
    async with domain.sessions() as session, session.begin():
        c = await session.get(Case, case.id)
        assert await referral.answer_consent(session, domain, c, "origin_help", False) == "refused"
        # The same button again changes nothing.
        assert await referral.answer_consent(session, domain, c, "origin_help", True) == "stale"
        assert c.status == "claimed"
    [told] = await outbox(domain, purpose="owner", chat_id=ramesh.telegram_user_id)
    assert "refused: the reporter said no" in told.payload["text"]
    # A reporter who blocked the bot cannot be asked: the referral is refused, and only a
    # coordinator's override (a life at risk) goes through.
    async with domain.sessions() as session, session.begin():
        c = await session.get(Case, case.id)
        (await session.get(Reporter, c.reporter_id)).blocked_bot = True
    async with domain.sessions() as session, session.begin():
        c = await session.get(Case, case.id)
        shelter = await session.get(Organisation, "np-returnee-shelter")
        assert await referral.refer(session, domain, c, ramesh, shelter, "x") == "refused"
        sita = await session.get(Person, "sita")
        assert (
            await referral.refer(
                session,
                domain,
                c,
                sita,
                shelter,
                "x",
                coordinator=True,
                override_reason="life at risk",
            )
            == "referred"
        )


async def test_timer_restart_safety_a_leased_timer_is_not_fired_twice(domain: Domain) -> None:
    await submit(domain)
    domain.clock.advance(minutes=241)
    from bot.domain import timers

    async with domain.sessions() as session, session.begin():
        first = await timers.claim_due(session, domain)
    async with domain.sessions() as session, session.begin():
        second = await timers.claim_due(session, domain)
    assert len(first) == 1 and second == []
    # The worker that leased it died: after the lease expires the timer is due again.
    domain.clock.advance(minutes=6)
    async with domain.sessions() as session, session.begin():
        third = await timers.claim_due(session, domain)
    assert [t.id for t in third] == [first[0].id]


async def test_a_timers_digest_is_read_in_a_read_only_transaction(
    domain: Domain, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A year of figures must not hold the write lock (SQLite: nor the event loop)."""
    read_only_reads: list[bool] = []
    build = digest.build

    async def watched(session, *args, **kwargs):  # type: ignore[no-untyped-def]
        read_only_reads.append(bool(session.info.get("read_only")))
        return await build(session, *args, **kwargs)

    monkeypatch.setattr(digest, "build", watched)
    await duties.ensure_digest_timers(domain)
    domain.clock.advance(hours=20, minutes=16)
    await duties.run_due(domain)
    assert read_only_reads and all(read_only_reads)
    assert len(await outbox(domain, purpose="digest")) >= len(read_only_reads)


async def test_digest_is_sent_at_local_time(domain: Domain) -> None:
    await duties.ensure_digest_timers(domain)
    await submit(domain)
    # Fake clock starts Monday 06:00 UTC. Dewi (Jakarta, UTC+7) gets hers at 01:00 UTC
    # Tuesday; Sita (Kathmandu, UTC+5:45) at 02:15 UTC.
    domain.clock.advance(hours=20, minutes=14)
    await duties.run_due(domain)
    assert {d.chat_id for d in await outbox(domain, purpose="digest")} == {5000005}
    domain.clock.advance(minutes=2)
    await duties.run_due(domain)
    digests = await outbox(domain, purpose="digest")
    texts = [d for d in digests if d.method == "sendMessage"]
    assert {d.chat_id for d in texts} == {5000001, 5000005}
    sita = next(d for d in texts if d.chat_id == 5000001)
    assert "New cases: 1" in sita.payload["text"] and "NP-QA" in sita.payload["text"]
    assert any(d.method == "sendPhoto" for d in digests)
    assert dt.timedelta(hours=20) < domain.now() - dt.datetime(2026, 3, 2, 6, tzinfo=dt.UTC)
