"""When a case is next looked at: the reminder's Snooze button and /followup CODE date; and
/oncall, who is on call now."""

from __future__ import annotations

import datetime as dt

from aiogram import F
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import access, casework
from bot.domain.access import Action
from bot.domain.context import Domain
from bot.domain.people import Role
from bot.views import casework as view
from bot.views import common as common_view
from bot.views.buttons import Snooze
from handlers.blueprint import Blueprint
from models import Case

router = Blueprint("followup")


@router.callback_query(Snooze.filter(), F.message.chat.type == "private")
async def snooze(
    query: CallbackQuery, callback_data: Snooze, session: AsyncSession, domain: Domain, role: Role
) -> None:
    case = await session.get(Case, callback_data.case_id)
    case = await access.case_for(session, role, Action.SNOOZE, case) if case else None
    if case is None:
        await query.answer(common_view.button_expired(), show_alert=True)
        return
    until = await casework.snooze_for(session, domain, case, callback_data.hours)
    await query.answer(view.snoozed(until))
    await query.message.edit_reply_markup(reply_markup=None)


@router.message(Command("followup"), F.chat.type == "private")
async def followup_date(
    message: Message, command: CommandObject, session: AsyncSession, domain: Domain, role: Role
) -> None:
    parts = (command.args or "").split()
    case = await access.case_for(session, role, Action.FOLLOWUP, parts[0]) if parts else None
    try:
        day = dt.date.fromisoformat(parts[1]) if len(parts) > 1 else None
    except ValueError:
        day = None
    if case is None or day is None:
        await message.answer(view.followup_usage())
        return
    if not await casework.follow_up_on(session, domain, case, day):
        await message.answer(view.future_date())
        return
    await message.answer(view.next_followup(case.code, day))


@router.message(Command("oncall"))
async def oncall(message: Message, session: AsyncSession, domain: Domain, role: Role) -> None:
    """Who is on call now: in a group, for its organisation; for a responder, their own;
    for a coordinator, every organisation of their corridors."""
    rota = await casework.on_call_now(
        session, domain, role, message.chat.id, private=message.chat.type == "private"
    )
    if rota is None:
        await message.answer(common_view.responders_only())
        return
    await message.answer(view.on_call(rota))
