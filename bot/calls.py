"""Bot API calls as data: what a handler asked to send is stored with the commit and rebuilt
for delivery, and what the domain queued (text, keyboard, a file) becomes a call."""

from __future__ import annotations

import base64
import contextvars
import datetime as dt
from dataclasses import dataclass
from typing import Any

from aiogram import methods
from aiogram.client.default import Default
from aiogram.methods import TelegramMethod
from aiogram.types import BufferedInputFile, FSInputFile, InputFile
from pydantic import BaseModel

_FILE = "__file__"

# Methods that put something in a chat (or change or remove it): these are paced per chat,
# per group and overall. Everything else (getUpdates, getMe, setWebhook …) goes straight out.
_CHAT_PREFIXES = (
    "send",
    "copyMessage",
    "forwardMessage",
    "editMessage",
    "deleteMessage",
    "pinChatMessage",
    "unpinChatMessage",
)
# Of those, the ones that count towards a group's 20 messages a minute.
_NEW_MESSAGE_PREFIXES = ("send", "copyMessage", "forwardMessage")

# Set while delivery sends a message of which it keeps only the id: the Bot API's answer is
# then read as plain JSON, not as the whole Message (parsing it cost a fifth of the send).
only_the_message_id: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "only_the_message_id", default=False
)


@dataclass(frozen=True)
class Sent:
    """What delivery keeps of a message it sent."""

    message_id: int | None


_BY_NAME: dict[str, type[TelegramMethod]] = {
    cls.__api_method__: cls
    for cls in vars(methods).values()
    if isinstance(cls, type) and issubclass(cls, TelegramMethod) and hasattr(cls, "__api_method__")
}


def name(call: TelegramMethod) -> str:
    return call.__api_method__


def is_chat_call(call: TelegramMethod) -> bool:
    api = name(call)
    return api.startswith(_CHAT_PREFIXES) and api != "sendChatAction"


def is_new_message(api: str) -> bool:
    return api.startswith(_NEW_MESSAGE_PREFIXES)


def _file_bytes(value: InputFile) -> dict[str, Any]:
    if isinstance(value, BufferedInputFile):
        data = value.data
    elif isinstance(value, FSInputFile):
        with open(value.path, "rb") as handle:
            data = handle.read()
    else:
        raise TypeError(f"cannot store a {type(value).__name__} in the outbox")
    return {_FILE: base64.b64encode(data).decode(), "filename": value.filename or "file"}


def dump(call: TelegramMethod) -> dict[str, Any]:
    """The call's explicit arguments as JSON-ready data (defaults stay the bot's defaults)."""
    return _plain(call)


def _plain(value: Any) -> Any:
    if isinstance(value, InputFile):
        return _file_bytes(value)
    if isinstance(value, BaseModel):
        return {
            field: _plain(item)
            for field in type(value).model_fields
            if (item := getattr(value, field)) is not None and not isinstance(item, Default)
        }
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return value


def load(api: str, data: dict[str, Any]) -> TelegramMethod:
    arguments = {
        key: BufferedInputFile(base64.b64decode(value[_FILE]), filename=value["filename"])
        if isinstance(value, dict) and _FILE in value
        else value
        for key, value in data.items()
    }
    return _BY_NAME[api].model_validate(arguments)


def chat_of(call: TelegramMethod) -> int | None:
    chat = getattr(call, "chat_id", None)
    if isinstance(chat, int):
        return chat
    if isinstance(chat, str) and chat.lstrip("-").isdigit():
        return int(chat)
    return None
