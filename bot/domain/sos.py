"""SOS: two taps to an urgent, routed case. Which countries are offered, which side of the
corridor the worker comes from, what a second tap does, and the one consent an SOS asks."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import cases as case_domain
from bot.domain.context import Domain
from bot.domain.people import Role
from bot.domain.places import LANGUAGE_ORIGINS, timezone_of
from bot.i18n import N_
from bot.taxonomy import ConsentPurpose
from models import Case

# An SOS cannot wait for three consent questions: one sentence covers both sides, so an
# unclaimed alert may climb to the home-country side of the corridor.
SOS_CONSENT = N_(
    "By tapping, you agree that trusted helpers in that country and in your home country see this alert."
)
# A double tap, or a second tap because the first felt slow: one alert is enough.
REPEAT_WINDOW = dt.timedelta(minutes=10)


@dataclass
class SosOutcome:
    result: Literal["sent", "repeated", "unavailable", "too_many"]
    case: Case | None = None


async def destinations(session: AsyncSession, domain: Domain, role: Role) -> list[str]:
    """The countries an SOS can be sent from, the one of the reporter's last case first."""
    offered = sorted({c.destination for c in await domain.corridors.active(session)})
    if role.reporter is not None:
        previous = await session.scalar(
            select(Case.destination_country)
            .where(Case.reporter_id == role.reporter.id)
            .order_by(Case.id.desc())
            .limit(1)
        )
        if previous in offered:
            offered.remove(previous)
            offered.insert(0, previous)
    return offered


async def origin_for(
    session: AsyncSession, domain: Domain, role: Role, destination: str, language: str
) -> str | None:
    """The worker's home country, never asked in an SOS: their last case's to the same
    country, else the one their language suggests, else the corridor's first origin."""
    origins = [
        c.origin for c in await domain.corridors.active(session) if c.destination == destination
    ]
    if not origins:
        return None
    if role.reporter is not None:
        previous = await session.scalar(
            select(Case.origin_country)
            .where(Case.reporter_id == role.reporter.id, Case.destination_country == destination)
            .order_by(Case.id.desc())
            .limit(1)
        )
        if previous in origins:
            return previous
    hinted = LANGUAGE_ORIGINS.get(language)
    return hinted if hinted in origins else origins[0]


async def _recent(session: AsyncSession, domain: Domain, role: Role, country: str) -> Case | None:
    if role.reporter is None:
        return None
    return await session.scalar(
        select(Case)
        .where(
            Case.reporter_id == role.reporter.id,
            Case.destination_country == country,
            Case.urgency_reason.like("sos%"),
            Case.created_at >= domain.now() - REPEAT_WINDOW,
        )
        .order_by(Case.id.desc())
        .limit(1)
    )


async def send(
    session: AsyncSession,
    domain: Domain,
    role: Role,
    *,
    country: str,
    language: str,
    user_id: int,
    chat_id: int,
) -> SosOutcome:
    """An urgent case from the reporter in ``country``, routed at once; or the SOS they sent
    a moment ago (``repeated``)."""
    origin = await origin_for(session, domain, role, country, language)
    if origin is None:
        return SosOutcome("unavailable")
    recent = await _recent(session, domain, role, country)
    if recent is not None:
        return SosOutcome("repeated", recent)
    reporter = role.reporter or await case_domain.reporter_for(
        session, domain, user_id, chat_id, language
    )
    reporter.timezone = timezone_of(country)
    report = case_domain.Report(
        reporter_role="self",
        destination_country=country,
        origin_country=origin,
        categories=["OTHR"],
        language=language,
        sos=True,
        in_danger=True,
        consents={
            ConsentPurpose.DESTINATION_HELP.value: True,
            ConsentPurpose.ORIGIN_HELP.value: True,
        },
        consent_text=SOS_CONSENT,
    )
    try:
        case = await case_domain.submit_report(session, domain, reporter, report)
    except case_domain.IntakeError:
        return SosOutcome("too_many")
    return SosOutcome("sent", case)
