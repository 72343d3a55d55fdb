"""What the bot says in a responder group."""

from __future__ import annotations

from bot.i18n import _


def private_only(bot_username: str) -> str:
    return _(
        "For everyone's safety, reports are only taken in a private chat with me: https://t.me/{bot}",
        bot=bot_username,
    )


def group_linked(organisation_id: str, posted: int) -> str:
    """``posted``: the cases waiting for an owner that were posted to the group just now."""
    text = _("This group now receives the case cards of {org}.", org=organisation_id)
    if posted:
        text += "\n" + _("Cases waiting for an owner, posted here now: {n}", n=posted)
    return text


def link_group_usage() -> str:
    return _("Usage: /linkgroup ORGANISATION_ID (an organisation of your corridors)")
