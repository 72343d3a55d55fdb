"""Translations: complete, not fuzzy, placeholders intact, in step with the code."""

from __future__ import annotations

import re

import pytest

from bot.i18n import (
    LANGUAGE_NAMES,
    LOCALES_DIR,
    RLM,
    _catalogue,
    bidi_lines,
    normalise_language,
    ntr,
    tr,
)
from bot.i18n_catalog import TEMPLATE, extract, is_translated, read

LANGUAGES = [code for code in LANGUAGE_NAMES if code != "en"]
PLACEHOLDER = re.compile(r"{(\w*)}")
TAG = re.compile(r"</?(\w+)")


def test_template_is_in_step_with_the_code() -> None:
    in_code = {str(m.id) for m in extract() if m.id}
    in_template = {str(m.id) for m in read(TEMPLATE) if m.id}
    missing, stale = in_code - in_template, in_template - in_code
    assert not missing and not stale, (
        f"run `python -m bot.i18n_catalog`: {len(missing)} new strings, {len(stale)} removed "
        f"(e.g. {sorted(missing)[:3]} {sorted(stale)[:3]})"
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalogue_is_complete_and_not_fuzzy(language: str) -> None:
    catalog = read(LOCALES_DIR / f"{language}.po")
    template_ids = {str(m.id) for m in read(TEMPLATE) if m.id}
    translated = {str(m.id) for m in catalog if m.id and is_translated(m)}
    missing = sorted(template_ids - translated)
    assert not missing, f"{language}: {len(missing)} missing or fuzzy, e.g. {missing[:5]}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_keep_placeholders_and_markup(language: str) -> None:
    for message in read(LOCALES_DIR / f"{language}.po"):
        if not message.id or not message.string:
            continue
        source, target = str(message.id), str(message.string)
        assert set(PLACEHOLDER.findall(source)) == set(PLACEHOLDER.findall(target)), (
            language,
            source,
        )
        assert sorted(TAG.findall(source)) == sorted(TAG.findall(target)), (language, source)
        assert ("/" in source.split()[0]) <= True  # commands stay commands (checked below)
        for command in re.findall(r"/[a-z]+", source):
            assert command in target, (language, source, command)


def test_translation_is_used_and_formatted() -> None:
    message = "Your cases:"
    assert tr("en", message) == message
    for language in LANGUAGES:
        expected = bidi_lines(_catalogue(language)[message], language)
        assert tr(language, message) == expected != message


def test_unknown_languages_fall_back() -> None:
    assert normalise_language("ne-NP") == "ne"
    assert normalise_language("tl") == "fil"
    assert normalise_language("xx") == "en"
    assert normalise_language(None) == "en"


@pytest.mark.parametrize("language", ["ar", "ur"])
def test_right_to_left_lines_start_with_a_right_to_left_mark(language: str) -> None:
    text = tr(language, "Workers affected: {n}", n=3) + "\n" + tr(language, "Your cases:")
    lines = tr(
        language, "{n} cases with statistics consent; small cells suppressed (k={k}).", n=4, k=5
    )
    assert all(line.startswith(RLM) and line.count(RLM) == 1 for line in text.split("\n"))
    assert lines.startswith(RLM) and tr("ne", "Your cases:")[0] != RLM


PLURALS = [m.id for m in read(TEMPLATE) if m.pluralizable]
SAMPLE_VALUES = {"k": 5, "kind": "Employer", "name": "Al Noor", "codes": "QA-ABCDE"}


@pytest.mark.parametrize("language", list(LANGUAGE_NAMES))
def test_every_plural_message_renders_for_0_1_2_5(language: str) -> None:
    assert len(PLURALS) >= 5
    for singular, plural in PLURALS:
        for n in (0, 1, 2, 5):
            text = ntr(language, singular, plural, n, **SAMPLE_VALUES)
            assert "{" not in text and str(n) in text, (language, singular, n, text)
            english = (singular if n == 1 else plural).format(n=n, **SAMPLE_VALUES)
            assert (text == english) == (language == "en"), (language, singular, n, text)


def test_plural_rules_pick_the_languages_form() -> None:
    erased = (
        "Your data has been erased ({n} case). You can use /clear to delete this chat too.",
        "Your data has been erased ({n} cases). You can use /clear to delete this chat too.",
    )
    assert "(1 case)" in ntr("en", *erased, 1) and "(0 cases)" in ntr("en", *erased, 0)
    # Arabic has six forms: 3 to 10 take the plural حالات, 11 and over the singular حالة.
    assert "حالات" in ntr("ar", *erased, 5) and "حالات" not in ntr("ar", *erased, 11)
    assert ntr("ar", *erased, 1) != ntr("ar", *erased, 2) != ntr("ar", *erased, 5)
