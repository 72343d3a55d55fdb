"""Coordinators: the digest on demand and quick statistics."""

from __future__ import annotations

import datetime as dt
import html

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import digest, duties
from bot.domain.context import Domain
from bot.domain.people import Role, coordinator_corridors
from bot.i18n import _
from handlers.filters import IsCoordinator

router = Router(name="coordinator")
router.message.filter(F.chat.type == "private")


@router.message(Command("digest"), IsCoordinator())
async def digest_now(message: Message, session: AsyncSession, domain: Domain, role: Role) -> None:
    await duties.queue_digest(session, domain, role.person)
    await message.answer(_("Your digest is on its way."))


@router.message(Command("stats"), IsCoordinator())
async def stats(message: Message, command: CommandObject, session: AsyncSession, domain: Domain, role: Role) -> None:
    corridors = await coordinator_corridors(session, role.person)
    days = 30
    for arg in (command.args or "").split():
        if arg.upper() in corridors:
            corridors = [arg.upper()]
        elif arg.rstrip("d").isdigit() and 0 < int(arg.rstrip("d")) <= 3660:
            days = int(arg.rstrip("d"))
        else:
            await message.answer(_("Usage: /stats [days, e.g. 30d] [corridor, e.g. NP-QA]"))
            return
    now = domain.now()
    data = await digest.collect(session, corridors, now - dt.timedelta(days=days), now, now)
    text = digest.render(data, role.person.language, now).replace(_("📊 Daily digest"), _("📊 Last {n} days", n=days))
    await message.answer(text, parse_mode="HTML")


@router.message(Command("digest", "stats"))
async def not_coordinator(message: Message) -> None:
    await message.answer(html.escape(_("This command is for coordinators.")))
