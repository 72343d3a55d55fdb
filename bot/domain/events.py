"""The append-only, hash-chained audit trail."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import event as orm_events
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from bot.domain.context import Domain
from models import CaseEvent

GENESIS = "0" * 64


def _digest(prev_hash: str, event: CaseEvent) -> str:
    body = json.dumps(
        {
            "prev": prev_hash,
            "case": event.case_id,
            "at": event.at.isoformat(),
            "kind": event.kind,
            "actor": event.actor,
            "chat": event.chat_id,
            "data": event.data,
        },
        sort_keys=True,
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(body.encode()).hexdigest()


async def record(
    session: AsyncSession,
    domain: Domain,
    kind: str,
    *,
    case_id: int | None = None,
    actor: str = "system",
    chat_id: int | None = None,
    data: dict[str, Any] | None = None,
) -> CaseEvent:
    """Adds an event; it joins the chain when the transaction commits (``_link``)."""
    entry = CaseEvent(
        case_id=case_id,
        at=domain.now(),
        kind=kind,
        actor=actor,
        chat_id=chat_id,
        data=data or {},
        prev_hash="",
        hash="",
    )
    session.add(entry)
    session.info.setdefault(_UNLINKED, []).append(entry)
    return entry


_UNLINKED = "unlinked_events"


@orm_events.listens_for(Session, "before_commit")
def _link(session: Session) -> None:
    """Links this transaction's events at the chain's head, just before the commit: the
    head is held (on PostgreSQL an advisory lock, released by the commit) for these few
    statements, not for the whole transaction, so writers barely wait for each other."""
    events = session.info.pop(_UNLINKED, None)
    if not events:
        return
    session.flush()
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(7714001)"))
    head = session.execute(
        select(CaseEvent.seq, CaseEvent.hash)
        .where(CaseEvent.seq.is_not(None))
        .order_by(CaseEvent.seq.desc())
        .limit(1)
    ).first()
    seq, prev = head if head is not None else (0, GENESIS)
    for linked in events:
        if linked not in session:  # removed again in the same transaction
            continue
        seq += 1
        linked.seq, linked.prev_hash = seq, prev
        linked.hash = prev = _digest(prev, linked)
    session.flush()


@orm_events.listens_for(Session, "after_rollback")
def _forget_unlinked(session: Session) -> None:
    session.info.pop(_UNLINKED, None)


async def verify_chain(session: AsyncSession) -> tuple[int, list[int]]:
    """Checks every link; returns (events checked, ids of events that do not verify)."""
    broken: list[int] = []
    prev = GENESIS
    count = 0
    result = await session.stream_scalars(select(CaseEvent).order_by(CaseEvent.seq))
    async for event in result:
        count += 1
        if event.prev_hash != prev or _digest(event.prev_hash, event) != event.hash:
            broken.append(event.id)
        prev = event.hash
    return count, broken
