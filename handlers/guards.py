"""Updates no handler should ever see: refused first, before anything is stored or relayed.

(An update with a number no Bot API field can hold does not even reach the dispatcher:
bot/polling.py skips it.)

A lone UTF-16 surrogate (``\\ud800`` in the update's JSON) is valid JSON but not text: no
Telegram client sends one, nothing can encode it (not the database, not the encryption of
personal fields, not the Bot API request that would relay it), so a forged one used to end
in an exception deep inside a handler. Such an update is answered with a clear request to
type it again (privately; in a group it is ignored) and nothing of it is kept.

This router is registered before every other one (handlers/__init__.py)."""

from __future__ import annotations

import logging
import re
from typing import Any

from aiogram import F
from aiogram.filters import Filter
from aiogram.types import (
    CallbackQuery,
    ChatMemberUpdated,
    InaccessibleMessage,
    Message,
    TelegramObject,
)
from pydantic import BaseModel
from pydantic_core import PydanticSerializationError

from bot.views import guards as view
from bot.views.common import button_expired
from handlers.blueprint import Blueprint

log = logging.getLogger(__name__)
router = Blueprint("guards")

_SURROGATE = re.compile("[\\ud800-\\udfff]")


def has_lone_surrogate(value: Any) -> bool:
    """True when any text anywhere in ``value`` (a Telegram object, with everything nested
    in it: replies, captions, names, file names, poll options …) holds a lone surrogate.

    A valid pair in the JSON (``\\ud83d\\ude00``) is decoded to one character, so only
    lone halves are found."""
    if isinstance(value, BaseModel):
        # Writing the object as UTF-8 JSON fails exactly on a lone surrogate, in compiled
        # code: a third of the cost of looking at every field here, for every update.
        try:
            value.model_dump_json(exclude_unset=True)
            return False
        except PydanticSerializationError as error:
            if "surrogates not allowed" in str(error):
                return True
    return _walk(value)


def _walk(value: Any) -> bool:
    if isinstance(value, str):
        return _SURROGATE.search(value) is not None
    if isinstance(value, BaseModel):
        extra = value.__pydantic_extra__ or {}
        return any(_walk(v) for v in value.__dict__.values()) or any(
            _walk(k) or _walk(v) for k, v in extra.items()
        )
    if isinstance(value, list | tuple):
        return any(_walk(v) for v in value)
    if isinstance(value, dict):
        return any(_walk(k) or _walk(v) for k, v in value.items())
    return False


class Unencodable(Filter):
    """The poller and the webhook find it in the update's JSON (``unencodable`` in the
    dispatch data, bot.polling.screen); an update fed otherwise is looked at here."""

    async def __call__(self, event: TelegramObject, unencodable: bool | None = None) -> bool:
        return has_lone_surrogate(event) if unencodable is None else unencodable


@router.message(Unencodable())
@router.edited_message(Unencodable())
async def unreadable_message(message: Message) -> None:
    log.info("refused a message with unencodable text (update not handled further)")
    if message.chat.type == "private":
        await message.answer(view.unreadable_message())


@router.callback_query(Unencodable())
async def unreadable_button(query: CallbackQuery) -> None:
    log.info("refused a callback query with unencodable data")
    await query.answer(button_expired(), show_alert=True)


@router.message(F.from_user.is_(None))
@router.edited_message(F.from_user.is_(None))
async def no_sender(message: Message) -> None:
    """Every message Telegram sends a bot in a private chat or a group has a sender
    (anonymous admins appear as a stand-in account); one without is forged or broken, and
    nothing here could answer it (there is no conversation to keep)."""
    log.info("ignored a message without a sender")


@router.callback_query(F.message.is_(None))
async def no_message(query: CallbackQuery) -> None:
    """A button of an inline message: this bot sends none, so it is not one of ours."""
    await query.answer(button_expired(), show_alert=True)


@router.callback_query(
    F.message.func(lambda message: isinstance(message, InaccessibleMessage)),
    ~F.data.startswith("claim:"),
)
async def inaccessible_message(query: CallbackQuery) -> None:
    """A button on a message the bot can no longer reach (deleted, or a forged tap on a
    message id that never existed): nothing can be edited there, and what the button
    offered was answered long ago or never. A handler that edits its message (the
    language menu, a reply's confirmation) would fail on it with an AttributeError.
    Claim needs only the chat, which Telegram still gives: an old card stays claimable."""
    log.info("refused a button on a message the bot cannot reach")
    await query.answer(button_expired(), show_alert=True)


@router.my_chat_member(Unencodable())
async def unreadable_membership(event: ChatMemberUpdated) -> None:
    log.info("ignored a membership change with unencodable text")
