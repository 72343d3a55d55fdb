"""Telegram's MarkdownV2 and legacy Markdown parse modes (after tdlib)."""

from __future__ import annotations

from dataclasses import dataclass

from .entities import Entity, char_width, sort_entities
from .html import ParseError, checked_link, link_user_id

_RESERVED = set("_*[]()~`>#+-=|{}.!\n")
_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "code": "Code",
    "pre": "Pre",
    "text_link": "TextUrl",
    "custom_emoji": "CustomEmoji",
    "blockquote": "BlockQuote",
}


@dataclass
class _Open:
    kind: str
    offset: int
    byte_offset: int
    text_start: int
    language: str = ""


def _at(text: str, i: int) -> str:
    return text[i] if 0 <= i < len(text) else ""


def _byte(text: str, i: int) -> int:
    return len(text[:i].encode("utf-8"))


def _reserved(ch: str) -> ParseError:
    return ParseError(f"Character '{ch}' is reserved and must be escaped with the preceding '\\'")


def _not_closed(opened: _Open) -> ParseError:
    name = "PreCode" if opened.kind == "pre" and opened.language else _NAMES[opened.kind]
    return ParseError(f"Can't find end of {name} entity at byte offset {opened.byte_offset}")


def _closes(opened: _Open, text: str, i: int, in_quote: bool) -> bool:
    c = text[i]
    if in_quote and c == "\n" and _at(text, i + 1) != ">":
        return True
    return {
        "bold": c == "*",
        "italic": c == "_" and _at(text, i + 1) != "_",
        "code": c == "`",
        "pre": c == "`" and text[i + 1 : i + 3] == "``",
        "text_link": c == "]",
        "underline": c == "_" and _at(text, i + 1) == "_",
        "strikethrough": c == "~",
        "spoiler": c == "|" and _at(text, i + 1) == "|",
        "custom_emoji": c == "]",
    }.get(opened.kind, False)


def parse_markdown_v2(text: str) -> tuple[str, list[Entity]]:
    out: list[str] = []
    offset = 0
    entities: list[Entity] = []
    stack: list[_Open] = []
    in_quote = False
    i = 0
    while i < len(text):
        c = text[i]
        nxt = _at(text, i + 1)
        if c == "\\" and nxt and 0 < ord(nxt) <= 126:
            out.append(nxt)
            offset += 1
            i += 2
            continue
        reserved = {"`"} if stack and stack[-1].kind in ("code", "pre") else _RESERVED
        if c not in reserved:
            out.append(c)
            offset += char_width(c)
            i += 1
            continue
        if stack and _closes(stack[-1], text, i, in_quote):
            opened = stack.pop()
            if c == "\n" and opened.kind != "blockquote":
                raise _not_closed(opened)
            if opened.kind == "blockquote":
                in_quote = False
                out.append("\n")
                offset += 1
            i, entity = _finish(text, i, opened, offset, "".join(out[opened.text_start :]))
            if entity:
                entities.append(entity)
            continue
        i, opened, offset, in_quote = _begin(text, i, offset, out, in_quote)
        if opened:
            stack.append(opened)
    if in_quote and stack and stack[-1].kind == "blockquote":
        opened = stack.pop()
        if offset > opened.offset:
            entities.append(
                {"type": "blockquote", "offset": opened.offset, "length": offset - opened.offset}
            )
    if stack:
        raise _not_closed(stack[-1])
    return "".join(out), sort_entities(entities)


def _begin(
    text: str, i: int, offset: int, out: list[str], in_quote: bool
) -> tuple[int, _Open | None, int, bool]:
    c, nxt = text[i], _at(text, i + 1)
    start = _byte(text, i)
    language = ""
    if c == "_":
        kind, i = ("underline", i + 2) if nxt == "_" else ("italic", i + 1)
    elif c == "*":
        kind, i = "bold", i + 1
    elif c == "~":
        kind, i = "strikethrough", i + 1
    elif c == "|" and nxt == "|":
        kind, i = "spoiler", i + 2
    elif c == "[":
        kind, i = "text_link", i + 1
    elif c == "!" and nxt == "[":
        kind, i = "custom_emoji", i + 2
    elif c == "`" and text[i + 1 : i + 3] == "``":
        kind, i = "pre", i + 3
        end = i
        while end < len(text) and text[end] not in " \t\r\n\v\f`":
            end += 1
        if end != i and end < len(text) and text[end] != "`":
            language, i = text[i:end], end
        if _at(text, i) in ("\n", "\r"):
            pair = _at(text, i + 1) in ("\n", "\r") and _at(text, i + 1) != text[i]
            i += 2 if pair else 1
    elif c == "`":
        kind, i = "code", i + 1
    elif c == "\n":
        out.append("\n")
        offset += 1
        if nxt == ">" and not in_quote:
            return i + 2, _Open("blockquote", offset, start, len(out)), offset, True
        return (i + 2 if nxt == ">" else i + 1), None, offset, in_quote
    elif c == ">" and i == 0:
        return i + 1, _Open("blockquote", offset, start, len(out)), offset, True
    else:
        raise _reserved(c)
    return i, _Open(kind, offset, start, len(out), language), offset, in_quote


