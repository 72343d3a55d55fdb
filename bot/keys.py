"""`corridor keys rotate`: re-encrypt every personal field with the newest key."""

from __future__ import annotations

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


async def rotate_all(sessions: async_sessionmaker[AsyncSession], batch: int = 500) -> int:
    """Re-encrypts every encrypted value with the newest key, ``batch`` rows per short
    transaction, so a running bot is never kept waiting (SQLite has one write lock).

    Each row is replaced only if it still holds the token that was read: a value the bot
    changed meanwhile was written with the newest key already."""
    ring = crypto.active()
    count = 0
    for table_name, pk, column in encrypted_columns():
        # Lightweight table: raw tokens in and out, no type decorator in the way.
        table = sa.table(table_name, sa.column(pk), sa.column(column, sa.Text))
        last = None
        while True:
            async with sessions() as session, session.begin():
                query = (
                    sa.select(table.c[pk], table.c[column])
                    .where(table.c[column].is_not(None))
                    .order_by(table.c[pk])
                    .limit(batch)
                )
                if last is not None:
                    query = query.where(table.c[pk] > last)
                rows = (await session.execute(query)).all()
                for key, token in rows:
                    result = await session.execute(
                        sa.update(table)
                        .where(table.c[pk] == key, table.c[column] == token)
                        .values({column: ring.rotate(token)})
                    )
                    count += result.rowcount
            if len(rows) < batch:
                break
            last = rows[-1][0]
    return count
