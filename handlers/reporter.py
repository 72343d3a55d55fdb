"""What a reporter does after submitting: /status, /join, withdraw, and more messages for
their case (check-ins, feedback and consent answers are in ``handlers.checkins``)."""

from __future__ import annotations

from aiogram import F
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, ReplyKeyboardRemove
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import access, relay, resolution
from bot.domain import cases as case_domain
from bot.domain.access import Action
from bot.domain.context import Domain
from bot.domain.people import Role
from bot.taxonomy import CaseStatus
from bot.views import cases as cases_view
from bot.views import common as common_view
from bot.views import reporter as view
from bot.views.buttons import Menu, PickCase, Withdraw
from bot.views.menu import menu_keyboard
from handlers.blueprint import Blueprint
from handlers.common import media_content
from models import Case

router = Blueprint("reporter")
router.message.filter(F.chat.type == "private")
router.callback_query.filter(F.message.chat.type == "private")


class Picking(StatesGroup):
    case = State()


async def status_text(session: AsyncSession, role: Role) -> tuple[str, InlineKeyboardMarkup | None]:
    cases = await case_domain.cases_of(session, role.reporter) if role.reporter else []
    return cases_view.status_text(cases)


@router.message(Command("status"))
async def status(message: Message, session: AsyncSession, role: Role) -> None:
    text, keyboard = await status_text(session, role)
    await message.answer(text, reply_markup=keyboard, protect_content=True)


@router.callback_query(Menu.filter(F.action == "status"))
async def status_button(query: CallbackQuery, session: AsyncSession, role: Role) -> None:
    text, keyboard = await status_text(session, role)
    await query.message.answer(text, reply_markup=keyboard, protect_content=True)


@router.message(Command("join"))
async def join_case(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    domain: Domain,
    role: Role,
    language: str,
) -> None:
    token = (command.args or "").strip()
    if not access.allowed(role, Action.JOIN) or not token:
        await message.answer(view.join_usage())
        return
    worker = role.reporter or await case_domain.reporter_for(
        session, domain, message.from_user.id, message.chat.id, language
    )
    case = await case_domain.take_over(session, domain, token, worker)
    if case is None:
        await message.answer(view.join_invalid())
        return
    await message.answer(view.now_following(case.code), protect_content=True)


@router.callback_query(Withdraw.filter())
async def withdraw(
    query: CallbackQuery, callback_data: Withdraw, session: AsyncSession, domain: Domain, role: Role
) -> None:
    case = await access.reporters_case(session, role, callback_data.case_id)
    if case is None or case.status in (CaseStatus.RESOLVED, CaseStatus.CLOSED):
        await query.answer(common_view.button_expired(), show_alert=True)
        return
    if not callback_data.confirm:
        await query.message.answer(
            view.withdraw_question(case.code),
            reply_markup=cases_view.withdraw_confirm_keyboard(case),
        )
        return
    await resolution.withdraw(session, domain, case)
    await query.message.edit_text(view.withdrawn(case.code))


def _incoming(message: Message) -> relay.Incoming | None:
    base = {
        "from_chat_id": message.chat.id,
        "message_id": message.message_id,
        "album": message.media_group_id,
    }
    if message.text:
        return relay.Incoming(kind="text", text=message.text, **base)
    content = media_content(message)
    if content is None:
        return None
    kind, file_id, text = content
    return relay.Incoming(kind=kind, file_id=file_id, text=text, **base)


async def _deliver(
    message: Message, session: AsyncSession, domain: Domain, case: Case, item: relay.Incoming
) -> None:
    if item.kind == "location" and not case.precise_location:
        case.precise_location = item.text
    acknowledged = await relay.continues_album(session, domain, case, item)
    result = await relay.from_reporter(session, domain, case, item)
    if acknowledged:
        return
    await message.answer(
        view.delivered(result == "relayed", case.code),
        reply_markup=ReplyKeyboardRemove() if item.kind == "location" else None,
        protect_content=True,
    )


# Telegram sends a GIF as both `animation` and `document`; it is not evidence we can use.
@router.message(
    StateFilter(None),
    ~F.animation,
    F.text & ~F.text.startswith("/")
    | F.photo
    | F.voice
    | F.document
    | F.video
    | F.audio
    | F.location,
)
async def reporter_message(
    message: Message,
    session: AsyncSession,
    domain: Domain,
    role: Role,
    state: FSMContext,
    language: str,
) -> None:
    if not access.allowed(role, Action.RELAY_TO_OWNER):
        await message.answer(view.staff_reply_hint())
        return
    if (
        message.forward_origin is not None
        and message.text is None
        and message.caption is None
        and not (message.photo or message.document)
    ):
        await message.answer(view.forward_unusable())
        return
    open_cases = await case_domain.open_cases_of(session, role.reporter) if role.reporter else []
    item = _incoming(message)
    if not open_cases or item is None:
        await message.answer(
            view.no_open_case(),
            reply_markup=menu_keyboard(language),
        )
        return
    if len(open_cases) == 1:
        await _deliver(message, session, domain, open_cases[0], item)
        return
    await state.set_state(Picking.case)
    await state.set_data({"item": item.__dict__})
    await message.answer(view.which_case(), reply_markup=cases_view.pick_case_keyboard(open_cases))


@router.callback_query(StateFilter(Picking.case), PickCase.filter())
async def picked(
    query: CallbackQuery,
    callback_data: PickCase,
    session: AsyncSession,
    domain: Domain,
    role: Role,
    state: FSMContext,
) -> None:
    case = await access.reporters_case(session, role, callback_data.case_id)
    data = await state.get_data()
    if case is None or "item" not in data:
        await query.answer(common_view.button_expired(), show_alert=True)
        return
    await state.clear()
    await query.message.edit_reply_markup(reply_markup=None)
    await _deliver(query.message, session, domain, case, relay.Incoming(**data["item"]))
