"""A seeded month of cases on the fake clock: the digest's figures and its chart."""

from __future__ import annotations

import datetime as dt
import random
import statistics

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import cases, claims, digest, resolution
from bot.domain.context import Domain
from bot.i18n import tr
from bot.views.digest import digest_chart, digest_text
from models import Case, Person
from tests.support import wage_report

QA_GROUP = -1001000000001


async def build(
    session: AsyncSession, domain: Domain, corridors: list[str], language: str, weekly: bool = False
) -> tuple[str, bytes]:
    """The digest's text in ``language`` and its chart, as its reader gets them."""
    notice = await digest.build(session, domain, corridors, weekly)
    return digest_text(notice, language), digest_chart(notice)


async def seed_month(domain: Domain) -> dict[str, int]:
    """Thirty days, two reports a day in NP-QA; every third claimed after 2 h; of those,
    every second resolved two days later with 1,000.00 QAR recovered."""
    start = domain.now()
    counts = {"created": 0, "claimed": 0, "resolved": 0}
    for day in range(30):
        for slot in range(2):
            domain.clock.set(start + dt.timedelta(days=day, hours=slot * 6))
            async with domain.sessions() as session, session.begin():
                reporter = await cases.reporter_for(
                    session, domain, 10_000 + day * 2 + slot, 1, "en"
                )
                case = await cases.submit_report(
                    session,
                    domain,
                    reporter,
                    wage_report(
                        language="en",
                        consents={"destination_help": True, "statistics": True},
                        wage_owed_minor=250_000,
                        employer="Gulf Build Co" if slot else None,
                    ),
                )
                counts["created"] += 1
                if (day * 2 + slot) % 3 == 0:
                    domain.clock.set(start + dt.timedelta(days=day, hours=slot * 6 + 2))
                    await claims.claim(
                        session, domain, case.id, await session.get(Person, "ramesh"), QA_GROUP
                    )
                    counts["claimed"] += 1
                    if (day * 2 + slot) % 2 == 0 and day < 27:
                        domain.clock.set(start + dt.timedelta(days=day + 2, hours=slot * 6 + 2))
                        await resolution.resolve(
                            session,
                            domain,
                            await session.get(Case, case.id),
                            await session.get(Person, "ramesh"),
                            "WAGES_RECOVERED",
                            None,
                            100_000,
                            "QAR",
                        )
                        counts["resolved"] += 1
    domain.clock.set(start + dt.timedelta(days=30))
    return counts


async def test_a_month_in_the_digest(domain: Domain) -> None:
    counts = await seed_month(domain)
    now = domain.now()
    async with domain.sessions() as session:
        month = await digest.collect(session, ["NP-QA"], now - dt.timedelta(days=31), now, now)
        text, chart = await build(session, domain, ["NP-QA"], "en", weekly=True)
        series = await digest.daily_counts(session, ["NP-QA"], now)
    assert month.new == counts["created"] == 60
    assert month.claimed == counts["claimed"] == 20
    assert (
        sum(month.resolved.values()) == counts["resolved"]
        and month.resolved["WAGES_RECOVERED"] == counts["resolved"]
    )
    assert month.wages_owed == {"QAR": 60 * 250_000}
    assert month.wages_recovered == {"QAR": counts["resolved"] * 100_000}
    assert month.median_claim_minutes == 120
    assert month.median_resolution_hours == 50
    assert month.unclaimed_total == 40 and len(month.unclaimed) == digest.UNCLAIMED_SHOWN
    # The weekly text names the pattern: one employer in many cases.
    assert "Gulf Build Co" in text and "named in" in text
    assert "Wages reported owed" in text
    # Chart: a real PNG, and the series behind it add up to the month.
    assert chart.startswith(b"\x89PNG") and len(chart) > 10_000
    assert (
        sum(series["NP-QA"]["new"]) == 60 - 2
    )  # the 30-day window starts a day after the first reports
    assert sum(series["NP-QA"]["resolved"]) == counts["resolved"]


