"""Right-to-left cards and transcripts; staff choosing their own language; a stranger's
first language, from the phone or asked."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from bot.domain import network as network_domain
from bot.domain.cases import find_reporter
from bot.i18n import RLM, tr
from corridor_dev.demo import render_message
from corridor_dev.harness import Harness, example_network
from handlers.common import menu_text
from models import Person


def arabic_doha() -> dict[str, Any]:
    """The Doha centre's group reads Arabic; its caseworkers read Arabic and Urdu."""
    data = example_network()
    for org in data["organisations"]:
        if org["id"] == "qa-workers-centre":
            org["languages"] = ["ar", "en"]
    for person in data["people"]:
        if person["id"] == "ramesh":
            person["language"] = "ar"
        if person["id"] == "aisha":
            person["language"] = "ur"
    return data


def utf16_slice(text: str, offset: int, length: int) -> str:
    return text.encode("utf-16-le")[offset * 2 : (offset + length) * 2].decode("utf-16-le")


async def test_arabic_cards_and_details_read_right_to_left(database_url: str) -> None:
    h = await Harness.start(database_url, network=arabic_doha())
    try:
        worker = await h.user("Worker", "ur")
        await h.say(worker, "/sos")
        await h.press_data(worker, lambda data: data == "sos:QA")
        code = (await h.case_codes())[-1]
        group = h.groups["qa-workers-centre"]
        card = await h.last_with_button(group, tr("ar", "✋ Claim"))
        lines = card["text"].split("\n")
        # Every line reads from the right, even the first, which starts with an emoji and a code.
        assert all(line.startswith(RLM) for line in lines), lines
        assert "استغاثة" in lines[0] and "قطر" in card["text"] and "الأوردية" in card["text"]
        bold = next(e for e in card["entities"] if e["type"] == "bold")
        assert utf16_slice(card["text"], bold["offset"], bold["length"]) == code
        await h.claim(h.staff["ramesh"], group)
        details = await h.tg.wait_for_message(h.staff["ramesh"], contains="📁")
        assert details["text"].startswith(RLM) and "الحالة" in details["text"]
        # The reporter writes Urdu; the Arabic-reading owner gets it as written.
        words = "مالک نے آج پھر دھمکی دی"
        await h.say(worker, words)
        relayed = await h.last_bot_text(h.staff["ramesh"])
        assert relayed.endswith("\n" + words) and relayed.startswith(RLM + "💬")
        # The transcript a demo writes keeps the right-to-left text intact.
        rendered = render_message(card, {})
        assert rendered.startswith("🤖 bot: " + RLM) and "استغاثة" in rendered
    finally:
        await h.stop()


async def test_staff_choose_any_shipped_language_and_keep_it(database_url: str) -> None:
    data = example_network()
    data["bot"] = {**data.get("bot", {}), "languages": ["en", "ne"]}  # offered to reporters
    h = await Harness.start(database_url, network=data)
    try:
        aisha = h.staff["aisha"]
        await h.say(aisha, "/language")
        menu = await h.last_with_button(aisha, "اردو")
        assert len(menu["reply_markup"]["inline_keyboard"]) == 9  # every shipped language
        await h.press_data(aisha, lambda data: data == "lang:ur")
        assert await h.last_bot_text(aisha) == tr("ur", "Language set.")
        # A reporter is offered only the operator's languages and cannot pick another.
        worker = await h.user("Worker", "en")
        await h.say(worker, "/language")
        offered = await h.last_with_button(worker, "English")
        assert len(offered["reply_markup"]["inline_keyboard"]) == 2
        # Aisha is backup: an unclaimed SOS pings her in Urdu.
        await h.say(worker, "/sos")
        await h.press_data(worker, lambda data: data == "sos:QA")
        await h.advance(minutes=6)
        code = (await h.case_codes())[-1]
        ping = (
            "⏰ Case {code} ({corridor}, {urgency}) is still unclaimed. "
            "You are backup: please look at your group."
        )
        expected = tr("ur", ping, code=code, corridor="NP-QA", urgency=tr("ur", "SOS"))
        assert expected in await h.bot_texts(aisha)
        # Loading the network file again (a restart, `network sync`) keeps her choice.
        async with h.app.domain.sessions() as session, session.begin():
            await network_domain.sync_network(session, h.app.config)
        async with h.app.domain.sessions() as session:
            person = await session.scalar(select(Person).where(Person.id == "aisha"))
            assert person.language == "ur"
    finally:
        await h.stop()


def callback_data(message: dict[str, Any]) -> list[str]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return [button.get("callback_data", "") for row in rows for button in row]


async def remembered_language(h: Harness, user_id: int) -> str | None:
    async with h.app.domain.sessions() as session:
        reporter = await find_reporter(session, h.app.domain, user_id)
        return reporter.language if reporter else None


@pytest.mark.parametrize(("code", "language"), [("ne", "ne"), ("id-ID", "id"), ("tl", "fil")])
async def test_a_stranger_whose_phone_speaks_a_bot_language_gets_the_menu_at_once(
    harness: Harness, code: str, language: str
) -> None:
    h = harness
    worker = await h.user("Worker", code)
    await h.say(worker, "/start")
    [welcome] = [m for m in await h.tg.transcript(worker) if m.get("from_bot")]
    assert welcome["text"] == tr(language, "Welcome to Corridor.") + "\n\n" + menu_text(language)
    labels = [b["text"] for row in welcome["reply_markup"]["inline_keyboard"] for b in row]
    assert tr(language, "📝 Report a problem") in labels
    assert tr(language, "🌐 Language") in labels
    assert not any(data.startswith("lang:") for data in callback_data(welcome))
    assert await remembered_language(h, worker) == language
    # The language button on that first message changes it, and the choice is kept.
    await h.press_data(worker, lambda data: data == "menu:language")
    question = await h.last_with_button(worker, "English")
    assert question["text"] == tr(language, "Choose your language:")
    await h.press_data(worker, lambda data: data == "lang:en")
    assert tr("en", "Language set.") in await h.bot_texts(worker)
    assert await remembered_language(h, worker) == "en"
    await h.say(worker, "/start")
    assert await h.last_bot_text(worker) == menu_text("en")


@pytest.mark.parametrize("code", ["de", None, "ms"])
async def test_a_stranger_whose_phone_speaks_no_bot_language_is_asked(
    database_url: str, code: str | None
) -> None:
    data = example_network()
    data["bot"] = {**data.get("bot", {}), "languages": ["en", "ne", "id"]}  # no Malay
    h = await Harness.start(database_url, network=data)
    try:
        worker = await h.user("Worker", code)
        await h.say(worker, "/start")
        [question] = [m for m in await h.tg.transcript(worker) if m.get("from_bot")]
        shown = "ms" if code == "ms" else "en"  # a shipped language reads the question
        assert question["text"] == tr(shown, "Welcome to Corridor. Choose your language:")
        assert callback_data(question) == ["lang:en", "lang:ne", "lang:id"]
        assert await remembered_language(h, worker) is None
        await h.press_data(worker, lambda data: data == "lang:id")
        assert await h.last_bot_text(worker) == menu_text("id")
        assert await remembered_language(h, worker) == "id"
    finally:
        await h.stop()
