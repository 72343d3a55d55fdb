"""The saved-reply library: complete in every shipped language, organisation entries checked."""

from __future__ import annotations

import pytest

from bot.config import ConfigError, parse_config
from bot.domain.saved_replies import BUILT_IN, PROMPTS, SavedReply, render
from bot.i18n import LANGUAGE_NAMES, has_translation
from bot.taxonomy import SAVED_REPLY_CODES, SAVED_REPLY_FIELDS
from tests.support import example_data


def test_the_library_is_the_taxonomys_and_has_at_least_fifteen() -> None:
    assert tuple(BUILT_IN) == SAVED_REPLY_CODES and len(BUILT_IN) >= 15
    assert set(PROMPTS) == set(SAVED_REPLY_FIELDS)


@pytest.mark.parametrize("language", list(LANGUAGE_NAMES))
def test_every_built_in_reply_renders_in_every_language(language: str) -> None:
    values = {
        "organisation": "Org",
        "office": "Office",
        "phone": "+974 1",
        "flight": "QR 652",
        "arrival": "2026-12-04T14:05",
        "date": "2026-12-04",
    }
    for code, (title, text, fields) in BUILT_IN.items():
        assert has_translation(language, title) and has_translation(language, text), code
        shown = render(SavedReply(code, fields), language, values, "QA-ABCDE")
        assert "{" not in shown and ("QA-ABCDE" in shown) == ("{code}" in text), code


def reply(**changes: object) -> dict[str, object]:
    entry: dict[str, object] = {
        "code": "OFFICE_HOURS",
        "organisation": "qa-workers-centre",
        "fields": ["phone"],
        "title": {"en": "Office hours"},
        "text": {"en": "Open 9 to 5. Phone {phone}."},
    }
    return {**entry, **changes}


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        (reply(code="office"), "is not a code like OFFICE_HOURS"),
        (reply(code="ACK"), "'ACK' is the code of a built-in saved reply"),
        (reply(fields=["shoe_size"]), "unknown fields ['shoe_size']"),
        (
            reply(text={"en": "Call {phone} or {fax}."}),
            "text.en uses ['fax'], not among its fields",
        ),
        (reply(text={"xx": "Hi"}), "'xx' is not one of"),
        (reply(text={}), "needs a text in at least one language"),
        (
            reply(organisation="nobody"),
            "[[saved_replies]] OFFICE_HOURS: organisation: unknown organisation 'nobody'",
        ),
    ],
)
def test_bad_saved_replies_in_the_network_file_give_one_line(
    entry: dict[str, object], expected: str
) -> None:
    data = example_data()
    data["saved_replies"] = [entry]
    with pytest.raises(ConfigError) as error:
        parse_config(data, "corridor.toml", environ={})
    assert expected in str(error.value) and "\n" not in str(error.value)


def test_a_duplicate_code_is_named() -> None:
    data = example_data()
    data["saved_replies"] = [reply(), reply()]
    with pytest.raises(ConfigError) as error:
        parse_config(data, "corridor.toml", environ={})
    assert "[[saved_replies]] OFFICE_HOURS (number 2): code 'OFFICE_HOURS' is used twice" in str(
        error.value
    )
