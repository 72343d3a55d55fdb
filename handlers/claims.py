"""Claim and Pass on a case card in an organisation's group."""

from __future__ import annotations

from aiogram import F
from aiogram.types import CallbackQuery
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import claims
from bot.domain.context import Domain
from bot.domain.people import Role
from bot.views import casework as view
from bot.views import common as common_view
from bot.views.buttons import Claim, Pass, PassReason
from bot.views.cases import PASS_REASONS, pass_reasons_keyboard
from handlers.blueprint import Blueprint

router = Blueprint("claims")
router.callback_query.filter(F.message.chat.type.in_({"group", "supergroup"}))


@router.callback_query(Claim.filter())
async def claim(
    query: CallbackQuery, callback_data: Claim, session: AsyncSession, domain: Domain, role: Role
) -> None:
    result = await claims.claim(
        session, domain, callback_data.case_id, role.person, query.message.chat.id
    )
    if result.outcome == "won":
        await query.answer(view.claimed(result.case.code))
    elif result.outcome == "taken":
        await query.answer(view.already_claimed(result.owner_name), show_alert=True)
    elif result.outcome == "not_member":
        await query.answer(view.not_member(), show_alert=True)
    else:
        await query.answer(view.no_longer_open(), show_alert=True)


@router.callback_query(Pass.filter())
async def pass_case(
    query: CallbackQuery, callback_data: Pass, session: AsyncSession, role: Role
) -> None:
    if not await claims.is_member_for_card(
        session, callback_data.case_id, role.person, query.message.chat.id
    ):
        await query.answer(view.not_member(), show_alert=True)
        return
    await query.message.reply(
        view.why_passing(), reply_markup=pass_reasons_keyboard(callback_data.case_id)
    )


@router.callback_query(PassReason.filter())
async def pass_reason(
    query: CallbackQuery,
    callback_data: PassReason,
    session: AsyncSession,
    domain: Domain,
    role: Role,
) -> None:
    if callback_data.reason not in PASS_REASONS:
        await query.answer(common_view.button_expired(), show_alert=True)
        return
    result = await claims.pass_case(
        session,
        domain,
        callback_data.case_id,
        role.person,
        query.message.chat.id,
        callback_data.reason,
    )
    if result == "passed":
        await query.answer(view.passed())
        await query.message.delete()
    else:
        await query.answer(common_view.button_expired(), show_alert=True)
