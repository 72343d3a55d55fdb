"""Whatever no other handler took: a defined, polite answer, never silence or a crash."""

from __future__ import annotations

import logging

from aiogram import F
from aiogram.types import CallbackQuery, Message

from bot.views import fallback as view
from bot.views.common import button_expired
from handlers.blueprint import Blueprint
from handlers.common import menu_keyboard

log = logging.getLogger(__name__)
router = Blueprint("fallback")


@router.callback_query()
async def stale_button(query: CallbackQuery) -> None:
    await query.answer(button_expired(), show_alert=True)


@router.message(F.chat.type == "private", F.text.startswith("/"))
async def unknown_command(message: Message, language: str) -> None:
    await message.answer(view.unknown_command(), reply_markup=menu_keyboard(language))


@router.edited_message()
async def edited(message: Message) -> None:
    if message.chat.type == "private":
        await message.reply(view.edits_not_passed_on())


@router.message(F.chat.type == "private")
async def unsupported(message: Message, language: str) -> None:
    await message.answer(
        view.unsupported_message(),
        reply_markup=menu_keyboard(language),
    )
