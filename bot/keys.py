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
    ring = crypto.active()
    count = 0
    for table_name, pk, column in encrypted_columns():
        # Lightweight table: raw tokens in and out, no type decorator in the way.
        table = sa.table(table_name, sa.column(pk), sa.column(column, sa.Text))
        async with sessions() as session, session.begin():
            rows = (
                await session.execute(
                    sa.select(table.c[pk], table.c[column]).where(table.c[column].is_not(None))
                )
            ).all()
            for key, token in rows:
                await session.execute(
                    sa.update(table).where(table.c[pk] == key).values({column: ring.rotate(token)})
                )
                count += 1
    return count
