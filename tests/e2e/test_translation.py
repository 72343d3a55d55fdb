"""Machine translation of relayed words: the real client over real HTTP against a local server
that speaks LibreTranslate's API, the real bot against the Bot API emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from corridor_dev.harness import Harness
from tgemulator.libretranslate import FakeLibreTranslate

THREAT_NE = "मालिकले आज फेरि धम्की दियो"
THREAT_EN = "The employer threatened me again today"
ANSWER_EN = "We have contacted the labour ministry. Keep copies of your payslips."
ANSWER_NE = "हामीले श्रम मन्त्रालयलाई सम्पर्क गरेका छौं। आफ्नो तलब पर्चीको प्रतिलिपि राख्नुहोस्।"
TIMEOUT = 0.5


@pytest.fixture
async def engine() -> AsyncIterator[FakeLibreTranslate]:
    fake = await FakeLibreTranslate(
        detections={THREAT_NE: "ne", ANSWER_EN: "en"},
        answers={(THREAT_NE, "en"): THREAT_EN, (ANSWER_EN, "ne"): ANSWER_NE},
    ).start()
    yield fake
    await fake.close()


async def start(database_url: str, engine: FakeLibreTranslate | None) -> Harness:
    settings = (
        {"backend": "libretranslate", "url": engine.url, "timeout": TIMEOUT}
        if engine is not None
        else {}
    )
    return await Harness.start(database_url, overrides={"translation": settings})


@pytest.fixture
async def h(database_url: str, engine: FakeLibreTranslate) -> AsyncIterator[Harness]:
    running = await start(database_url, engine)
    try:
        yield running
    finally:
        await running.stop()


async def claimed_sos(h: Harness, language: str = "ne") -> tuple[int, int, str]:
    """A worker of ``language`` sends an SOS from Qatar; Ramesh (English) claims it."""
    worker = await h.user("Worker", language)
    await h.say(worker, "/sos")
    await h.press_data(worker, lambda data: data == "sos:QA")
    owner = h.staff["ramesh"]
    await h.claim(owner, h.groups["qa-workers-centre"])
    return worker, owner, (await h.case_codes())[-1]


async def last_relayed(h: Harness, chat: int) -> dict[str, Any]:
    return await h.tg.wait_for_message(chat, contains="Reporter:")


async def test_both_ways_with_the_original_kept(h: Harness, engine: FakeLibreTranslate) -> None:
    worker, owner, code = await claimed_sos(h)
    await h.say(worker, THREAT_NE)
    relayed = await last_relayed(h, owner)
    # The owner reads the worker's words and a marked translation into English, in that order.
    assert relayed["text"] == (
        f"💬 [{code}] Reporter:\n{THREAT_NE}\n\n"
        f"🌐 Machine translation from Nepali (may be wrong):\n{THREAT_EN}"
    )
    await h.tg.send_message(owner, ANSWER_EN, reply_to_message_id=relayed["message_id"])
    await h.settle()
    received = await h.last_bot_text(worker)
    # The worker reads it in Nepali first; the English original follows under the mark,
    # which names the language in Nepali (CLDR through Babel).
    assert ANSWER_NE in received and ANSWER_EN in received
    assert received.index(ANSWER_NE) < received.index(ANSWER_EN)
    assert "अङ्ग्रेजी" in received and "Machine translation" not in received
    assert engine.texts() == [THREAT_NE, ANSWER_EN]


async def test_a_slow_engine_never_holds_up_the_words(
    h: Harness, engine: FakeLibreTranslate
) -> None:
    worker, owner, code = await claimed_sos(h)
    engine.delay = TIMEOUT * 4
    await h.say(worker, THREAT_NE)
    relayed = await last_relayed(h, owner)
    assert relayed["text"] == (
        f"💬 [{code}] Reporter:\n{THREAT_NE}\n\n"
        "⚠️ Not translated: the translation engine did not answer in time."
    )
    await h.tg.send_message(owner, ANSWER_EN, reply_to_message_id=relayed["message_id"])
    await h.settle()
    received = await h.last_bot_text(worker)
    assert received.endswith("\n" + ANSWER_EN) and "🌐" not in received
    assert await h.last_bot_text(owner) == (
        f"⚠️ Your message about {code} went to the reporter without translation: "
        "the translation engine did not answer in time."
    )


async def test_a_failing_engine_is_named_and_the_original_goes(
    h: Harness, engine: FakeLibreTranslate
) -> None:
    worker, owner, _code = await claimed_sos(h)
    engine.status = 500
    await h.say(worker, THREAT_NE)
    relayed = await last_relayed(h, owner)
    assert relayed["text"].endswith(
        f"{THREAT_NE}\n\n⚠️ Not translated: the translation engine is not working."
    )
    await h.tg.send_message(owner, ANSWER_EN, reply_to_message_id=relayed["message_id"])
    await h.settle()
    assert (await h.last_bot_text(worker)).endswith("\n" + ANSWER_EN)
    assert "the translation engine is not working" in await h.last_bot_text(owner)
    # The engine coming back is enough: nothing is remembered against it.
    engine.status = 200
    await h.say(worker, THREAT_NE)
    texts = await h.bot_texts(owner)
    assert texts[-1].endswith(THREAT_EN)


async def test_a_wrong_detection_falls_back_to_the_writers_language(
    h: Harness, engine: FakeLibreTranslate
) -> None:
    worker, owner, _code = await claimed_sos(h)
    # The detector takes the Nepali sentence for English, which would leave it untranslated.
    engine.detections[THREAT_NE] = "en"
    engine.answers[(THREAT_NE, "en")] = THREAT_EN
    await h.say(worker, THREAT_NE)
    relayed = await last_relayed(h, owner)
    assert relayed["text"].endswith(
        f"🌐 Machine translation from Nepali (may be wrong):\n{THREAT_EN}"
    )
    asked = [(r["source"], r["target"]) for r in engine.requests]
    assert asked == [("auto", "en"), ("ne", "en")]


async def test_same_language_is_not_sent_to_the_engine(
    h: Harness, engine: FakeLibreTranslate
) -> None:
    worker, owner, _code = await claimed_sos(h, language="en")
    await h.say(worker, "My employer threatened me again today")
    relayed = await last_relayed(h, owner)
    assert relayed["text"].endswith("\nMy employer threatened me again today")
    assert engine.requests == []


async def test_messages_before_the_claim_are_translated_in_the_details(
    h: Harness, engine: FakeLibreTranslate
) -> None:
    worker = await h.user("Worker", "ne")
    await h.say(worker, "/sos")
    await h.press_data(worker, lambda data: data == "sos:QA")
    await h.say(worker, THREAT_NE)  # nobody owns the case yet: it waits in the details
    owner = h.staff["ramesh"]
    await h.claim(owner, h.groups["qa-workers-centre"])
    texts = await h.bot_texts(owner)
    message = next(t for t in texts if THREAT_NE in t)
    assert message.endswith(
        f"{THREAT_NE}\n\n🌐 Machine translation from Nepali (may be wrong):\n{THREAT_EN}"
    )


async def test_nothing_leaves_the_bot_without_a_configured_engine(
    database_url: str, engine: FakeLibreTranslate
) -> None:
    h = await start(database_url, None)
    try:
        worker, owner, _code = await claimed_sos(h)
        await h.say(worker, THREAT_NE)
        relayed = await last_relayed(h, owner)
        assert relayed["text"].endswith("\n" + THREAT_NE)
        assert "🌐" not in relayed["text"] and "⚠️" not in relayed["text"]
    finally:
        await h.stop()
    assert engine.requests == []


async def test_an_engine_that_is_down_leaves_the_words_whole_and_says_so(
    database_url: str,
) -> None:
    """Nothing listens at the configured address (the server was stopped): both ways the
    original goes at once, the owner's copy says it is untranslated, and the owner whose
    answer went untranslated is told."""
    engine = await FakeLibreTranslate(
        detections={THREAT_NE: "ne", ANSWER_EN: "en"},
        answers={(THREAT_NE, "en"): THREAT_EN, (ANSWER_EN, "ne"): ANSWER_NE},
    ).start()
    h = await start(database_url, engine)
    try:
        worker, owner, code = await claimed_sos(h)
        await engine.close()  # the port is closed now: connections are refused
        await h.say(worker, THREAT_NE)
        relayed = await last_relayed(h, owner)
        assert relayed["text"] == (
            f"💬 [{code}] Reporter:\n{THREAT_NE}\n\n"
            "⚠️ Not translated: the translation engine is not working."
        )
        await h.tg.send_message(owner, ANSWER_EN, reply_to_message_id=relayed["message_id"])
        await h.settle()
        received = await h.last_bot_text(worker)
        assert received.endswith("\n" + ANSWER_EN) and "🌐" not in received
        assert ANSWER_NE not in received
        assert await h.last_bot_text(owner) == (
            f"⚠️ Your message about {code} went to the reporter without translation: "
            "the translation engine is not working."
        )
        assert engine.requests == []
    finally:
        await h.stop()
