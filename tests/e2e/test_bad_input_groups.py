"""Bad input and broken situations in responder groups, end to end through the emulator:
people who are not responders, stale and foreign buttons, wrong case codes, and the
bot losing a group or an owner."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select

from bot.domain.network import sync_network
from bot.i18n import tr
from corridor_dev.harness import Harness
from models import Case, CaseCard, ConversationState, OutboxMessage, ResponderGroup

QA_ORG = "qa-workers-centre"
PRIVATE_POINTER = (
    "For everyone's safety, reports are only taken in a private chat with me: https://t.me/{bot}"
)
NOT_MEMBER = "Only responders of this group's organisation can claim this case."
APOLOGY = "Sorry, something went wrong on our side. Nothing you sent is lost; please try again in a moment."


# -- helpers -------------------------------------------------------------------------------


async def say(h: Harness, uid: int, text: str, **kwargs: Any) -> dict[str, Any]:
    sent = await h.tg.send_message(uid, text, **kwargs)
    await h.settle()
    return sent


async def send(h: Harness, kind: str, uid: int, **kwargs: Any) -> Any:
    sent = await getattr(h.tg, f"send_{kind}")(uid, **kwargs)
    await h.settle()
    return sent


async def press(
    h: Harness, user_id: int, chat_id: int, message_id: int, data: str, strict: bool = False
) -> dict[str, Any]:
    query = await h.tg.press_button(user_id, chat_id, message_id, data=data, strict=strict)
    answer = await h.tg.get_callback_answer(query, timeout=20)
    await h.settle()
    return answer


async def press_newest(
    h: Harness, user_id: int, chat_id: int, match: Callable[[str], bool]
) -> dict[str, Any]:
    """Presses the newest button in the chat whose callback data satisfies ``match``."""
    for message in reversed(await h.tg.transcript(chat_id)):
        for data in callback_data(message):
            if match(data):
                return await press(h, user_id, chat_id, message["message_id"], data, strict=True)
    raise LookupError(f"no matching button in {chat_id}")


async def claim(h: Harness, user_id: int, group: int) -> dict[str, Any]:
    return await press_newest(h, user_id, group, lambda data: data.startswith("claim:"))


async def sos_case(
    h: Harness, name: str, country: str = "QA", lang: str = "en"
) -> tuple[int, Case]:
    """The quickest real case: a stranger sends an SOS from ``country``."""
    uid = await h.user(name, language_code=lang)
    await say(h, uid, "/sos")
    answer = await press_newest(h, uid, uid, lambda data: data == f"sos:{country}")
    assert not answer.get("show_alert"), answer
    code = (await h.case_codes())[-1]
    return uid, await case_by_code(h, code)


async def case_by_code(h: Harness, code: str) -> Case:
    async with h.app.domain.sessions() as session:
        case = await session.scalar(select(Case).where(Case.code == code))
        assert case is not None
        return case


async def card_for(h: Harness, chat_id: int, code: str) -> dict[str, Any]:
    cards = [
        m
        for m in await h.tg.transcript(chat_id)
        if m.get("from_bot") and code in (m.get("text") or "")
    ]
    assert cards, f"no card for {code} in {chat_id}"
    return cards[-1]


def callback_data(message: dict[str, Any]) -> list[str]:
    return [
        b.get("callback_data", "")
        for row in (message.get("reply_markup") or {}).get("inline_keyboard", [])
        for b in row
    ]


async def private_transcript(h: Harness, user_id: int) -> list[dict[str, Any]]:
    """A user's private chat with the bot; empty when the chat was never opened."""
    if not any(chat["id"] == user_id for chat in await h.tg.chats()):
        return []
    return await h.tg.transcript(user_id)


async def bot_messages(h: Harness, chat_id: int) -> list[dict[str, Any]]:
    return [m for m in await h.tg.transcript(chat_id) if m.get("from_bot")]


async def outbox_to(h: Harness, chat_id: int, case_id: int | None = None) -> int:
    async with h.app.domain.sessions() as session:
        query = (
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.chat_id == chat_id)
        )
        if case_id is not None:
            query = query.where(OutboxMessage.case_id == case_id)
        return int(await session.scalar(query))


