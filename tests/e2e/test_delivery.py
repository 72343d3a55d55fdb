"""Commit first, then talk to Telegram: a lost or failed answer from the Bot API never undoes
what a person did, and every message still arrives."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import func, select

from bot import calls
from bot.delivery import build_call
from bot.transactions import Violations
from corridor_dev.harness import Harness
from models import Case, CaseEvent, HandledUpdate, OutboxMessage
from tests.support import play_report

TIMEOUT = 1.0  # the bot's request timeout in these tests; a slower answer is a timeout

FAULTS = {
    "502 before": {"error_code": 502},
    "502 after delivery": {"error_code": 502, "after": True},
    "dropped connection": {"disconnect": True, "after": True},
    "timeout": {"error_code": 0, "delay": TIMEOUT + 1.5},
}


@pytest.fixture
async def h(database_url: str) -> AsyncIterator[Harness]:
    running = await Harness.start(
        database_url, overrides={"telegram": {"request_timeout": TIMEOUT}}
    )
    try:
        yield running
    finally:
        await running.stop()


async def count(h: Harness, model: Any, *where: Any) -> int:
    async with h.app.domain.sessions() as session:
        return await session.scalar(select(func.count()).select_from(model).where(*where))


def texts(messages: list[dict[str, Any]]) -> list[str]:
    return [m.get("text") or "" for m in messages if m.get("from_bot")]


@pytest.mark.parametrize("fault", FAULTS.values(), ids=FAULTS.keys())
async def test_an_sos_survives_a_failed_confirmation(h: Harness, fault: dict[str, Any]) -> None:
    worker = await h.user("Worker")
    await h.say(worker, "/sos")
    await h.tg.fail_next("sendMessage", chat_id=worker, **fault)
    await h.press_data(worker, lambda data: data == "sos:QA")
    assert await count(h, Case) == 1
    card = await h.last_with_button(h.groups["qa-workers-centre"], "Claim")
    assert "SOS" in card["text"] or "🆘" in card["text"]
    confirmations = [t for t in texts(await h.tg.transcript(worker)) if "SOS sent" in t]
    # Lost answers may show the confirmation twice; it is never missing.
    assert 1 <= len(confirmations) <= 2


CONFIRMING = {
    name: FAULTS[name] for name in ("502 after delivery", "dropped connection", "timeout")
}


@pytest.mark.parametrize("fault", CONFIRMING.values(), ids=CONFIRMING.keys())
async def test_a_report_survives_a_failed_confirmation(h: Harness, fault: dict[str, Any]) -> None:
    worker = await h.user("Worker")
    await play_report(h, worker, submit=False)  # whatever the questions, to the summary
    await h.tg.fail_next("sendMessage", chat_id=worker, **fault)
    await h.tap_nav(worker, "submit")
    assert await count(h, Case) == 1
    code = (await h.case_codes())[-1]
    cards = [text for group in h.groups.values() for text in await h.bot_texts(group)]
    assert any(code in text for text in cards), "no card"
    registered = [t for t in texts(await h.tg.transcript(worker)) if code in t]
    assert 1 <= len(registered) <= 2


@pytest.mark.parametrize("fault", CONFIRMING.values(), ids=CONFIRMING.keys())
async def test_a_claim_survives_a_failed_details_message(h: Harness, fault: dict[str, Any]) -> None:
    worker = await h.user("Worker")
    await h.say(worker, "/sos")
    await h.press_data(worker, lambda data: data == "sos:QA")
    ramesh = h.staff["ramesh"]
    await h.tg.fail_next("sendMessage", chat_id=ramesh, **fault)
    answer = await h.claim(ramesh, h.groups["qa-workers-centre"])
    assert "own" in (answer.get("text") or "")
    async with h.app.domain.sessions() as session:
        case = await session.scalar(select(Case))
        assert case.status == "claimed"
    assert any(case.code in t for t in texts(await h.tg.transcript(ramesh)))


@pytest.mark.parametrize("fault", CONFIRMING.values(), ids=CONFIRMING.keys())
async def test_a_referral_survives_a_failed_confirmation(h: Harness, fault: dict[str, Any]) -> None:
    worker = await h.user("Worker")
    await h.say(worker, "/sos")
    await h.press_data(worker, lambda data: data == "sos:QA")
    ramesh = h.staff["ramesh"]
    await h.claim(ramesh, h.groups["qa-workers-centre"])
    code = (await h.case_codes())[-1]
    await h.say(ramesh, f"/refer {code}")
    await h.tg.fail_next("sendMessage", chat_id=ramesh, **fault)
    await h.tap(ramesh, "Kathmandu Returnee Shelter")
    await h.say(ramesh, "Arrives at the airport on Friday; please meet him.")
    assert await count(h, CaseEvent, CaseEvent.kind == "referred") == 1
    await h.claim(h.staff["bishnu"], h.groups["np-returnee-shelter"])
    async with h.app.domain.sessions() as session:
        case = await session.scalar(select(Case))
        assert case.status == "claimed" and case.owner_organisation_id == "np-returnee-shelter"


async def test_no_bot_api_call_is_made_inside_a_transaction(h: Harness) -> None:
    before = Violations.count
    worker = await h.user("Worker")
    await h.say(worker, "/start")
    await h.say(worker, "/sos")
    await h.press_data(worker, lambda data: data == "sos:QA")
    await h.claim(h.staff["ramesh"], h.groups["qa-workers-centre"])
    await h.advance(hours=80)
    assert Violations.count == before


async def test_an_update_delivered_twice_is_handled_once(h: Harness) -> None:
    worker = await h.user("Worker")
    await h.say(worker, "/sos")
    await h.press_data(worker, lambda data: data == "sos:QA")
    ramesh = h.staff["ramesh"]
    await h.claim(ramesh, h.groups["qa-workers-centre"])
    await h.say(worker, "They took my phone charger")
    relayed = await count(h, OutboxMessage, OutboxMessage.purpose == "relay")
    sent_to_owner = len(await h.tg.transcript(ramesh))
    await h.restart_polling()  # as after a restart: only the database knows it was handled
    assert await h.tg.redeliver()
    await h.settle()
    assert await count(h, OutboxMessage, OutboxMessage.purpose == "relay") == relayed
    assert len(await h.tg.transcript(ramesh)) == sent_to_owner
    assert await count(h, HandledUpdate) >= 4


async def test_a_tap_whose_answer_died_with_the_process_is_answered_when_offered_again(
    h: Harness,
) -> None:
    """A process killed after a tap's commit and before its answer: after the restart the tap
    comes again. It is not handled twice, and its spinner stops."""
    worker = await h.user("Worker")
    await h.say(worker, "/sos")
    question = (await h.tg.transcript(worker))[-1]
    await h.tg.fail_next("answerCallbackQuery", error_code=400)  # lost, and not tried again
    query = await h.tg.press_button(worker, worker, question["message_id"], data="sos:QA")
    await h.settle()
    with pytest.raises(TimeoutError):
        await h.tg.get_callback_answer(query, timeout=0.5)
    assert await count(h, Case) == 1
    sent = texts(await h.tg.transcript(worker))
    await h.restart_polling()
    assert await h.tg.redeliver()
    await h.settle()
    assert await h.tg.get_callback_answer(query, timeout=5) is not None
    assert await count(h, Case) == 1
    assert texts(await h.tg.transcript(worker)) == sent


async def test_rapid_taps_in_one_chat_are_answered_in_order(h: Harness) -> None:
    """Twenty updates of one chat in flight at once: each is handled after the previous one
    committed, and every one is answered, in order."""
    worker = await h.user("Worker")
    await h.say(worker, "/start")
    before = len(await h.tg.transcript(worker))
    await asyncio.gather(*(h.tg.send_message(worker, "/help") for _ in range(20)))
    await h.settle()
    after = await h.tg.transcript(worker)
    mine = [m for m in after[before:] if not m.get("from_bot")]
    answers = [m for m in after[before:] if m.get("from_bot")]
    assert len(mine) == 20 and len(answers) == 20
    assert await count(h, HandledUpdate) >= 21


async def test_a_blocked_chat_does_not_hold_up_other_chats(h: Harness) -> None:
    from bot.domain.outbox import queue

    worker = await h.user("Worker")
    await h.say(worker, "/start")
    await h.tg.block_bot(worker)
    await h.tg.fail_next("sendMessage", chat_id=h.staff["sita"], error_code=0, delay=0.2)
    domain = h.app.domain
    async with domain.sessions() as session, session.begin():
        for n in range(20):
            queue(session, domain, purpose="test", chat_id=worker, text=f"to blocked {n}")
        queue(session, domain, purpose="test", chat_id=h.staff["sita"], text="to sita")
    await h.settle()
    assert "to sita" in texts(await h.tg.transcript(h.staff["sita"]))
    stats = await h.tg.stats()
    # The first 403 drops the rest of that chat's queue at once.
    assert await count(h, OutboxMessage, OutboxMessage.status == "blocked") == 20
    assert stats.get("sendMessage", 0) < 20 + 5


async def test_an_album_of_twenty_photos_gets_one_acknowledgement(h: Harness) -> None:
    worker = await h.user("Worker")
    await h.say(worker, "/sos")
    await h.press_data(worker, lambda data: data == "sos:QA")
    ramesh = h.staff["ramesh"]
    await h.claim(ramesh, h.groups["qa-workers-centre"])
    before = texts(await h.tg.transcript(worker))
    await h.tg.send_album(worker, 20, caption="my contract")
    await h.settle()
    after = texts(await h.tg.transcript(worker))[len(before) :]
    assert len([t for t in after if "Sent to your helper" in t]) == 1
    # Every photo still reaches the owner.
    photos = [m for m in await h.tg.transcript(ramesh) if m.get("from_bot") and m.get("photo")]
    assert len(photos) == 20
    async with h.app.domain.sessions() as session:
        assert (
            await session.scalar(
                select(func.count())
                .select_from(CaseEvent)
                .where(CaseEvent.kind == "reporter_message")
            )
            == 20
        )


@pytest.mark.parametrize("fault", [FAULTS["502 before"], FAULTS["timeout"]], ids=["502", "timeout"])
async def test_a_lost_answer_to_a_tap_is_sent_again(h: Harness, fault: dict[str, Any]) -> None:
    """The spinner on a tapped button stops even when the first answer is lost."""
    worker = await h.user("Worker")
    await h.say(worker, "/sos")
    await h.tg.fail_next("answerCallbackQuery", **fault)
    answer = await h.press_data(worker, lambda data: data == "sos:QA")
    assert "SOS sent" in (answer.get("text") or "")


async def test_a_reply_goes_out_as_built_and_its_stored_row_rebuilds_the_same_call(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In the process that committed it, a handler's reply is sent as the handler built it;
    the outbox row (what a restart would send) rebuilds the same call."""
    rebuilt: list[str] = []
    load = calls.load

    def counted(api: str, data: dict[str, Any]) -> Any:
        rebuilt.append(api)
        return load(api, data)

    monkeypatch.setattr(calls, "load", counted)
    worker = await h.user("Worker")
    await h.say(worker, "/start")
    await h.settle()
    assert rebuilt == []
    shown = [m for m in await h.tg.transcript(worker) if m.get("from_bot")][-1]
    async with h.app.domain.sessions() as session:
        row = await session.scalar(
            select(OutboxMessage)
            .where(OutboxMessage.purpose == "reply")
            .order_by(OutboxMessage.id.desc())
            .limit(1)
        )
        assert row is not None and row.status == "sent"
        again = build_call(row.method, row.payload, worker)
    assert again.text == shown["text"]
    assert again.reply_markup.model_dump(exclude_none=True) == shown["reply_markup"]
