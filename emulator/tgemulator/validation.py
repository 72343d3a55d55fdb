"""Telegram's checks on message content, keyboards and commands."""

from __future__ import annotations

import re
from typing import Any

from .entities import KNOWN_TYPES, Entity, clip, sort_entities, trim, with_detected
from .errors import bad_request
from .html import ParseError, checked_link, parse_html
from .markdown import parse_markdown, parse_markdown_v2

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64
INLINE_BUTTON_LIMIT = 100
_PARSERS = {"html": parse_html, "markdownv2": parse_markdown_v2, "markdown": parse_markdown}
_INLINE_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")


def format_text(
    text: str | None,
    parse_mode: str | None,
    entities: Any,
    *,
    caption: bool = False,
) -> tuple[str, list[Entity]]:
    """Parse markup, trim and check length; returns (text, entities)."""
    text = text or ""
    if parse_mode and parse_mode.lower() != "none":
        parser = _PARSERS.get(parse_mode.lower())
        if parser is None:
            raise bad_request("unsupported parse_mode")
        try:
            text, found = parser(text)
        except ParseError as exc:
            raise bad_request(f"can't parse entities: {exc}") from None
    else:
        found = clip(text, _explicit_entities(entities))
    text, found = trim(text, found)
    if not text and not caption:
        raise bad_request("message text is empty")
    limit = CAPTION_LIMIT if caption else TEXT_LIMIT
    if len(text) > limit:
        raise bad_request("message caption is too long" if caption else "message is too long")
    return text, with_detected(text, found)


def _explicit_entities(entities: Any) -> list[Entity]:
    if not entities:
        return []
    if not isinstance(entities, list):
        raise bad_request("can't parse entities JSON object")
    out = []
    for raw in entities:
        if not isinstance(raw, dict) or raw.get("type") not in KNOWN_TYPES:
            raise bad_request("can't parse MessageEntity: Unsupported type specified")
        try:
            entity = {**raw, "offset": int(raw["offset"]), "length": int(raw["length"])}
        except (KeyError, TypeError, ValueError):
            raise bad_request(
                'can\'t parse MessageEntity: Field "offset" must be a valid Number'
            ) from None
        if entity["type"] == "text_link" and not checked_link(str(entity.get("url", ""))):
            raise bad_request("can't parse MessageEntity: Wrong URL specified")
        out.append(entity)
    return sort_entities(out)


def check_reply_markup(markup: Any) -> dict[str, Any] | None:
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        _check_inline_keyboard(markup["inline_keyboard"])
    elif "keyboard" in markup:
        _check_reply_keyboard(markup["keyboard"])
    elif not (markup.get("remove_keyboard") or markup.get("force_reply")):
        raise bad_request("can't parse reply keyboard markup JSON object")
    return markup


def _rows(rows: Any, kind: str) -> list[list[Any]]:
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request(f'field "{kind}" of the markup must be an Array of Arrays')
    return rows


def _check_inline_keyboard(rows: Any) -> None:
    rows = _rows(rows, "inline_keyboard")
    if sum(len(row) for row in rows) > INLINE_BUTTON_LIMIT:
        raise bad_request("reply markup is too long")
    for row in rows:
        for button in row:
            _check_inline_button(button)


def _check_inline_button(button: Any) -> None:
    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
        raise bad_request(
            'can\'t parse inline keyboard button: Field "text" must be of type String'
        )
    if not button["text"].strip():
        raise bad_request("BUTTON_TEXT_INVALID")
    actions = [key for key in _INLINE_ACTIONS if key in button]
    if not actions:
        raise bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    if "callback_data" in button:
        data = button["callback_data"]
        size = len(data.encode("utf-8")) if isinstance(data, str) else 0
        if not 1 <= size <= CALLBACK_DATA_LIMIT:
            raise bad_request("BUTTON_DATA_INVALID")
    if "url" in button:
        url = str(button["url"])
        if not checked_link(url):
            raise bad_request(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")


def _check_reply_keyboard(rows: Any) -> None:
    for row in _rows(rows, "keyboard"):
        for button in row:
            text = button if isinstance(button, str) else (button or {}).get("text")
            if not isinstance(text, str) or not text:
                raise bad_request("keyboard button text must be non-empty")


def check_commands(commands: Any) -> list[dict[str, str]]:
    if not isinstance(commands, list):
        raise bad_request("can't parse commands JSON object")
    if len(commands) > 100:
        raise bad_request("too many commands specified")
    out = []
    for item in commands:
        if not isinstance(item, dict):
            raise bad_request("can't parse BotCommand JSON object")
        command = str(item.get("command", "")).lstrip("/")
        description = str(item.get("description", ""))
        if not _COMMAND_RE.fullmatch(command):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(description.strip()) <= 256:
            raise bad_request("command description must be 1-256 characters long")
        out.append({"command": command, "description": description})
    return out


CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
