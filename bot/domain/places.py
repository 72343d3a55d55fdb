"""Coarse places, currencies, time zones and phone numbers by country.

Areas are chosen from buttons, never typed, so what a card shows is always coarse."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

import phonenumbers
from babel.core import get_global
from babel.numbers import get_currency_precision, get_territory_currencies, list_currencies

from bot import labels
from bot.i18n import current_language

AREAS: dict[str, tuple[str, ...]] = {
    "QA": ("Doha", "Al Rayyan", "Al Wakrah", "Al Khor", "Umm Salal", "Industrial Area"),
    "MY": ("Kuala Lumpur", "Selangor", "Johor", "Penang", "Sabah", "Sarawak", "Perak"),
    "SA": ("Riyadh", "Jeddah", "Dammam", "Mecca", "Medina", "Khobar"),
    "AE": ("Dubai", "Abu Dhabi", "Sharjah", "Ajman"),
    "KW": ("Kuwait City", "Hawalli", "Farwaniya", "Ahmadi"),
    "HK": ("Hong Kong Island", "Kowloon", "New Territories"),
    "NP": ("Kathmandu", "Province 1", "Madhesh", "Lumbini", "Sudurpashchim"),
    "ID": ("Jakarta", "West Java", "Central Java", "East Java", "NTB", "NTT"),
    "BD": ("Dhaka", "Chattogram", "Sylhet", "Khulna", "Rajshahi"),
    "PH": ("Metro Manila", "Luzon", "Visayas", "Mindanao"),
    "IN": ("Kerala", "Tamil Nadu", "Uttar Pradesh", "Bihar", "Telangana"),
}
# The language a reporter chose is a hint to where they come from (used by the SOS path).
LANGUAGE_ORIGINS = {"ne": "NP", "bn": "BD", "id": "ID", "fil": "PH", "hi": "IN"}


def country_name(code: str, language: str | None = None) -> str:
    """In ``language``, or the language of the update being handled."""
    return labels.country(code, language or current_language.get())


def timezone_of(country: str) -> str:
    zones = get_global("territory_zones").get(country) or ["UTC"]
    return zones[-1] if country == "MY" else zones[0]


def currency_of(country: str) -> str | None:
    currencies = get_territory_currencies(country)
    return currencies[0] if currencies else None


class MoneyError(ValueError):
    pass


def parse_money(text: str, default_currency: str | None) -> tuple[int, str]:
    """ "1200", "1,200 QAR", "QAR 1200.50" → (minor units, ISO 4217 code)."""
    cleaned = text.strip().upper().replace(",", "")
    match = re.fullmatch(r"([A-Z]{3})?\s*(\d+(?:\.\d{1,3})?)\s*([A-Z]{3})?", cleaned)
    if not match:
        raise MoneyError("format")
    currency = match.group(1) or match.group(3) or default_currency
    if not currency or currency not in list_currencies():
        raise MoneyError("currency")
    try:
        amount = Decimal(match.group(2))
    except InvalidOperation as exc:
        raise MoneyError("format") from exc
    digits = get_currency_precision(currency)
    minor = int((amount * (10**digits)).to_integral_value())
    if minor <= 0 or minor > 10**13:
        raise MoneyError("range")
    return minor, currency


def parse_phone(text: str, regions: tuple[str, ...]) -> str | None:
    """E.164, or None when the number is not valid for any of the likely regions."""
    for region in regions:
        try:
            number = phonenumbers.parse(text, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return None


def format_money(minor: int, currency: str | None) -> str:
    """Minor units back to an amount with the currency's own precision (KWD has three)."""
    digits = get_currency_precision(currency) if currency and currency in list_currencies() else 2
    return f"{minor / (10**digits):,.{digits}f} {currency or ''}".strip()
