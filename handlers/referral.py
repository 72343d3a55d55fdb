"""Referring a case to another organisation: /refer CODE → target → note; and a
coordinator's /override when a life is at risk."""

from __future__ import annotations

from aiogram import F
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import access, casework, referral
from bot.domain.access import Action
from bot.domain.context import Domain
from bot.domain.people import Role
from bot.views import casework as view
from bot.views import common as common_view
from bot.views.buttons import Refer
from bot.views.cases import referral_keyboard
from handlers.blueprint import Blueprint
from handlers.common import still_allowed
from models import Case, Organisation

router = Blueprint("referral")


class Referring(StatesGroup):
    note = State()


@router.message(Command("refer"), F.chat.type == "private")
async def refer_command(
    message: Message, command: CommandObject, session: AsyncSession, role: Role, language: str
) -> None:
    case = await access.case_for(session, role, Action.REFER, (command.args or "").strip())
    if case is None:
        await message.answer(view.refer_usage())
        return
    targets = await referral.referral_targets(session, case)
    if not targets:
        await message.answer(view.no_other_organisation())
        return
    await message.answer(
        view.refer_to(case.code),
        reply_markup=referral_keyboard(case, targets, language),
    )


@router.callback_query(Refer.filter(), F.message.chat.type == "private")
async def refer_target(
    query: CallbackQuery, callback_data: Refer, session: AsyncSession, role: Role, state: FSMContext
) -> None:
    case = await session.get(Case, callback_data.case_id)
    case = await access.case_for(session, role, Action.REFER, case.code) if case else None
    target = await casework.referral_target(session, case, callback_data.org) if case else None
    if case is None or target is None:
        await query.answer(common_view.button_expired(), show_alert=True)
        return
    await query.message.edit_reply_markup(reply_markup=None)
    await state.set_state(Referring.note)
    await state.set_data({"case_id": case.id, "org": target.id})
    await query.message.answer(view.referral_note_prompt(target.name))


@router.message(StateFilter(Referring.note), F.text, F.chat.type == "private")
async def refer_note(
    message: Message, session: AsyncSession, domain: Domain, role: Role, state: FSMContext
) -> None:
    case = await still_allowed(session, role, state, message, Action.REFER)
    if case is None:
        return
    data = await state.get_data()
    await state.clear()
    target = await session.get(Organisation, data["org"])
    is_coordinator = await access.case_for(session, role, Action.OVERRIDE, case) is not None
    result = await referral.refer(
        session,
        domain,
        case,
        role.person,
        target,
        message.text.strip()[:2000],
        coordinator=is_coordinator,
    )
    await message.answer(
        view.referral_result(result, case.code, target.name, target.id, is_coordinator)
    )


@router.message(Command("override"), F.chat.type == "private")
async def override(
    message: Message, command: CommandObject, session: AsyncSession, domain: Domain, role: Role
) -> None:
    """A coordinator refers without the reporter's consent because a life is at risk; the
    reason is recorded in the audit trail."""
    parts = (command.args or "").split(maxsplit=2)
    case = await access.case_for(session, role, Action.OVERRIDE, parts[0]) if parts else None
    target = None
    if case is not None and len(parts) > 1:
        target = await casework.referral_target(session, case, parts[1])
    if case is None or target is None or len(parts) < 3:
        await message.answer(view.override_usage())
        return
    result = await referral.refer(
        session,
        domain,
        case,
        role.person,
        target,
        parts[2],
        override_reason=parts[2],
        coordinator=True,
    )
    if result == "referred":
        await message.answer(view.referred(case.code, target.name))
    else:
        await message.answer(common_view.not_open_nothing_sent(case.code))