async def assert_no_apology(h: Harness, *chats: int) -> None:
    for chat in chats:
        for text in await h.bot_texts(chat):
            for lang in ("en", "ne", "id"):
                assert tr(lang, APOLOGY) != text, f"the bot failed on an update in {chat}"


# -- people who are not responders ---------------------------------------------------------


async def test_group_chatter_is_ignored_and_report_commands_point_to_a_private_chat(
    harness: Harness,
) -> None:
    h = harness
    group = h.groups[QA_ORG]
    # The bot reads everything in the group, so its silence is a decision, not privacy mode.
    await h.tg.set_bot_profile(can_read_all_group_messages=True)
    visitor = await h.user("Visitor", language_code="ne")
    await h.tg.add_member(group, visitor)
    await h.settle()
    before = len(await bot_messages(h, group))

    sent = await say(
        h, visitor, "Hello, my boss took my passport and I have not been paid", chat_id=group
    )
    await say(h, h.staff["ramesh"], "Who is on call tonight?", chat_id=group)
    await say(h, visitor, "Qatar", chat_id=group)
    await say(h, visitor, "+974 3312 3456", chat_id=group)
    await send(h, "sticker", visitor, chat_id=group)
    await send(h, "photo", visitor, chat_id=group, caption="payslip")
    await send(h, "contact", visitor, phone_number="+97433123456", first_name="Boss", chat_id=group)
    await send(h, "poll", visitor, question="When?", options=["Now", "Later"], chat_id=group)
    await h.tg.edit_message(visitor, group, sent["message_id"], "edited: they took my passport")
    await h.settle()
    assert len(await bot_messages(h, group)) == before, "the bot answered plain group chatter"
    assert await h.case_codes() == []
    assert await private_transcript(h, visitor) == [], (
        "intake must not start in private from a group message"
    )

    pointer = tr("ne", PRIVATE_POINTER, bot=h.app.domain.bot_username)
    for command in ("/start", "/sos", f"/start@{h.app.domain.bot_username}", "/status", "/cancel"):
        sent = await say(h, visitor, command, chat_id=group)
        reply = (await bot_messages(h, group))[-1]
        assert reply["text"] == pointer, command
        assert (reply.get("reply_to_message") or {}).get("message_id") == sent["message_id"], (
            command
        )
    assert await h.case_codes() == []
    async with h.app.domain.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ConversationState)) == 0
    await assert_no_apology(h, group)


async def test_group_command_does_not_disturb_a_private_report(harness: Harness) -> None:
    h = harness
    group = h.groups[QA_ORG]
    worker = await h.user("Worker", language_code="en")
    await h.tg.add_member(group, worker)
    await h.settle()
    await say(h, worker, "/start")
    await press_newest(h, worker, worker, lambda data: data == "menu:report")
    await press_newest(h, worker, worker, lambda data: data == "r:role:self")
    await say(h, worker, "/start", chat_id=group)
    assert (await bot_messages(h, group))[-1]["text"] == tr(
        "en", PRIVATE_POINTER, bot=h.app.domain.bot_username
    )
    # In private the report is where it was.
    assert await h.last_bot_text(worker) == tr("en", "In which country is the worker now?")
    await say(h, worker, "/start")
    assert await h.last_bot_text(worker) == tr(
        "en", "You have an unfinished report. Continue where you stopped, or start again?"
    )


async def test_claim_by_a_non_member_is_refused_and_the_case_stays_unclaimed(
    harness: Harness,
) -> None:
    h = harness
    group = h.groups[QA_ORG]
    _, case = await sos_case(h, "Reporter")
    card = await card_for(h, group, case.code)
    assert f"claim:{case.id}" in callback_data(card)
    visitor = await h.user("Visitor", language_code="id")
    farid = h.staff["farid"]  # a responder, but of another organisation
    for user, lang in ((visitor, "id"), (farid, "en")):
        await h.tg.add_member(group, user)
        await h.settle()
        answer = await press(h, user, group, card["message_id"], f"claim:{case.id}", strict=True)
        assert answer.get("text") == tr(lang, NOT_MEMBER) and answer.get("show_alert") is True, (
            answer
        )
    after = await case_by_code(h, case.code)
    assert (after.status, after.owner_person_id) == ("routed", None)
    card_now = await card_for(h, group, case.code)
    assert card_now["text"] == card["text"] and f"claim:{case.id}" in callback_data(card_now)
    assert await private_transcript(h, visitor) == [] and not any(
        case.code in t for t in await h.bot_texts(farid)
    )
    # The card still works for the people it is meant for.
    answer = await claim(h, h.staff["aisha"], group)
    assert answer.get("text") == tr(
        "en", "You own case {code} now. Details are in your private chat with me.", code=case.code
    )
    await assert_no_apology(h, group)


