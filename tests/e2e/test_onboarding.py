"""Growing and pruning the network from Telegram: invite links, linking a group, removing
a responder. Everything goes through the real bot and the emulator."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, select

from bot.i18n import tr
from corridor_dev.harness import Harness, example_network
from models import Case, Invite, Person

ORG_NAMES = {o["id"]: o["name"] for o in example_network()["organisations"]}
LANGUAGES = {p["id"]: p.get("language", "en") for p in example_network()["people"]}
INVITE_ASK = "Invite a responder to which organisation?"
WELCOME = (
    "Welcome, {name}. You are now a responder of {org}. "
    "Case cards appear in your organisation's group; /oncall shows who is on call."
)
INVITE_INVALID = "This invitation is not valid any more. Ask your coordinator for a new one."
FOR_COORDINATORS = "This command is for coordinators."
NOT_MEMBER = "Only responders of this group's organisation can claim this case."
OWN_NOW = "You own case {code} now. Details are in your private chat with me."
LINKED = "This group now receives the case cards of {org}."
LINK_USAGE = "Usage: /linkgroup ORGANISATION_ID (an organisation of your corridors)"
REMOVED = "{person} no longer has access. Their open cases are back in the queue."
BACK_IN_QUEUE = "Back in the queue: the owner is no longer available."
LOST_OWNER = "⚠️ Case <b>{code}</b> ({corridor}) lost its owner and is back in the queue."


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        b for row in (message.get("reply_markup") or {}).get("inline_keyboard", []) for b in row
    ]


def plain(text: str) -> str:
    return re.sub(r"<[^>]+>", "", text)


async def sos_case(h: Harness, country: str = "QA") -> Case:
    """A quick routed case: a new worker sends an SOS from ``country``."""
    worker = await h.user("Worker", "en")
    await h.say(worker, "/sos")
    await h.press_data(worker, lambda data: data == f"sos:{country}")
    async with h.app.domain.sessions() as session:
        case = await session.scalar(select(Case).order_by(Case.id.desc()).limit(1))
    assert case is not None and case.status == "routed"
    return case


async def load(h: Harness, case_id: int) -> Case:
    async with h.app.domain.sessions() as session:
        case = await session.get(Case, case_id)
        assert case is not None
        return case


async def card(h: Harness, chat_id: int, case: Case) -> dict[str, Any] | None:
    """The newest message in a group that is this case's card (its first line names the code)."""
    for message in reversed(await h.tg.transcript(chat_id)):
        first_line = (message.get("text") or "").split("\n", 1)[0]
        if message.get("from_bot") and f" {case.code} · " in first_line:
            return message
    return None


async def press_claim(h: Harness, user_id: int, chat_id: int, case: Case) -> dict[str, Any]:
    return await h.press_data(user_id, lambda data: data == f"claim:{case.id}", chat_id=chat_id)


async def test_invite_link_makes_a_responder_once(harness: Harness) -> None:
    h = harness
    sita, qa_group = h.staff["sita"], h.groups["qa-workers-centre"]
    await h.say(sita, "/invite")
    ask = (await h.tg.transcript(sita))[-1]
    assert ask["text"] == tr("en", INVITE_ASK)
    # Sita coordinates NP-QA and NP-MY: the Jakarta union (ID-MY only) is not hers to grow.
    assert sorted((b["text"], b["callback_data"]) for b in buttons(ask)) == sorted(
        (ORG_NAMES[org], f"inv:{org}")
        for org in ("my-legal-aid", "np-returnee-shelter", "qa-workers-centre")
    )
    await h.tap(sita, ORG_NAMES["qa-workers-centre"])
    link_text = await h.last_bot_text(sita)
    match = re.search(r"https://t\.me/(\w+)\?start=join_([\w-]+)", link_text)
    assert match, link_text
    assert match.group(1) == h.app.domain.bot_username
    token = match.group(2)
    assert f"start=join_{token}" in link_text

    # A newcomer who is already in the group cannot claim before redeeming the link …
    case = await sos_case(h)
    nadia = await h.user("Nadia", "en")
    await h.tg.add_member(qa_group, nadia)
    refused = await press_claim(h, nadia, qa_group, case)
    assert refused.get("text") == tr("en", NOT_MEMBER) and refused.get("show_alert")
    assert (await load(h, case.id)).owner_person_id is None

    # … redeems it …
    await h.say(nadia, f"/start join_{token}")
    assert await h.last_bot_text(nadia) == tr(
        "en", WELCOME, name="Nadia", org=ORG_NAMES["qa-workers-centre"]
    )
    async with h.app.domain.sessions() as session:
        person = await session.scalar(select(Person).where(Person.telegram_user_id == nadia))
        assert person is not None
        assert (person.role, person.organisation_id, person.active) == (
            "responder",
            "qa-workers-centre",
            True,
        )
        invite = await session.scalar(select(Invite))
        assert invite is not None and invite.used_by == person.id and invite.used_at is not None

    # … and from then on claims cards in her organisation's group.
    won = await press_claim(h, nadia, qa_group, case)
    assert won.get("text") == tr("en", OWN_NOW, code=case.code)
    claimed = await load(h, case.id)
    assert (claimed.status, claimed.owner_person_id) == ("claimed", person.id)
    assert any(case.code in t and "full details" in t for t in await h.bot_texts(nadia))

    # The same link a second time, by someone else, fails and makes nobody a responder.
    omar = await h.user("Omar", "en")
    await h.say(omar, f"/start join_{token}")
    assert await h.last_bot_text(omar) == tr("en", INVITE_INVALID)
    async with h.app.domain.sessions() as session:
        assert await session.scalar(select(Person).where(Person.telegram_user_id == omar)) is None


