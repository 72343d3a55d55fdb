"""The guided report, as Telegram sees it: each update is read, handed to
``bot.domain.wizard``, and its outcome shown with ``bot.views.intake``."""

from __future__ import annotations

from aiogram import F
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import cases as case_domain
from bot.domain import wizard
from bot.domain.context import Domain
from bot.domain.people import Role
from bot.views import intake as view
from bot.views.buttons import Menu, Nav, Step, Unfinished
from handlers.blueprint import Blueprint
from handlers.common import media_content, menu_keyboard

router = Blueprint("intake")
router.message.filter(F.chat.type == "private")
router.callback_query.filter(F.message.chat.type == "private")


class Report(StatesGroup):
    filling = State()


async def broken_draft_guard(handler, event, data):  # type: ignore[no-untyped-def]
    """A draft that cannot be continued is not guessed at: the reporter is told and starts
    again. Handlers below get the restored draft as ``draft``."""
    if data.get("raw_state") == Report.filling.state:
        draft = wizard.Draft.restore(await data["state"].get_data())
        if draft is None:
            await data["state"].clear()
            message = event.message if isinstance(event, CallbackQuery) else event
            if isinstance(event, CallbackQuery):
                await event.answer()
            markup = menu_keyboard(data.get("language", "en"))
            await message.answer(view.broken(), reply_markup=markup)
            return None
        data["draft"] = draft
    return await handler(event, data)


router.message.middleware(broken_draft_guard)
router.callback_query.middleware(broken_draft_guard)


async def ask(
    message: Message,
    corridors: wizard.Corridors,
    draft: wizard.Draft,
    note: str | None = None,
    *,
    in_place: bool = False,
) -> None:
    """Shows the draft's question. ``in_place``: the tapped question becomes the next one
    (one message on the phone, and one call, instead of a dead question and a new one);
    after something typed the question comes as a new message below it."""
    shown = view.question(draft, wizard.choices(draft, corridors), note)
    if in_place:
        await message.edit_text(
            shown.text, reply_markup=shown.reply_markup, parse_mode=shown.parse_mode
        )
        return
    await message.answer(shown.text, reply_markup=shown.reply_markup, parse_mode=shown.parse_mode)


async def ask_next(
    query: CallbackQuery,
    session: AsyncSession,
    domain: Domain,
    corridors: wizard.Corridors,
    draft: wizard.Draft,
) -> None:
    """After a tap: the question becomes the next one where it stands, unless something came
    after it in the chat; then the old one loses its buttons and the next comes below."""
    message = query.message
    if await wizard.asks_in_place(session, domain, message.chat.id, message.message_id):
        await ask(message, corridors, draft, in_place=True)
        return
    await message.edit_reply_markup(reply_markup=None)
    await ask(message, corridors, draft)


async def ask_again(query: CallbackQuery, corridors: wizard.Corridors, draft: wizard.Draft) -> None:
    """A button of a question already answered: the current one comes again, below."""
    await query.answer(view.stale())
    await ask(query.message, corridors, draft)


async def begin(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    domain: Domain,
    language: str,
    flow: str,
) -> None:
    await state.set_state(Report.filling)
    corridors = await domain.corridors.active(session)
    draft = wizard.start(flow, language, corridors)
    await state.set_data(draft.stored())
    await ask(message, corridors, draft)


@router.callback_query(Menu.filter(F.action.in_({"report", "missing"})))
async def start_from_menu(
    query: CallbackQuery,
    callback_data: Menu,
    state: FSMContext,
    session: AsyncSession,
    domain: Domain,
    language: str,
) -> None:
    await begin(query.message, state, session, domain, language, callback_data.action)


@router.callback_query(Unfinished.filter(F.action == "resume"), StateFilter(Report.filling))
async def resume(
    query: CallbackQuery, session: AsyncSession, domain: Domain, draft: wizard.Draft
) -> None:
    await ask(query.message, await domain.corridors.active(session), draft)


@router.callback_query(Unfinished.filter(F.action == "restart"))
async def restart(
    query: CallbackQuery, state: FSMContext, session: AsyncSession, domain: Domain, language: str
) -> None:
    flow = (await state.get_data()).get("flow", "report")
    await state.clear()
    await begin(query.message, state, session, domain, language, flow)


