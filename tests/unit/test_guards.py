"""The lone-surrogate check finds one wherever in an update it hides; the poller's screen of
the raw JSON agrees with the slow walks (lone surrogates, numbers out of range)."""

from __future__ import annotations

from typing import Any

import pytest
from aiogram.types import Update
from hypothesis import given
from hypothesis import strategies as st

from bot.polling import out_of_range, screen
from handlers.guards import has_lone_surrogate


def update(**message_fields: object) -> Update:
    return Update.model_validate(raw_update(**message_fields))


def raw_update(**message_fields: object) -> dict[str, Any]:
    message = {
        "message_id": 5,
        "date": 0,
        "chat": {"id": 1, "type": "private", "first_name": "W"},
        "from": {"id": 1, "is_bot": False, "first_name": "W"},
        "text": "plain 😀",
        **message_fields,
    }
    return {"update_id": 1, "message": message}


@pytest.mark.parametrize(
    "fields",
    [
        {"text": "not paid \ud800"},
        {
            "reply_to_message": {
                "message_id": 1,
                "date": 0,
                "chat": {"id": 1, "type": "private"},
                "caption": "quoted \udfff",
            }
        },
        {"chat": {"id": 1, "type": "private", "first_name": "name \ud83d"}},
        {"a_field_of_a_newer_bot_api": {"nested": ["x", "y \ud800"]}},
        {"a_field_of_a_newer_bot_api": {"key \udc00": 1}},
    ],
    ids=["text", "quoted caption", "chat name", "unknown field value", "unknown field key"],
)
def test_a_lone_surrogate_is_found_anywhere(fields: dict[str, object]) -> None:
    assert has_lone_surrogate(update(**fields))
    assert screen(raw_update(**fields)) == (None, True)


def test_valid_text_and_emoji_pass() -> None:
    assert not has_lone_surrogate(update(text="नमस्ते 😀 \U0001f600", caption=None))


# JSON values with text drawn from every plane, surrogates included, and integers around the
# edges of the signed 64-bit range.
_texts = st.one_of(
    st.text(st.characters(min_codepoint=0, max_codepoint=0x10FFFF), max_size=8),
    # Long digit strings, as callback query ids are, with what precedes a number in JSON.
    st.from_regex(r"\A(-|: |, |\[)?\d{18,21}\Z"),
)
_numbers = st.one_of(
    st.integers(-(2**70), 2**70), st.integers(2**63 - 3, 2**63 + 3), st.integers(-3, 3)
)
_json = st.recursive(
    st.one_of(_texts, _numbers, st.booleans(), st.none()),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(_texts, inner, max_size=4)
    ),
    max_leaves=12,
)


def _walked_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        return any(0xD800 <= ord(c) <= 0xDFFF for c in value)
    if isinstance(value, list):
        return any(_walked_surrogate(v) for v in value)
    if isinstance(value, dict):
        return any(_walked_surrogate(k) or _walked_surrogate(v) for k, v in value.items())
    return False


@given(_json)
def test_the_screen_agrees_with_walking_every_field(extra: Any) -> None:
    raw = {"update_id": 7, "message": {"text": "x", "extra": extra}}
    where, unencodable = screen(raw)
    assert where == out_of_range(raw)
    assert unencodable == _walked_surrogate(raw)
