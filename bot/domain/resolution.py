"""Resolving, feedback and reopening."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import events, routing, timers
from bot.domain.context import Domain
from bot.domain.followups import FOLLOWUP_KINDS
from bot.domain.notices import CaseWithdrawn, FeedbackRequest
from bot.domain.outbox import queue_notice
from bot.taxonomy import OUTCOMES, CaseStatus
from models import Case, Person


class ResolutionError(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def can_manage(case: Case, person: Person | None, coordinator_corridors: list[str]) -> bool:
    if person is None:
        return False
    return case.owner_person_id == person.id or case.corridor_code in coordinator_corridors


async def resolve(
    session: AsyncSession,
    domain: Domain,
    case: Case,
    person: Person,
    outcome: str,
    note: str | None = None,
    amount_minor: int | None = None,
    currency: str | None = None,
) -> None:
    if outcome not in OUTCOMES:
        raise ResolutionError("unknown_outcome")
    if case.status in (CaseStatus.RESOLVED.value, CaseStatus.CLOSED.value):
        raise ResolutionError("already_resolved")
    if outcome == "WAGES_RECOVERED" and (amount_minor is None or not currency):
        raise ResolutionError("amount_needed")
    now = domain.now()
    case.status = CaseStatus.RESOLVED.value
    case.outcome = outcome
    case.outcome_amount_minor = amount_minor
    case.outcome_currency = currency
    case.outcome_note = note
    case.resolved_at = now
    case.last_activity_at = now
    await timers.cancel(session, case.id, (*FOLLOWUP_KINDS, "escalate"))
    await events.record(
        session,
        domain,
        "resolved",
        case_id=case.id,
        actor=f"person:{person.id}",
        data={"outcome": outcome, "amount_minor": amount_minor, "currency": currency},
    )
    await routing.rerender_cards(session, domain, case)
    if case.drill:
        from bot.domain import drills

        await drills.report(session, domain, case)
    if case.reporter_id is not None and not case.erased:
        queue_notice(
            session,
            domain,
            FeedbackRequest(case),
            language=case.language,
            purpose="resolved",
            reporter_id=case.reporter_id,
            case_id=case.id,
            extra={"protect_content": True},
        )


async def feedback(session: AsyncSession, domain: Domain, case: Case, score: int) -> bool:
    if (
        case.status != CaseStatus.RESOLVED.value
        or not 1 <= score <= 5
        or case.feedback_score is not None
    ):
        return False
    case.feedback_score = score
    await events.record(session, domain, "feedback", case_id=case.id, data={"score": score})
    return True


async def reopen(session: AsyncSession, domain: Domain, case: Case, person: Person) -> None:
    if case.status != CaseStatus.RESOLVED.value:
        raise ResolutionError("not_resolved")
    case.status = CaseStatus.CLAIMED.value if case.owner_person_id else CaseStatus.ROUTED.value
    case.outcome = None
    case.resolved_at = None
    case.last_activity_at = domain.now()
    await events.record(session, domain, "reopened", case_id=case.id, actor=f"person:{person.id}")
    await routing.rerender_cards(session, domain, case)
    if case.owner_person_id:
        from bot.domain.followups import schedule_after_claim

        schedule_after_claim(session, domain, case)


async def withdraw(session: AsyncSession, domain: Domain, case: Case) -> None:
    """The reporter withdraws: the case closes with that outcome and the owner is told."""
    from bot.domain.followups import notify_owner

    now = domain.now()
    case.status = CaseStatus.CLOSED.value
    case.outcome = "WITHDRAWN_BY_REPORTER"
    case.resolved_at = now
    case.last_activity_at = now
    await timers.cancel(session, case.id, (*FOLLOWUP_KINDS, "escalate"))
    await events.record(
        session, domain, "withdrawn", case_id=case.id, actor=f"reporter:{case.reporter_id}"
    )
    await routing.rerender_cards(session, domain, case)
    await notify_owner(session, domain, case, CaseWithdrawn(case))
