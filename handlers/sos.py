"""SOS: two taps to an urgent, routed case. Details can follow and join the same case."""

from __future__ import annotations

from aiogram import F
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import sos
from bot.domain.context import Domain
from bot.domain.people import Role
from bot.views import sos as sos_view
from bot.views.buttons import Menu, SosSend
from handlers.blueprint import Blueprint

router = Blueprint("sos")
router.message.filter(F.chat.type == "private")
router.callback_query.filter(F.message.chat.type == "private")


async def _ask_country(message: Message, session: AsyncSession, domain: Domain, role: Role) -> None:
    await message.answer(
        sos_view.ask_country(),
        reply_markup=sos_view.countries_keyboard(await sos.destinations(session, domain, role)),
        protect_content=True,
    )


@router.message(Command("sos"))
async def sos_command(
    message: Message, session: AsyncSession, domain: Domain, role: Role, state: FSMContext
) -> None:
    await _ask_country(message, session, domain, role)


@router.callback_query(Menu.filter(F.action == "sos"))
async def sos_button(
    query: CallbackQuery, session: AsyncSession, domain: Domain, role: Role
) -> None:
    await _ask_country(query.message, session, domain, role)


@router.callback_query(SosSend.filter())
async def sos_send(
    query: CallbackQuery,
    callback_data: SosSend,
    session: AsyncSession,
    domain: Domain,
    role: Role,
    language: str,
    state: FSMContext,
) -> None:
    outcome = await sos.send(
        session,
        domain,
        role,
        country=callback_data.country,
        language=language,
        user_id=query.from_user.id,
        chat_id=query.message.chat.id,
    )
    if outcome.result == "unavailable":
        await query.answer(sos_view.unavailable(), show_alert=True)
        return
    await query.answer(sos_view.sent_toast())
    if outcome.result == "repeated":
        await query.message.answer(
            sos_view.repeated(outcome.case.code),
            protect_content=True,
        )
        return
    # An unfinished report would otherwise swallow the details that follow the SOS.
    await state.clear()
    if outcome.result == "too_many":
        await query.message.answer(sos_view.too_many())
        return
    await query.message.edit_reply_markup(reply_markup=None)
    await query.message.answer(
        sos_view.sent(outcome.case.code),
        reply_markup=sos_view.share_location_keyboard(),
        protect_content=True,
    )
