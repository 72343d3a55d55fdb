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
from bot.i18n import _
from handlers.blueprint import Blueprint

router = Blueprint("drills")


def started_text(code: str) -> str:
    return _(
        "Drill {code} started: a practice case is posted to the group. Work it like a real one; the bot plays the reporter. You will get a short report when it is resolved.",
        code=code,
    )


@router.message(Command("drill"))
async def start_drill(
    message: Message, command: CommandObject, session: AsyncSession, domain: Domain, role: Role
) -> None:
    if not access.allowed(role, Action.DRILL):
        await message.reply(_("Only coordinators can start a drill."))
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
        await message.reply(_(error.reason))
        return
    await message.reply(started_text(case.code))
