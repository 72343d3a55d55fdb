"""The coordinator's board: the state of work in their corridors, at a glance.

Every figure is an index lookup, never a scan of the corridor's history: open cases,
due timers and failed deliveries are few whatever the number of cases ever reported.
Counts of what happened in a window come from the digest's covering indexes (and can
switch to rollup tables where they exist)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.taxonomy import OPEN_STATUSES, UNCLAIMED_STATUSES, CaseStatus
from models import Case, CaseCard, CaseEvent, OutboxMessage, Timer

# A phone screen lists this many of each kind; the counts say how many there are in all.
LISTED = 25
# Unclaimed cases are grouped by how long they have waited.
AGE_BUCKETS = (("lt1h", dt.timedelta(hours=1)), ("lt24h", dt.timedelta(hours=24)))
OVERDUE_AFTER = dt.timedelta(hours=1)
FOLLOWUP_TIMERS = ("checkin", "owner_reminder")
RESOLVED_WINDOW = dt.timedelta(days=30)
# Failed cards of every corridor are read to find the viewer's; more than this many at
# once means a broken network that the operator hears about from the logs anyway.
FAILED_CARDS_READ = 1000


@dataclass
class CaseLine:
    code: str
    urgency: str
    status: str
    created_at: dt.datetime
    escalation_level: int = 0
    detail: str = ""  # the organisation, or why a card failed


@dataclass
class Board:
    corridors: list[str]
    unclaimed: list[CaseLine] = field(default_factory=list)
    # urgency → age bucket → count
    unclaimed_counts: dict[str, dict[str, int]] = field(default_factory=dict)
    by_status: dict[str, int] = field(default_factory=dict)
    overdue_followups: list[CaseLine] = field(default_factory=list)
    overdue_total: int = 0
    referrals_waiting: list[CaseLine] = field(default_factory=list)
    referrals_total: int = 0
    undelivered_cards: list[CaseLine] = field(default_factory=list)


async def board(session: AsyncSession, corridors: list[str], now: dt.datetime) -> Board:
    data = Board(corridors)
    if not corridors:
        return data
    in_scope = Case.corridor_code.in_(corridors)
    waiting = Case.status.in_([s.value for s in UNCLAIMED_STATUSES])
    # Open cases are a small part of all cases: ix_cases_open_urgency leads with the status.
    for status, count in await session.execute(
        select(Case.status, func.count())
        .where(in_scope, Case.status.in_([s.value for s in OPEN_STATUSES]))
        .group_by(Case.status)
    ):
        data.by_status[status] = count
    data.by_status[CaseStatus.RESOLVED.value] = (
        await session.scalar(
            select(func.count()).where(in_scope, Case.resolved_at >= now - RESOLVED_WINDOW)
        )
        or 0
    )
    bucket = case(
        *[(Case.created_at >= now - limit, name) for name, limit in AGE_BUCKETS],
        else_="older",
    )
    for urgency, name, count in await session.execute(
        select(Case.urgency, bucket, func.count())
        .where(in_scope, waiting)
        .group_by(Case.urgency, bucket)
    ):
        data.unclaimed_counts.setdefault(urgency, {})[name] = count
    # Ids first, from the covering open-cases index alone (SQLite would otherwise walk a
    # corridor's whole history by another index), then the rows of just those.
    rank = case((Case.urgency == "sos", 0), (Case.urgency == "high", 1), else_=2)
    first = list(
        await session.scalars(
            select(Case.id)
            .where(in_scope, waiting)
            .order_by(rank, Case.created_at, Case.id)
            .limit(LISTED)
        )
    )
    rows = {
        row[0]: row[1:]
        for row in await session.execute(
            select(
                Case.id,
                Case.code,
                Case.urgency,
                Case.status,
                Case.created_at,
                Case.escalation_level,
            ).where(Case.id.in_(first))
        )
    }
    data.unclaimed = [CaseLine(*rows[case_id]) for case_id in first if case_id in rows]
    overdue = (
        in_scope,
        Timer.status == "pending",
        Timer.kind.in_(FOLLOWUP_TIMERS),
        Timer.due_at < now - OVERDUE_AFTER,
    )
    data.overdue_total = (
        await session.scalar(
            select(func.count(func.distinct(Timer.case_id)))
            .select_from(Timer)
            .join(Case, Case.id == Timer.case_id)
            .where(*overdue)
        )
        or 0
    )
    for code, urgency, status, due, level in await session.execute(
        select(Case.code, Case.urgency, Case.status, func.min(Timer.due_at), Case.escalation_level)
        .select_from(Timer)
        .join(Case, Case.id == Timer.case_id)
        .where(*overdue)
        .group_by(Case.code, Case.urgency, Case.status, Case.escalation_level)
        .order_by(func.min(Timer.due_at))
        .limit(LISTED)
    ):
        data.overdue_followups.append(CaseLine(code, urgency, status, due, level))
    referred = (in_scope, Case.status == CaseStatus.REFERRED.value)
    data.referrals_total = data.by_status.get(CaseStatus.REFERRED.value, 0)
    for code, urgency, status, created, level, org in await session.execute(
        select(
            Case.code,
            Case.urgency,
            Case.status,
            Case.created_at,
            Case.escalation_level,
            Case.referred_by_organisation_id,
        )
        .where(*referred)
        .order_by(Case.created_at)
        .limit(LISTED)
    ):
        data.referrals_waiting.append(CaseLine(code, urgency, status, created, level, org or ""))
    data.undelivered_cards = await undelivered_cards(session, corridors)
    return data


async def undelivered_cards(session: AsyncSession, corridors: list[str]) -> list[CaseLine]:
    """Cards Telegram refused for good (the group is gone, the bot was removed): nobody in
    that group has seen the case. Failed rows are few and found by the outbox's status
    index first; joining from the cases' side would visit every case of the corridors."""
    failed = {
        outbox_id: (case_id, created_at)
        for outbox_id, case_id, created_at in await session.execute(
            select(OutboxMessage.id, OutboxMessage.case_id, OutboxMessage.created_at)
            .where(
                OutboxMessage.status.in_(("failed", "blocked")),
                OutboxMessage.purpose == "card",
            )
            .order_by(OutboxMessage.id.desc())
            .limit(FAILED_CARDS_READ)
        )
    }
    if not failed:
        return []
    case_ids = {case_id for case_id, _ in failed.values()}
    rows = await session.execute(
        select(
            CaseCard.outbox_id,
            Case.code,
            Case.urgency,
            Case.status,
            Case.escalation_level,
            CaseCard.organisation_id,
        )
        .join(Case, Case.id == CaseCard.case_id)
        .where(
            CaseCard.case_id.in_(case_ids),
            Case.corridor_code.in_(corridors),
            Case.status.in_([s.value for s in OPEN_STATUSES]),
        )
    )
    lines = [
        CaseLine(code, urgency, status, failed[outbox_id][1], level, organisation)
        for outbox_id, code, urgency, status, level, organisation in rows
        if outbox_id in failed
    ]
    return sorted(lines, key=lambda line: line.created_at)[:LISTED]


async def timeline(session: AsyncSession, case: Case, limit: int = 100) -> list[CaseEvent]:
    """The newest ``limit`` events of a case, oldest first (as /case shows them)."""
    rows = list(
        await session.scalars(
            select(CaseEvent)
            .where(CaseEvent.case_id == case.id)
            .order_by(CaseEvent.id.desc())
            .limit(limit)
        )
    )
    return rows[::-1]
