"""Saved replies as their sender sees them: which case, which reply, the preview."""

from __future__ import annotations

from collections.abc import Iterable

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.domain import saved_replies
from bot.domain.saved_replies import SavedReply
from bot.i18n import _, language_name
from bot.views.buttons import SavedCase, SavedPick, SavedSend
from models import Case


def no_own_case() -> str:
    return _("You have no open case of your own. Usage: /saved CODE [REPLY]")


def which_case() -> str:
    return _("A saved reply for which case?")


def no_such_reply(reply: str, case: Case, language: str) -> str:
    return _(
        "There is no saved reply {reply} in the reporter's language ({language}). /saved {code} lists them.",
        reply=reply,
        language=language_name(case.language, language),
        code=case.code,
    )


def replies_intro(case: Case, language: str) -> str:
    return _(
        "Saved replies for case {code}; the reporter will read the one you pick in {language}:",
        code=case.code,
        language=language_name(case.language, language),
    )


def field_prompt(name: str) -> str:
    """What to ask for the field ``name`` of a saved reply."""
    return _(saved_replies.PROMPTS[name])


def bad_value(problem: str, name: str) -> str:
    """What was wrong with the value just typed, and the field's question again."""
    return problem + "\n" + field_prompt(name)


def press_a_button() -> str:
    return _("Please press Send or Cancel under the preview.")


def not_sent() -> str:
    return _("Not sent.")


def cases_keyboard(cases: Iterable[Case]) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for case in cases:
        builder.button(text=case.code, callback_data=SavedCase(case_id=case.id))
    return builder.adjust(1).as_markup()


def replies_keyboard(
    case: Case, replies: Iterable[SavedReply], language: str
) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for reply in replies:
        builder.button(
            text=reply.title(language), callback_data=SavedPick(case_id=case.id, code=reply.code)
        )
    return builder.adjust(1).as_markup()


def preview_text(case: Case, reply: SavedReply, values: dict[str, str], language: str) -> str:
    return (
        _(
            "Preview of “{title}” for case {code}. The reporter will read it in {language}:",
            title=reply.title(language),
            code=case.code,
            language=language_name(case.language, language),
        )
        + "\n\n"
        + saved_replies.render(reply, language, values, case.code)
    )


def preview_keyboard(case: Case) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("✅ Send"), callback_data=SavedSend(case_id=case.id, send=1))
    builder.button(text=_("✖️ Cancel"), callback_data=SavedSend(case_id=case.id, send=0))
    return builder.as_markup()
