"""Which processes are alive, so that a dead one's leases are taken back at once.

A process leases what it is about to do: the outbox messages it sends (for seconds, renewed
while they wait) and the timers it fires (for minutes: a digest takes a while). On
PostgreSQL several processes may run the bot, and a lease is left alone until it runs out:
its process may be at work on it. When the process is dead (kill -9, a lost machine) that
wait only delays its work, an SOS card or an escalation among it. So each process holds an
advisory lock named after itself, on a connection of its own, for as long as it lives.
PostgreSQL frees the lock when that connection closes, which the kernel does at once for a
killed process: a free lock means a dead owner. A live process's lock is held however busy
its event loop is, so nothing is taken from it for being slow.

On SQLite one process runs the bot and takes back every other owner's leases when it starts
(``Delivery.take_back_orphans``, ``timers.take_back_orphans``): nothing is held here.

A process of an older version holds no lock. Its name has no ``held:`` prefix, so it is never
taken for dead: its leases are waited out, as before, and during a rolling upgrade nothing
it is still sending is taken from it. Like the rest of the bot (asyncpg's prepared
statements), this wants direct connections, or a pooler in session mode: in transaction
mode the lock would stay with a server connection the pooler hands to other clients.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool

log = logging.getLogger(__name__)

_SIGNED = 2**63
# Names of processes that hold their lock while they live. Versions before the lock named
# themselves with the 16 hex digits alone: such an owner's lock being free says nothing.
HOLDS_LOCK = "held:"


def process_name() -> str:
    """A new process's name on its leases: the prefix, then 64 random bits in hex."""
    return HOLDS_LOCK + secrets.token_hex(8)


def lock_key(owner: str) -> int | None:
    """The advisory lock of a process's name on leases as PostgreSQL's signed 64-bit key;
    None for an owner that holds none (another format, an older version)."""
    digits = owner.removeprefix(HOLDS_LOCK)
    if digits == owner or len(digits) != 16:
        return None
    try:
        value = int(digits, 16)
    except ValueError:
        return None
    return value - 2 * _SIGNED if value >= _SIGNED else value


class Liveness:
    """``await Liveness.of(engine)``: names this process (``instance``) and holds its lock on
    PostgreSQL until ``close()``; ``lapsed`` and ``dead_among`` tell which other owners'
    leases may be taken."""

    def __init__(self, engine: AsyncEngine | None, instance: str) -> None:
        self.instance = instance
        self._engine = engine
        self._connection: AsyncConnection | None = None

    @classmethod
    def unwatched(cls) -> Liveness:
        """A process's name with no lock: on SQLite, and where nothing is leased."""
        return cls(None, process_name())

    @classmethod
    async def of(cls, engine: AsyncEngine) -> Liveness:
        if engine.dialect.name != "postgresql":
            return cls.unwatched()
        # A connection outside the pool: the pool's are handed from task to task.
        liveness = cls(create_async_engine(engine.url, poolclass=NullPool), process_name())
        await liveness.hold()
        return liveness

    async def hold(self) -> None:
        """Takes the lock, or checks that the connection holding it is still there and takes
        it again on a new one if not (a restarted server, a dropped connection)."""
        if self._engine is None:
            return
        if self._connection is not None:
            try:
                await self._connection.scalar(select(1))
                return
            except Exception as error:
                log.warning("the connection holding this process's lease lock broke: %s", error)
                await self._drop()
        connection = await self._engine.connect()
        try:
            connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
            key = lock_key(self.instance)
            if not await connection.scalar(select(func.pg_try_advisory_lock(key))):
                raise RuntimeError(f"lease lock of {self.instance} held by another process")
        except BaseException:
            await connection.close()
            raise
        self._connection = connection

    def held_by_others(
        self, held: ColumnElement[bool], owner: ColumnElement[Any]
    ) -> ColumnElement[bool]:
        """Leased rows (``held``) whose ``owner`` is not this process, or unnamed."""
        return and_(held, or_(owner.is_(None), owner != self.instance))

    async def lapsed(
        self,
        session: AsyncSession,
        *,
        held: ColumnElement[bool],
        owner: ColumnElement[Any],
        until: ColumnElement[Any],
        now: dt.datetime,
    ) -> ColumnElement[bool]:
        """Which leased rows (``held``) this process may take: those whose lease (``until``)
        ran out before ``now`` and, where processes are watched, those whose ``owner`` is
        dead, without waiting for their lease."""
        ran_out = and_(held, until < now)
        if self._engine is None:
            return ran_out
        owners = await session.scalars(
            select(owner).where(self.held_by_others(held, owner)).distinct()
        )
        dead = await self.dead_among(session, [o for o in owners if o is not None])
        if not dead:
            return ran_out
        log.info("taking back what %d process(es) that died had leased", len(dead))
        return or_(ran_out, and_(held, owner.in_(dead)))

    async def dead_among(self, session: AsyncSession, owners: Iterable[str]) -> list[str]:
        """The owners in ``owners`` (this process left out) whose process is gone, for the
        rest of ``session``'s transaction: while it lasts their lock is held by it, so two
        processes do not both take the same owner's leases."""
        if self._engine is None:
            return []
        dead = []
        for owner in sorted(set(owners) - {self.instance}):
            key = lock_key(owner)
            if key is not None and await session.scalar(
                select(func.pg_try_advisory_xact_lock(key))
            ):
                dead.append(owner)
        return dead

    async def close(self) -> None:
        await self._drop()
        if self._engine is not None:
            await self._engine.dispose()

    async def _drop(self) -> None:
        if self._connection is not None:
            connection, self._connection = self._connection, None
            try:
                await connection.close()
            except Exception as error:
                log.debug("closing the lease lock's connection: %s", error)
