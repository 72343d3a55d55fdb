"""The reporter's safety controls: /clear, /forget, /consent; and /block for coordinators."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiogram import Bot, F
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import access, privacy
from bot.domain import cases as case_domain
from bot.domain.access import Action
from bot.domain.consent import give_consent
from bot.domain.context import Domain
from bot.domain.people import Role
from bot.views import safety as safety_view
from bot.views.buttons import ClearChat, ConsentGive, ConsentWithdraw, Forget
from bot.views.common import button_expired, not_for_coordinators
from handlers.blueprint import Blueprint
from models import Case, Reporter

router = Blueprint("safety")
router.message.filter(F.chat.type == "private")
router.callback_query.filter(F.message.chat.type == "private")


@router.message(Command("clear"))
async def clear(message: Message, language: str) -> None:
    await message.answer(
        safety_view.clear_question(),
        reply_markup=safety_view.clear_keyboard(),
    )


@router.callback_query(ClearChat.filter())
async def clear_confirmed(
    query: CallbackQuery, session: AsyncSession, domain: Domain, bot: Bot, state: FSMContext
) -> None:
    chat_id = query.message.chat.id
    fresh, old = await privacy.clear_chat_ids(session, domain, chat_id)
    ids = sorted(set(fresh) | {query.message.message_id})
    failed = 0
    for start in range(0, len(ids), 100):
        try:
            await bot.delete_messages(chat_id, ids[start : start + 100])
        except TelegramBadRequest:
            failed += len(ids[start : start + 100])
    await state.clear()
    # The note itself is not protected from view, so it says nothing about any case.
    await bot.send_message(chat_id, safety_view.cleared(old + failed))


@router.message(Command("forget"))
async def forget(message: Message, role: Role) -> None:
    if role.reporter is None:
        await message.answer(safety_view.no_reports())
        return
    await message.answer(
        safety_view.forget_question(),
        reply_markup=safety_view.forget_keyboard(),
    )


@router.callback_query(Forget.filter())
async def forget_confirmed(
    query: CallbackQuery, session: AsyncSession, domain: Domain, role: Role, state: FSMContext
) -> None:
    if role.reporter is None:
        await query.answer(button_expired(), show_alert=True)
        return
    codes = await privacy.forget_reporter(session, domain, role.reporter)
    await state.clear()
    await query.message.edit_text(safety_view.erased(len(codes)))


@router.message(Command("consent"))
async def consent(message: Message, session: AsyncSession, role: Role) -> None:
    if role.reporter is None:
        await message.answer(safety_view.no_reports())
        return
    consents = [
        (case, await case_domain.consents_of(session, case))
        for case in await case_domain.open_cases_of(session, role.reporter)
    ]
    text, keyboard = safety_view.consent_overview(consents)
    await message.answer(text, reply_markup=keyboard, protect_content=True)


@router.callback_query(ConsentWithdraw.filter())
async def consent_withdraw(
    query: CallbackQuery,
    callback_data: ConsentWithdraw,
    session: AsyncSession,
    domain: Domain,
    role: Role,
) -> None:
    async def withdraw(case: Case) -> bool:
        return await privacy.withdraw_consent(
            session, domain, role.reporter, case, callback_data.purpose
        )

    await change_consent(
        query,
        session,
        role,
        callback_data,
        withdraw,
        withdrawn=True,
    )


@router.callback_query(ConsentGive.filter())
async def consent_give(
    query: CallbackQuery,
    callback_data: ConsentGive,
    session: AsyncSession,
    domain: Domain,
    role: Role,
) -> None:
    async def give(case: Case) -> bool:
        result = await give_consent(session, domain, role.reporter, case, callback_data.purpose)
        return result == "given"

    await change_consent(
        query,
        session,
        role,
        callback_data,
        give,
        withdrawn=False,
    )


async def change_consent(
    query: CallbackQuery,
    session: AsyncSession,
    role: Role,
    callback_data: ConsentGive | ConsentWithdraw,
    change: Callable[[Case], Awaitable[bool]],
    *,
    withdrawn: bool,
) -> None:
    """One press of a /consent button: a case that is not the presser's own is refused, a
    change already in force (a second press, an old message) changes nothing."""
    case = await access.consent_case(session, role, callback_data.case_id, callback_data.purpose)
    if case is None:
        await query.answer(button_expired(), show_alert=True)
        return
    await query.message.edit_reply_markup(reply_markup=None)
    if not await change(case):
        await query.answer(safety_view.consent_already(withdrawn), show_alert=True)
        return
    await query.message.answer(
        safety_view.consent_changed(withdrawn, case.code), protect_content=True
    )


@router.message(Command("block"))
async def block(
    message: Message, command: CommandObject, session: AsyncSession, domain: Domain, role: Role
) -> None:
    """A coordinator blocks the account behind a case (abuse, flooding)."""
    if not access.allowed(role, Action.BLOCK):
        await message.answer(not_for_coordinators())
        return
    case = await access.case_for(session, role, Action.BLOCK, (command.args or "").strip())
    if case is None or case.reporter_id is None:
        await message.answer(safety_view.block_usage())
        return
    reporter = await session.get(Reporter, case.reporter_id)
    await privacy.block_reporter(session, domain, reporter, f"person:{role.person.id}")
    await message.answer(safety_view.blocked(case.code))
