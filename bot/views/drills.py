"""/drill as the coordinator who starts it reads it."""

from __future__ import annotations

from bot.i18n import _


def not_allowed() -> str:
    return _("Only coordinators can start a drill.")


def refused(reason: str) -> str:
    """``reason``: the domain's DrillError reason, a message marked for translation."""
    return _(reason)


def started(code: str) -> str:
    return _(
        "Drill {code} started: a practice case is posted to the group. Work it like a real one; the bot plays the reporter. You will get a short report when it is resolved.",
        code=code,
    )
