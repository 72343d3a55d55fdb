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
from bot.views import common as common_view
from bot.views import reporter as view
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
        await query.answer(common_view.button_expired(), show_alert=True)
        return
    result = await followups.answer_checkin(session, domain, case, callback_data.answer)
    await query.message.edit_reply_markup(reply_markup=None)
    await query.message.answer(view.checkin_reply(result), protect_content=True)


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
        await query.answer(common_view.button_expired(), show_alert=True)
        return
    await query.answer(view.feedback_thanks())
    await query.message.edit_reply_markup(reply_markup=None)
    await state.set_state(Commenting.note)
    await state.set_data({"case_id": case.id})
    await query.message.answer(
        view.comment_invitation(),
        protect_content=True,
    )


@router.message(StateFilter(Commenting.note), Command("skip"))
async def skip_comment(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.answer(view.thank_you())


@router.message(StateFilter(Commenting.note), F.text & ~F.text.startswith("/"))
async def comment(message: Message, session: AsyncSession, role: Role, state: FSMContext) -> None:
    case = await access.reporters_case(session, role, (await state.get_data()).get("case_id", 0))
    await state.clear()
    if case is not None:
        case.feedback_note = message.text[:1000]
    await message.answer(view.thank_you(), protect_content=True)


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
        await query.answer(common_view.button_expired(), show_alert=True)
        return
    result = await referral.answer_consent(
        session, domain, case, callback_data.purpose, bool(callback_data.granted)
    )
    await query.message.edit_reply_markup(reply_markup=None)
    if result == "stale":
        await query.answer(
            view.consent_stale(),
            show_alert=True,
        )
        return
    await query.message.answer(view.consent_recorded(), protect_content=True)
