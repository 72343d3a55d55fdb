"""Telegram's entity parsing: HTML, MarkdownV2, auto-detected entities, limits."""

import pytest

from tgemulator.entities import detect, trim, utf16_len
from tgemulator.errors import ApiError
from tgemulator.html import ParseError, parse_html
from tgemulator.markdown import parse_markdown, parse_markdown_v2
from tgemulator.validation import check_reply_markup, format_text


def test_html_tags_become_entities_with_utf16_offsets():
    text, entities = parse_html('😀 <b>bold <i>both</i></b> <a href="https://t.me">link</a>')
    assert text == "😀 bold both link"
    assert entities == [
        {"type": "bold", "offset": 3, "length": 9},
        {"type": "italic", "offset": 8, "length": 4},
        {"type": "text_link", "offset": 13, "length": 4, "url": "https://t.me/"},
    ]


def test_html_entities_and_literal_ampersand():
    text, entities = parse_html("a &lt;b&gt; &amp; &quot;q&quot; &#128512; R&D")
    assert text == 'a <b> & "q" 😀 R&D'
    assert entities == []


def test_html_pre_with_language_spoiler_and_blockquote():
    html = (
        '<pre><code class="language-python">x = 1</code></pre>'
        '<span class="tg-spoiler">s</span><tg-spoiler>t</tg-spoiler>'
        "<blockquote expandable>q</blockquote>"
    )
    text, entities = parse_html(html)
    assert text == "x = 1stq"
    assert {"type": "pre", "offset": 0, "length": 5, "language": "python"} in entities
    assert [e["type"] for e in entities[1:]] == ["spoiler", "spoiler", "expandable_blockquote"]


def test_html_text_mention_link():
    _, entities = parse_html('<a href="tg://user?id=42">Ann</a>')
    assert entities == [{"type": "text_mention", "offset": 0, "length": 3, "user": {"id": 42}}]


@pytest.mark.parametrize(
    ("html", "error"),
    [
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
        ("<br>", 'Unsupported start tag "br" at byte offset 0'),
        ("é<div>x</div>", 'Unsupported start tag "div" at byte offset 2'),
        ("<b>open", 'Can\'t find end tag corresponding to start tag "b"'),
        ("</b>", "Unexpected end tag at byte offset 0"),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("a<b", "Unclosed start tag at byte offset 1"),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ('<tg-emoji emoji-id="x">e</tg-emoji>', "Invalid custom emoji identifier specified"),
    ],
)
def test_html_errors_match_telegram(html, error):
    with pytest.raises(ParseError) as caught:
        parse_html(html)
    assert str(caught.value) == error


def test_markdown_v2_entities():
    text, entities = parse_markdown_v2(
        "*b* _i_ __u__ ~s~ ||sp|| `c` [l](https://x.org) \\. \n```py\nprint()\n```"
    )
    assert text == "b i u s sp c l . \nprint()\n"
    assert [e["type"] for e in entities] == [
        "bold",
        "italic",
        "underline",
        "strikethrough",
        "spoiler",
        "code",
        "text_link",
        "pre",
    ]
    assert entities[-1]["language"] == "py"


def test_markdown_v2_blockquote():
    text, entities = parse_markdown_v2(">quoted\n>lines\nafter")
    assert text == "quoted\nlines\nafter"
    assert entities == [{"type": "blockquote", "offset": 0, "length": 13}]


@pytest.mark.parametrize(
    ("source", "error"),
    [
        ("1.5", "Character '.' is reserved and must be escaped with the preceding '\\'"),
        ("*open", "Can't find end of Bold entity at byte offset 0"),
        ("[a](http://x", "Can't find end of a URL at byte offset 4"),
    ],
)
def test_markdown_v2_errors(source, error):
    with pytest.raises(ParseError) as caught:
        parse_markdown_v2(source)
    assert str(caught.value) == error


def test_legacy_markdown():
    text, entities = parse_markdown("*b* _i_ `c` [t](http://a.org)")
    assert text == "b i c t"
    assert [e["type"] for e in entities] == ["bold", "italic", "code", "text_link"]
    with pytest.raises(ParseError):
        parse_markdown("*open")


def test_detected_entities():
    text = "/start@emu_bot hi @someone see https://ex.org/a?b=1, mail a.b@ex.org #tag #123"
    kinds = [(e["type"], text[e["offset"] : e["offset"] + e["length"]]) for e in detect(text)]
    assert kinds == [
        ("bot_command", "/start@emu_bot"),
        ("mention", "@someone"),
        ("url", "https://ex.org/a?b=1"),
        ("email", "a.b@ex.org"),
        ("hashtag", "#tag"),
    ]


def test_detection_skips_code():
    assert detect("`/cmd`", [{"type": "code", "offset": 0, "length": 6}]) == []


def test_trim_keeps_entities_aligned():
    text, entities = trim("  \n<b>x</b> ", [{"type": "bold", "offset": 3, "length": 5}])
    assert text == "<b>x</b>"
    assert entities == [{"type": "bold", "offset": 0, "length": 5}]


def test_limits_count_characters_after_parsing():
    body = "é" * 4096
    text, _ = format_text(f"<b>{body}</b>", "HTML", None)
    assert len(text) == 4096 and utf16_len(text) == 4096
    with pytest.raises(ApiError, match="message is too long"):
        format_text(body + "x", None, None)
    with pytest.raises(ApiError, match="message caption is too long"):
        format_text("x" * 1025, None, None, caption=True)
    with pytest.raises(ApiError, match="message text is empty"):
        format_text("<b> </b>", "HTML", None)


def test_unknown_parse_mode():
    with pytest.raises(ApiError, match="unsupported parse_mode"):
        format_text("x", "BBCode", None)


@pytest.mark.parametrize(
    ("button", "error"),
    [
        ({"text": "a", "callback_data": "x" * 65}, "BUTTON_DATA_INVALID"),
        ({"text": "a", "callback_data": ""}, "BUTTON_DATA_INVALID"),
        ({"text": "a", "callback_data": "é" * 33}, "BUTTON_DATA_INVALID"),
        ({"text": "a"}, "Text buttons are unallowed in the inline keyboard"),
        ({"text": "a", "url": "not a url"}, "inline keyboard button URL 'not a url' is invalid"),
    ],
)
def test_inline_keyboard_validation(button, error):
    with pytest.raises(ApiError, match=error):
        check_reply_markup({"inline_keyboard": [[button]]})


def test_callback_data_of_64_bytes_is_fine():
    markup = {"inline_keyboard": [[{"text": "a", "callback_data": "x" * 64}]]}
    assert check_reply_markup(markup) == markup
