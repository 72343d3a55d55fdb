"""Erasure, retention, consent withdrawal and blocking: the reporter's data rights."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import claims, events, routing, timers
from bot.domain.context import Domain
from bot.domain.followups import FOLLOWUP_KINDS, notify_owner
from bot.domain.notices import CardWithdrawn, ConsentWithdrawn, ReporterErased
from bot.domain.outbox import queue_notice
from bot.taxonomy import OPEN_STATUSES, CaseStatus, ConsentPurpose
from models import (
    Attachment,
    Case,
    CaseCard,
    Consent,
    OutboxMessage,
    RelayLink,
    Reporter,
    SentMessage,
)
from models.prepared import Prepared

PERSONAL_FIELDS = (
    "employer",
    "agency",
    "description",
    "worker_name",
    "details",
    "contact_phone",
    "precise_location",
    "outcome_note",
    "feedback_note",
)


async def erase_case(session: AsyncSession, domain: Domain, case: Case, reason: str) -> None:
    """Keeps only the anonymised facts statistics need (corridor, categories, urgency,
    month, outcome, amounts); everything that could identify someone goes."""
    for name in PERSONAL_FIELDS:
        setattr(case, name, None)
    case.area = None
    case.handover_key = None
    case.erased = True
    await session.execute(delete(Attachment).where(Attachment.case_id == case.id))
    await session.execute(delete(RelayLink).where(RelayLink.case_id == case.id))
    # Undelivered messages that carry the reporter's words or reach the reporter are
    # dropped; delivered ones keep no text. Notices to the owner still go out.
    quoting = or_(
        OutboxMessage.reporter_id.is_not(None), OutboxMessage.purpose.in_(("relay", "details"))
    )
    await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.case_id == case.id,
            OutboxMessage.status.in_(("pending", "sending")),
            quoting,
        )
        .values(status="cancelled", payload={})
    )
    await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.case_id == case.id, OutboxMessage.status.not_in(("pending", "sending"))
        )
        .values(payload={})
    )
    await events.record(session, domain, "erased", case_id=case.id, data={"reason": reason})


async def forget_reporter(session: AsyncSession, domain: Domain, reporter: Reporter) -> list[str]:
    """`/forget`: the reporter's personal data is erased; open cases are closed and their
    owners told. Returns the codes of the cases touched."""
    cases = list(await session.scalars(select(Case).where(Case.reporter_id == reporter.id)))
    for case in cases:
        if case.status in [s.value for s in OPEN_STATUSES]:
            await notify_owner(session, domain, case, ReporterErased(case))
            case.status = CaseStatus.CLOSED.value
            case.outcome = case.outcome or "WITHDRAWN_BY_REPORTER"
            case.resolved_at = case.resolved_at or domain.now()
            await timers.cancel(session, case.id, (*FOLLOWUP_KINDS, "escalate"))
            await routing.rerender_cards(session, domain, case)
        await erase_case(session, domain, case, "reporter_request")
        case.reporter_id = None
    await session.execute(
        update(Consent).where(Consent.reporter_id == reporter.id).values(text_shown="")
    )
    chat_id = reporter.chat_id
    if chat_id:
        await session.execute(
            delete(SentMessage).where(
                SentMessage.chat_key == domain.keys.pseudonym("chat", int(chat_id))
            )
        )
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.reporter_id == reporter.id, OutboxMessage.status == "pending")
        .values(status="cancelled", payload={})
    )
    reporter.chat_id = None
    reporter.safe_hours_start = reporter.safe_hours_end = None
    await events.record(
        session,
        domain,
        "reporter_erased",
        actor=f"reporter:{reporter.id}",
        data={"cases": len(cases)},
    )
    return [c.code for c in cases]


async def purge_expired(domain: Domain) -> int:
    """Retention: personal data of cases resolved more than the configured months ago."""
    cutoff = domain.now() - dt.timedelta(days=30 * domain.config.security.retention_months)
    async with domain.transaction() as session:
        due = list(
            await session.scalars(
                select(Case)
                .where(
                    Case.erased.is_(False), Case.resolved_at.is_not(None), Case.resolved_at < cutoff
                )
                .limit(200)
            )
        )
        for case in due:
            await erase_case(session, domain, case, "retention")
    return len(due)


async def withdraw_consent(
    session: AsyncSession, domain: Domain, reporter: Reporter, case: Case, purpose: str
) -> bool:
    """Withdrawal stops the matching sharing at once: the cards of that side go, and an
    owner on that side is released (the case moves to the other side if allowed there).
    False when nothing was in force (a second press, an old button)."""
    if not (await routing.granted(session, case)).get(purpose):
        return False
    now = domain.now()
    await session.execute(
        update(Consent)
        .where(
            Consent.case_id == case.id, Consent.purpose == purpose, Consent.withdrawn_at.is_(None)
        )
        .values(withdrawn_at=now)
    )
    await events.record(
        session,
        domain,
        "consent_withdrawn",
        case_id=case.id,
        actor=f"reporter:{reporter.id}",
        data={"purpose": purpose},
    )
    if purpose == ConsentPurpose.STATISTICS.value or case.status not in [
        s.value for s in OPEN_STATUSES
    ]:
        return True
    side = "destination" if purpose == ConsentPurpose.DESTINATION_HELP.value else "origin"
    from models import Organisation

    cards = list(
        await session.scalars(
            select(CaseCard).where(CaseCard.case_id == case.id, CaseCard.active.is_(True))
        )
    )
    owner_org = (
        await session.get(Organisation, case.owner_organisation_id)
        if case.owner_organisation_id
        else None
    )
    if owner_org is not None and owner_org.side == side:
        await notify_owner(session, domain, case, ConsentWithdrawn(case))
        await claims.release(session, domain, case, "consent_withdrawn")
    for card in cards:
        org = await session.get(Organisation, card.organisation_id)
        if org is not None and org.side == side:
            card.active = False
            queue_notice(
                session,
                domain,
                CardWithdrawn(case),
                language=routing.group_language(org),
                purpose="card_edit",
                chat_id=card.chat_id,
                case_id=case.id,
                replacing=card.outbox_id,
            )
    consent = await routing.granted(session, case)
    if not any(consent.get(routing.SIDE_CONSENT[s]) for s in ("destination", "origin")):
        case.status = CaseStatus.CLOSED.value
        case.outcome = "WITHDRAWN_BY_REPORTER"
        case.resolved_at = now
        await timers.cancel(session, case.id, (*FOLLOWUP_KINDS, "escalate"))
    elif case.status == CaseStatus.ROUTED.value and not await session.scalar(
        select(CaseCard.id).where(CaseCard.case_id == case.id, CaseCard.active.is_(True)).limit(1)
    ):
        await routing.route(session, domain, case)
    return True


async def block_reporter(
    session: AsyncSession, domain: Domain, reporter: Reporter, by: str
) -> None:
    reporter.banned = True
    await events.record(
        session, domain, "reporter_blocked", actor=by, data={"reporter": reporter.id}
    )


DELETABLE_FOR = dt.timedelta(hours=47, minutes=50)  # Telegram allows 48 h; keep a margin


# Run for most updates and sends.
_REMEMBER = Prepared(
    lambda _: insert(SentMessage.__table__), columns=("chat_key", "message_id", "sent_at")
)


async def remember_messages(
    session: AsyncSession, domain: Domain, messages: list[tuple[int, int]]
) -> None:
    """Keeps (chat, message id) of messages in private chats, the chat pseudonymous, so
    /clear can delete them from the phone later."""
    if not messages:
        return
    now = domain.now()
    await _REMEMBER.many(
        session,
        [
            {"chat_key": domain.keys.pseudonym("chat", chat), "message_id": message, "sent_at": now}
            for chat, message in messages
        ],
    )


async def clear_chat_ids(
    session: AsyncSession, domain: Domain, chat_id: int
) -> tuple[list[int], int]:
    """Message ids in this chat young enough to delete (Telegram allows 48 hours), and how
    many are older and must be deleted by hand."""
    since = domain.now() - DELETABLE_FOR
    key = domain.keys.pseudonym("chat", chat_id)
    rows = list(await session.scalars(select(SentMessage).where(SentMessage.chat_key == key)))
    fresh = [r.message_id for r in rows if r.sent_at >= since]
    await session.execute(delete(SentMessage).where(SentMessage.chat_key == key))
    return fresh, len(rows) - len(fresh)
