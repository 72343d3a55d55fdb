"""A seeded month of cases on the fake clock: the digest's figures and its chart."""

from __future__ import annotations

import datetime as dt

from bot.domain import cases, claims, digest, resolution
from bot.domain.context import Domain
from models import Case, Person

QA_GROUP = -1001000000001


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
                    cases.Report(
                        reporter_role="self",
                        destination_country="QA",
                        origin_country="NP",
                        categories=["WAGE"],
                        language="en",
                        consents={"destination_help": True, "statistics": True},
                        wage_owed_minor=250_000,
                        wage_currency="QAR",
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
        text, chart = await digest.build(session, domain, ["NP-QA"], "en", weekly=True)
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
    assert len(month.unclaimed) == 40
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
        text, _chart = await digest.build(session, domain, ["NP-MY"], "en")
    assert text.splitlines()[1] == "Nothing new since the last digest. No case is waiting."
