"""Splitting long texts for Telegram: boundaries, nothing lost, HTML kept valid.

Every part is checked with the emulator's own implementation of Telegram's checks
(``format_text``: HTML parsing as tdlib does it, then the 4,096 / 1,024 limits), so a part
that passes here is one Telegram accepts."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.text_limits import (
    CAPTION_LIMIT,
    TEXT_LIMIT,
    fits,
    shown_length,
    split_body,
    split_message,
    utf16_length,
)
from tgemulator.errors import ApiError
from tgemulator.html import parse_html
from tgemulator.validation import format_text

COUNTER = re.compile(r"^(?P<header>.*?) ?\((?P<index>\d+)/(?P<total>\d+)\)\n", re.S)


def accepted(part: str, *, html: bool = False, caption: bool = False) -> str:
    """What Telegram shows for ``part``; fails the test when Telegram would refuse it."""
    try:
        shown, _entities = format_text(part, "HTML" if html else None, None, caption=caption)
    except ApiError as error:
        raise AssertionError(f"Telegram would refuse a part: {error.description}") from None
    return shown


def bodies(parts: list[str], header: str) -> list[str]:
    """The text of each part without its ``header (i/n)`` line, checking the counters."""
    out = []
    for index, part in enumerate(parts, start=1):
        match = COUNTER.match(part)
        assert match, f"part {index} has no counter: {part[:80]!r}"
        assert match["header"] == header
        assert (int(match["index"]), int(match["total"])) == (index, len(parts))
        out.append(part[match.end() :])
    return out


def test_a_text_that_fits_is_one_part_without_a_counter() -> None:
    assert split_message("hello", header="💬 [QA-7K2M9] Reporter:") == [
        "💬 [QA-7K2M9] Reporter:\nhello"
    ]
    assert split_message("x" * TEXT_LIMIT) == ["x" * TEXT_LIMIT]
    assert split_message("", header="tag") == ["tag"]


@pytest.mark.parametrize("size", [4080, 4096])
def test_a_full_length_message_with_a_tag_becomes_two_parts(size: int) -> None:
    """The case that failed for good: Telegram lets a reporter send 4,096 characters, the
    relay adds its tag in front."""
    words = ("word " * size)[:size]
    header = "💬 [QA-7K2M9] Reporter:"
    parts = split_message(words, header=header)
    assert len(parts) == 2
    for part in parts:
        accepted(part)
    assert "".join(bodies(parts, header)) == words
    # Cut after a space, never inside a word.
    assert all(not body.startswith(" ") for body in bodies(parts, header))
    assert bodies(parts, header)[0].endswith(" ")


def test_paragraph_beats_sentence_beats_word() -> None:
    paragraph = "A sentence here. " * 100  # 1,700 characters
    text = paragraph + "\n\n" + paragraph + "Tail words " * 300
    chunks = split_body(text, 3000)
    assert chunks[0] == paragraph + "\n\n", "cut at the blank line"
    sentences = "One short sentence. " * 300
    chunks = split_body(sentences, 1000)
    assert all(chunk.endswith(". ") for chunk in chunks[:-1]), "cut after full stops"
    assert "".join(chunks) == sentences


def test_a_boundary_in_the_first_half_is_not_taken_when_a_later_one_exists() -> None:
    text = "Intro.\n\n" + "word " * 1000
    chunks = split_body(text, 1000)
    assert len(chunks[0]) > 500, "not a tiny first part just because a paragraph ends early"
    assert "".join(chunks) == text


def test_sentences_in_other_scripts_and_closing_quotes() -> None:
    nepali = "मलाई चार महिनादेखि तलब दिइएको छैन। " * 200
    chunks = split_body(nepali, 1000)
    assert all(chunk.endswith("। ") for chunk in chunks[:-1])
    quoted = 'He said "stop." ' * 300
    chunks = split_body(quoted, 1000)
    assert all(chunk.endswith('." ') for chunk in chunks[:-1])


def test_a_word_longer_than_a_part_is_cut_but_not_inside_a_symbol() -> None:
    # "é" as e + combining accent, and a family emoji joined by zero-width joiners.
    family = "👨\u200d👩\u200d👧"
    text = ("e\u0301" + family) * 600
    chunks = split_body(text, 1000)
    assert "".join(chunks) == text
    for chunk in chunks:
        assert utf16_length(chunk) <= 1000
        assert not chunk.startswith("\u0301") and not chunk.startswith("\u200d")
        assert not chunk.endswith("\u200d")


def test_astral_characters_count_twice() -> None:
    """Telegram counts UTF-16 code units: 3,000 emoji are 6,000 units."""
    text = "😀" * 3000
    parts = split_message(text, header="tag")
    assert len(parts) == 2
    for part in parts:
        accepted(part)
    assert "".join(bodies(parts, "tag")) == text


def test_captions_have_their_own_limit() -> None:
    caption = "a few words " * 100  # 1,200
    parts = split_message(caption, header="[QA-7K2M9] from the reporter", limit=CAPTION_LIMIT)
    assert len(parts) == 2
    for part in parts:
        accepted(part, caption=True)


def test_the_counter_widens_when_there_are_ten_parts_or_more() -> None:
    text = "word " * 9000  # 45,000 characters
    parts = split_message(text, header="[QA-7K2M9] Description:")
    assert len(parts) >= 10
    assert parts[9].startswith("[QA-7K2M9] Description: (10/")
    for part in parts:
        accepted(part)
    assert "".join(bodies(parts, "[QA-7K2M9] Description:")) == text


def test_html_tags_and_entities_are_never_split_and_stay_balanced() -> None:
    line = '<b>Case</b> &amp; <a href="https://example.org/?a=1&amp;b=2">link &lt;x&gt;</a>\n'
    text = "<blockquote>" + line * 300 + "</blockquote>"
    parts = split_message(text, header="📊", html=True)
    assert len(parts) > 1
    shown = [accepted(part, html=True) for part in parts]
    whole, _ = parse_html(text)
    assert "".join(s.split("\n", 1)[1] for s in shown).replace("\n", "") == whole.replace("\n", "")


def test_html_length_is_what_telegram_shows() -> None:
    assert shown_length("<b>ab</b> &amp; &lt;", html=True) == len("ab & <")
    assert shown_length("a &nbsp; b", html=True) == len("a &nbsp; b")  # unknown entity: literal
    assert fits("<b>" + "x" * TEXT_LIMIT + "</b>", html=True)
    assert not fits("<b>" + "x" * TEXT_LIMIT + "</b>", html=False)


def test_a_header_too_long_for_any_text_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        split_message("x" * 2000, header="h" * 1000, limit=CAPTION_LIMIT)


# -- properties ------------------------------------------------------------------------------

pieces = st.one_of(
    st.text(min_size=1, max_size=30),
    st.sampled_from(["\n", "\n\n", " ", ". ", "। ", "?\n", "😀", "e\u0301", "\u200d", "x" * 50]),
)
long_texts = st.lists(pieces, min_size=1, max_size=400).map("".join)


@settings(max_examples=150, deadline=None)
@given(text=long_texts, room=st.integers(64, 600))
def test_chunks_fit_and_give_back_the_text(text: str, room: int) -> None:
    chunks = split_body(text, room)
    assert "".join(chunks) == text
    assert all(utf16_length(chunk) <= room for chunk in chunks)
    assert all(chunk for chunk in chunks)


html_pieces = st.one_of(
    st.text(
        alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="<>&"),
        min_size=1,
        max_size=20,
    ),
    st.sampled_from(["&amp;", "&lt;", "&gt;", "&quot;", "&#128512;", "&", "\n\n", ". "]),
)


@st.composite
def html_documents(draw: st.DrawFn) -> str:
    """Valid Telegram HTML: text and entities, some of it inside (nested) tags."""
    out = []
    for _ in range(draw(st.integers(1, 40))):
        inner = "".join(draw(st.lists(html_pieces, min_size=1, max_size=10)))
        tags = draw(
            st.lists(
                st.sampled_from(
                    [
                        "b",
                        "i",
                        "u",
                        "s",
                        "code",
                        'a href="https://e.org/?q=1&amp;r=>"',
                        "tg-spoiler",
                    ]
                ),
                max_size=2,
                unique=True,
            )
        )
        for tag in reversed(tags):
            inner = f"<{tag}>{inner}</{tag.split()[0]}>"
        out.append(inner)
    return "".join(out)


@settings(max_examples=150, deadline=None)
@given(text=html_documents(), limit=st.integers(120, 500))
def test_html_parts_are_valid_and_keep_everything(text: str, limit: int) -> None:
    header = "<b>[QA-7K2M9]</b>"
    parts = split_message(text, header=header, limit=limit, html=True)
    shown = []
    for part in parts:
        parsed, _ = parse_html(part)  # raises on a broken tag
        assert utf16_length(parsed) <= limit
        shown.append(parsed)
    whole, _ = parse_html(text)
    if len(parts) == 1:
        assert shown[0] == ("[QA-7K2M9]\n" + whole if whole else "[QA-7K2M9]")
        return
    rebuilt = "".join(s.split("\n", 1)[1] for s in shown)
    assert rebuilt == whole


@settings(max_examples=150, deadline=None)
@given(text=html_documents(), limit=st.integers(10, 500))
def test_fits_says_what_the_shown_length_says(text: str, limit: int) -> None:
    # fits answers from the written length when it can: never differently.
    assert fits(text, limit, html=True) == (shown_length(text, html=True) <= limit)
    assert fits(text, limit) == (utf16_length(text) <= limit)
