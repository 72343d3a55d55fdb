"""Words several handler modules say the same way: a stale button, a case that is not the
reader's, a command for staff only. One definition each, so every place says them alike."""

from __future__ import annotations

from bot.i18n import _


def button_expired() -> str:
    return _("This button is no longer valid.")


def not_yours(code: str) -> str:
    return _("No case {code} is yours.", code=code)


def responders_only() -> str:
    return _("This command is for responders.")


def not_for_coordinators() -> str:
    return _("This command is for coordinators.")


def access_lost() -> str:
    return _("You no longer have access to this case; nothing was changed.")


def not_open_nothing_sent(code: str) -> str:
    return _("Case {code} is not open; nothing was sent.", code=code)
