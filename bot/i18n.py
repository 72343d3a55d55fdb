"""Translation layer: gettext catalogues (.po) read with Babel, no compile step.

``_`` translates into the language of the update being handled (set by the i18n
middleware); ``tr`` translates into an explicit language, for messages the bot sends on
its own (follow-ups, cards, digests) to someone who is not the current user.
"""

from __future__ import annotations

import contextvars
import gettext
from collections.abc import Callable
from functools import cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

LOCALES_DIR = Path(__file__).with_name("locales")
DEFAULT_LANGUAGE = "en"

# Language names in their own script, shown on the language picker.
LANGUAGE_NAMES = {
    "en": "English",
    "ne": "नेपाली",
    "bn": "বাংলা",
    "id": "Bahasa Indonesia",
    "fil": "Filipino",
    "hi": "हिन्दी",
    "ar": "العربية",
    "ms": "Bahasa Melayu",
    "ur": "اردو",
}
# Written right to left. Their lines start with a right-to-left mark, so a line that begins
# with a case code, a number or an emoji still reads from the right in every client.
RTL_LANGUAGES = frozenset({"ar", "ur"})
RLM = "\u200f"
# Telegram sends IETF tags such as "ne-NP" or "tl"; map them to the catalogue we ship.
LANGUAGE_ALIASES = {"tl": "fil", "in": "id", "zsm": "ms"}

current_language: contextvars.ContextVar[str] = contextvars.ContextVar(
    "current_language", default=DEFAULT_LANGUAGE
)


def N_(message: str) -> str:
    """Mark a string for extraction; it is translated later, where it is shown."""
    return message


@cache
def _read(language: str) -> Catalog | None:
    path = LOCALES_DIR / f"{language}.po"
    if not path.exists():
        return None
    with path.open("rb") as handle:
        return read_po(handle)


@cache
def _catalogue(language: str) -> dict[str, str]:
    catalog = _read(language)
    return {
        str(message.id): str(message.string)
        for message in catalog or ()
        if message.id and not message.pluralizable and message.string and not message.fuzzy
    }


@cache
def _plurals(language: str) -> tuple[dict[str, tuple[str, ...]], Callable[[int], int]]:
    """Plural messages by their singular, with the language's rule choosing the form."""
    catalog = _read(language)
    if catalog is None:
        return {}, lambda n: int(n != 1)
    forms = {
        str(message.id[0]): tuple(str(form) for form in message.string)
        for message in catalog
        if message.pluralizable and all(message.string) and not message.fuzzy
    }
    return forms, gettext.c2py(catalog.plural_expr)


def available_languages() -> list[str]:
    return list(LANGUAGE_NAMES)


def normalise_language(code: str | None, default: str = DEFAULT_LANGUAGE) -> str:
    if not code:
        return default
    base = code.lower().replace("_", "-").split("-")[0]
    base = LANGUAGE_ALIASES.get(base, base)
    return base if base in LANGUAGE_NAMES else default


class Untranslated:
    """Messages looked up in a language whose catalogue lacks them. Tests collect them (set
    ``seen`` to a set) to fail on anything a reader would get in English instead."""

    seen: set[tuple[str, str]] | None = None

    @classmethod
    def note(cls, language: str, message: str) -> None:
        # Place and company names pass through ``_`` too; a sentence of three or more words
        # or any catalogue message is what counts.
        if cls.seen is not None and (message in _template() or len(message.split()) >= 3):
            cls.seen.add((language, message))


@cache
def _template() -> frozenset[str]:
    path = LOCALES_DIR / "messages.pot"
    with path.open("rb") as handle:
        return frozenset(str(m.id[0] if m.pluralizable else m.id) for m in read_po(handle) if m.id)


def tr(language: str, message: str, /, **values: object) -> str:
    text = _catalogue(language).get(message, message) if language != DEFAULT_LANGUAGE else message
    if text is message and language != DEFAULT_LANGUAGE:
        Untranslated.note(language, message)
    return bidi_lines(text.format(**values) if values else text, language)


def bidi_lines(text: str, language: str) -> str:
    """Marks every line of a right-to-left language's text as right to left."""
    if language not in RTL_LANGUAGES:
        return text
    return "\n".join(line if line.startswith(RLM) else RLM + line for line in text.split("\n"))


def _(message: str, /, **values: object) -> str:
    return tr(current_language.get(), message, **values)


def ntr(language: str, singular: str, plural: str, n: int, /, **values: object) -> str:
    """ngettext: the form of the message the reader's language uses for ``n`` ({n} is
    filled in). English, and any message not yet translated, choose between the two given."""
    forms, rule = _plurals(language) if language != DEFAULT_LANGUAGE else ({}, None)
    chosen = forms.get(singular)
    if chosen and rule is not None:
        text = chosen[min(rule(n), len(chosen) - 1)]
    else:
        text = singular if n == 1 else plural
        if language != DEFAULT_LANGUAGE:
            Untranslated.note(language, singular)
    return bidi_lines(text.format(n=n, **values), language)


def _n(singular: str, plural: str, n: int, /, **values: object) -> str:
    return ntr(current_language.get(), singular, plural, n, **values)


@cache
def _locale(language: str) -> Locale | None:
    try:
        return Locale.parse(language.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return None


def language_name(code: str, in_language: str) -> str:
    """A language's name in the reader's language, from CLDR (Babel); the code if unknown."""
    locale = _locale(in_language) or _locale(DEFAULT_LANGUAGE)
    key = code.replace("-", "_")
    return locale.languages.get(key) or locale.languages.get(key.split("_")[0]) or code


def has_translation(language: str, message: str) -> bool:
    """Whether a reader of ``language`` gets ``message`` in their language (English always)."""
    return language == DEFAULT_LANGUAGE or message in _catalogue(language)
