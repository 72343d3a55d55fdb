"""The append-only, hash-chained audit trail."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from bot.domain.context import Domain
from models import CaseEvent
from models.db import after_commits_writing

log = logging.getLogger(__name__)

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
    """Adds an event; it joins the chain once committed (``link_pending``)."""
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
    return entry


LINK_BATCH = 1000


async def link_pending(domain: Domain) -> int:
    """Links events committed since the last run into the chain, in the order they were
    recorded; returns how many.

    Events are committed unlinked and linked here, by one writer at a time (on PostgreSQL
    an advisory lock, so one across processes), off the path of the update that recorded
    them: a handler never waits for the chain's head. The bot runs this right after each
    commit that recorded events and on every tick; an event whose link is removed or
    changed afterwards breaks the chain at its successor, so tampering still shows."""
    linked = 0
    while True:
        async with domain.sessions() as session:  # a read first: most calls find nothing
            waiting = await session.scalar(
                select(CaseEvent.id).where(CaseEvent.seq.is_(None)).limit(1)
            )
        if waiting is None:
            return linked
        async with domain.transaction() as session:
            if session.bind.dialect.name == "postgresql":
                await session.execute(text("SELECT pg_advisory_xact_lock(7714001)"))
            head = (
                await session.execute(
                    select(CaseEvent.seq, CaseEvent.hash)
                    .where(CaseEvent.seq.is_not(None))
                    .order_by(CaseEvent.seq.desc())
                    .limit(1)
                )
            ).first()
            seq, prev = head if head is not None else (0, GENESIS)
            batch = list(
                await session.scalars(
                    select(CaseEvent)
                    .where(CaseEvent.seq.is_(None))
                    .order_by(CaseEvent.id)
                    .limit(LINK_BATCH)
                )
            )
            for entry in batch:
                seq += 1
                entry.seq, entry.prev_hash = seq, prev
                entry.hash = prev = _digest(prev, entry)
        linked += len(batch)
        if len(batch) < LINK_BATCH:
            return linked


class ChainLinker:
    """Runs ``link_pending`` in the background, woken after every commit that recorded
    events (``watch``), one run at a time."""

    def __init__(self, domain: Domain) -> None:
        self.domain = domain
        self.wake = asyncio.Event()
        self.busy = False
        self.task: asyncio.Task[None] | None = None

    def watch(self, session_class: type[Session]) -> None:
        after_commits_writing(session_class, CaseEvent, self.wake.set, inserts_only=True)

    def start(self) -> None:
        if self.task is None:
            self.wake.set()  # events a previous run or a command left unlinked
            self.task = asyncio.create_task(self._loop(), name="audit-chain")

    def idle(self) -> bool:
        return not (self.busy or self.wake.is_set())

    async def flush(self) -> None:
        """Links everything committed so far (tests, the demo)."""
        if self.task is None:
            self.wake.clear()
            await link_pending(self.domain)
            return
        while not self.idle():  # noqa: ASYNC110 - two sources of business, a short poll
            await asyncio.sleep(0.005)

    async def _loop(self) -> None:
        while True:
            await self.wake.wait()
            self.wake.clear()
            self.busy = True
            try:
                await link_pending(self.domain)
            except Exception:
                log.exception("could not link audit events; trying again")
                await asyncio.sleep(1)
                self.wake.set()
            finally:
                self.busy = False

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
            self.task = None
        with contextlib.suppress(Exception):
            await link_pending(self.domain)


async def unlinked_count(session: AsyncSession) -> int:
    """Events committed but not linked yet (the bot links them within moments)."""
    return await session.scalar(
        select(func.count()).select_from(CaseEvent).where(CaseEvent.seq.is_(None))
    )


async def verify_chain(session: AsyncSession) -> tuple[int, list[int]]:
    """Checks every link of the chain; returns (events checked, ids of events that do not
    verify). Events not linked yet are not part of it (see ``unlinked_count``)."""
    broken: list[int] = []
    prev = GENESIS
    count = 0
    result = await session.stream_scalars(
        select(CaseEvent).where(CaseEvent.seq.is_not(None)).order_by(CaseEvent.seq)
    )
    async for event in result:
        count += 1
        if event.prev_hash != prev or _digest(event.prev_hash, event) != event.hash:
            broken.append(event.id)
        prev = event.hash
    return count, broken
