"""What a coordinator taps in the chat (the dashboard has its own views in bot.webapp)."""

from __future__ import annotations

from collections.abc import Iterable

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.views.buttons import InviteOrg
from models import Organisation


def invite_keyboard(organisations: Iterable[Organisation]) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for org in organisations:
        builder.button(text=org.name, callback_data=InviteOrg(org=org.id))
    return builder.adjust(1).as_markup()
