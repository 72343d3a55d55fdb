"""A reporter's answers to what the bot asked them: a check-in, feedback on a resolved case
(and a few words about it), and whether a referral may share their case."""

from __future__ import annotations

from aiogram import F
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import access, followups, referral, resolution
from bot.domain.context import Domain
from bot.domain.people import Role
from bot.i18n import _
from bot.views.buttons import CheckIn, ConsentAnswer, Feedback
from handlers.blueprint import Blueprint

router = Blueprint("checkins")
router.message.filter(F.chat.type == "private")
router.callback_query.filter(F.message.chat.type == "private")


class Commenting(StatesGroup):
    note = State()


@router.callback_query(CheckIn.filter())
async def checkin_answer(
    query: CallbackQuery, callback_data: CheckIn, session: AsyncSession, domain: Domain, role: Role
) -> None:
    case = await access.reporters_case(session, role, callback_data.case_id)
    if case is None or callback_data.answer not in ("safe", "unsafe", "changed"):
        await query.answer(_("This button is no longer valid."), show_alert=True)
        return
    result = await followups.answer_checkin(session, domain, case, callback_data.answer)
    replies = {
        "safe": _("Thank you. We are glad you are safe. Write here any time."),
        "unsafe": _(
            "Your helper and the coordinator have been alerted now. If you can, share your location or write what is happening. If you can call, /help lists emergency contacts."
        ),
        "changed": _("Please tell us what changed. Your next messages go to your helper."),
    }
    await query.message.edit_reply_markup(reply_markup=None)
    await query.message.answer(replies[result], protect_content=True)


@router.callback_query(Feedback.filter())
async def feedback(
    query: CallbackQuery,
    callback_data: Feedback,
    session: AsyncSession,
    domain: Domain,
    role: Role,
    state: FSMContext,
) -> None:
    case = await access.reporters_case(session, role, callback_data.case_id)
    if case is None or not await resolution.feedback(session, domain, case, callback_data.score):
        await query.answer(_("This button is no longer valid."), show_alert=True)
        return
    await query.answer(_("Thank you for your feedback."))
    await query.message.edit_reply_markup(reply_markup=None)
    await state.set_state(Commenting.note)
    await state.set_data({"case_id": case.id})
    await query.message.answer(
        _("Thank you. If you like, write a few words about how we helped. Or send /skip."),
        protect_content=True,
    )


@router.message(StateFilter(Commenting.note), Command("skip"))
async def skip_comment(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.answer(_("Thank you."))


@router.message(StateFilter(Commenting.note), F.text & ~F.text.startswith("/"))
async def comment(message: Message, session: AsyncSession, role: Role, state: FSMContext) -> None:
    case = await access.reporters_case(session, role, (await state.get_data()).get("case_id", 0))
    await state.clear()
    if case is not None:
        case.feedback_note = message.text[:1000]
    await message.answer(_("Thank you."), protect_content=True)


@router.callback_query(ConsentAnswer.filter())
async def consent_answer(
    query: CallbackQuery,
    callback_data: ConsentAnswer,
    session: AsyncSession,
    domain: Domain,
    role: Role,
) -> None:
    case = await access.reporters_case(session, role, callback_data.case_id)
    if case is None or callback_data.purpose not in (
        "destination_help",
        "origin_help",
        "statistics",
    ):
        await query.answer(_("This button is no longer valid."), show_alert=True)
        return
    result = await referral.answer_consent(
        session, domain, case, callback_data.purpose, bool(callback_data.granted)
    )
    await query.message.edit_reply_markup(reply_markup=None)
    if result == "stale":
        await query.answer(
            _("This question was already answered. /consent shows what you share and changes it."),
            show_alert=True,
        )
        return
    await query.message.answer(_("Thank you. Your answer was recorded."), protect_content=True)
