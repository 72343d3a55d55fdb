"""Telegram's HTML parse mode, following tdlib's parser and its error texts.

Only Telegram's tags are accepted; anything else fails the whole message,
which is the point: a bot that passes here will not be rejected in production.
Like Telegram, an `&` that starts no known entity is kept literally.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .entities import Entity, char_width, sort_entities

ALLOWED_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "tg-spoiler",
        "tg-emoji",
        "span",
        "pre",
        "code",
        "blockquote",
    }
)
_SIMPLE = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
}
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_SPACE = " \t\r\n\v\f"


class ParseError(Exception):
    """Message for 'Bad Request: can't parse entities: ...'."""


@dataclass
class _Open:
    tag: str
    offset: int
    text_start: int
    argument: str = ""
    flags: set[str] = field(default_factory=set)


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def decode_entity(text: str, pos: int) -> tuple[str, int] | None:
    """Decode `&...` at `pos`; returns (character, next position) or None."""
    end = pos + 1
    if end < len(text) and text[end] == "#":
        end += 1
        value = 0
        if end < len(text) and text[end] == "x":
            end += 1
            start = end
            while end < len(text) and text[end] in "0123456789abcdefABCDEF":
                end += 1
            digits = text[start:end]
            value = int(digits, 16) if digits else 0
        else:
            start = end
            while end < len(text) and text[end].isdigit() and text[end].isascii():
                end += 1
            digits = text[start:end]
            value = int(digits) if digits else 0
        if value == 0 or value >= 0x10FFFF or end - pos >= 10 or 0xD800 <= value <= 0xDFFF:
            return None
        char = chr(value)
    else:
        while end < len(text) and text[end].isascii() and text[end].isalpha():
            end += 1
        char = _NAMED.get(text[pos + 1 : end])
        if char is None:
            return None
    if end < len(text) and text[end] == ";":
        end += 1
    return char, end


def parse_html(text: str) -> tuple[str, list[Entity]]:
    out: list[str] = []
    offset = 0  # UTF-16 offset in the output
    entities: list[Entity] = []
    stack: list[_Open] = []
    n = len(text)
    i = 0
    while i < n:
        ch = text[i]
        if ch == "&":
            decoded = decode_entity(text, i)
            if decoded:
                out.append(decoded[0])
                offset += char_width(decoded[0])
                i = decoded[1]
                continue
        if ch != "<":
            out.append(ch)
            offset += char_width(ch)
            i += 1
            continue
        begin = i
        i += 1
        if i < n and text[i] == "/":
            i = _close_tag(text, begin, i, stack, entities, offset, out)
        else:
            i = _open_tag(text, begin, i, stack, offset, len(out))
    if stack:
        raise ParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].tag}"')
    for e in entities:
        if e["type"] == "code":
            e.pop("language", None)
    return "".join(out), sort_entities(entities)


def _open_tag(text: str, begin: int, i: int, stack: list[_Open], offset: int, pos: int) -> int:
    n = len(text)
    while i < n and text[i] not in _SPACE and text[i] != ">":
        i += 1
    if i >= n:
        raise ParseError(f"Unclosed start tag at byte offset {_byte_offset(text, begin)}")
    tag = text[begin + 1 : i].lower()
    at = _byte_offset(text, begin)
    if tag not in ALLOWED_TAGS:
        raise ParseError(f'Unsupported start tag "{tag}" at byte offset {at}')
    opened = _Open(tag, offset, pos)
    while True:
        while i < n and text[i] in _SPACE:
            i += 1
        if i >= n:
            raise ParseError(f'Unclosed start tag "{tag}" at byte offset {at}')
        if text[i] == ">":
            break
        name_start = i
        while i < n and text[i] not in _SPACE and text[i] not in "=>":
            i += 1
        name = text[name_start:i].lower()
        if not name:
            raise ParseError(f'Empty attribute name in the tag "{tag}" at byte offset {at}')
        while i < n and text[i] in _SPACE:
            i += 1
        if i >= n:
            raise ParseError(f'Unclosed start tag "{tag}" at byte offset {at}')
        if text[i] != "=":
            # valueless attributes (e.g. `expandable`) are flags
            opened.flags.add(name)
            continue
        i += 1
        while i < n and text[i] in _SPACE:
            i += 1
        if i >= n:
            raise ParseError(f'Unclosed start tag "{tag}" at byte offset {at}')
        value, i = _attribute_value(text, i)
        if i >= n:
            raise ParseError(f"Unclosed start tag at byte offset {at}")
        _apply_attribute(opened, name, value)
    if tag == "span" and opened.argument != "spoiler":
        raise ParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {at}')
    stack.append(opened)
    return i + 1


