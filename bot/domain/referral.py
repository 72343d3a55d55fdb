"""Referral across the corridor (or to an embassy desk, NHRI …), guarded by consent."""

from __future__ import annotations

from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import events, routing, timers
from bot.domain.context import Domain
from bot.domain.followups import FOLLOWUP_KINDS
from bot.domain.notices import CasePassedOn, ConsentRequest, ReferralSettled
from bot.domain.outbox import queue_notice
from bot.i18n import N_
from bot.taxonomy import CaseStatus
from models import Attachment, Case, Organisation, OrganisationCorridor, Person, Reporter, Timer


async def referral_targets(session: AsyncSession, case: Case) -> list[Organisation]:
    return list(
        await session.scalars(
            select(Organisation)
            .join(OrganisationCorridor, OrganisationCorridor.organisation_id == Organisation.id)
            .where(
                OrganisationCorridor.corridor_code == case.corridor_code,
                Organisation.active.is_(True),
                Organisation.id != (case.owner_organisation_id or ""),
            )
            .order_by(Organisation.side, Organisation.id)
        )
    )


async def refer(
    session: AsyncSession,
    domain: Domain,
    case: Case,
    person: Person,
    target: Organisation,
    note: str,
    *,
    override_reason: str | None = None,
    coordinator: bool = False,
) -> str:
    """Returns "referred", "consent_asked", "consent_pending" (asked already, no answer
    yet), "refused" (no consent and the reporter cannot be asked) or "not_owner"."""
    if case.owner_person_id != person.id and not coordinator:
        return "not_owner"
    if case.status != CaseStatus.CLAIMED.value:
        return "refused"
    purpose = routing.SIDE_CONSENT[target.side]
    consent = await routing.granted(session, case)
    if not consent.get(purpose) and not case.drill:  # the scripted reporter agrees
        if override_reason and coordinator:
            await events.record(
                session,
                domain,
                "consent_override",
                case_id=case.id,
                actor=f"person:{person.id}",
                data={"purpose": purpose, "reason": override_reason},
            )
        elif await can_ask(session, case):
            # Refused or never given alike: the reporter may change their mind when they
            # hear who would help and why, so the question is asked (once at a time).
            if await waiting_requests(session, case, purpose):
                return "consent_pending"
            await ask_consent(session, domain, case, purpose, target, note, person.id)
            return "consent_asked"
        else:
            await events.record(
                session,
                domain,
                "referral_refused",
                case_id=case.id,
                actor=f"person:{person.id}",
                data={"to": target.id, "reason": "no_consent"},
            )
            return "refused"
    await _hand_over(session, domain, case, person, target, note)
    return "referred"


async def _hand_over(
    session: AsyncSession,
    domain: Domain,
    case: Case,
    person: Person,
    target: Organisation,
    note: str,
) -> None:
    await timers.cancel(session, case.id, FOLLOWUP_KINDS)
    await routing.rerender_cards(
        session, domain, case, note=N_("Referred to {org}."), note_values={"org": target.name}
    )
    await routing.deactivate_cards(session, case.id)
    case.referred_by_organisation_id = case.owner_organisation_id
    case.referred_by_person_id = person.id
    case.referred_at = domain.now()
    case.owner_person_id = None
    case.owner_organisation_id = None
    case.status = CaseStatus.REFERRED.value
    case.side = target.side
    case.escalation_level = 0
    case.last_activity_at = domain.now()
    # The note travels with the case timeline, not on the card: it may hold personal detail.
    await events.record(
        session,
        domain,
        "referred",
        case_id=case.id,
        actor=f"person:{person.id}",
        data={"to": target.id, "from": case.referred_by_organisation_id, "note": bool(note)},
    )
    if note:
        session.add(
            Attachment(case_id=case.id, kind="referral_note", text=note, created_at=domain.now())
        )
    await routing.post_cards(
        session,
        domain,
        case,
        [target],
        note=N_("Referral from the other side of the corridor."),
    )
    timers.schedule(
        session,
        domain,
        "escalate",
        domain.now() + routing.escalation_delay(domain, case.urgency),
        case_id=case.id,
        payload={"level": 1},
    )
    if case.reporter_id is not None and not case.erased:
        queue_notice(
            session,
            domain,
            CasePassedOn(case, target.name),
            language=case.language,
            purpose="reporter_update",
            reporter_id=case.reporter_id,
            case_id=case.id,
            extra={"protect_content": True},
        )


