"""The reporter's safety controls as they read them: clearing the chat, erasing their data,
and what they agreed to share."""

from __future__ import annotations

from collections.abc import Iterable

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.i18n import N_, _, _n
from bot.taxonomy import ConsentPurpose
from bot.views.buttons import ClearChat, ConsentGive, ConsentWithdraw, Forget
from models import Case

PURPOSE_LABELS = {
    ConsentPurpose.DESTINATION_HELP.value: N_("Helpers in the country where you work"),
    ConsentPurpose.ORIGIN_HELP.value: N_("Helpers in your home country"),
    ConsentPurpose.STATISTICS.value: N_("Anonymous statistics"),
}


def clear_question() -> str:
    return _(
        "Delete this conversation from your phone? Messages older than 2 days cannot be deleted by the bot."
    )


def cleared(left: int) -> str:
    """``left``: the messages the bot could not delete (too old, or refused by Telegram)."""
    if not left:
        return _("Done. This chat was cleared.")
    return _n(
        "Done. {n} older message could not be deleted by the bot: please delete this chat in Telegram (press and hold the chat, then Delete).",
        "Done. {n} older messages could not be deleted by the bot: please delete this chat in Telegram (press and hold the chat, then Delete).",
        left,
    )


def no_reports() -> str:
    return _("We hold no reports from you.")


def forget_question() -> str:
    return _(
        "Erase everything you told us? Your open cases will be closed and helpers told. This cannot be undone."
    )


def erased(cases: int) -> str:
    return _n(
        "Your data has been erased ({n} case). You can use /clear to delete this chat too.",
        "Your data has been erased ({n} cases). You can use /clear to delete this chat too.",
        cases,
    )


def consent_already(withdrawn: bool) -> str:
    """A second press (or an old message): the change was already in force."""
    return (
        _("Already withdrawn. /consent shows what you share.")
        if withdrawn
        else _("Already agreed. /consent shows what you share.")
    )


def consent_changed(withdrawn: bool, code: str) -> str:
    return (
        _("Withdrawn. We stopped sharing case {code} for this purpose.", code=code)
        if withdrawn
        else _("Thank you. Case {code} is now shared for this purpose.", code=code)
    )


def block_usage() -> str:
    return _("Usage: /block CODE (a case of your corridors)")


def blocked(code: str) -> str:
    return _("The account behind {code} is blocked.", code=code)


def clear_keyboard() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("🧹 Yes, clear this chat"), callback_data=ClearChat(confirm=1))
    return builder.as_markup()


def forget_keyboard() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("Yes, erase my data"), callback_data=Forget(confirm=1))
    return builder.as_markup()


def consent_overview(
    consents: Iterable[tuple[Case, dict[str, bool]]],
) -> tuple[str, InlineKeyboardMarkup | None]:
    """Each open case's purposes, given or not, with a button that changes each: withdraw
    what is given, give what is not."""
    lines = [_("What you agreed to share:")]
    builder = InlineKeyboardBuilder()
    for case, current in consents:
        for purpose, label in PURPOSE_LABELS.items():
            granted = current.get(purpose, False)
            lines.append(f"{case.code} · {_(label)}: {'✓' if granted else '✗'}")
            what = _(label)
            if granted:
                builder.button(
                    text=_("Withdraw: {what} ({code})", what=what, code=case.code),
                    callback_data=ConsentWithdraw(case_id=case.id, purpose=purpose),
                )
            else:
                builder.button(
                    text=_("Agree: {what} ({code})", what=what, code=case.code),
                    callback_data=ConsentGive(case_id=case.id, purpose=purpose),
                )
    if len(lines) == 1:
        lines.append(_("No open case."))
    keyboard = builder.adjust(1).as_markup()
    return "\n".join(lines), keyboard if keyboard.inline_keyboard else None
