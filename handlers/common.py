"""Shared rendering helpers for handlers."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.i18n import LANGUAGE_NAMES, N_, tr
from bot.views.buttons import Lang, Menu


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


def menu_keyboard(language: str) -> InlineKeyboardMarkup:
    def button(text: str, action: str) -> InlineKeyboardButton:
        return InlineKeyboardButton(
            text=tr(language, text), callback_data=Menu(action=action).pack()
        )

    return InlineKeyboardMarkup(
        inline_keyboard=[
            [button(N_("🆘 SOS — I need help now"), "sos")],
            [button(N_("📝 Report a problem"), "report")],
            [button(N_("🔎 Someone is missing"), "missing")],
            [button(N_("📋 My cases"), "status"), button(N_("☎️ Help contacts"), "help")],
            [button(N_("🌐 Language"), "language")],
        ]
    )


def language_keyboard(languages: list[str], current: str | None = None) -> InlineKeyboardMarkup:
    rows = []
    for code in languages:
        mark = "✓ " if code == current else ""
        rows.append(
            [
                InlineKeyboardButton(
                    text=mark + LANGUAGE_NAMES[code], callback_data=Lang(code=code).pack()
                )
            ]
        )
    return InlineKeyboardMarkup(inline_keyboard=rows)


def menu_text(language: str) -> str:
    return tr(
        language,
        "Corridor helps migrant workers and their families get help from trusted organisations.\n"
        "What you tell us is shared only with the helpers you agree to. What would you like to do?",
    )


def media_content(message: Message) -> tuple[str, str | None, str | None] | None:
    """(kind, file_id, text) of a file or location the reporter sent; None for anything else."""
    for kind in ("photo", "voice", "document", "video", "audio"):
        media = getattr(message, kind)
        if media:
            file_id = media[-1].file_id if kind == "photo" else media.file_id
            return kind, file_id, message.caption
    if message.location:
        return "location", None, f"{message.location.latitude:.5f},{message.location.longitude:.5f}"
    return None