async def test_a_quiet_day_gets_one_short_line(domain: Domain) -> None:
    async with domain.sessions() as session:
        text, _chart = await build(session, domain, ["NP-MY"], "en")
    # No digest was sent before: the line names the window, not "since the last digest".
    assert text.splitlines()[1] == "Nothing new in the last 24 hours. No case is waiting."
    async with domain.sessions() as session:
        text, _chart = await build(session, domain, ["NP-MY"], "ne", weekly=True)
    assert text.splitlines()[1] == tr(
        "ne", "Nothing new in the last {n} days. No case is waiting.", n=7
    )


def bare_case(n: int, created: dt.datetime, **fields) -> Case:  # type: ignore[no-untyped-def]
    values = dict(
        code=f"T{n:06d}",
        corridor_code="NP-QA",
        reporter_role="self",
        categories=["WAGE"],
        urgency="normal",
        status="routed",
        side="destination",
        language="en",
        destination_country="QA",
        origin_country="NP",
        created_at=created,
        last_activity_at=created,
    )
    values.update(fields)
    return Case(**values)


async def test_medians_computed_by_the_database_match_pythons(domain: Domain) -> None:
    """SQLite sorts and reads the middle, PostgreSQL interpolates with percentile_cont:
    both must agree with statistics.median, for odd and even counts."""
    rng = random.Random(5)
    now = domain.now()
    claim_minutes: list[float] = []
    resolution_hours: list[float] = []
    async with domain.sessions() as session, session.begin():
        for n in range(41):
            created = now - dt.timedelta(days=5, seconds=rng.randrange(0, 86_400))
            claim = dt.timedelta(seconds=rng.randrange(1, 50_000))
            resolve = (
                claim + dt.timedelta(seconds=rng.randrange(1, 200_000)) if n % 3 or n == 0 else None
            )
            claim_minutes.append(claim.total_seconds() / 60)
            if resolve:
                resolution_hours.append(resolve.total_seconds() / 3600)
            session.add(
                bare_case(
                    n,
                    created,
                    status="resolved" if resolve else "claimed",
                    claimed_at=created + claim,
                    resolved_at=created + resolve if resolve else None,
                    outcome="OTHER" if resolve else None,
                )
            )
    assert len(claim_minutes) % 2 == 1 and len(resolution_hours) % 2 == 0
    async with domain.sessions() as session:
        data = await digest.collect(session, ["NP-QA"], now - dt.timedelta(days=30), now, now)
    assert data.claimed == 41 and sum(data.resolved.values()) == len(resolution_hours)
    assert abs(data.median_claim_minutes - statistics.median(claim_minutes)) < 1e-6
    assert abs(data.median_resolution_hours - statistics.median(resolution_hours)) < 1e-6


async def test_long_lists_are_cut_to_one_message(domain: Domain) -> None:
    """Thirty repeated employers and seventy cases waiting: the digest still fits one
    Telegram message, counts everything and names only the strongest patterns."""
    now = domain.now()
    async with domain.sessions() as session, session.begin():
        for n in range(90):
            session.add(
                bare_case(
                    n,
                    now - dt.timedelta(days=2, minutes=n),
                    urgency="high",
                    employer=f"Employer Number {n % 30:02d} W.L.L." + (" " * (200 - 30)) + "x" * 20,
                )
            )
        for n in range(90, 160):
            session.add(bare_case(n, now - dt.timedelta(hours=3, minutes=n), urgency="sos"))
    async with domain.sessions() as session:
        text, _chart = await build(session, domain, ["NP-QA"], "en")
    assert len(text) <= 4096
    assert "Unclaimed now: 160" in text
    assert text.count("⚠️") == digest.PATTERNS_SHOWN == 5
    assert "… and 25 more repeated names" in text
    attention = text.split("Needs attention: ")[1]
    # Every waiting SOS case comes before the older high-urgency ones.
    assert attention.split(", ")[0] == "T000159"
    assert f"(+{160 - digest.ATTENTION_SHOWN} more)" in attention
