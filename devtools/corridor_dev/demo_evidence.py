"""The demo's last step: a corridor evidence report and an HXL export worth looking at.

The demo's own handful of cases would all be suppressed, so a year of consenting NP-QA
cases is added first (anonymised facts only: no reporter, no names but a few employers),
through the ORM, so the rollups are kept in step exactly as for real cases."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

from bot.domain import evidence
from bot.domain.context import Domain
from bot.domain.exports import anonymised_rows, to_csv
from bot.taxonomy import CONSENT_VERSION
from models import Case, Consent, Reporter

EMPLOYERS = ["Al Noor Contracting W.L.L.", "Gulf Star Trading", "Desert Palm Services"]


def first_month(now: dt.datetime) -> dt.date:
    """The first of the twelve months that end with the current one."""
    return dt.date(now.year - 1, now.month + 1, 1) if now.month < 12 else dt.date(now.year, 1, 1)


async def seed_year(domain: Domain, cases: int = 240) -> None:
    rng = random.Random(2026)
    until = domain.now()
    start = dt.datetime.combine(first_month(until), dt.time(), tzinfo=dt.UTC)
    minutes = int((until - start).total_seconds() // 60) - 60 * 24 * 10
    async with domain.sessions() as session, session.begin():
        reporter = Reporter(user_key="demo-statistics-seed", language="ne", created_at=start)
        session.add(reporter)
        await session.flush()
        for n in range(cases):
            created = start + dt.timedelta(minutes=rng.randrange(0, minutes))
            claimed = created + dt.timedelta(minutes=rng.randrange(10, 600))
            resolved = claimed + dt.timedelta(hours=rng.randrange(24, 900))
            done = resolved < until and rng.random() < 0.75
            outcome = rng.choice(["WAGES_RECOVERED", "REPATRIATED", "DOCUMENTS_RETURNED"])
            recovered = done and outcome == "WAGES_RECOVERED"
            case = Case(
                code=f"QA-D{n:04d}",
                corridor_code="NP-QA",
                reporter_role=rng.choice(["self", "self", "family"]),
                categories=sorted(
                    set(rng.sample(["WAGE", "WAGE", "DOCS", "HOUR", "THRT", "MOVE", "COND"], 2))
                ),
                urgency="normal",
                status="resolved" if done else "claimed",
                side="destination",
                language="ne",
                destination_country="QA",
                origin_country="NP",
                workers_affected=rng.choice([1, 1, 1, 2, 5]),
                sector=rng.choice(["SECTOR_F", "SECTOR_F", "SECTOR_T", "SECTOR_I", None]),
                gender=rng.choice(["MAN", "MAN", "MAN", "WOMAN", None]),
                employer=rng.choice(EMPLOYERS) if rng.random() < 0.5 else None,
                wage_owed_minor=rng.randrange(2_000, 20_000) * 100,
                wage_currency="QAR",
                created_at=created,
                routed_at=created,
                claimed_at=claimed,
                resolved_at=resolved if done else None,
                outcome=outcome if done else None,
                outcome_amount_minor=rng.randrange(1_000, 8_000) * 100 if recovered else None,
                outcome_currency="QAR" if recovered else None,
                last_activity_at=resolved if done else claimed,
                erased=True,  # nothing personal to keep
            )
            session.add(case)
            await session.flush()
            session.add(
                Consent(
                    reporter_id=reporter.id,
                    case_id=case.id,
                    purpose="statistics",
                    granted=True,
                    version=CONSENT_VERSION,
                    text_shown="",
                    language="ne",
                    given_at=created,
                )
            )


async def write(domain: Domain, folder: Path) -> list[Path]:
    """Seed, then write the partner report (PDF, HTML) and an HXL export into ``folder``."""
    first = first_month(domain.now())
    await seed_year(domain)
    async with domain.sessions() as session:
        report = await evidence.build(
            session,
            corridor="NP-QA",
            first=first,
            last=domain.now().date(),
            audience="partner",
            language="en",
            k=domain.config.statistics.k_partner,
            pattern_threshold=domain.config.statistics.pattern_threshold,
            today=domain.now().date(),
        )
        export = await anonymised_rows(
            session,
            start=first,
            end=domain.now().date(),
            corridor="NP-QA",
            audience="partner",
            k=domain.config.statistics.k_partner,
        )
    paths = evidence.save(report, folder)
    hxl = folder / f"corridor-NP-QA-{first:%Y%m}-{domain.now():%Y%m}-partner-hxl.csv"
    hxl.write_text(to_csv(export, hxl=True), encoding="utf-8")
    return [*paths, hxl]
