"""The answer to an update refused before any handler sees it."""

from __future__ import annotations

from bot.i18n import _


def unreadable_message() -> str:
    return _("I can't read that message: some of its characters are damaged. Please type it again.")
