"""Whatever no other handler took: a defined, polite answer, never silence or a crash."""

from __future__ import annotations

import logging

from aiogram import F
from aiogram.types import CallbackQuery, Message

from bot.i18n import _
from handlers.blueprint import Blueprint
from handlers.common import menu_keyboard

log = logging.getLogger(__name__)
router = Blueprint("fallback")


@router.callback_query()
async def stale_button(query: CallbackQuery) -> None:
    await query.answer(_("This button is no longer valid."), show_alert=True)


@router.message(F.chat.type == "private", F.text.startswith("/"))
async def unknown_command(message: Message, language: str) -> None:
    await message.answer(
        _("I don't know that command. Here is the menu:"), reply_markup=menu_keyboard(language)
    )


@router.edited_message()
async def edited(message: Message) -> None:
    if message.chat.type == "private":
        await message.reply(
            _(
                "I saw that you edited a message. Edits are not passed on: please send the correction as a new message."
            )
        )


@router.message(F.chat.type == "private")
async def unsupported(message: Message, language: str) -> None:
    await message.answer(
        _(
            "I can't use that kind of message. Please write text, or send a photo, voice note, document or location."
        ),
        reply_markup=menu_keyboard(language),
    )
