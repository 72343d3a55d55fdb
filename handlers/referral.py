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
from bot.i18n import _
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
        await message.answer(_("Usage: /refer CODE (a case you own)"))
        return
    targets = await referral.referral_targets(session, case)
    if not targets:
        await message.answer(_("No other organisation serves this corridor."))
        return
    await message.answer(
        _("Refer case {code} to:", code=case.code),
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
        await query.answer(_("This button is no longer valid."), show_alert=True)
        return
    await query.message.edit_reply_markup(reply_markup=None)
    await state.set_state(Referring.note)
    await state.set_data({"case_id": case.id, "org": target.id})
    await query.message.answer(
        _(
            "A note for {org} (what they need to know, e.g. flight and arrival time):",
            org=target.name,
        )
    )


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
    replies = {
        "referred": _(
            "Case {code} referred to {org}. You will be told when they claim it.",
            code=case.code,
            org=target.name,
        ),
        "consent_asked": _(
            "The reporter has not agreed to share with that side yet; I asked them. You will hear back."
        ),
        "consent_pending": _(
            "The reporter has already been asked about sharing with that side and has not answered yet."
        ),
        "refused": _(
            "Referral refused: the reporter has not agreed to share with that side and cannot be asked through the bot."
        )
        + (
            "\n"
            + _(
                "If a life is at risk: /override {code} {org} reason", code=case.code, org=target.id
            )
            if is_coordinator
            else ""
        ),
        "not_owner": _("No case {code} is yours.", code=case.code),
    }
    await message.answer(replies[result])


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
        await message.answer(
            _("Usage: /override CODE ORGANISATION_ID reason (coordinators, danger to life only)")
        )
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
        await message.answer(
            _(
                "Case {code} referred to {org}. You will be told when they claim it.",
                code=case.code,
                org=target.name,
            )
        )
    else:
        await message.answer(_("Case {code} is not open; nothing was sent.", code=case.code))