async def test_pass_by_a_non_member_is_refused_like_claim(harness: Harness) -> None:
    """Pass, like Claim, is for the group's own responders: someone else gets the same
    alert, and no "Why are you passing?" prompt appears in the group."""
    h = harness
    group = h.groups[QA_ORG]
    _, case = await sos_case(h, "Reporter")
    card = await card_for(h, group, case.code)
    visitor = await h.user("Visitor", language_code="ne")
    farid = h.staff["farid"]  # a responder, but of another organisation
    before = len(await bot_messages(h, group))
    for user, lang in ((visitor, "ne"), (farid, "en")):
        await h.tg.add_member(group, user)
        await h.settle()
        answer = await press(h, user, group, card["message_id"], f"pass:{case.id}", strict=True)
        assert answer.get("text") == tr(lang, NOT_MEMBER) and answer.get("show_alert") is True, (
            lang,
            answer,
        )
    assert len(await bot_messages(h, group)) == before, (
        "a non-member's Pass made the bot post in the group"
    )
    assert (await case_by_code(h, case.code)).status == "routed"


async def test_stale_claim_on_a_claimed_card_names_the_owner(harness: Harness) -> None:
    h = harness
    group = h.groups[QA_ORG]
    ramesh, aisha, bishnu = h.staff["ramesh"], h.staff["aisha"], h.staff["bishnu"]
    _, case = await sos_case(h, "Reporter")
    card = await card_for(h, group, case.code)
    won = await claim(h, ramesh, group)
    assert "now" in (won.get("text") or "")
    card_now = await card_for(h, group, case.code)
    assert callback_data(card_now) == [], "a claimed card keeps no Claim button"
    # A client that still shows the old card sends the old button.
    for user in (aisha, ramesh):
        answer = await press(h, user, group, card["message_id"], f"claim:{case.id}")
        assert answer.get("text") == tr(
            "en", "Already claimed by {name}.", name="Ramesh"
        ) and answer.get("show_alert"), answer
    after = await case_by_code(h, case.code)
    assert after.status == "claimed" and after.owner_person_id == "ramesh"
    # A forged Claim for a case whose card is not in this group (a Malaysian case).
    _, foreign = await sos_case(h, "Other", country="MY")
    answer = await press(h, aisha, group, card["message_id"], f"claim:{foreign.id}")
    assert answer.get("text") == tr("en", NOT_MEMBER) and answer.get("show_alert"), answer
    assert (await case_by_code(h, foreign.code)).owner_person_id is None
    # Garbage and unknown ids get the polite answers too, in the presser's language.
    for data, expected in (
        ("claim:abc", "This button is no longer valid."),
        ("claim:999999", "This case is no longer open."),
        ("passr:999999:busy", "This button is no longer valid."),
        ("claim:", "This button is no longer valid."),
    ):
        answer = await press(h, h.staff["aisha"], group, card["message_id"], data)
        assert answer.get("text") == tr("en", expected), (data, answer)
    await h.tg.add_member(group, bishnu)
    await h.settle()
    answer = await press(h, bishnu, group, card["message_id"], "claim:abc")
    assert answer.get("text") == tr("ne", "This button is no longer valid."), answer
    await assert_no_apology(h, group)


# -- /reply with wrong codes ---------------------------------------------------------------


