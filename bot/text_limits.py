"""Telegram's length limits, and splitting a long text into parts that each fit.

Telegram refuses a message over 4,096 characters (a caption over 1,024) for good, so a
relayed text, a description or a digest that would exceed it is split before it is queued:

* at the best boundary that leaves a part at least half full: a blank line (paragraph),
  then a line break, then the end of a sentence, then a space; only a single word longer
  than a whole part is cut, and never inside a character sequence that draws one symbol;
* nothing is cut off or lost: the chunks put together give back the text exactly;
* every part carries the header (the case tag) and "(1/3)", so the reader sees what it
  belongs to and that more is coming; a text that fits is returned as one part without a
  counter;
* with ``html=True`` (parse mode HTML) no part splits a tag or an entity (``&amp;``),
  a tag open at the cut is closed at the end of the part and opened again at the start of
  the next one, and lengths are counted as Telegram does, on the text after parsing.

Lengths are counted in UTF-16 code units, as Telegram does; that is never less than the
number of characters, so a part that fits here fits everywhere.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
# A part never holds less than this much of the text: a header so long that it leaves less
# room is a programming error, not something to split around.
MIN_ROOM = 64

_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY = re.compile(r"&(?:#[xX]([0-9a-fA-F]{1,8})|#([0-9]{1,8})|([a-zA-Z]+));?")
_SENTENCE_END = frozenset(".!?…。！？।॥؟")
_CLOSING_PUNCTUATION = frozenset("\"')]}»”’›")
_TAG_NAME = re.compile(r"</?\s*([a-zA-Z][a-zA-Z0-9-]*)")


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


@dataclass(frozen=True, slots=True)
class _Atom:
    """A piece the splitter never cuts: a character, or (HTML) a whole tag or entity."""

    text: str
    width: int  # UTF-16 code units it shows as
    kind: str  # "char" | "open" | "close" | "entity"
    name: str = ""  # tag name, for tags

    @property
    def space(self) -> bool:
        return self.kind == "char" and self.text.isspace()


def _atoms(text: str, html: bool) -> list[_Atom]:
    if not html:
        return [_Atom(ch, 2 if ord(ch) > 0xFFFF else 1, "char") for ch in text]
    atoms: list[_Atom] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "<":
            end = _tag_end(text, i)
            if end is not None:
                raw = text[i:end]
                match = _TAG_NAME.match(raw)
                name = match.group(1).lower() if match else ""
                atoms.append(_Atom(raw, 0, "close" if raw.startswith("</") else "open", name))
                i = end
                continue
        if ch == "&":
            match = _ENTITY.match(text, i)
            if match is not None:
                shown = _entity_text(match)
                if shown is not None:
                    atoms.append(_Atom(match.group(0), utf16_length(shown), "entity"))
                    i = match.end()
                    continue
        atoms.append(_Atom(ch, 2 if ord(ch) > 0xFFFF else 1, "char"))
        i += 1
    return atoms


def _tag_end(text: str, start: int) -> int | None:
    """The index just after the ``>`` closing the tag at ``start`` (quoted values may hold
    ``>``), or None when it is not a tag."""
    quote = None
    for j in range(start + 1, len(text)):
        ch = text[j]
        if quote:
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch == ">":
            return j + 1
        elif ch == "<":
            return None
    return None


def _entity_text(match: re.Match[str]) -> str | None:
    hexadecimal, decimal, named = match.groups()
    if named is not None:
        return _NAMED.get(named)
    value = int(hexadecimal, 16) if hexadecimal is not None else int(decimal)
    if value == 0 or value >= 0x10FFFF or 0xD800 <= value <= 0xDFFF:
        return None
    return chr(value)


def shown_length(text: str, *, html: bool = False) -> int:
    """How long Telegram counts ``text`` (after parsing, when it is HTML)."""
    if not html:
        return utf16_length(text)
    return sum(atom.width for atom in _atoms(text, html=True))


def fits(text: str, limit: int = TEXT_LIMIT, *, html: bool = False) -> bool:
    # Parsing HTML only takes characters away (tags, entities shown as one character): a text
    # within the limit as written is within it as shown, and most texts are far within it.
    written = utf16_length(text)
    if written <= limit or not html:
        return written <= limit
    return shown_length(text, html=True) <= limit


# -- boundaries ------------------------------------------------------------------------------

PARAGRAPH, LINE, SENTENCE, WORD, NONE = 4, 3, 2, 1, 0


def _boundaries(atoms: list[_Atom]) -> list[int]:
    """``level[i]``: how good a place it is to end a part just before ``atoms[i]``.

    Parts end after a run of white space (which stays with the part before), so the next
    part starts with what was written, not with a blank."""
    level = [NONE] * (len(atoms) + 1)
    for i in range(1, len(atoms)):
        if atoms[i].space or not atoms[i - 1].space:
            continue
        start = i
        while start > 0 and atoms[start - 1].space:
            start -= 1
        breaks = sum(atom.text == "\n" for atom in atoms[start:i])
        if breaks >= 2:
            level[i] = PARAGRAPH
        elif breaks == 1:
            level[i] = LINE
        elif _ends_sentence(atoms, start):
            level[i] = SENTENCE
        else:
            level[i] = WORD
    return level


def _ends_sentence(atoms: list[_Atom], end: int) -> bool:
    """Whether the text before ``atoms[end]`` ends a sentence (closing quotes, brackets
    and tags after the full stop allowed)."""
    j = end - 1
    while j >= 0 and (
        atoms[j].kind == "close"
        or (atoms[j].kind == "char" and atoms[j].text in _CLOSING_PUNCTUATION)
    ):
        j -= 1
    return j >= 0 and atoms[j].kind == "char" and atoms[j].text in _SENTENCE_END


def _joins(atom: _Atom) -> bool:
    """True when ``atom`` belongs to the symbol before it (accents, joiners, modifiers)."""
    if atom.kind != "char":
        return False
    code = ord(atom.text)
    return (
        unicodedata.category(atom.text).startswith("M")
        or code in (0x200C, 0x200D)
        or 0xFE00 <= code <= 0xFE0F
        or 0x1F3FB <= code <= 0x1F3FF
        or 0xE0020 <= code <= 0xE007F
    )


def _hard_cut(atoms: list[_Atom], start: int, end: int) -> int:
    """Cut inside a word: not between a letter and its accent, nor inside an emoji sequence."""
    cut = end
    while cut > start + 1 and (
        _joins(atoms[cut]) or (atoms[cut - 1].kind == "char" and atoms[cut - 1].text == "\u200d")
    ):
        cut -= 1
    return cut


# -- splitting -------------------------------------------------------------------------------


def split_body(text: str, room: int, *, html: bool = False) -> list[str]:
    """Splits ``text`` into chunks of at most ``room`` shown characters.

    ``"".join(chunks) == text`` for plain text. For HTML, a chunk closes the tags still open
    at its end and the next one opens them again, so every chunk is valid on its own."""
    if room < 1:
        raise ValueError("no room for any text")
    atoms = _atoms(text, html)
    if sum(atom.width for atom in atoms) <= room:
        return [text]
    level = _boundaries(atoms)
    chunks: list[str] = []
    stack: list[_Atom] = []  # tags open where the current chunk starts
    start = 0
    while start < len(atoms):
        end, used = start, 0
        while end < len(atoms) and used + atoms[end].width <= room:
            used += atoms[end].width
            end += 1
        if end == len(atoms):
            cut = end
        else:
            cut = _best_cut(atoms, level, start, end)
            # Closing tags right after the cut go with the part they close (they show nothing).
            while cut < len(atoms) and atoms[cut].kind == "close":
                cut += 1
        opened = [*stack]
        body = [atom.text for atom in atoms[start:cut]]
        for atom in atoms[start:cut]:
            if atom.kind == "open":
                stack.append(atom)
            elif atom.kind == "close":
                _close(stack, atom)
        prefix = "".join(atom.text for atom in opened)
        suffix = "".join(f"</{atom.name}>" for atom in reversed(stack))
        chunks.append(prefix + "".join(body) + (suffix if cut < len(atoms) else ""))
        start = cut
    return chunks


def _best_cut(atoms: list[_Atom], level: list[int], start: int, end: int) -> int:
    """The end of the part that starts at ``start`` and may reach ``end`` (exclusive)."""
    least = start + max(1, (end - start) // 2)
    for wanted in (PARAGRAPH, LINE, SENTENCE, WORD):
        for i in range(end, least - 1, -1):
            if level[i] == wanted:
                return i
    # No boundary in the second half: a space anywhere beats cutting a word.
    for i in range(end, start, -1):
        if level[i] != NONE:
            return i
    return _hard_cut(atoms, start, end)


def _close(stack: list[_Atom], closing: _Atom) -> None:
    if not stack:
        return
    if not closing.name:
        stack.pop()
        return
    for index in range(len(stack) - 1, -1, -1):
        if stack[index].name == closing.name:
            del stack[index:]
            return


def _counter_line(header: str, index: int, total: int) -> str:
    counter = f"({index}/{total})"
    return f"{header} {counter}" if header else counter


def split_message(
    body: str, *, header: str = "", limit: int = TEXT_LIMIT, html: bool = False
) -> list[str]:
    """``header`` and ``body`` as one message when they fit within ``limit``, otherwise as
    parts that each start with ``header (i/n)`` on a line of its own.

    ``header`` is shown as given (escape it for HTML yourself)."""
    return [text for text, _chunk in split_parts(body, header=header, limit=limit, html=html)]


def split_parts(
    body: str, *, header: str = "", limit: int = TEXT_LIMIT, html: bool = False
) -> list[tuple[str, str]]:
    """As split_message, with each part's own share of ``body`` beside it."""
    whole = f"{header}\n{body}" if header and body else header or body
    if shown_length(whole, html=html) <= limit:
        return [(whole, body)]
    total_guess = 2
    while True:
        widest = _counter_line(header, total_guess, total_guess) + "\n"
        room = limit - shown_length(widest, html=html)
        if room < MIN_ROOM:
            raise ValueError(f"the header {header[:40]!r} leaves no room for the text")
        chunks = split_body(body, room, html=html)
        total = len(chunks)
        if len(str(total)) <= len(str(total_guess)):
            return [
                (_counter_line(header, index, total) + "\n" + chunk, chunk)
                for index, chunk in enumerate(chunks, start=1)
            ]
        total_guess = total
