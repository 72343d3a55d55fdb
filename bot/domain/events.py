"""The append-only, hash-chained audit trail."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

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
    if session.bind.dialect.name == "postgresql":
        # One chain for the whole database: writers take turns at its head.
        await session.execute(text("SELECT pg_advisory_xact_lock(7714001)"))
    await session.flush()
    prev = await session.scalar(select(CaseEvent.hash).order_by(CaseEvent.id.desc()).limit(1))
    event = CaseEvent(
        case_id=case_id,
        at=domain.now(),
        kind=kind,
        actor=actor,
        chat_id=chat_id,
        data=data or {},
        prev_hash=prev or GENESIS,
        hash="",
    )
    event.hash = _digest(event.prev_hash, event)
    session.add(event)
    await session.flush()
    return event


async def verify_chain(session: AsyncSession) -> tuple[int, list[int]]:
    """Checks every link; returns (events checked, ids of events that do not verify)."""
    broken: list[int] = []
    prev = GENESIS
    count = 0
    result = await session.stream_scalars(select(CaseEvent).order_by(CaseEvent.id))
    async for event in result:
        count += 1
        if event.prev_hash != prev or _digest(event.prev_hash, event) != event.hash:
            broken.append(event.id)
        prev = event.hash
    return count, broken
