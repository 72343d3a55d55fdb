"""`corridor keys rotate`: re-encrypt every personal field with the newest key."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import crypto
from models import Base
from models.base import Encrypted, EncryptedJSON


def encrypted_columns() -> list[tuple[str, str, str]]:
    """(table, primary key column, encrypted column) for every encrypted field."""
    found = []
    for table in Base.metadata.sorted_tables:
        pk = next(iter(table.primary_key.columns)).name
        for column in table.columns:
            if isinstance(column.type, Encrypted | EncryptedJSON):
                found.append((table.name, pk, column.name))
    return found


async def rotate_all(
    sessions: async_sessionmaker[AsyncSession], batch: int = 500, passes: int = 20
) -> int:
    """Re-encrypts every value not yet under the newest key, ``batch`` rows per short
    transaction, so a running bot is never kept waiting (SQLite has one write lock).

    A row is replaced only if it still holds the token that was read: a value the bot
    changed meanwhile was written with the newest key already. On PostgreSQL a row the bot
    holds locked is skipped (``SKIP LOCKED``) and taken again in a later pass: rotation never
    waits for a lock while holding others, so it can never deadlock with the bot."""
    ring = crypto.active()
    count = 0
    for table_name, pk, column in encrypted_columns():
        # Lightweight table: raw tokens in and out, no type decorator in the way.
        table = sa.table(table_name, sa.column(pk), sa.column(column, sa.Text))
        last = None
        skipped: list = []
        while True:
            async with sessions() as session:
                query = (
                    sa.select(table.c[pk], table.c[column])
                    .where(table.c[column].is_not(None))
                    .order_by(table.c[pk])
                    .limit(batch)
                )
                if last is not None:
                    query = query.where(table.c[pk] > last)
                rows = (await session.execute(query)).all()
            stale = [key for key, token in rows if not ring.is_current(token)]
            if stale:
                done, busy = await _rotate_rows(sessions, ring, table, pk, column, stale)
                count += done
                skipped.extend(busy)
            if len(rows) < batch:
                break
            last = rows[-1][0]
        for _ in range(passes):
            if not skipped:
                break
            await asyncio.sleep(0.2)
            done, skipped = await _rotate_rows(sessions, ring, table, pk, column, skipped)
            count += done
        if skipped:
            raise RotationIncomplete(
                f"{len(skipped)} values of {table_name}.{column} stayed locked"
            )
    return count


class RotationIncomplete(RuntimeError):
    """Rows stayed locked by the running bot through every pass; running again finishes."""


async def _rotate_rows(
    sessions: async_sessionmaker[AsyncSession],
    ring: crypto.KeyRing,
    table: sa.TableClause,
    pk: str,
    column: str,
    keys: list,
) -> tuple[int, list]:
    """Re-encrypts these rows in one transaction; returns (how many, the keys skipped
    because another transaction held them)."""
    count = 0
    async with sessions() as session, session.begin():
        query = sa.select(table.c[pk], table.c[column]).where(table.c[pk].in_(keys))
        if session.bind.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        rows = (await session.execute(query)).all()
        for key, token in rows:
            if token is None or ring.is_current(token):
                continue
            result = await session.execute(
                sa.update(table)
                .where(table.c[pk] == key, table.c[column] == token)
                .values({column: ring.rotate(token)})
            )
            count += result.rowcount
    seen = {key for key, _token in rows}
    return count, [key for key in keys if key not in seen]
