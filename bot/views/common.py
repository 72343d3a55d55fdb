"""Answers several handlers give in the same words: one definition, so they stay the same."""

from __future__ import annotations

from bot.i18n import _


def not_for_coordinators() -> str:
    return _("This command is for coordinators.")


def button_no_longer_valid() -> str:
    return _("This button is no longer valid.")


def case_access_lost() -> str:
    return _("You no longer have access to this case; nothing was changed.")