async def can_ask(session: AsyncSession, case: Case) -> bool:
    """Whether the reporter can still be asked through the bot."""
    if case.reporter_id is None or case.erased:
        return False
    reporter = await session.get(Reporter, case.reporter_id)
    return reporter is not None and not reporter.blocked_bot and not reporter.banned


async def waiting_requests(session: AsyncSession, case: Case, purpose: str) -> list[Timer]:
    """Referrals parked until the reporter answers a consent question for ``purpose``."""
    rows = await session.scalars(
        select(Timer)
        .where(
            Timer.case_id == case.id,
            Timer.kind == "pending_referral",
            Timer.status == "waiting",
        )
        .order_by(Timer.id)
    )
    return [row for row in rows if row.payload.get("purpose") == purpose]


async def ask_consent(
    session: AsyncSession,
    domain: Domain,
    case: Case,
    purpose: str,
    target: Organisation,
    note: str,
    person_id: str,
) -> None:
    # Parked as a timer row that never fires by itself: it waits for the reporter's answer.
    parked = timers.schedule(
        session,
        domain,
        "pending_referral",
        domain.now(),
        case_id=case.id,
        payload={"purpose": purpose, "to": target.id, "note": note, "by": person_id},
    )
    parked.status = "waiting"
    queue_notice(
        session,
        domain,
        ConsentRequest(case, purpose, target),
        language=case.language,
        purpose="consent_request",
        reporter_id=case.reporter_id,
        case_id=case.id,
        extra={"protect_content": True},
    )
    await events.record(
        session,
        domain,
        "consent_requested",
        case_id=case.id,
        data={"purpose": purpose, "to": target.id},
    )


async def answer_consent(
    session: AsyncSession, domain: Domain, case: Case, purpose: str, granted: bool
) -> str:
    """The reporter's answer to a consent question. Only a question still waiting is
    answered: a second press, or a button of an old question (after a withdrawal, say),
    changes nothing ("stale"); /consent is where consent is given or withdrawn at will."""
    from bot.domain.cases import record_consents

    reporter = await session.get(Reporter, case.reporter_id) if case.reporter_id else None
    if reporter is None:
        return "unknown"
    if not await waiting_requests(session, case, purpose):
        return "stale"
    await record_consents(session, domain, reporter, case, {purpose: granted}, case.language)
    await events.record(
        session,
        domain,
        "consent_given" if granted else "consent_refused",
        case_id=case.id,
        actor=f"reporter:{reporter.id}",
        data={"purpose": purpose},
    )
    await settle_waiting(session, domain, case, purpose, granted)
    return "granted" if granted else "refused"


async def settle_waiting(
    session: AsyncSession, domain: Domain, case: Case, purpose: str, granted: bool
) -> None:
    """Completes (on yes) or refuses (on no) the referrals waiting for ``purpose``; the
    person who asked is told either way."""
    for row in await waiting_requests(session, case, purpose):
        row.status = "done"
        person = await session.get(Person, row.payload["by"])
        target = await session.get(Organisation, row.payload["to"])
        if person is None or target is None:
            continue
        outcome: Literal["agreed", "refused", "not_yours"]
        if case.status != CaseStatus.CLAIMED.value:
            outcome = "not_yours"
        elif granted:
            await _hand_over(session, domain, case, person, target, row.payload.get("note", ""))
            outcome = "agreed"
        else:
            await events.record(
                session,
                domain,
                "referral_refused",
                case_id=case.id,
                data={"to": target.id, "reason": "reporter_declined"},
            )
            outcome = "refused"
        queue_notice(
            session,
            domain,
            ReferralSettled(case, target.name, outcome),
            language=person.language,
            purpose="owner",
            chat_id=person.telegram_user_id,
            case_id=case.id,
        )
