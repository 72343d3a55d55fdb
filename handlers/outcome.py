"""Closing a case: /resolve CODE → outcome → amount recovered → note; and /reopen CODE."""

from __future__ import annotations

from aiogram import F
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import access, resolution
from bot.domain.access import Action
from bot.domain.context import Domain
from bot.domain.people import Role
from bot.domain.places import MoneyError, currency_of, parse_money
from bot.taxonomy import OUTCOMES
from bot.views import casework as view
from bot.views import common as common_view
from bot.views.buttons import Outcome
from bot.views.cases import outcomes_keyboard
from handlers.blueprint import Blueprint
from handlers.common import still_allowed
from models import Case

router = Blueprint("outcome")


class Resolving(StatesGroup):
    amount = State()
    note = State()


@router.message(Command("resolve"), F.chat.type == "private")
async def resolve_command(
    message: Message, command: CommandObject, session: AsyncSession, role: Role
) -> None:
    code = (command.args or "").strip()
    case = await access.case_for(session, role, Action.RESOLVE, code) if code else None
    if case is None:
        await message.answer(view.resolve_usage())
        return
    await message.answer(view.outcome_question(case.code), reply_markup=outcomes_keyboard(case))


@router.callback_query(Outcome.filter(), F.message.chat.type == "private")
async def outcome_chosen(
    query: CallbackQuery,
    callback_data: Outcome,
    session: AsyncSession,
    role: Role,
    state: FSMContext,
) -> None:
    case = await session.get(Case, callback_data.case_id)
    case = await access.case_for(session, role, Action.RESOLVE, case.code) if case else None
    if case is None or callback_data.code not in OUTCOMES:
        await query.answer(common_view.button_expired(), show_alert=True)
        return
    await query.message.edit_reply_markup(reply_markup=None)
    await state.set_data({"case_id": case.id, "outcome": callback_data.code})
    if callback_data.code == "WAGES_RECOVERED":
        await state.set_state(Resolving.amount)
        await query.message.answer(view.amount_question())
    else:
        await state.set_state(Resolving.note)
        await query.message.answer(view.note_question())


@router.message(StateFilter(Resolving.amount), F.text, F.chat.type == "private")
async def outcome_amount(
    message: Message, session: AsyncSession, role: Role, state: FSMContext
) -> None:
    case = await still_allowed(session, role, state, message, Action.RESOLVE)
    if case is None:
        return
    try:
        minor, currency = parse_money(
            message.text, case.wage_currency or currency_of(case.destination_country)
        )
    except MoneyError:
        await message.answer(view.amount_invalid())
        return
    await state.update_data(amount=minor, currency=currency)
    await state.set_state(Resolving.note)
    await message.answer(view.note_question())


@router.message(StateFilter(Resolving.note), F.text, F.chat.type == "private")
async def outcome_note(
    message: Message, session: AsyncSession, domain: Domain, role: Role, state: FSMContext
) -> None:
    case = await still_allowed(session, role, state, message, Action.RESOLVE)
    if case is None:
        return
    data = await state.get_data()
    await state.clear()
    note = None if message.text.strip() == "-" else message.text.strip()[:2000]
    try:
        await resolution.resolve(
            session,
            domain,
            case,
            role.person,
            data["outcome"],
            note,
            data.get("amount"),
            data.get("currency"),
        )
    except resolution.ResolutionError as error:
        await message.answer(view.could_not_resolve(error.reason))
        return
    await message.answer(view.resolved(case.code))


@router.message(Command("reopen"), F.chat.type == "private")
async def reopen_command(
    message: Message, command: CommandObject, session: AsyncSession, domain: Domain, role: Role
) -> None:
    case = await access.case_for(session, role, Action.REOPEN, (command.args or "").strip())
    if case is None:
        await message.answer(view.reopen_usage())
        return
    try:
        await resolution.reopen(session, domain, case, role.person)
    except resolution.ResolutionError:
        await message.answer(view.not_resolved(case.code))
        return
    await message.answer(view.reopened(case.code))
