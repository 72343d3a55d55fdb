"""No silent failures: a card that cannot reach its group alerts the coordinators at once,
goes to the next group that can take it, is named by /case, and a group linked later gets
every case still waiting. End to end through the emulator, in two languages."""

from __future__ import annotations

import pytest

from bot.i18n import tr
from corridor_dev.harness import Harness, example_network
from models import Case
from tests.e2e.test_intake_paths import plain

QA = "qa-workers-centre"
NP = "np-returnee-shelter"
NOT_FOUND = "Telegram does not know this chat (a wrong id, or the group was deleted)"


async def started(database_url: str, lang: str) -> Harness:
    """The example network with its NP-QA coordinator speaking ``lang``."""
    network = example_network()
    for person in network["people"]:
        if person["id"] == "sita":
            person["language"] = lang
    return await Harness.start(database_url, network=network)


async def sos(h: Harness, name: str) -> Case:
    worker = await h.user(name)
    await h.say(worker, "/sos")
    await h.press_data(worker, lambda data: data == "sos:QA")
    code = (await h.case_codes())[-1]
    async with h.app.domain.sessions() as session:
        from sqlalchemy import select

        case = await session.scalar(select(Case).where(Case.code == code))
        assert case is not None
        return case


def alert(
    lang: str,
    case: Case,
    chat: int,
    reason: str,
    then: str,
    org: str = "Doha Migrant Workers Centre",
) -> str:
    return plain(
        tr(
            lang,
            "⚠️ The card of case <b>{code}</b> ({corridor}) cannot reach the group of {org} "
            "(chat {chat}): {reason}. That group is switched off until a coordinator links it again with /linkgroup.",
            code=case.code,
            corridor=case.corridor_code,
            org=org,
            chat=chat,
            reason=tr(lang, reason),
        )
        + "\n"
        + then
    )


async def shown_in(h: Harness, chat: int, code: str) -> bool:
    return any(code in (m.get("text") or "") for m in await h.tg.transcript(chat))


@pytest.mark.parametrize("lang", ["en", "ne"])
async def test_a_card_for_a_missing_group_alerts_at_once_and_goes_to_the_next_group(
    database_url: str, lang: str
) -> None:
    h = await started(database_url, lang)
    try:
        qa_chat, sita = h.groups[QA], h.staff["sita"]
        # The configured id is wrong, or the group was deleted: Telegram does not know it.
        await h.tg.delete_group(qa_chat)
        case = await sos(h, "Worker")
        # At once, not 15 minutes later: the reason and the case code.
        then = tr(
            lang, "The case was posted instead to: {orgs}.", orgs="Kathmandu Returnee Shelter"
        )
        assert alert(lang, case, qa_chat, NOT_FOUND, then) in await h.bot_texts(sita)
        # The next group that can take it has the card, and can claim it.
        assert await shown_in(h, h.groups[NP], case.code)
        await h.claim(h.staff["bishnu"], h.groups[NP])
        # /case names the chat that failed.
        await h.say(sita, f"/case {case.code}")
        timeline = (await h.bot_texts(sita))[-1]
        assert (
            plain(
                tr(
                    lang,
                    "the card could not reach chat {chat} ({title}, {org}): {reason}",
                    chat=qa_chat,
                    title=h.titles[qa_chat],
                    org=QA,
                    reason=tr(lang, NOT_FOUND),
                )
            )
            in timeline
        )
    finally:
        await h.stop()


@pytest.mark.parametrize("lang", ["en", "ne"])
async def test_nobody_is_sent_to_a_group_where_nothing_was_posted(
    database_url: str, lang: str
) -> None:
    h = await started(database_url, lang)
    try:
        qa_chat = h.groups[QA]
        await h.tg.delete_group(qa_chat)
        # With the origin side also unreachable, no group can take it.
        await h.tg.delete_group(h.groups[NP])
        case = await sos(h, "Worker")
        sita = h.staff["sita"]
        texts = await h.bot_texts(sita)
        moved = tr(
            lang, "The case was posted instead to: {orgs}.", orgs="Kathmandu Returnee Shelter"
        )
        nowhere = tr(
            lang,
            "No other group can take it. Please find it an owner: /case {code}",
            code=case.code,
        )
        # Each lost group is named as it fails: first Doha's, then the shelter's.
        assert texts[-2:] == [
            alert(lang, case, qa_chat, NOT_FOUND, moved),
            alert(lang, case, h.groups[NP], NOT_FOUND, nowhere, org="Kathmandu Returnee Shelter"),
        ]
        # The backup of the lost group is not told to "look at your group".
        await h.advance(minutes=16)
        assert not any(case.code in t for t in await h.bot_texts(h.staff["aisha"]))
    finally:
        await h.stop()


@pytest.mark.parametrize("lang", ["en", "ne"])
async def test_a_card_update_for_a_deleted_group_moves_the_case(
    database_url: str, lang: str
) -> None:
    h = await started(database_url, lang)
    try:
        qa_chat, sita = h.groups[QA], h.staff["sita"]
        case = await sos(h, "Worker")
        assert await shown_in(h, qa_chat, case.code)
        await h.tg.delete_group(qa_chat)
        # The first escalation edits the card: Telegram no longer knows the group.
        await h.advance(minutes=6)
        then = tr(
            lang, "The case was posted instead to: {orgs}.", orgs="Kathmandu Returnee Shelter"
        )
        assert alert(lang, case, qa_chat, NOT_FOUND, then) in await h.bot_texts(sita)
        assert await shown_in(h, h.groups[NP], case.code)
    finally:
        await h.stop()


@pytest.mark.parametrize("lang", ["en", "ne"])
async def test_linkgroup_posts_every_case_still_waiting(database_url: str, lang: str) -> None:
    h = await started(database_url, lang)
    try:
        qa_chat, sita, ramesh = h.groups[QA], h.staff["sita"], h.staff["ramesh"]
        await h.tg.delete_group(qa_chat)
        # The first case moves to the shelter's group, which claims it; the second finds
        # no working group at all and waits with the coordinators.
        first = await sos(h, "First")
        await h.claim(h.staff["bishnu"], h.groups[NP])
        second = await sos(h, "Second")
        assert not await shown_in(h, h.groups[NP], second.code)
        # A new group for the Doha centre; the bot is an ordinary member, not an admin:
        # posting cards needs no more.
        group = await h.tg.create_group("Doha responders (new)", [sita, ramesh], supergroup=True)
        await h.say(sita, "/linkgroup qa-workers-centre", chat_id=group["id"])
        assert (
            tr(lang, "This group now receives the case cards of {org}.", org=QA)
            + "\n"
            + tr(lang, "Cases waiting for an owner, posted here now: {n}", n=1)
        ) in await h.bot_texts(group["id"])
        assert await shown_in(h, group["id"], second.code)
        assert not await shown_in(h, group["id"], first.code)  # claimed already
        await h.claim(ramesh, group["id"])
        async with h.app.domain.sessions() as session:
            owned = await session.get(Case, second.id)
            assert owned is not None and owned.owner_person_id == "ramesh"
        # Linking again posts nothing twice.
        await h.say(sita, "/linkgroup qa-workers-centre", chat_id=group["id"])
        assert (await h.bot_texts(group["id"]))[-1] == tr(
            lang, "This group now receives the case cards of {org}.", org=QA
        )
    finally:
        await h.stop()
