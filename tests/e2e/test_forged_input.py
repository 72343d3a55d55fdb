"""Forged data from outside is refused before it reaches a query, an encryption or a reply.

Found by fuzzing: ``claim:9223372036854775808`` (a case id of 2**63 raised ``OverflowError``
in the database driver; on PostgreSQL anything over 2**31 - 1 is out of range for the id
column) and text with lone UTF-16 surrogates (no encoder takes them: not the database,
not the encryption, not the Bot API). Each used to be answered with the apology for an
internal error and logged as an unhandled exception. Now: a forged button is answered as
stale, unreadable text gets a clear request to type it again, nothing is logged at ERROR
and nothing is stored."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import func, select

from bot.domain import cases, claims
from bot.i18n import tr
from corridor_dev.harness import Harness
from models import Attachment, Person
from tests.support import database, wage_report

pytestmark = pytest.mark.asyncio(loop_scope="module")

STALE = "This button is no longer valid."
UNREADABLE = "I can't read that message: some of its characters are damaged. Please type it again."
APOLOGY = "Sorry, something went wrong on our side. Nothing you sent is lost; please try again in a moment."
WATCHED = ("handlers", "aiogram", "bot")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def harness(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Harness]:
    async with database(tmp_path_factory.mktemp("forged")) as url:
        running = await Harness.start(url)
        try:
            yield running
        finally:
            await running.stop()


def errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        f"{r.name}: {r.getMessage()[:200]}"
        for r in caplog.records
        if r.levelno >= logging.ERROR and r.name.startswith(WATCHED)
    ]


async def reporter_with_claimed_case(h: Harness, name: str, language: str) -> tuple[int, int]:
    uid = (await h.tg.create_user(name, language_code=language, started=True))["id"]
    domain = h.app.domain
    async with domain.sessions() as session, session.begin():
        reporter = await cases.reporter_for(session, domain, uid, uid, language)
        case = await cases.submit_report(session, domain, reporter, wage_report(language=language))
        ramesh = await session.get(Person, "ramesh")
        won = await claims.claim(session, domain, case.id, ramesh, h.groups["qa-workers-centre"])
        assert won.outcome == "won"
    await h.settle()
    return uid, case.id


async def attachments(h: Harness) -> int:
    async with h.app.domain.sessions() as session:
        return await session.scalar(select(func.count()).select_from(Attachment))


async def tap_forged(h: Harness, uid: int, chat: int, data: str) -> dict[str, Any]:
    target = [m for m in await h.tg.transcript(chat) if m.get("from_bot")][-1]
    query = await h.tg.press_button(uid, chat, target["message_id"], data=data, strict=False)
    answer = await h.tg.get_callback_answer(query, timeout=15)
    await h.settle()
    return answer


OUT_OF_RANGE = [
    "claim:9223372036854775808",
    "claim:9223372036854775807",
    "claim:2147483648",
    "claim:0",
    "claim:-9223372036854775809",
    "pass:18446744073709551616",
    "passr:2147483648:busy",
    "chk:99999999999999999999:safe",
    "snz:1:9223372036854775808",
    "fb:1:2147483648",
    "cns:1:statistics:9223372036854775808",
    "out:2147483648:OTHER",
    "ref:9223372036854775808:np-returnee-shelter",
    "pick:9223372036854775808",
    "wd:9223372036854775808:1",
    "cwd:9223372036854775808:statistics",
    "clr:9223372036854775808",
    "fgt:2147483648",
    "r:role:a\x00b",
    "lang:\x00",
]


async def test_out_of_range_callback_data_is_answered_as_stale(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    h = harness
    caplog.set_level(logging.INFO)
    reporter, _case = await reporter_with_claimed_case(h, "Forger", "ne")
    await h.say(reporter, "/status")
    ramesh, group = h.staff["ramesh"], h.groups["qa-workers-centre"]
    for data in OUT_OF_RANGE:
        for uid, chat, language in ((reporter, reporter, "ne"), (ramesh, group, "en")):
            caplog.clear()
            answer = await tap_forged(h, uid, chat, data)
            assert answer.get("text") == tr(language, STALE), (data, answer)
            assert errors(caplog) == [], data


async def test_text_with_lone_surrogates_is_refused_in_the_users_language(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    h = harness
    caplog.set_level(logging.INFO)
    reporter, case_id = await reporter_with_claimed_case(h, "Broken", "ne")
    stranger = (await h.tg.create_user("Stranger", language_code="id", started=True))["id"]
    ramesh = h.staff["ramesh"]
    async with h.app.domain.sessions() as session:
        from models import Case

        code = (await session.get(Case, case_id)).code
    kept = await attachments(h)
    texts = [
        (reporter, "ne", "I was not paid \ud800 for months"),
        (reporter, "ne", "\udfff"),
        (reporter, "ne", "/start \ud83d"),
        (stranger, "id", "tolong \udc00"),
        (ramesh, "en", f"/reply {code} we will call \ud800 you"),
    ]
    for uid, language, text in texts:
        caplog.clear()
        await h.say(uid, text)
        assert await h.last_bot_text(uid) == tr(language, UNREADABLE), text
        assert errors(caplog) == [], text
    # A caption, and an edit of an earlier message.
    caplog.clear()
    await h.send("photo", reporter, caption="payslip \ud800")
    assert await h.last_bot_text(reporter) == tr("ne", UNREADABLE)
    mine = [m for m in await h.tg.transcript(reporter) if not m.get("from_bot") and "text" in m]
    await h.tg.edit_message(reporter, reporter, mine[0]["message_id"], "edited \ud800")
    await h.settle()
    assert await h.last_bot_text(reporter) == tr("ne", UNREADABLE)
    assert errors(caplog) == []
    # Nothing of it was kept, and nothing reached the owner or the reporter.
    assert await attachments(h) == kept
    for chat in (ramesh, reporter):
        shown = " ".join(await h.bot_texts(chat))
        assert "\ud800" not in shown and tr("ne", APOLOGY) not in shown
    # A valid pair of surrogates in the JSON is an ordinary emoji and goes through.
    await h.say(reporter, "thank you 😀")
    assert await h.last_bot_text(reporter) == tr(
        "ne", "Sent to your helper (case {code}).", code=code
    )
    assert (await h.last_bot_text(ramesh)).endswith("thank you 😀")


async def test_callback_data_with_lone_surrogates_is_answered_as_stale(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    h = harness
    caplog.set_level(logging.INFO)
    uid = (await h.tg.create_user("Tapper", language_code="ne", started=True))["id"]
    await h.say(uid, "/start")
    for data in ("lang:\ud800", "menu:\udfff", "r:role:\ud800"):
        caplog.clear()
        answer = await tap_forged(h, uid, uid, data)
        assert answer.get("text") == tr("ne", STALE)
        assert errors(caplog) == []


async def test_a_button_on_a_message_the_bot_cannot_reach_is_answered_as_stale(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    """Found by the 10,000-update fuzz run: a real language button pressed on a message that
    does not exist arrives with an InaccessibleMessage, which has no edit_text."""
    h = harness
    caplog.set_level(logging.INFO)
    uid = (await h.tg.create_user("Gone", language_code="en", started=True))["id"]
    await h.say(uid, "/language")
    shown = [m for m in await h.tg.transcript(uid) if m.get("from_bot")][-1]
    data = next(
        b["callback_data"]
        for row in shown["reply_markup"]["inline_keyboard"]
        for b in row
        if "callback_data" in b
    )
    ramesh, group = h.staff["ramesh"], h.groups["qa-workers-centre"]
    for user, chat, tapped in ((uid, uid, data), (ramesh, group, data), (ramesh, group, "claim:1")):
        caplog.clear()
        query = await h.tg.press_button(user, chat, 10**9, data=tapped, strict=False)
        answer = await h.tg.get_callback_answer(query, timeout=15)
        await h.settle()
        if tapped.startswith("claim:"):
            # A claim needs only the chat, which Telegram still gives: an old card whose
            # message the bot cannot reach stays claimable, and the claim rules answer.
            assert answer.get("text") != STALE, answer
        else:
            assert answer.get("text") == STALE, (tapped, answer)
        assert errors(caplog) == [], tapped


async def test_a_reply_to_a_message_that_is_gone_still_arrives(harness: Harness) -> None:
    """Found by the fuzz run: the bot's answer quoting a message that no longer exists was
    refused by Telegram ("message to be replied not found") and given up on."""
    import time

    h = harness
    uid = (await h.tg.create_user("Eraser", language_code="en", started=True))["id"]
    user = {"id": uid, "is_bot": False, "first_name": "Eraser", "language_code": "en"}
    await h.tg.inject_update(
        {
            "edited_message": {
                "message_id": 10**9,
                "date": int(time.time()) - 60,
                "edit_date": int(time.time()),
                "chat": {"id": uid, "type": "private", "first_name": "Eraser"},
                "from": user,
                "text": "corrected",
            }
        }
    )
    await h.settle()
    assert (await h.last_bot_text(uid)).startswith("I saw that you edited a message.")
