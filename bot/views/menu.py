"""The reporter's front door: the main menu, the language list, the question about an
unfinished report, the help directory, and the bot's command list."""

from __future__ import annotations

import functools
import html
from collections.abc import Sequence

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot import labels
from bot.i18n import LANGUAGE_NAMES, N_, _, tr
from bot.views.buttons import Lang, Menu, Unfinished
from models import HelpContact

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


@functools.cache
def menu_keyboard(language: str) -> InlineKeyboardMarkup:
    """Built once per language and shared (never changed once built): every /start and
    every way back to the menu shows it, and aiogram's builder copies the whole keyboard
    at each button it adds."""
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


def command_list(language: str) -> list[tuple[str, str]]:
    return [
        ("start", tr(language, "Main menu")),
        ("sos", tr(language, "Urgent help now")),
        ("status", tr(language, "My cases")),
        ("help", tr(language, "Help contacts")),
        ("language", tr(language, "Change language")),
        ("consent", tr(language, "What I agreed to share")),
        ("clear", tr(language, "Delete this chat from my phone")),
        ("forget", tr(language, "Erase my data")),
        ("cancel", tr(language, "Stop what I am doing")),
    ]


def invite_invalid() -> str:
    return _("This invitation is not valid any more. Ask your coordinator for a new one.")


def responder_welcome(name: str, org: str) -> str:
    return _(
        "Welcome, {name}. You are now a responder of {org}. Case cards appear in your organisation's group; /oncall shows who is on call.",
        name=name,
        org=org,
    )


def unfinished_report() -> str:
    return _("You have an unfinished report. Continue where you stopped, or start again?")


def first_welcome(language: str) -> str:
    """First contact from a phone in a language the bot does not offer."""
    return tr(language, "Welcome to Corridor. Choose your language:")


def welcome_menu(language: str) -> str:
    return tr(language, "Welcome to Corridor.") + "\n\n" + menu_text(language)


def choose_language() -> str:
    return _("Choose your language:")


def language_unavailable() -> str:
    return _("This language is not available.")


def language_set(language: str) -> str:
    return tr(language, "Language set.")


def cancelled(had_something: bool) -> str:
    return _("Stopped. Nothing was sent.") if had_something else _("There is nothing to stop.")


def help_text(contacts: Sequence[HelpContact], language: str) -> str:
    """The verified help contacts, grouped by corridor, as HTML."""
    if not contacts:
        return tr(
            language, "No verified contacts are listed yet. You can still report your problem here."
        )
    kinds = {
        "hotline": tr(language, "Hotline"),
        "embassy": tr(language, "Embassy"),
        "labour_attache": tr(language, "Labour attaché"),
        "shelter": tr(language, "Shelter"),
        "nhri": tr(language, "Human rights commission"),
        "legal": tr(language, "Legal aid"),
        "other": tr(language, "Other"),
    }
    lines = [tr(language, "☎️ <b>Verified help contacts</b>")]
    corridor = None
    for contact in contacts:
        if contact.corridor_code != corridor:
            corridor = contact.corridor_code
            lines.append(f"\n<b>{html.escape(corridor)}</b>")
        entry = f"• {kinds.get(contact.kind, contact.kind)}: {html.escape(contact.name)}"
        if contact.phone:
            entry += f" — {html.escape(contact.phone)}"
        if contact.url:
            entry += f" — {html.escape(contact.url)}"
        entry += "\n  " + tr(
            language,
            "Source: {source}, checked {date}",
            source=html.escape(contact.source),
            date=labels.date(contact.verified_on, language),
        )
        lines.append(entry)
    return "\n".join(lines)
