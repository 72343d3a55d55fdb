"""Timers are rows: a restart loses none, and two instances never fire one twice."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.context import Domain
from models import Timer

LEASE = dt.timedelta(minutes=5)


def schedule(
    session: AsyncSession,
    domain: Domain,
    kind: str,
    due_at: dt.datetime,
    *,
    case_id: int | None = None,
    payload: dict[str, Any] | None = None,
) -> Timer:
    timer = Timer(
        kind=kind,
        case_id=case_id,
        due_at=due_at,
        status="pending",
        attempts=0,
        payload=payload or {},
        created_at=domain.now(),
    )
    session.add(timer)
    return timer


async def cancel(session: AsyncSession, case_id: int, kinds: tuple[str, ...]) -> None:
    await session.execute(
        update(Timer)
        .where(Timer.case_id == case_id, Timer.kind.in_(kinds), Timer.status == "pending")
        .values(status="cancelled")
    )


async def claim_due(session: AsyncSession, domain: Domain, limit: int = 100) -> list[Timer]:
    """Leases due timers to this process. A timer whose process died mid-way is due again:
    at once where that is known (models/liveness.py), otherwise once its lease runs out."""
    now = domain.now()
    lapsed = await domain.liveness.lapsed(
        session,
        held=Timer.status == "running",
        owner=Timer.lease_owner,
        until=Timer.locked_until,
        now=now,
    )
    due = and_(Timer.due_at <= now, or_(Timer.status == "pending", lapsed))
    query = select(Timer.id).where(due).order_by(Timer.due_at).limit(limit)
    if session.bind.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    ids = list(await session.scalars(query))
    if not ids:
        return []
    # The status condition is repeated so that, on SQLite, a row leased by someone else
    # between the select and the update is not taken twice.
    result = await session.execute(
        update(Timer)
        .where(Timer.id.in_(ids), due)
        .values(
            status="running",
            locked_until=now + LEASE,
            lease_owner=domain.liveness.instance,
            attempts=Timer.attempts + 1,
        )
        .returning(Timer.id)
    )
    leased = [row[0] for row in result]
    if not leased:
        return []
    return list(
        await session.scalars(select(Timer).where(Timer.id.in_(leased)).order_by(Timer.due_at))
    )


async def take_back_orphans(session: AsyncSession, domain: Domain) -> int:
    """On SQLite one process runs the timers, so a timer still running when it starts was
    left by a process that died: it is due again now, not once its lease runs out. (On
    PostgreSQL ``claim_due`` takes a dead process's timers.)"""
    if session.bind.dialect.name != "sqlite":
        return 0
    result = await session.execute(
        update(Timer)
        .where(domain.liveness.held_by_others(Timer.status == "running", Timer.lease_owner))
        .values(status="pending", locked_until=None, lease_owner=None)
    )
    return result.rowcount
