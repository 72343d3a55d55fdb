"""Consent given after the report: from /consent, at any time, per purpose, versioned."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import events, referral, routing
from bot.domain.cases import record_consents
from bot.domain.context import Domain
from bot.taxonomy import CaseStatus
from models import Case, Reporter

SIDE_OF = {purpose: side for side, purpose in routing.SIDE_CONSENT.items()}


async def give_consent(
    session: AsyncSession, domain: Domain, reporter: Reporter, case: Case, purpose: str
) -> str:
    """Returns "given", or "already" when it is in force (a second press changes nothing).

    What waited for it goes ahead: a referral parked for this purpose is handed over, and a
    case still waiting for an owner is shown to that side if the routing rules want it
    there (a relative who now lets the home side know)."""
    if (await routing.granted(session, case)).get(purpose):
        return "already"
    await record_consents(session, domain, reporter, case, {purpose: True}, case.language)
    await events.record(
        session,
        domain,
        "consent_given",
        case_id=case.id,
        actor=f"reporter:{reporter.id}",
        data={"purpose": purpose, "via": "consent_command"},
    )
    await referral.settle_waiting(session, domain, case, purpose, True)
    side = SIDE_OF.get(purpose)
    if (
        side is not None
        and case.status in (CaseStatus.ROUTED.value, CaseStatus.REFERRED.value)
        and side in routing.preferred_sides(case)
    ):
        await routing.inform_side(session, domain, case, side)
    return "given"
