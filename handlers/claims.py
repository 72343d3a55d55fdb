"""Claim and Pass on a case card in an organisation's group."""

from __future__ import annotations

from aiogram import F
from aiogram.types import CallbackQuery
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import claims
from bot.domain.context import Domain
from bot.domain.people import Role
from bot.i18n import _
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
        await query.answer(
            _(
                "You own case {code} now. Details are in your private chat with me.",
                code=result.case.code,
            )
        )
    elif result.outcome == "taken":
        await query.answer(
            _("Already claimed by {name}.", name=result.owner_name or "—"), show_alert=True
        )
    elif result.outcome == "not_member":
        await query.answer(
            _("Only responders of this group's organisation can claim this case."), show_alert=True
        )
    else:
        await query.answer(_("This case is no longer open."), show_alert=True)


@router.callback_query(Pass.filter())
async def pass_case(
    query: CallbackQuery, callback_data: Pass, session: AsyncSession, role: Role
) -> None:
    if not await claims.is_member_for_card(
        session, callback_data.case_id, role.person, query.message.chat.id
    ):
        await query.answer(
            _("Only responders of this group's organisation can claim this case."), show_alert=True
        )
        return
    await query.message.reply(
        _("Why are you passing?"), reply_markup=pass_reasons_keyboard(callback_data.case_id)
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
        await query.answer(_("This button is no longer valid."), show_alert=True)
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
        await query.answer(_("Noted. The case stays open for others."))
        await query.message.delete()
    else:
        await query.answer(_("This button is no longer valid."), show_alert=True)
