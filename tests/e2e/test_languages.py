"""Right-to-left cards and transcripts; staff choosing their own language."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.domain import network as network_domain
from bot.i18n import RLM, tr
from corridor_dev.demo import render_message
from corridor_dev.harness import Harness, example_network
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
