"""SOS as the reporter taps it: the question with the countries to alert, what they are told
once it is sent, and the button that shares where they are."""

from __future__ import annotations

from collections.abc import Iterable

from aiogram.types import InlineKeyboardMarkup, ReplyKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder, ReplyKeyboardBuilder

from bot.domain.places import country_name
from bot.domain.sos import SOS_CONSENT
from bot.i18n import _
from bot.views import intake
from bot.views.buttons import SosSend


def countries_keyboard(countries: Iterable[str]) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for code in countries:
        builder.button(text="🆘 " + country_name(code), callback_data=SosSend(country=code))
    return builder.adjust(1).as_markup()


def share_location_keyboard() -> ReplyKeyboardMarkup:
    builder = ReplyKeyboardBuilder()
    builder.button(text=_("📍 Share my location"), request_location=True)
    return builder.as_markup(resize_keyboard=True, one_time_keyboard=True)


def ask_country() -> str:
    return (
        _("🆘 Which country are you in? Tap it and we alert helpers there at once.")
        + "\n\n"
        + _(SOS_CONSENT)
    )


# The same words as the report's buttons and its limit on new cases.
unavailable = intake.unavailable


def too_many() -> str:
    return intake.intake_error("too_many_cases")


def sent_toast() -> str:
    return _("SOS sent")


def repeated(code: str) -> str:
    return _(
        "Your SOS {code} is already with helpers. Write here or share your location: it is added to that case.",
        code=code,
    )


def sent(code: str) -> str:
    return _(
        "🆘 SOS sent. Your case code is {code}. Helpers are being alerted now.\n\n"
        "If you can, share your location with the button below, or write what is happening. Everything you send here is added to this case.",
        code=code,
    )