async def test_reply_with_an_unknown_or_foreign_case_code_is_refused(harness: Harness) -> None:
    h = harness
    group = h.groups[QA_ORG]
    ramesh, aisha = h.staff["ramesh"], h.staff["aisha"]
    reporter, case = await sos_case(h, "Reporter")
    await claim(h, aisha, group)
    reporter_before = len(await h.bot_texts(reporter))
    expected = {
        "/reply QA-ZZZZZ We are on our way": "No case QA-ZZZZZ is yours.",
        f"/reply {case.code} Please send your location": f"No case {case.code} is yours.",
        f"/reply {case.code.lower()} lower case code": f"No case {case.code.lower()} is yours.",
        "/reply": "Usage: /reply CODE your message",
        f"/reply {case.code}": "Usage: /reply CODE your message",
    }
    for command, reply in expected.items():
        await say(h, ramesh, command)
        assert await h.last_bot_text(ramesh) == tr("en", reply), command
    assert len(await h.bot_texts(reporter)) == reporter_before, (
        "a foreign /reply reached the reporter"
    )
    # The owner's own /reply does reach the reporter.
    await say(h, aisha, f"/reply {case.code} We are on our way")
    assert await h.last_bot_text(aisha) == tr(
        "en", "Sent to the reporter of {code}.", code=case.code
    )
    assert (await h.last_bot_text(reporter)).endswith("\nWe are on our way")
    # A reporter who tries /reply is told it is not for them, in their language.
    await say(h, reporter, f"/reply {case.code} hello")
    assert await h.last_bot_text(reporter) == tr("en", "This command is for responders.")
    await assert_no_apology(h, ramesh, aisha, reporter)


async def test_reply_echoes_a_mistyped_code_as_typed(harness: Harness) -> None:
    """The refusal repeats the code the responder typed; it is plain text, so it must not
    arrive HTML-escaped (someone copying the usage line types "<CODE>")."""
    h = harness
    ramesh = h.staff["ramesh"]
    await say(h, ramesh, "/reply <QA-1> hello")
    assert await h.last_bot_text(ramesh) == tr("en", "No case {code} is yours.", code="<QA-1>")


# -- the bot loses a group, a group changes id, an owner blocks the bot ---------------------


async def test_bot_removed_from_a_group_reroutes_and_alerts_the_coordinator(
    harness: Harness,
) -> None:
    h = harness
    group = h.groups[QA_ORG]
    sita = h.staff["sita"]  # coordinator of NP-QA
    _, first = await sos_case(h, "First")
    await card_for(h, group, first.code)
    await h.tg.kick_bot(group, by_user_id=h.staff["ramesh"])
    await h.settle()
    async with h.app.domain.sessions() as session:
        row = await session.scalar(select(ResponderGroup).where(ResponderGroup.chat_id == group))
        assert row is not None and row.active is False
        cards = list(await session.scalars(select(CaseCard).where(CaseCard.chat_id == group)))
        assert cards and not any(c.active for c in cards)
    removed = (
        tr(
            "en",
            "⚠️ The card of case <b>{code}</b> ({corridor}) cannot reach the group of {org} "
            "(chat {chat}): {reason}. That group is switched off until a coordinator links it again with /linkgroup.",
            code=first.code,
            corridor=first.corridor_code,
            org="Doha Migrant Workers Centre",
            chat=group,
            reason="the bot was removed from the group",
        )
        + "\n"
        + tr("en", "The case was posted instead to: {orgs}.", orgs="Kathmandu Returnee Shelter")
    )
    assert removed.replace("<b>", "").replace("</b>", "") in await h.bot_texts(sita)
    sent_before = await outbox_to(h, group)

    _, second = await sos_case(h, "Second")
    assert await outbox_to(h, group) == sent_before, (
        "a card was queued for a group the bot is no longer in"
    )
    assert await outbox_to(h, group, second.id) == 0
    alert = (
        tr(
            "en",
            "⚠️ Case <b>{code}</b> ({corridor}) matched no responder group. Please find it an owner: /case {code}",
            code=second.code,
            corridor=second.corridor_code,
        )
        .replace("<b>", "")
        .replace("</b>", "")
    )
    assert alert in await h.bot_texts(sita)
    async with h.app.domain.sessions() as session:
        failed = await session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.status.in_(["failed", "blocked"]))
        )
    assert failed == 0
    await assert_no_apology(h, sita)


