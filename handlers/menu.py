"""Start, language, help directory, cancel: the reporter's front door (private chats only)."""

from __future__ import annotations

from aiogram import F
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import cases as case_domain
from bot.domain import help_directory, onboarding
from bot.domain.context import Domain
from bot.domain.people import Role
from bot.i18n import available_languages, current_language, normalise_language
from bot.views import menu as view
from bot.views.buttons import Lang, Menu
from handlers.blueprint import Blueprint
from handlers.common import language_keyboard, menu_keyboard, menu_text
from models import Organisation

router = Blueprint("menu")
router.message.filter(F.chat.type == "private")
router.callback_query.filter(F.message.chat.type == "private")


async def remember_language(
    session: AsyncSession, domain: Domain, role: Role, user_id: int, chat_id: int, language: str
) -> None:
    speaker = (
        role.person
        or role.reporter
        or await case_domain.reporter_for(session, domain, user_id, chat_id, language)
    )
    # Set only when it changes: a row marked changed costs a flush even when nothing differs.
    if speaker.language != language:
        speaker.language = language


@router.message(CommandStart(deep_link=True, magic=F.args.startswith("join_")))
async def join(
    message: Message, command: CommandObject, session: AsyncSession, domain: Domain, language: str
) -> None:
    person = await onboarding.redeem_invite(
        session,
        domain,
        command.args.removeprefix("join_"),
        message.from_user.id,
        message.from_user.full_name,
        language,
    )
    if person is None:
        await message.answer(view.invite_invalid())
        return
    org = await session.get(Organisation, person.organisation_id)
    await message.answer(view.responder_welcome(person.name, org.name if org else ""))


@router.message(CommandStart())
async def start(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    role: Role,
    language: str,
    domain: Domain,
) -> None:
    current = await state.get_state()
    if current and current.startswith("Report"):
        await message.answer(
            view.unfinished_report(), reply_markup=view.unfinished_report_keyboard()
        )
        return
    if role.name == "stranger":
        spoken = spoken_language(message.from_user.language_code, domain.config.bot.languages)
        if spoken is None:
            # First contact from a phone in a language the bot does not offer: ask,
            # pre-selected from Telegram's language_code.
            await message.answer(
                view.first_welcome(language),
                reply_markup=language_keyboard(domain.config.bot.languages, current=language),
            )
            return
        # The phone already speaks one of the bot's languages: one question fewer for a
        # frightened person; the menu's language button changes it.
        await remember_language(
            session, domain, role, message.from_user.id, message.chat.id, spoken
        )
        await message.answer(view.welcome_menu(spoken), reply_markup=menu_keyboard(spoken))
        return
    await message.answer(menu_text(language), reply_markup=menu_keyboard(language))


def spoken_language(language_code: str | None, languages: list[str]) -> str | None:
    """The operator's language that Telegram's ``language_code`` names (``ne``, ``ne-NP``,
    ``in`` for Indonesian, ``tl`` for Filipino), or None when it names none of them."""
    language = normalise_language(language_code, default="")
    return language if language in languages else None


def offered_languages(domain: Domain, role: Role) -> list[str]:
    """Reporters choose among the operator's languages; staff among every shipped one (an
    Arabic-speaking caseworker in Doha may serve reporters who never see Arabic offered)."""
    return available_languages() if role.is_staff else domain.config.bot.languages


@router.message(Command("language"))
async def choose_language(message: Message, language: str, domain: Domain, role: Role) -> None:
    await message.answer(
        view.choose_language(),
        reply_markup=language_keyboard(offered_languages(domain, role), current=language),
    )


@router.callback_query(Lang.filter())
async def set_language(
    query: CallbackQuery, callback_data: Lang, role: Role, session: AsyncSession, domain: Domain
) -> None:
    if callback_data.code not in offered_languages(domain, role):
        await query.answer(view.language_unavailable(), show_alert=True)
        return
    language = callback_data.code
    await remember_language(
        session, domain, role, query.from_user.id, query.message.chat.id, language
    )
    current_language.set(language)
    await query.answer()
    await query.message.edit_text(view.language_set(language))
    if role.person is None:
        await query.message.answer(menu_text(language), reply_markup=menu_keyboard(language))


@router.callback_query(Menu.filter(F.action == "language"))
async def menu_language(query: CallbackQuery, language: str, domain: Domain) -> None:
    await query.answer()
    await query.message.answer(
        view.choose_language(),
        reply_markup=language_keyboard(domain.config.bot.languages, current=language),
    )


async def help_text(session: AsyncSession, role: Role, language: str) -> str:
    return view.help_text(await help_directory.contacts_for(session, role.reporter), language)


@router.message(Command("help"))
async def help_command(message: Message, session: AsyncSession, role: Role, language: str) -> None:
    await message.answer(
        await help_text(session, role, language),
        parse_mode="HTML",
    )


@router.callback_query(Menu.filter(F.action == "help"))
async def help_button(
    query: CallbackQuery, session: AsyncSession, role: Role, language: str
) -> None:
    await query.answer()
    await query.message.answer(
        await help_text(session, role, language),
        parse_mode="HTML",
    )


@router.message(Command("cancel"))
async def cancel(message: Message, state: FSMContext, language: str) -> None:
    had = await state.get_state()
    await state.clear()
    await message.answer(view.cancelled(bool(had)), reply_markup=menu_keyboard(language))
