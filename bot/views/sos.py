"""SOS as the reporter taps it: the countries to alert, then the button that shares where
they are."""

from __future__ import annotations

from collections.abc import Iterable

from aiogram.types import InlineKeyboardMarkup, ReplyKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder, ReplyKeyboardBuilder

from bot.domain.places import country_name
from bot.i18n import _
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
