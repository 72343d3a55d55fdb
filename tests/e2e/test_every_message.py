"""Every kind of message the bot sends, in every shipped language, read back from the chats.

One network where every person, organisation and reporter uses the same language plays the
whole loop (report, SOS, card, claim, details, relay, check-in, reminder, escalation ladder,
referral, resolution, feedback, digest, help, status, saved reply). Every bot message and
button in every chat must then be in that language: no catalogue entry missing, no raw code,
no English sentence."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from bot.i18n import LANGUAGE_NAMES, Untranslated, tr
from bot.i18n_catalog import TEMPLATE, read
from bot.labels import EVENT_KINDS
from bot.taxonomy import CATEGORY_CODES, OUTCOMES, RED_FLAG_LABELS
from corridor_dev.harness import Harness, example_network

# What people type is theirs; it is Nepali here so it can never pass for an English sentence.
DESCRIPTION = "चार महिनादेखि तलब छैन र राहदानी कम्पनीसँग छ"
WORDS = "मालिकले आज फेरि धम्की दियो"
ANSWER = "हामी श्रम मन्त्रालयसँग कुरा गर्दैछौं"
NOTE = "उडान QR 652, शुक्रबार 14:05"
RESOLUTION = "तलब फिर्ता भयो"
# Names from the network and the example answers: proper nouns, the same in every language.
PROPER = (
    "Doha Migrant Workers Centre",
    "Kathmandu Returnee Shelter",
    "Kuala Lumpur Migrant Legal Aid",
    "Jakarta Migrant Workers Union",
    "Al Noor Contracting W.L.L.",
)
RAW_CODES = re.compile(
    r"\b(?:"
    + "|".join(sorted(CATEGORY_CODES | set(OUTCOMES) | {f for f in RED_FLAG_LABELS if "_" in f}))
    + r"|danger_now|flags:|categories:)\b"
    # Stored event kinds and actors, as the timeline would show them raw.
    + r"|\b(?:person|reporter):\w|\b(?:"
    + "|".join(k for k in EVENT_KINDS if "_" in k)
    + r")\b"
)
# Lower-case codes that are also English words: a fault only outside English.
STATUS_OR_URGENCY_CODES = re.compile(
    r"\b(?:sos|high|normal|routed|claimed|referred|responder|coordinator|admin|"
    + "|".join(RED_FLAG_LABELS)
    + r")\b"
)
LATIN_RUN = re.compile(r"[A-Za-z]+(?:[ ,'’-]+[A-Za-z]+){3,}")
# Case, corridor and currency codes are identifiers, not words.
CODES = re.compile(r"\b[A-Z]{2,}(?:-[A-Z0-9]{2,})?\b")
LATIN_SCRIPT = {"en", "id", "fil", "ms"}


def network(language: str) -> dict[str, Any]:
    data = example_network()
    for person in data["people"]:
        person["language"] = language
    for org in data["organisations"]:
        org["languages"] = [language]
    data["bot"] = {**data.get("bot", {}), "languages": list(LANGUAGE_NAMES)}
    return data


def english_fragments() -> list[str]:
    """Every run of three or more words of every English message, between its placeholders."""
    fragments = set()
    for message in read(TEMPLATE):
        if not message.id:
            continue
        for msgid in message.id if message.pluralizable else (message.id,):
            for piece in re.split(r"{\w*}|\n|<[^>]+>", str(msgid)):
                words = re.findall(r"[A-Za-z’']+", piece)
                if len(words) >= 3:
                    fragments.add(" ".join(words))
    return sorted(fragments, key=len, reverse=True)


def shown(message: dict[str, Any]) -> Iterator[str]:
    for key in ("text", "caption"):
        if message.get(key):
            yield message[key]
    markup = message.get("reply_markup") or {}
    for row in markup.get("inline_keyboard", []) + markup.get("keyboard", []):
        for button in row:
            yield button["text"] if isinstance(button, dict) else str(button)


async def play(h: Harness, language: str) -> None:
    qa, np = h.groups["qa-workers-centre"], h.groups["np-returnee-shelter"]
    ramesh, bishnu, sita = h.staff["ramesh"], h.staff["bishnu"], h.staff["sita"]
    worker = await h.user("Hari", language)
    await h.say(worker, "/start")  # the phone speaks the language: the menu comes at once
    await h.press_data(worker, lambda data: data == "menu:language")
    await h.press_data(worker, lambda data: data == f"lang:{language}")
    await h.press_data(worker, lambda data: data == "menu:report")
    for value in ("self", "QA", "WAGE", "DOCS"):
        await h.tap_value(worker, value)
    await h.tap_nav(worker, "done")
    for value in ("no", "chat", "all"):
        await h.tap_value(worker, value)
    await h.tap_nav(worker, "details")
    for value in ("Doha", "months", "6-20"):
        await h.tap_value(worker, value)
    await h.say(worker, PROPER[-1])
    await h.tap_nav(worker, "skip")
    await h.say(worker, "4800 QAR")
    await h.say(worker, DESCRIPTION)
    await h.send("photo", worker, caption="")
    await h.tap_nav(worker, "done")
    for value in ("18-22", "SECTOR_F", "MAN"):
        await h.tap_value(worker, value)
    await h.tap_nav(worker, "submit")
    code = (await h.case_codes())[-1]
    await h.say(worker, WORDS)  # before the claim: it waits in the details
    await h.claim(ramesh, qa)
    await h.say(worker, WORDS)
    relayed = [m for m in await h.tg.transcript(ramesh) if WORDS in (m.get("text") or "")]
    await h.tg.send_message(ramesh, ANSWER, reply_to_message_id=relayed[-1]["message_id"])
    await h.settle()
    await h.say(ramesh, f"/saved {code} COPIES")
    await h.press_data(ramesh, lambda data: data.startswith("svs:") and data.endswith(":1"))
    await h.advance(hours=72)  # check-in to the worker, reminder to the owner
    await h.advance(hours=9)
    await h.press_data(worker, lambda data: data.startswith("chk:") and data.endswith(":safe"))
    await h.say(ramesh, f"/refer {code}")
    await h.press_data(ramesh, lambda data: data.endswith(":np-returnee-shelter"))
    await h.say(ramesh, NOTE)
    await h.claim(bishnu, np)
    await h.say(bishnu, f"/resolve {code}")
    await h.press_data(bishnu, lambda data: data.endswith(":WAGES_RECOVERED"))
    await h.say(bishnu, "3600 QAR")
    await h.say(bishnu, RESOLUTION)
    await h.press_data(worker, lambda data: data.startswith("fb:") and data.endswith(":5"))
    await h.say(worker, "/skip")
    await h.say(worker, "/status")
    await h.say(worker, "/help")
    # An SOS nobody claims climbs the whole ladder: backup, the other side, the coordinator.
    sos = await h.user("Sita Devi", language)
    await h.say(sos, "/sos")
    await h.press_data(sos, lambda data: data == "sos:QA")
    for _ in range(4):
        await h.advance(minutes=6)
    await h.say(sita, "/digest")
    await h.say(sita, "/stats")
    await h.say(sita, f"/case {code}")  # the timeline: every event and actor in words
    await h.say(sita, "/team")  # roles in words
    await h.say(sita, "/away ramesh 2026-12-01 2026-12-05")  # dates in the reader's way
    await h.say(ramesh, "/oncall")
    await h.say(worker, "/consent")
    # A drill, marked in every message, its scripted reporter in the reader's language.
    await h.say(sita, "/drill", chat_id=np)
    await h.claim(bishnu, np)
    drill = (await h.case_codes())[-1]
    await h.say(bishnu, f"/reply {drill} {ANSWER}")
    await h.say(bishnu, f"/resolve {drill}")
    await h.press_data(bishnu, lambda data: data.endswith(":REPATRIATED"))
    await h.say(bishnu, "-")


@pytest.mark.parametrize("language", list(LANGUAGE_NAMES))
async def test_every_message_is_in_the_readers_language(database_url: str, language: str) -> None:
    Untranslated.seen = set()
    data = network(language)
    # What the operator wrote in the network file (help contacts) is theirs, like names.
    proper = [*PROPER, *(h[key] for h in data.get("help", []) for key in ("name", "source"))]
    h = await Harness.start(database_url, network=data)
    try:
        await play(h, language)
        texts: list[tuple[int, str]] = []
        for chat in await h.tg.chats():
            for message in await h.tg.transcript(chat["id"]):
                if message.get("from_bot"):
                    texts += [(chat["id"], text) for text in shown(message)]
    finally:
        missing, Untranslated.seen = Untranslated.seen, None
        await h.stop()
    assert len(texts) > 80, "the scenario did not run through"
    assert not missing, f"{language}: not in the catalogue: {sorted(missing)[:5]}"
    problems = []
    fragments = english_fragments() if language != "en" else []
    code_lines = {tr(language, "Language: {language}", language=c) for c in LANGUAGE_NAMES}
    for chat, text in texts:
        plain = text
        for name in proper:
            plain = plain.replace(name, "")
        plain = CODES.sub("", plain)
        if RAW_CODES.search(plain) or any(line in code_lines for line in text.split("\n")):
            problems.append(f"raw code in {chat}: {text!r}")
        if language == "en":
            continue
        if STATUS_OR_URGENCY_CODES.search(plain):
            problems.append(f"status or urgency code in {chat}: {text!r}")
        english = next(
            (f for f in fragments if f in " ".join(re.findall(r"[A-Za-z’']+", plain))), None
        )
        if english:
            problems.append(f"English {english!r} in {chat}: {text!r}")
        elif language not in LATIN_SCRIPT and LATIN_RUN.search(plain):
            problems.append(f"Latin words in {chat}: {text!r}")
    assert not problems, f"{language}: {len(problems)} problems, e.g.\n" + "\n".join(problems[:8])
