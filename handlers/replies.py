"""A case's owner writes to its reporter: /reply CODE text, or a reply to a relayed message."""

from __future__ import annotations

from aiogram import F
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.types import Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import access, relay
from bot.domain.access import Action
from bot.domain.context import Domain
from bot.domain.people import Role
from bot.views import casework as view
from bot.views import common as common_view
from bot.views.cases import relay_result_text
from handlers.blueprint import Blueprint
from handlers.filters import Allowed
from models import Case, Person

router = Blueprint("replies")


@router.message(Command("reply"), F.chat.type == "private")
async def reply_command(
    message: Message, command: CommandObject, session: AsyncSession, domain: Domain, role: Role
) -> None:
    parts = (command.args or "").split(maxsplit=1)
    if role.person is None:
        await message.answer(common_view.responders_only())
        return
    if len(parts) < 2:
        await message.answer(view.reply_usage())
        return
    case = await access.case_for(session, role, Action.REPLY, parts[0])
    if case is None:
        await message.answer(common_view.not_yours(parts[0][:20]))
        return
    await _relay_to_reporter(message, session, domain, case, role.person, parts[1])


@router.message(
    F.chat.type == "private",
    F.reply_to_message,
    F.text & ~F.text.startswith("/"),
    Allowed(Action.REPLY),
    StateFilter(None),
)
async def reply_to_relayed(
    message: Message, session: AsyncSession, domain: Domain, role: Role
) -> None:
    case = await relay.case_for_reply(session, message.chat.id, message.reply_to_message.message_id)
    if case is None:
        await message.answer(view.reply_not_linked())
        return
    await _relay_to_reporter(message, session, domain, case, role.person, message.text)


async def _relay_to_reporter(
    message: Message, session: AsyncSession, domain: Domain, case: Case, person: Person, text: str
) -> None:
    result = await relay.from_owner(session, domain, case, person, text)
    await message.answer(relay_result_text(result, case), parse_mode="HTML")
