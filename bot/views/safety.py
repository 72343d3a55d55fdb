"""The reporter's safety controls as they read them: clearing the chat, erasing their data,
and what they agreed to share."""

from __future__ import annotations

from collections.abc import Iterable

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.i18n import N_, _
from bot.taxonomy import ConsentPurpose
from bot.views.buttons import ClearChat, ConsentGive, ConsentWithdraw, Forget
from models import Case

PURPOSE_LABELS = {
    ConsentPurpose.DESTINATION_HELP.value: N_("Helpers in the country where you work"),
    ConsentPurpose.ORIGIN_HELP.value: N_("Helpers in your home country"),
    ConsentPurpose.STATISTICS.value: N_("Anonymous statistics"),
}


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
