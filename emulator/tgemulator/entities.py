"""Message entities: UTF-16 offsets, ordering, trimming and auto-detection.

Telegram measures entity offsets in UTF-16 code units while length limits
count Unicode code points, so both views are needed.
"""

from __future__ import annotations

import re
from typing import Any

Entity = dict[str, Any]

# tdlib's ordering for entities that start at the same place (lower first)
_PRIORITY = {
    "mention": 50,
    "hashtag": 50,
    "cashtag": 50,
    "bot_command": 50,
    "url": 50,
    "email": 50,
    "phone_number": 50,
    "bold": 90,
    "italic": 91,
    "underline": 92,
    "strikethrough": 93,
    "spoiler": 94,
    "code": 20,
    "pre": 11,
    "text_link": 49,
    "text_mention": 49,
    "blockquote": 0,
    "expandable_blockquote": 0,
    "custom_emoji": 99,
}
KNOWN_TYPES = frozenset(_PRIORITY)
# Automatic entities never appear inside these
_OPAQUE = frozenset({"code", "pre", "text_link", "text_mention", "custom_emoji"})
_TRIM = " \t\r\n\v\f"


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def char_width(ch: str) -> int:
    return 2 if ord(ch) > 0xFFFF else 1


def utf16_offsets(text: str) -> list[int]:
    """offsets[i] = UTF-16 offset of code point i (len(text)+1 items)."""
    out = [0]
    for ch in text:
        out.append(out[-1] + char_width(ch))
    return out


def utf16_slice(text: str, offset: int, length: int) -> str:
    units = text.encode("utf-16-le")
    return units[offset * 2 : (offset + length) * 2].decode("utf-16-le", errors="replace")


def sort_entities(entities: list[Entity]) -> list[Entity]:
    def key(e: Entity) -> tuple[int, int, int]:
        priority = _PRIORITY.get(e["type"], 50)
        if e["type"] == "pre" and e.get("language"):
            priority = 10
        return (e["offset"], -e["length"], priority)

    return sorted(entities, key=key)


def trim(text: str, entities: list[Entity]) -> tuple[str, list[Entity]]:
    """Strip surrounding whitespace like Telegram, keeping entities aligned."""
    stripped = text.strip(_TRIM)
    if stripped == text:
        return text, entities
    lead = len(text) - len(text.lstrip(_TRIM))
    shift = utf16_len(text[:lead])
    limit = utf16_len(stripped)
    kept = []
    for e in entities:
        start = max(e["offset"] - shift, 0)
        end = min(e["offset"] + e["length"] - shift, limit)
        if end > start:
            kept.append({**e, "offset": start, "length": end - start})
    return stripped, kept


def clip(text: str, entities: list[Entity]) -> list[Entity]:
    """Drop or shorten entities that reach outside the text."""
    limit = utf16_len(text)
    out = []
    for e in entities:
        start = max(int(e["offset"]), 0)
        end = min(start + int(e["length"]), limit)
        if end > start:
            out.append({**e, "offset": start, "length": end - start})
    return out


_WORD = r"[^\W]"  # letters, digits and underscore in any script
_PATTERNS = (
    ("email", re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")),
    ("url", re.compile(r"(?<![\w@/.])(?:https?://|www\.)[^\s<>\"]+", re.IGNORECASE)),
    (
        "bot_command",
        re.compile(r"(?<![\w/<>])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w/<>])"),
    ),
    ("mention", re.compile(r"(?<!\w)@[A-Za-z0-9_]{4,32}(?!\w)")),
    ("hashtag", re.compile(r"(?<![\w#])#\w{1,256}(?![\w#])")),
)
_URL_TAIL = ".,;:!?)]}'\""


def detect(text: str, existing: list[Entity] = ()) -> list[Entity]:
    """Entities Telegram adds on its own (commands, mentions, links, tags)."""
    offsets = utf16_offsets(text)
    blocked = [(e["offset"], e["offset"] + e["length"]) for e in existing if e["type"] in _OPAQUE]
    found: list[tuple[int, int, str]] = []
    for kind, pattern in _PATTERNS:
        for m in pattern.finditer(text):
            start, end = m.start(), m.end()
            if kind == "url":
                while end > start and text[end - 1] in _URL_TAIL:
                    end -= 1
            if kind == "hashtag" and not any(ch.isalpha() for ch in text[start + 1 : end]):
                continue
            found.append((start, end, kind))
    found.sort(key=lambda item: (item[0], -(item[1] - item[0])))
    result: list[Entity] = []
    last_end = 0
    for start, end, kind in found:
        if start < last_end or end <= start:
            continue
        u_start, u_end = offsets[start], offsets[end]
        if any(u_start < b_end and b_start < u_end for b_start, b_end in blocked):
            continue
        result.append({"type": kind, "offset": u_start, "length": u_end - u_start})
        last_end = end
    return result


def with_detected(text: str, entities: list[Entity]) -> list[Entity]:
    return sort_entities([*entities, *detect(text, entities)])
