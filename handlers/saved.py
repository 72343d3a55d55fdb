"""Saved replies: /saved [CASE] [REPLY] → pick → fill its fields → preview → send.

The sender previews the reply in their own language; the reporter receives it in theirs."""

from __future__ import annotations

from aiogram import F
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import access, saved_replies
from bot.domain import cases as case_domain
from bot.domain.access import Action
from bot.domain.context import Domain
from bot.domain.people import Role
from bot.domain.saved_replies import SavedReply
from bot.views import saved as view
from bot.views.buttons import SavedCase, SavedPick, SavedSend
from bot.views.cases import relay_result_text
from bot.views.common import access_lost, button_expired, not_yours
from handlers.blueprint import Blueprint
from handlers.filters import Allowed
from models import Case

router = Blueprint("saved")


class SavedReplyForm(StatesGroup):
    value = State()
    preview = State()


async def _own_open_case(session: AsyncSession, role: Role, case_id: int) -> Case | None:
    """The case, if the access policy lets this person reply on it (its owner)."""
    case = await session.get(Case, case_id)
    return await access.case_for(session, role, Action.REPLY, case) if case else None


@router.message(Command("saved"), F.chat.type == "private", Allowed(Action.REPLY))
async def saved_command(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    domain: Domain,
    role: Role,
    state: FSMContext,
    language: str,
) -> None:
    await state.clear()
    args = (command.args or "").split()
    if not args:
        owned = await case_domain.owned_open_cases(session, role.person.id)
        if not owned:
            await message.answer(view.no_own_case())
            return
        if len(owned) > 1:
            await message.answer(view.which_case(), reply_markup=view.cases_keyboard(owned))
            return
        case: Case | None = owned[0]
    else:
        case = await access.case_for(session, role, Action.REPLY, args[0])
        if case is None:
            await message.answer(not_yours(args[0][:20]))
            return
    await offer(message, session, role, case, args[1] if len(args) > 1 else None, state, language)


async def offer(
    message: Message,
    session: AsyncSession,
    role: Role,
    case: Case,
    code: str | None,
    state: FSMContext,
    language: str,
) -> None:
    replies = await saved_replies.offered(session, role.person, case.language)
    if code is not None:
        reply = await saved_replies.find(session, role.person, case.language, code)
        if reply is None:
            await message.answer(view.no_such_reply(code[:20], case, language))
            return
        await start_filling(message, case, reply, state, language)
        return
    await message.answer(
        view.replies_intro(case, language),
        reply_markup=view.replies_keyboard(case, replies, language),
    )


@router.callback_query(SavedCase.filter(), F.message.chat.type == "private")
async def picked_case(
    query: CallbackQuery,
    callback_data: SavedCase,
    session: AsyncSession,
    domain: Domain,
    role: Role,
    state: FSMContext,
    language: str,
) -> None:
    case = await _own_open_case(session, role, callback_data.case_id)
    if case is None:
        await query.answer(button_expired(), show_alert=True)
        return
    await query.message.edit_reply_markup(reply_markup=None)
    await offer(query.message, session, role, case, None, state, language)


@router.callback_query(SavedPick.filter(), F.message.chat.type == "private")
async def picked_reply(
    query: CallbackQuery,
    callback_data: SavedPick,
    session: AsyncSession,
    domain: Domain,
    role: Role,
    state: FSMContext,
    language: str,
) -> None:
    case = await _own_open_case(session, role, callback_data.case_id)
    reply = (
        await saved_replies.find(session, role.person, case.language, callback_data.code)
        if case
        else None
    )
    if case is None or reply is None:
        await query.answer(button_expired(), show_alert=True)
        return
    await query.message.edit_reply_markup(reply_markup=None)
    await start_filling(query.message, case, reply, state, language)


async def start_filling(
    message: Message, case: Case, reply: SavedReply, state: FSMContext, language: str
) -> None:
    await state.set_data({"case_id": case.id, "reply": reply.code, "values": {}})
    await ask_next(message, case, reply, {}, state, language)


async def ask_next(
    message: Message,
    case: Case,
    reply: SavedReply,
    values: dict[str, str],
    state: FSMContext,
    language: str,
) -> None:
    missing = [name for name in reply.fields if name not in values]
    if missing:
        await state.set_state(SavedReplyForm.value)
        await message.answer(view.field_prompt(missing[0]))
        return
    await state.set_state(SavedReplyForm.preview)
    await message.answer(
        view.preview_text(case, reply, values, language), reply_markup=view.preview_keyboard(case)
    )


async def _form(
    session: AsyncSession, domain: Domain, role: Role, state: FSMContext
) -> tuple[Case, SavedReply, dict[str, str]] | None:
    """The form's case and reply, checked again: the case may have moved on meanwhile."""
    data = await state.get_data()
    case = await _own_open_case(session, role, data.get("case_id", 0))
    reply = (
        await saved_replies.find(session, role.person, case.language, data.get("reply", ""))
        if case
        else None
    )
    if case is None or reply is None:
        await state.clear()
        return None
    return case, reply, dict(data.get("values", {}))


@router.message(
    StateFilter(SavedReplyForm.value), F.chat.type == "private", ~F.text.startswith("/")
)
async def field_value(
    message: Message,
    session: AsyncSession,
    domain: Domain,
    role: Role,
    state: FSMContext,
    language: str,
) -> None:
    form = await _form(session, domain, role, state)
    if form is None:
        await message.answer(access_lost())
        return
    case, reply, values = form
    name = next(n for n in reply.fields if n not in values)
    try:
        values[name] = saved_replies.parse_value(name, message.text or "", language)
    except saved_replies.BadValue as problem:
        await message.answer(view.bad_value(str(problem), name))
        return
    await state.update_data(values=values)
    await ask_next(message, case, reply, values, state, language)


@router.message(
    StateFilter(SavedReplyForm.preview), F.chat.type == "private", ~F.text.startswith("/")
)
async def waiting_for_a_button(message: Message) -> None:
    await message.answer(view.press_a_button())


@router.callback_query(SavedSend.filter(), F.message.chat.type == "private")
async def send_or_cancel(
    query: CallbackQuery,
    callback_data: SavedSend,
    session: AsyncSession,
    domain: Domain,
    role: Role,
    state: FSMContext,
) -> None:
    form = await _form(session, domain, role, state)
    if form is None or form[0].id != callback_data.case_id:
        await query.answer(button_expired(), show_alert=True)
        return
    case, reply, values = form
    await state.clear()
    await query.message.edit_reply_markup(reply_markup=None)
    if not callback_data.send:
        await query.message.answer(view.not_sent())
        return
    result = await saved_replies.send(session, domain, case, role.person, reply, values)
    await query.message.answer(relay_result_text(result, case), parse_mode="HTML")