def _read_url(text: str, i: int) -> tuple[str, int]:
    """Read `(url)` starting at the '(' at i; returns (url, index after ')')."""
    start = i + 1
    i = start
    url: list[str] = []
    while i < len(text) and text[i] != ")":
        if text[i] == "\\" and 0 < ord(_at(text, i + 1) or "\0") <= 126:
            url.append(text[i + 1])
            i += 2
            continue
        url.append(text[i])
        i += 1
    if i >= len(text):
        raise ParseError(f"Can't find end of a URL at byte offset {_byte(text, start)}")
    return "".join(url), i + 1


def _finish(text: str, i: int, opened: _Open, offset: int, inner: str) -> tuple[int, Entity | None]:
    kind = opened.kind
    base = {"offset": opened.offset, "length": offset - opened.offset}
    empty = base["length"] == 0
    if kind in ("bold", "italic", "code", "strikethrough"):
        i += 1
    elif kind in ("underline", "spoiler"):
        i += 2
    elif kind == "pre":
        i += 3
    elif kind == "blockquote":
        i += 1
    elif kind == "text_link":
        if _at(text, i + 1) == "(":
            url, i = _read_url(text, i + 1)
        else:
            url, i = inner, i + 1
        if empty:
            return i, None
        user_id = link_user_id(url)
        if user_id is not None:
            return i, {"type": "text_mention", **base, "user": {"id": user_id}}
        url = checked_link(url)
        return i, ({"type": "text_link", **base, "url": url} if url else None)
    elif kind == "custom_emoji":
        if _at(text, i + 1) != "(":
            raise ParseError("Custom emoji entity must contain a tg://emoji URL")
        url, i = _read_url(text, i + 1)
        prefix = "tg://emoji?id="
        emoji_id = url[len(prefix) :] if url.startswith(prefix) else ""
        if not emoji_id.isdigit():
            raise ParseError("Custom emoji URL must have an emoji identifier")
        return i, (None if empty else {"type": "custom_emoji", **base, "custom_emoji_id": emoji_id})
    if empty or kind == "blockquote":
        return i, (None if empty else {"type": kind, **base})
    entity: Entity = {"type": kind, **base}
    if kind == "pre" and opened.language:
        entity["language"] = opened.language
    return i, entity


_LEGACY = {"_": "italic", "*": "bold", "`": "code", "[": "text_link"}


def parse_markdown(text: str) -> tuple[str, list[Entity]]:
    """Legacy Markdown: *bold* _italic_ `code` ```pre``` [text](url)."""
    out: list[str] = []
    offset = 0
    entities: list[Entity] = []
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\\" and _at(text, i + 1) in ("_", "*", "`", "["):
            out.append(text[i + 1])
            offset += 1
            i += 2
            continue
        if c not in _LEGACY:
            out.append(c)
            offset += char_width(c)
            i += 1
            continue
        begin = i
        end_char = "]" if c == "[" else c
        is_pre = c == "`" and text[i + 1 : i + 3] == "``"
        i += 3 if is_pre else 1
        language = ""
        if is_pre:
            end = i
            while end < n and text[end] not in " \t\r\n\v\f`":
                end += 1
            if end != i and end < n and text[end] != "`":
                language, i = text[i:end], end
            if _at(text, i) in ("\n", "\r"):
                i += 1
        start_offset = offset
        while i < n and (text[i] != end_char or (is_pre and text[i : i + 3] != "```")):
            out.append(text[i])
            offset += char_width(text[i])
            i += 1
        if i >= n:
            raise ParseError(
                f"Can't find end of the entity starting at byte offset {_byte(text, begin)}"
            )
        inner_len = offset - start_offset
        entity: Entity | None = None
        if c == "[":
            url = text[begin + 1 : i]
            if _at(text, i + 1) == "(":
                close = text.find(")", i + 2)
                close = n if close < 0 else close
                url, i = text[i + 2 : close], close
            user_id = link_user_id(url)
            if user_id is not None:
                entity = {"type": "text_mention", "user": {"id": user_id}}
            elif checked_link(url):
                entity = {"type": "text_link", "url": checked_link(url)}
        elif is_pre:
            entity = {"type": "pre", **({"language": language} if language else {})}
            i += 2
        else:
            entity = {"type": _LEGACY[c]}
        if entity and inner_len:
            entities.append({**entity, "offset": start_offset, "length": inner_len})
        i += 1
    return "".join(out), sort_entities(entities)
