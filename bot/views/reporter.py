"""What a reporter reads after submitting: /join, withdrawing, their messages to a case, and
the thanks for their answers to a check-in, a feedback request or a consent question."""

from __future__ import annotations

from bot.i18n import _


def join_usage() -> str:
    return _("Usage: /join CODE — the code the person who reported for you received.")


def join_invalid() -> str:
    return _("That code is not valid. Please check it with the person who reported for you.")


def now_following(code: str) -> str:
    return _(
        "You now follow case {code} yourself. Write here at any time; /status shows its status.",
        code=code,
    )


def withdraw_question(code: str) -> str:
    return _("Withdraw case {code}? Helpers will stop working on it.", code=code)


def withdrawn(code: str) -> str:
    return _("Case {code} was withdrawn. You can report again at any time.", code=code)


def delivered(relayed: bool, code: str) -> str:
    """Relayed: the case has an owner who got it; otherwise it waits on the case."""
    if relayed:
        return _("Sent to your helper (case {code}).", code=code)
    return _("Added to your case {code}. A helper will see it.", code=code)


def staff_reply_hint() -> str:
    return _("To answer a reporter, reply to their relayed message or use /reply CODE text.")


def forward_unusable() -> str:
    return _("I can't use forwarded messages of this kind. Please write it in your own words.")


def no_open_case() -> str:
    return _("You have no open case. What would you like to do?")


def which_case() -> str:
    return _("Which case is this about?")


def checkin_reply(result: str) -> str:
    """The answer to a check-in tap: ``safe``, ``unsafe`` or ``changed``."""
    if result == "safe":
        return _("Thank you. We are glad you are safe. Write here any time.")
    if result == "unsafe":
        return _(
            "Your helper and the coordinator have been alerted now. If you can, share your location or write what is happening. If you can call, /help lists emergency contacts."
        )
    if result == "changed":
        return _("Please tell us what changed. Your next messages go to your helper.")
    raise KeyError(result)


def feedback_thanks() -> str:
    return _("Thank you for your feedback.")


def comment_invitation() -> str:
    return _("Thank you. If you like, write a few words about how we helped. Or send /skip.")


def thank_you() -> str:
    return _("Thank you.")


def consent_stale() -> str:
    return _("This question was already answered. /consent shows what you share and changes it.")


def consent_recorded() -> str:
    return _("Thank you. Your answer was recorded.")
