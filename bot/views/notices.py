"""What the outbox carries: each notice of ``bot.domain.notices`` as text and buttons in the
reader's language. Keyboards are built from the ``CallbackData`` of ``bot.views.buttons``,
so a button tapped on any of these messages matches its handler's filter."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiogram.types import InlineKeyboardMarkup, WebAppInfo
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.domain.notices import (
    Card,
    CardWithdrawn,
    ConsentRequest,
    DashboardLink,
    FeedbackRequest,
    Notice,
    QuietCase,
    Rendered,
    SafetyCheck,
)
from bot.domain.places import country_name
from bot.i18n import tr
from bot.taxonomy import ORGANISATION_KINDS, OUTCOMES, REFERRAL_REASONS
from bot.views.buttons import CheckIn, ConsentAnswer, Feedback, Snooze
from bot.views.cards import card_keyboard, card_text
from models import Case, Organisation


def _json(markup: InlineKeyboardMarkup | None) -> dict[str, Any] | None:
    """The keyboard as the outbox row stores it (and the Bot API takes it)."""
    return None if markup is None else markup.model_dump(mode="json", exclude_none=True)


def checkin_keyboard(case: Case, language: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for answer, label in (
        ("safe", tr(language, "🙂 I am safe")),
        ("unsafe", tr(language, "⚠️ Not safe")),
        ("changed", tr(language, "Something changed")),
    ):
        builder.button(text=label, callback_data=CheckIn(case_id=case.id, answer=answer).pack())
    return builder.adjust(2, 1).as_markup()


def snooze_keyboard(case: Case, language: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=tr(language, "Snooze 1 day"), callback_data=Snooze(case_id=case.id, hours=24).pack()
    )
    builder.button(
        text=tr(language, "Snooze 3 days"), callback_data=Snooze(case_id=case.id, hours=72).pack()
    )
    return builder.adjust(2).as_markup()


def consent_keyboard(case: Case, purpose: str, language: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for granted, label in ((1, tr(language, "Yes")), (0, tr(language, "No"))):
        builder.button(
            text=label,
            callback_data=ConsentAnswer(case_id=case.id, purpose=purpose, granted=granted).pack(),
        )
    return builder.adjust(2).as_markup()


def feedback_keyboard(case: Case) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for score in range(1, 6):
        builder.button(text=str(score), callback_data=Feedback(case_id=case.id, score=score).pack())
    return builder.adjust(5).as_markup()


def dashboard_keyboard(url: str, language: str) -> InlineKeyboardMarkup:
    """Opens the dashboard (Telegram allows a web app button in private chats only)."""
    builder = InlineKeyboardBuilder()
    builder.button(text=tr(language, "📋 Open the dashboard"), web_app=WebAppInfo(url=url))
    return builder.as_markup()


def consent_question(case: Case, receiver: Organisation, language: str) -> str:
    """Who would receive the case, and why."""
    kind = ORGANISATION_KINDS.get(receiver.kind, ORGANISATION_KINDS["ngo"])
    return (
        tr(
            language,
            "Your helper wants to pass case {code} to {receiver}.",
            code=case.code,
            receiver=tr(language, kind, country=country_name(receiver.country, language)),
        )
        + "\n"
        + tr(language, REFERRAL_REASONS[receiver.side])
        + "\n\n"
        + tr(language, "May we share your report with them?")
    )


def _card(notice: Card, language: str) -> Rendered:
    text = card_text(
        notice.case,
        language,
        notice.now,
        owner_name=notice.owner_name,
        owner_org=notice.owner_org,
        note=notice.note,
        note_values=dict(notice.note_values or {}),
    )
    return Rendered(text, _json(card_keyboard(notice.case, language)), parse_mode="HTML")


def _card_withdrawn(notice: CardWithdrawn, language: str) -> Rendered:
    return Rendered(tr(language, "Case {code}: withdrawn by the reporter.", code=notice.case.code))


def _safety_check(notice: SafetyCheck, language: str) -> Rendered:
    text = tr(
        language,
        "Checking in about your case {code}. Are you safe? Has anything changed?",
        code=notice.case.code,
    )
    return Rendered(text, _json(checkin_keyboard(notice.case, language)))


def _quiet_case(notice: QuietCase, language: str) -> Rendered:
    text = tr(
        language,
        "⏰ Case {code} has been quiet for a while. Any news? /case {code} · /resolve {code}",
        code=notice.case.code,
    )
    return Rendered(text, _json(snooze_keyboard(notice.case, language)))


def _consent_request(notice: ConsentRequest, language: str) -> Rendered:
    return Rendered(
        consent_question(notice.case, notice.receiver, language),
        _json(consent_keyboard(notice.case, notice.purpose, language)),
    )


def _feedback_request(notice: FeedbackRequest, language: str) -> Rendered:
    case = notice.case
    text = tr(
        language,
        "Your case {code} is now resolved: {outcome}.\nHow did we do? 1 = bad, 5 = very good.",
        code=case.code,
        outcome=tr(language, OUTCOMES[case.outcome]),
    )
    return Rendered(text, _json(feedback_keyboard(case)))


def _dashboard_link(notice: DashboardLink, language: str) -> Rendered:
    return Rendered(None, _json(dashboard_keyboard(notice.url, language)))


_RENDER: dict[type[Notice], Callable[[Any, str], Rendered]] = {
    Card: _card,
    CardWithdrawn: _card_withdrawn,
    SafetyCheck: _safety_check,
    QuietCase: _quiet_case,
    ConsentRequest: _consent_request,
    FeedbackRequest: _feedback_request,
    DashboardLink: _dashboard_link,
}


class NoticeViews:
    """The ``Renderer`` the domain is built with."""

    def render(self, notice: Notice, language: str) -> Rendered:
        return _RENDER[type(notice)](notice, language)
