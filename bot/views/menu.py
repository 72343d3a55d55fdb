"""The reporter's front door: the main menu, the language list, and the question about an
unfinished report."""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.i18n import LANGUAGE_NAMES, N_, _, tr
from bot.views.buttons import Lang, Menu, Unfinished

MENU = (
    (N_("🆘 SOS — I need help now"), "sos"),
    (N_("📝 Report a problem"), "report"),
    (N_("🔎 Someone is missing"), "missing"),
    (N_("📋 My cases"), "status"),
    (N_("☎️ Help contacts"), "help"),
    (N_("🌐 Language"), "language"),
)


def menu_text(language: str) -> str:
    return tr(
        language,
        "Corridor helps migrant workers and their families get help from trusted organisations.\n"
        "What you tell us is shared only with the helpers you agree to. What would you like to do?",
    )


def menu_keyboard(language: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for text, action in MENU:
        builder.button(text=tr(language, text), callback_data=Menu(action=action))
    # My cases and Help contacts share a row.
    return builder.adjust(1, 1, 1, 2, 1).as_markup()


def language_keyboard(languages: list[str], current: str | None = None) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for code in languages:
        mark = "✓ " if code == current else ""
        builder.button(text=mark + LANGUAGE_NAMES[code], callback_data=Lang(code=code))
    return builder.adjust(1).as_markup()


def unfinished_report_keyboard() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("Continue"), callback_data=Unfinished(action="resume"))
    builder.button(text=_("Start again"), callback_data=Unfinished(action="restart"))
    return builder.as_markup()