def _attribute_value(text: str, i: int) -> tuple[str, int]:
    n = len(text)
    if text[i] not in "'\"":
        start = i
        while i < n and ((text[i].isalnum() and text[i].isascii()) or text[i] in ".-"):
            i += 1
        if i < n and text[i] not in _SPACE and text[i] != ">":
            raise ParseError(
                f"Unexpected end of name token at byte offset {_byte_offset(text, start)}"
            )
        return text[start:i].lower(), i
    quote = text[i]
    i += 1
    value: list[str] = []
    while i < n and text[i] != quote:
        if text[i] == "&":
            decoded = decode_entity(text, i)
            if decoded:
                value.append(decoded[0])
                i = decoded[1]
                continue
        value.append(text[i])
        i += 1
    if i < n:
        i += 1
    return "".join(value), i


def _apply_attribute(opened: _Open, name: str, value: str) -> None:
    if opened.tag == "a" and name == "href":
        opened.argument = value
    elif opened.tag == "code" and name == "class" and value.startswith("language-"):
        opened.argument = value[len("language-") :]
    elif opened.tag == "span" and name == "class" and value.startswith("tg-"):
        opened.argument = value[3:]
    elif opened.tag == "tg-emoji" and name == "emoji-id":
        opened.argument = value


def _close_tag(
    text: str,
    begin: int,
    i: int,
    stack: list[_Open],
    entities: list[Entity],
    offset: int,
    out: list[str],
) -> int:
    n = len(text)
    at = _byte_offset(text, begin)
    if not stack:
        raise ParseError(f"Unexpected end tag at byte offset {at}")
    while i < n and text[i] not in _SPACE and text[i] != ">":
        i += 1
    name = text[begin + 2 : i].lower()
    while i < n and text[i] in _SPACE:
        i += 1
    if i >= n or text[i] != ">":
        raise ParseError(f"Unclosed end tag at byte offset {at}")
    opened = stack[-1]
    if name and name != opened.tag:
        raise ParseError(
            f'Unmatched end tag at byte offset {at}, expected "</{opened.tag}>", found "</{name}>"'
        )
    stack.pop()
    length = offset - opened.offset
    if length > 0:
        entity = _entity_for(opened, length, "".join(out[opened.text_start :]), entities)
        if entity:
            entities.append(entity)
    return i + 1


def _entity_for(opened: _Open, length: int, inner: str, entities: list[Entity]) -> Entity | None:
    tag, base = opened.tag, {"offset": opened.offset, "length": length}
    if tag in _SIMPLE or (tag == "span" and opened.argument == "spoiler"):
        return {"type": _SIMPLE.get(tag, "spoiler"), **base}
    if tag == "blockquote":
        kind = "expandable_blockquote" if "expandable" in opened.flags else "blockquote"
        return {"type": kind, **base}
    if tag == "tg-emoji":
        if not opened.argument.isdigit() or int(opened.argument) == 0:
            raise ParseError("Invalid custom emoji identifier specified")
        return {"type": "custom_emoji", **base, "custom_emoji_id": opened.argument}
    if tag == "a":
        url = opened.argument or inner
        user_id = link_user_id(url)
        if user_id is not None:
            return {"type": "text_mention", **base, "user": {"id": user_id}}
        url = checked_link(url)
        return {"type": "text_link", **base, "url": url} if url else None
    last = entities[-1] if entities else None
    same_span = last and last["offset"] == opened.offset and last["length"] == length
    if tag == "pre":
        if same_span and last["type"] == "code" and last.get("language"):
            last["type"] = "pre"
            return None
        return {"type": "pre", **base}
    # tag == "code"
    if same_span and last["type"] == "pre" and opened.argument:
        last["language"] = opened.argument
        return None
    entity = {"type": "code", **base}
    if opened.argument:
        entity["language"] = opened.argument  # becomes pre's language if a <pre> wraps it
    return entity


def link_user_id(url: str) -> int | None:
    prefix = "tg://user?id="
    if url.lower().startswith(prefix) and url[len(prefix) :].isdigit():
        return int(url[len(prefix) :])
    return None


def checked_link(url: str) -> str | None:
    """Normalise a link the way Telegram does, or None when it is not a link."""
    url = url.strip()
    if not url or any(ch in url for ch in _SPACE):
        return None
    lowered = url.lower()
    if lowered.startswith(("tg://", "ton://", "mailto:")):
        return url
    if not lowered.startswith(("http://", "https://", "ftp://")):
        if "://" in url:
            return None
        host = url.split("/", 1)[0]
        if "." not in host or not host.replace(".", "").replace("-", "").isalnum():
            return None
        url = "http://" + url
    scheme, rest = url.split("://", 1)
    if not rest or rest.startswith("/"):
        return None
    # Telegram answers with the normalised URL: a bare host gets its "/" path
    if not any(sep in rest for sep in "/?#"):
        rest += "/"
    return f"{scheme}://{rest}"
