"""`/drill`: a coordinator starts a practice case, in a responder group (for its
organisation) or privately for a chosen one (`/drill ORGANISATION_ID`)."""

from __future__ import annotations

from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import access, drills
from bot.domain.access import Action
from bot.domain.context import Domain
from bot.domain.people import Role
from bot.views import drills as view
from handlers.blueprint import Blueprint

router = Blueprint("drills")


@router.message(Command("drill"))
async def start_drill(
    message: Message, command: CommandObject, session: AsyncSession, domain: Domain, role: Role
) -> None:
    if not access.allowed(role, Action.DRILL):
        await message.reply(view.not_allowed())
        return
    in_group = message.chat.type != "private"
    try:
        case = await drills.start(
            session,
            domain,
            role.person,
            organisation_id=(command.args or "").strip() or None,
            chat_id=message.chat.id if in_group else None,
        )
    except drills.DrillError as error:
        await message.reply(view.refused(error.reason))
        return
    await message.reply(view.started(case.code))
