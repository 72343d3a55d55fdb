"""Codes as a reader reads them: every stored code (urgency, status, outcome, category,
triage reason, country, language) and every duration or date, in the reader's language.

Countries, languages, durations and dates come from CLDR through Babel; the project's own
labels from the gettext catalogues."""

from __future__ import annotations

import datetime as dt

import pycountry
from babel.dates import format_date, format_timedelta

from bot.i18n import DEFAULT_LANGUAGE, _locale, language_name, tr
from bot.taxonomy import (
    CATEGORIES,
    OUTCOMES,
    RED_FLAG_LABELS,
    STATUS_LABELS,
    TRIAGE_REASONS,
    URGENCY_LABELS,
)


def _babel(language: str):  # type: ignore[no-untyped-def]
    return _locale(language) or _locale(DEFAULT_LANGUAGE)


def country(code: str, language: str) -> str:
    """The country's name in the reader's language (CLDR); the code when it is unknown."""
    name = _babel(language).territories.get(code.upper()) if code else None
    if name:
        return name
    known = pycountry.countries.get(alpha_2=code) if code else None
    return getattr(known, "common_name", None) or (known.name if known else code)


def language(code: str, reader: str) -> str:
    return language_name(code, reader)


def _label(labels: dict, code: str, language: str) -> str:
    label = labels.get(code)
    return tr(language, label) if label else code


def urgency(code: str, language: str) -> str:
    return _label(URGENCY_LABELS, code, language)


def status(code: str, language: str) -> str:
    return _label(STATUS_LABELS, code, language)


def outcome(code: str, language: str) -> str:
    return _label(OUTCOMES, code, language)


def categories(codes: list[str], language: str) -> str:
    return ", ".join(_label(CATEGORIES, code, language) for code in codes)


def reasons(reason: str | None, language: str) -> str:
    """A triage reason ("sos; categories:PHYS; flags:violence") in words; "" for none."""
    words: list[str] = []
    for part in (reason or "").split(";"):
        part = part.strip()
        kind, _, values = part.partition(":")
        if kind == "categories":
            words += [_label(CATEGORIES, c, language) for c in values.split(",") if c]
        elif kind == "flags":
            words += [_label(RED_FLAG_LABELS, f, language) for f in values.split(",") if f]
        elif part in TRIAGE_REASONS:
            words.append(tr(language, TRIAGE_REASONS[part]))
    return ", ".join(words)


def urgency_with_reasons(code: str, reason: str | None, language: str) -> str:
    why = reasons(reason, language)
    return f"{urgency(code, language)} ({why})" if why else urgency(code, language)


def duration(delta: dt.timedelta, language: str) -> str:
    """A humanised duration ("3 days", "४ घण्टा") rounded the way people round."""
    return format_timedelta(delta, threshold=1.5, locale=_babel(language))


def ago(delta: dt.timedelta, language: str) -> str:
    """How long ago, with the language's own wording ("3 days ago", "३ दिन पहिले")."""
    # Under a minute reads as "1 minute ago": CLDR has no "just now", and "in 0 seconds"
    # (what a zero delta gives) would be wrong.
    past = -max(abs(delta), dt.timedelta(minutes=1))
    return format_timedelta(
        past, threshold=1.5, granularity="minute", add_direction=True, locale=_babel(language)
    )


def date(day: dt.date, language: str) -> str:
    return format_date(day, "medium", locale=_babel(language))
