"""Keeping the gettext catalogues in step with the code.

`python -m bot.i18n_catalog` extracts every marked string into bot/locales/messages.pot
and merges it into each language's .po (new strings arrive empty, removed ones become
obsolete), which is what translators then open in Poedit, Weblate or any .po editor."""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from bot.i18n import LANGUAGE_NAMES, LOCALES_DIR

ROOT = Path(__file__).resolve().parent.parent
# The sandbox and the stories (devtools/) speak to people too, through the same catalogues.
SOURCES = ("bot", "handlers", "devtools/corridor_dev")
KEYWORDS = {"_": None, "N_": None, "tr": (2,), "ntr": (2, 3), "_n": (1, 2)}
TEMPLATE = LOCALES_DIR / "messages.pot"


def extract() -> Catalog:
    catalog = Catalog(project="Corridor", version="1", charset="utf-8")
    for folder in SOURCES:
        for filename, lineno, message, comments, context in extract_from_dir(
            ROOT / folder,
            method_map=[("**.py", "python")],
            keywords=KEYWORDS,
            comment_tags=("Translators:",),
        ):
            catalog.add(
                message,
                locations=[(f"{folder}/{filename}", lineno)],
                auto_comments=comments,
                context=context,
                flags=("python-brace-format",) if "{" in str(message) else (),
            )
    return catalog


def is_translated(message: Message) -> bool:
    """Translated and not fuzzy; a plural message needs every form its language has."""
    forms = message.string if message.pluralizable else (message.string,)
    return bool(forms) and all(forms) and not message.fuzzy


def read(path: Path) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle)


def update() -> None:
    template = extract()
    LOCALES_DIR.mkdir(exist_ok=True)
    with TEMPLATE.open("wb") as handle:
        write_po(
            handle, template, width=100, omit_header=False, sort_output=True, include_lineno=False
        )
    for language in LANGUAGE_NAMES:
        if language == "en":
            continue
        path = LOCALES_DIR / f"{language}.po"
        catalog = (
            read(path)
            if path.exists()
            else Catalog(locale=language.replace("fil", "fil"), project="Corridor")
        )
        catalog.update(template, no_fuzzy_matching=True)
        with path.open("wb") as handle:
            write_po(
                handle,
                catalog,
                width=100,
                sort_output=True,
                include_lineno=False,
                ignore_obsolete=True,
            )
        print(
            f"{path.relative_to(ROOT)}: "
            f"{sum(1 for m in catalog if m.id and not is_translated(m))} untranslated"
        )


if __name__ == "__main__":
    update()
    sys.exit(0)