async def test_invite_is_for_coordinators_only(harness: Harness) -> None:
    h = harness
    stranger = await h.user("Stranger", "en")
    await h.say(stranger, "/invite")
    assert await h.last_bot_text(stranger) == tr("en", FOR_COORDINATORS)
    ramesh = h.staff["ramesh"]  # a responder, not a coordinator
    await h.say(ramesh, "/invite")
    assert await h.last_bot_text(ramesh) == tr("en", FOR_COORDINATORS)
    # A forged organisation button does not produce a link either.
    last = (await h.tg.transcript(ramesh))[-1]
    query = await h.tg.press_button(
        ramesh, ramesh, last["message_id"], data="inv:qa-workers-centre", strict=False
    )
    answer = await h.tg.get_callback_answer(query, timeout=20)
    await h.settle()
    assert "join_" not in (answer.get("text") or "")
    assert not any("start=join_" in t for t in await h.bot_texts(ramesh))
    async with h.app.domain.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Invite)) == 0


async def test_linkgroup_sends_new_cards_to_the_linked_group_too(harness: Harness) -> None:
    h = harness
    sita, dewi = h.staff["sita"], h.staff["dewi"]
    qa_group = h.groups["qa-workers-centre"]
    before = await sos_case(h)
    night = await h.tg.create_group("DMWC night shift", member_ids=[sita, dewi], supergroup=True)
    night_id = night["id"]

    # Dewi coordinates ID-MY only: the Doha centre is not hers to link.
    await h.say(dewi, "/linkgroup qa-workers-centre", chat_id=night_id)
    assert await h.last_bot_text(night_id) == tr(LANGUAGES["dewi"], LINK_USAGE)
    await h.say(sita, "/linkgroup qa-workers-centre", chat_id=night_id)
    assert await h.last_bot_text(night_id) == tr("en", LINKED, org="qa-workers-centre")

    after = await sos_case(h)
    assert await card(h, qa_group, after) is not None
    night_card = await card(h, night_id, after)
    assert night_card is not None
    assert f"claim:{after.id}" in {b.get("callback_data") for b in buttons(night_card)}
    # Linking is not retroactive: the earlier case's card stays where it was posted.
    assert await card(h, night_id, before) is None
    assert await card(h, qa_group, before) is not None

    # A Doha responder who joins the new group can claim there.
    ramesh = h.staff["ramesh"]
    await h.tg.add_member(night_id, ramesh)
    won = await press_claim(h, ramesh, night_id, after)
    assert won.get("text") == tr("en", OWN_NOW, code=after.code)
    assert (await load(h, after.id)).owner_person_id == "ramesh"


async def test_removed_responder_loses_access_and_their_case_goes_back(harness: Harness) -> None:
    h = harness
    sita, ramesh, aisha = h.staff["sita"], h.staff["ramesh"], h.staff["aisha"]
    qa_group = h.groups["qa-workers-centre"]
    owned = await sos_case(h)
    won = await press_claim(h, ramesh, qa_group, owned)
    assert won.get("text") == tr("en", OWN_NOW, code=owned.code)
    claimed_card = await card(h, qa_group, owned)
    assert claimed_card is not None and not buttons(claimed_card)
    waiting = await sos_case(h)

    await h.say(sita, "/remove ramesh")
    # The reply and the coordinator alert (below) both reach Sita; their order is free.
    assert tr("en", REMOVED, person="ramesh") in (await h.bot_texts(sita))[-2:]

    # He can no longer claim: the answer is an alert and the case stays unclaimed.
    refused = await press_claim(h, ramesh, qa_group, waiting)
    assert refused.get("text") == tr("en", NOT_MEMBER) and refused.get("show_alert")
    assert (await load(h, waiting.id)).owner_person_id is None

    # His case is back in the queue, its card offers Claim again, the coordinator is told.
    released = await load(h, owned.id)
    assert (released.status, released.owner_person_id, released.owner_organisation_id) == (
        "routed",
        None,
        None,
    )
    rerendered = await card(h, qa_group, owned)
    assert rerendered is not None
    assert f"claim:{owned.id}" in {b.get("callback_data") for b in buttons(rerendered)}
    assert tr("en", BACK_IN_QUEUE) in rerendered["text"]
    waiting_status = tr("en", "Status: {status}", status=tr("en", "waiting for a helper"))
    assert waiting_status in rerendered["text"]
    assert plain(tr("en", LOST_OWNER, code=owned.code, corridor="NP-QA")) in await h.bot_texts(sita)
    async with h.app.domain.sessions() as session:
        person = await session.get(Person, "ramesh")
        assert person is not None and not person.active

    # Someone else can take it over from the re-rendered card.
    again = await press_claim(h, aisha, qa_group, owned)
    assert again.get("text") == tr("en", OWN_NOW, code=owned.code)
    assert (await load(h, owned.id)).owner_person_id == "aisha"
