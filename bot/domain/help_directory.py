"""The help directory (`/help`): hotlines, embassies and organisations a reporter can call
without the bot."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Case, HelpContact, Reporter


async def contacts_for(session: AsyncSession, reporter: Reporter | None) -> list[HelpContact]:
    """The contacts of the corridors the reporter has cases in; everyone's for a reporter
    with none yet (a stranger's first look)."""
    query = select(HelpContact).order_by(
        HelpContact.corridor_code, HelpContact.kind, HelpContact.name
    )
    if reporter is not None:
        corridors = list(
            await session.scalars(
                select(Case.corridor_code).where(Case.reporter_id == reporter.id).distinct()
            )
        )
        if corridors:
            query = query.where(HelpContact.corridor_code.in_(corridors))
    return list(await session.scalars(query))
