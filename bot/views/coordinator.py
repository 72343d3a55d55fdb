"""What a coordinator taps in the chat (the dashboard has its own views in bot.webapp)."""

from __future__ import annotations

import html
from collections.abc import Iterable

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot import labels
from bot.i18n import _, _n
from bot.views.buttons import InviteOrg
from models import Organisation, Person


def invite_keyboard(organisations: Iterable[Organisation]) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for org in organisations:
        builder.button(text=org.name, callback_data=InviteOrg(org=org.id))
    return builder.adjust(1).as_markup()


def digest_queued() -> str:
    return _("Your digest is on its way.")


def stats_usage() -> str:
    return _("Usage: /stats [days, e.g. 30d] [corridor, e.g. NP-QA]")


def dashboard_not_set_up() -> str:
    return _("The dashboard is not set up on this server yet (see [webapp] in the configuration).")


def dashboard_intro() -> str:
    return _("Your corridors at a glance:")


def no_organisation() -> str:
    return _("None of your corridors has an organisation yet.")


def invite_question() -> str:
    return _("Invite a responder to which organisation?")


def invite_link(bot_username: str, token: str) -> str:
    # Built outside the call: an f-string among _()'s arguments makes extraction warn.
    link = f"https://t.me/{bot_username}?start=join_{token}"
    return _("Send this one-time link to the new responder (valid 7 days):\n{link}", link=link)


def team_text(teams: Iterable[tuple[Organisation, Iterable[Person]]], language: str) -> str:
    """Each organisation (HTML) with its active people: name, id to use in /remove, role."""
    lines = []
    for org, people in teams:
        lines.append(f"<b>{html.escape(org.name)}</b>")
        lines += [
            f"• {html.escape(p.name)} — <code>{html.escape(p.id)}</code>"
            f" ({labels.role(p.role, language)})"
            for p in people
        ]
    return "\n".join(lines) or no_organisation()


def remove_result(result: str, person_id: str) -> str:
    """``result`` is what onboarding.remove_person answered ("unknown" for no argument)."""
    replies = {
        "removed": _(
            "{person} no longer has access. Their open cases are back in the queue.",
            person=person_id,
        ),
        "not_allowed": _("You cannot remove this person."),
        "unknown": _("Usage: /remove PERSON_ID (see /team)"),
    }
    return replies[result]


def override_set(person: str, start: str, end: str, on_call: bool) -> str:
    """``start`` and ``end`` already written as the reader's language writes dates."""
    shown = {"person": person, "start": start, "end": end}
    return (
        _("Noted: {person} is on call from {start} to {end}.", **shown)
        if on_call
        else _("Noted: {person} is away from {start} to {end}.", **shown)
    )


def override_refused(result: str) -> str:
    """``result``: onboarding.set_override's refusal, or "usage" for arguments it never saw."""
    replies = {
        "not_allowed": _(
            "You cannot change this person's rota (or the dates are the wrong way round)."
        ),
        "unknown": _("No such person. See /team."),
        "usage": _(
            "Usage: /away PERSON_ID YYYY-MM-DD YYYY-MM-DD or /cover PERSON_ID YYYY-MM-DD YYYY-MM-DD"
        ),
    }
    return replies[result]


def export_usage() -> str:
    return _("Usage: /export [csv|json] [FROM TO as YYYY-MM-DD] [corridor, e.g. NP-QA]")


def export_caption(n: int, k: int) -> str:
    return _n(
        "{n} case with statistics consent; small cells suppressed (k={k}).",
        "{n} cases with statistics consent; small cells suppressed (k={k}).",
        n,
        k=k,
    )
