"""/case CODE: a case's timeline, for those who may see the case."""

from __future__ import annotations

from aiogram import F
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import access, casework
from bot.domain.access import Action
from bot.domain.context import Domain
from bot.domain.people import Role
from bot.views import common as common_view
from bot.views.cases import timeline_text
from handlers.blueprint import Blueprint

router = Blueprint("timeline")


@router.message(Command("case"), F.chat.type == "private")
async def case_timeline(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    domain: Domain,
    role: Role,
    language: str,
) -> None:
    code = (command.args or "").strip()
    case = await access.case_for(session, role, Action.VIEW_CASE, code) if code else None
    if case is None:
        await message.answer(
            common_view.not_yours(code[:20] or "—")
            if role.person
            else common_view.responders_only()
        )
        return
    timeline = await casework.read_timeline(session, domain, case, role.person)
    text = timeline_text(case, timeline.events, timeline.names, language)
    await message.answer(text, parse_mode="HTML", protect_content=True)
