"""Long texts reach the other side whole: split into tagged, numbered parts, none refused.

A reporter may send 4,096 characters (a caption 1,024); the relay adds the case tag in
front, which used to push the message over Telegram's limit, so it failed for good while
the reporter had been told "Sent to your helper". The emulator applies Telegram's limits,
so every part that arrives here is one Telegram accepts."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import select

from bot.domain import cases, claims, referral
from bot.i18n import tr
from bot.text_limits import CAPTION_LIMIT, TEXT_LIMIT
from corridor_dev.harness import Harness
from models import Case, Organisation, OutboxMessage, Person
from tests.support import database, wage_report

pytestmark = pytest.mark.asyncio(loop_scope="module")

COUNTER = re.compile(r"^(?:(?P<header>.*?) )?\((?P<index>\d+)/(?P<total>\d+)\)\n", re.S)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def harness(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Harness]:
    async with database(tmp_path_factory.mktemp("long-messages")) as url:
        running = await Harness.start(url)
        try:
            yield running
        finally:
            await running.stop()


def words(size: int, seed: str = "Pay") -> str:
    """``size`` characters of sentences and paragraphs, each word numbered so that a lost
    or repeated piece shows."""
    out, n = [], 0
    while sum(map(len, out)) < size:
        n += 1
        end = ".\n\n" if n % 97 == 0 else ". " if n % 11 == 0 else " "
        out.append(f"{seed}{n}{end}")
    text = "".join(out)[: size - 1].rstrip()
    return text + "x" * (size - len(text))


def flat(text: str) -> str:
    """Telegram trims each message; the parts are compared with white space normalised."""
    return " ".join(text.split())


async def claimed_case(h: Harness, name: str, **report: Any) -> tuple[int, Case, int]:
    """A reporter (user id) with a case Ramesh has claimed; returns (uid, case, Ramesh's id)."""
    uid = (await h.tg.create_user(name, language_code="en", started=True))["id"]
    domain = h.app.domain
    async with domain.sessions() as session, session.begin():
        reporter = await cases.reporter_for(session, domain, uid, uid, "en")
        case = await cases.submit_report(
            session, domain, reporter, wage_report(language="en", **report)
        )
        ramesh = await session.get(Person, "ramesh")
        won = await claims.claim(session, domain, case.id, ramesh, h.groups["qa-workers-centre"])
        assert won.outcome == "won"
    await h.settle()
    return uid, case, h.staff["ramesh"]


async def new_bot_messages(h: Harness, chat: int, after: int) -> list[dict[str, Any]]:
    return [m for m in await h.tg.transcript(chat) if m.get("from_bot") and m["message_id"] > after]


async def last_id(h: Harness, chat: int) -> int:
    messages = await h.tg.transcript(chat)
    return messages[-1]["message_id"] if messages else 0


def parts_of(messages: list[dict[str, Any]], header: str) -> list[tuple[int, int, str]]:
    """(index, total, body) of every message that is a numbered part under ``header``."""
    found = []
    for message in messages:
        shown = message.get("text") or message.get("caption") or ""
        match = COUNTER.match(shown)
        if match and (match["header"] or "") == header:
            found.append((int(match["index"]), int(match["total"]), shown[match.end() :]))
    return found


def assert_whole(parts: list[tuple[int, int, str]], original: str) -> None:
    assert parts, "no numbered part arrived"
    total = parts[0][1]
    assert [(i, t) for i, t, _ in parts] == [(i, total) for i in range(1, total + 1)]
    assert flat(" ".join(body for _, _, body in parts)) == flat(original)


async def assert_nothing_failed(h: Harness) -> None:
    async with h.app.domain.sessions() as session:
        failed = list(
            await session.scalars(select(OutboxMessage).where(OutboxMessage.status != "sent"))
        )
    assert [(m.purpose, m.error) for m in failed] == []


@pytest.mark.parametrize("size", [4080, 4096])
async def test_a_full_length_text_reaches_the_owner_in_parts(harness: Harness, size: int) -> None:
    h = harness
    uid, case, ramesh = await claimed_case(h, f"Long {size}")
    before = await last_id(h, ramesh)
    text = words(size)
    assert len(text) == size
    await h.say(uid, text)
    assert await h.last_bot_text(uid) == tr(
        "en", "Sent to your helper (case {code}).", code=case.code
    )
    relayed = await new_bot_messages(h, ramesh, before)
    header = tr("en", "💬 [{code}] Reporter:", code=case.code)
    parts = parts_of(relayed, header)
    assert len(parts) == 2
    assert_whole(parts, text)
    assert all(len(m["text"]) <= TEXT_LIMIT for m in relayed)
    await assert_nothing_failed(h)

    # A reply to any part reaches the reporter.
    second = next(m for m in relayed if parts_of([m], header)[0][0] == 2)
    await h.tg.send_message(ramesh, "Got all of it.", reply_to_message_id=second["message_id"])
    await h.settle()
    assert (await h.last_bot_text(uid)).endswith("Got all of it.")


async def test_a_full_length_caption_reaches_the_owner_in_parts(harness: Harness) -> None:
    h = harness
    uid, case, ramesh = await claimed_case(h, "Long caption")
    before = await last_id(h, ramesh)
    caption = words(CAPTION_LIMIT, "Slip")
    await h.send("photo", uid, caption=caption)
    assert await h.last_bot_text(uid) == tr(
        "en", "Sent to your helper (case {code}).", code=case.code
    )
    relayed = await new_bot_messages(h, ramesh, before)
    header = tr("en", "[{code}] from the reporter", code=case.code)
    parts = parts_of(relayed, header)
    assert_whole(parts, caption)
    assert relayed[0].get("media_kind") == "photo" and parts_of(relayed[:1], header)[0][0] == 1
    assert all(len(m.get("caption") or "") <= CAPTION_LIMIT for m in relayed)
    await assert_nothing_failed(h)


async def test_a_long_answer_reaches_the_reporter_whole(harness: Harness) -> None:
    """The owner's answer used to be cut at 3,500 characters without a word."""
    h = harness
    uid, case, ramesh = await claimed_case(h, "Long answer")
    before = await last_id(h, uid)
    command = f"/reply {case.code} "
    answer = words(TEXT_LIMIT - len(command), "Step")
    await h.say(ramesh, command + answer)
    assert await h.last_bot_text(ramesh) == tr(
        "en", "Sent to the reporter of {code}.", code=case.code
    )
    header = tr(
        "en",
        "💬 A responder of {org} about your case {code}:",
        org="Doha Migrant Workers Centre",
        code=case.code,
    )
    assert_whole(parts_of(await new_bot_messages(h, uid, before), header), answer)
    await assert_nothing_failed(h)


async def test_a_long_description_and_referral_note_reach_the_new_owner(harness: Harness) -> None:
    h = harness
    description = words(9000, "Desc")
    note = words(TEXT_LIMIT, "Note")
    ramesh_before = await last_id(h, h.staff["ramesh"])
    _uid, case, ramesh = await claimed_case(h, "Long description", description=description)
    header = tr("en", "[{code}] Description, in the reporter's words:", code=case.code)
    parts = parts_of(await new_bot_messages(h, ramesh, ramesh_before), header)
    assert len(parts) == 3
    assert_whole(parts, description)

    # Referred across the corridor with a long note; Bishnu claims it there.
    domain = h.app.domain
    async with domain.sessions() as session, session.begin():
        fresh = await session.get(Case, case.id)
        ramesh_person = await session.get(Person, "ramesh")
        shelter = await session.get(Organisation, "np-returnee-shelter")
        result = await referral.refer(session, domain, fresh, ramesh_person, shelter, note)
        assert result == "referred"
    await h.settle()
    bishnu = h.staff["bishnu"]
    before = await last_id(h, bishnu)
    await h.claim(bishnu, h.groups["np-returnee-shelter"])
    received = await new_bot_messages(h, bishnu, before)
    note_header = tr("ne", "[{code}] Note from the referring organisation:", code=case.code)
    assert_whole(parts_of(received, note_header), note)
    description_header = tr("ne", "[{code}] Description, in the reporter's words:", code=case.code)
    assert_whole(parts_of(received, description_header), description)
    await assert_nothing_failed(h)


def long_html(rows: int) -> str:
    """A digest-like HTML text: bold headings, escaped names, links, a quote block."""
    lines = ["<b>📊 Daily digest</b>"]
    for n in range(rows):
        lines.append(
            f"• <b>QA-{n:05d}</b> Al Noor &amp; Sons &lt;Doha&gt; — "
            f'<a href="https://example.org/case?id={n}&amp;x=1">open</a> <i>wages, {n} days</i>'
        )
    return "<blockquote>" + "\n".join(lines) + "</blockquote>"


async def test_a_digest_over_the_limit_goes_in_valid_html_parts(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.domain import duties
    from bot.views import digest

    h = harness
    text = long_html(150)
    monkeypatch.setattr(digest, "render", lambda *args, **kwargs: text)
    sita = h.staff["sita"]
    before = await last_id(h, sita)
    domain = h.app.domain
    async with domain.sessions() as session, session.begin():
        await duties.queue_digest(session, domain, await session.get(Person, "sita"))
    await h.settle()
    received = await new_bot_messages(h, sita, before)
    parts = parts_of([m for m in received if m.get("text")], "")
    assert len(parts) >= 3
    assert flat(" ".join(body for _, _, body in parts)) == flat(
        re.sub(r"<[^>]+>", "", text).replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
    )
    assert received[-1].get("media_kind") == "photo"
    await assert_nothing_failed(h)


async def test_any_text_queued_over_the_limit_still_goes_out_whole(harness: Harness) -> None:
    """The outbox's guard, for a caller that did not split: numbered parts, not a refusal."""
    from bot.domain.outbox import queue

    h = harness
    dewi = h.staff["dewi"]
    before = await last_id(h, dewi)
    text = long_html(120)
    domain = h.app.domain
    async with domain.sessions() as session, session.begin():
        queue(
            session,
            domain,
            purpose="owner",
            chat_id=dewi,
            text=text,
            keyboard={"inline_keyboard": [[{"text": "OK", "callback_data": "menu:help"}]]},
            extra={"parse_mode": "HTML"},
        )
    await h.settle()
    received = await new_bot_messages(h, dewi, before)
    assert len(parts_of(received, "")) == len(received) >= 2
    assert [bool(m.get("reply_markup")) for m in received] == [False] * (len(received) - 1) + [True]
    await assert_nothing_failed(h)