async def test_group_upgraded_to_supergroup_gets_later_cards_in_the_new_chat(
    harness: Harness,
) -> None:
    h = harness
    ramesh, aisha = h.staff["ramesh"], h.staff["aisha"]
    # The organisation's group is a basic group (the harness makes supergroups): the network
    # file is changed to point at it and synced, as an operator would.
    basic = (await h.tg.create_group("DMWC responders", [ramesh, aisha], supergroup=False))["id"]
    config = h.app.config
    groups = [
        g.model_copy(update={"chat_id": basic}) if g.organisation == QA_ORG else g
        for g in config.groups
    ]
    async with h.app.domain.sessions() as session, session.begin():
        await sync_network(session, config.model_copy(update={"groups": groups}))
    _, first = await sos_case(h, "First")
    await card_for(h, basic, first.code)

    new_chat = await h.tg.migrate_to_supergroup(basic, by_user_id=ramesh)
    await h.settle()
    assert new_chat != basic
    async with h.app.domain.sessions() as session:
        chats = set(
            await session.scalars(
                select(ResponderGroup.chat_id).where(
                    ResponderGroup.organisation_id == QA_ORG, ResponderGroup.active.is_(True)
                )
            )
        )
    assert chats == {new_chat}
    old_count = len(await bot_messages(h, basic))

    _, second = await sos_case(h, "Second")
    card = await card_for(h, new_chat, second.code)
    assert f"claim:{second.id}" in callback_data(card)
    assert len(await bot_messages(h, basic)) == old_count
    answer = await claim(h, aisha, new_chat)
    assert answer.get("text") == tr(
        "en", "You own case {code} now. Details are in your private chat with me.", code=second.code
    )
    async with h.app.domain.sessions() as session:
        failed = await session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.case_id == second.id, OutboxMessage.status != "sent")
        )
    assert failed == 0
    await assert_no_apology(h, new_chat)


async def test_owner_who_blocked_the_bot_loses_the_case_to_the_queue(harness: Harness) -> None:
    h = harness
    group = h.groups[QA_ORG]
    ramesh, aisha, sita = h.staff["ramesh"], h.staff["aisha"], h.staff["sita"]
    reporter, case = await sos_case(h, "Reporter")
    await claim(h, ramesh, group)
    assert (await case_by_code(h, case.code)).owner_person_id == "ramesh"
    await h.tg.block_bot(ramesh)
    await h.settle()
    # Telegram tells the bot at once (my_chat_member): no message has to fail first.
    after = await case_by_code(h, case.code)
    assert (after.status, after.owner_person_id) == ("routed", None)
    alert = (
        tr(
            "en",
            "⚠️ Case <b>{code}</b> ({corridor}) lost its owner and is back in the queue.",
            code=case.code,
            corridor=case.corridor_code,
        )
        .replace("<b>", "")
        .replace("</b>", "")
    )
    assert alert in await h.bot_texts(sita)
    card = await card_for(h, group, case.code)
    assert f"claim:{case.id}" in callback_data(card)
    assert tr("en", "Back in the queue: the owner is no longer available.") in card["text"]
    answer = await claim(h, aisha, group)
    assert answer.get("text") == tr(
        "en", "You own case {code} now. Details are in your private chat with me.", code=case.code
    )
    await assert_no_apology(h, reporter, sita, group)


async def test_message_stuck_at_a_blocked_owner_reaches_the_next_owner(harness: Harness) -> None:
    """Nothing the reporter sent may be lost: what could not reach the owner who blocked
    the bot must reach whoever claims the case next."""
    h = harness
    group = h.groups[QA_ORG]
    ramesh, aisha = h.staff["ramesh"], h.staff["aisha"]
    reporter, case = await sos_case(h, "Reporter")
    await claim(h, ramesh, group)
    await h.tg.block_bot(ramesh)
    await h.settle()
    await say(h, reporter, "They are at the door, please help")
    await claim(h, aisha, group)
    assert (await case_by_code(h, case.code)).owner_person_id == "aisha"
    assert any("They are at the door, please help" in t for t in await h.bot_texts(aisha)), (
        await h.bot_texts(aisha)
    )
