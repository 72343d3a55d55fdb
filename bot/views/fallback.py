"""The polite answers to whatever no other handler took."""

from __future__ import annotations

from bot.i18n import _


def unknown_command() -> str:
    return _("I don't know that command. Here is the menu:")


def edits_not_passed_on() -> str:
    return _(
        "I saw that you edited a message. Edits are not passed on: please send the correction as a new message."
    )


def unsupported_message() -> str:
    return _(
        "I can't use that kind of message. Please write text, or send a photo, voice note, document or location."
    )
