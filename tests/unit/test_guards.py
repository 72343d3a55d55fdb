"""The lone-surrogate check finds one wherever in an update it hides."""

from __future__ import annotations

import pytest
from aiogram.types import Update

from handlers.guards import has_lone_surrogate


def update(**message_fields: object) -> Update:
    message = {
        "message_id": 5,
        "date": 0,
        "chat": {"id": 1, "type": "private", "first_name": "W"},
        "from": {"id": 1, "is_bot": False, "first_name": "W"},
        "text": "plain 😀",
        **message_fields,
    }
    return Update.model_validate({"update_id": 1, "message": message})


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


def test_valid_text_and_emoji_pass() -> None:
    assert not has_lone_surrogate(update(text="नमस्ते 😀 \U0001f600", caption=None))