@router.callback_query(StateFilter(Report.filling), Step.filter())
async def on_choice(
    query: CallbackQuery,
    callback_data: Step,
    state: FSMContext,
    session: AsyncSession,
    domain: Domain,
    draft: wizard.Draft,
) -> None:
    corridors = await domain.corridors.active(session)
    outcome = wizard.choose(draft, callback_data.field, callback_data.value, corridors)
    if outcome.result == "stale":
        await ask_again(query, corridors, draft)
        return
    if outcome.result == "unavailable":
        await query.answer(view.unavailable(), show_alert=True)
        return
    await state.set_data(draft.stored())
    if outcome.result == "toggled":
        markup = view.keyboard(draft, wizard.choices(draft, corridors))
        await query.message.edit_reply_markup(reply_markup=markup)
        return
    await ask_next(query, session, domain, corridors, draft)


@router.callback_query(StateFilter(Report.filling), Nav.filter())
async def on_nav(
    query: CallbackQuery,
    callback_data: Nav,
    state: FSMContext,
    session: AsyncSession,
    domain: Domain,
    role: Role,
    language: str,
    draft: wizard.Draft,
) -> None:
    corridors = await domain.corridors.active(session)
    outcome = wizard.navigate(draft, callback_data.action, callback_data.step, corridors)
    if outcome.result == "stale":
        await ask_again(query, corridors, draft)
        return
    if outcome.result == "need_one":
        await query.answer(view.need_one(), show_alert=True)
        return
    if outcome.result == "cancelled":
        await state.clear()
        await query.message.edit_reply_markup(reply_markup=None)
        await query.message.answer(view.cancelled(), reply_markup=menu_keyboard(language))
    elif outcome.result == "submit":
        await submit(query, state, session, domain, role, draft, language)
    else:
        await state.set_data(draft.stored())
        await ask_next(query, session, domain, corridors, draft)


@router.message(StateFilter(Report.filling), F.text & ~F.text.startswith("/"))
async def on_text(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    domain: Domain,
    draft: wizard.Draft,
) -> None:
    corridors = await domain.corridors.active(session)
    outcome = wizard.type_text(draft, message.text, corridors, view.translated)
    await state.set_data(draft.stored())
    if outcome.result == "described":
        for said in view.described(outcome.problem == "truncated", draft.step):
            await message.answer(said.text, reply_markup=said.reply_markup)
        return
    await ask(message, corridors, draft, note=view.problem(outcome.problem))


# Telegram sends a GIF as both `animation` and `document`; it is not evidence we can use.
@router.message(
    StateFilter(Report.filling), ~F.animation, F.photo | F.voice | F.document | F.video | F.location
)
async def on_media(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    domain: Domain,
    draft: wizard.Draft,
) -> None:
    outcome = wizard.add_file(draft, media_content(message))  # type: ignore[arg-type]
    if outcome.result == "too_many_files":
        await message.answer(view.too_many_files())
        return
    await state.set_data(draft.stored())
    if draft.spec.kind == "media":
        said = view.file_received(outcome.count, draft.step)
        await message.answer(said.text, reply_markup=said.reply_markup)
    else:
        corridors = await domain.corridors.active(session)
        await ask(message, corridors, draft, note=view.problem("file_kept"))


@router.message(StateFilter(Report.filling), ~F.text)
async def on_unsupported(
    message: Message, session: AsyncSession, domain: Domain, draft: wizard.Draft
) -> None:
    corridors = await domain.corridors.active(session)
    await ask(message, corridors, draft, note=view.problem("unsupported"))


async def submit(
    query: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    domain: Domain,
    role: Role,
    draft: wizard.Draft,
    language: str,
) -> None:
    reporter = role.reporter or await case_domain.reporter_for(
        session, domain, query.from_user.id, query.message.chat.id, language
    )
    draft.language = language
    try:
        case = await wizard.submit(session, domain, reporter, draft)
    except case_domain.IntakeError as error:
        await query.message.answer(view.intake_error(error.reason))
        return
    await state.clear()
    await query.message.edit_reply_markup(reply_markup=None)
    token = None
    if case.reporter_role in ("family", "advocate"):
        token = await case_domain.issue_handover_code(session, domain, case)
    await query.message.answer(view.registered(case.code, token), protect_content=True)
