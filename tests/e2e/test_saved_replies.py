"""Saved replies end to end: the owner picks, fills, previews in their language and sends; the
reporter reads it in theirs. Reporters in Nepali, Indonesian and Filipino; owners in English
and Nepali; an organisation's own reply offered only where it has a text."""

from __future__ import annotations

import asyncio
import datetime as dt
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from babel.dates import format_datetime

from bot.crypto import generate_key
from bot.domain.network_dump import dump_network
from bot.domain.saved_replies import BUILT_IN
from bot.i18n import tr
from corridor_dev.harness import Harness, example_network

COPIES_TITLE, COPIES_TEXT, _ = BUILT_IN["COPIES"]
CHECKIN_TITLE, CHECKIN_TEXT, _ = BUILT_IN["CHECKIN"]
OFFICE_HOURS = {
    "code": "DMWC_HOURS",
    "organisation": "qa-workers-centre",
    "fields": ["phone"],
    "title": {"en": "Our office hours", "ne": "हाम्रो कार्यालय समय"},
    "text": {
        "en": "Our Doha office is open Sunday to Thursday, 9:00 to 17:00. Phone {phone}.",
        "ne": "हाम्रो दोहा कार्यालय आइतबारदेखि बिहीबार, ९:०० देखि १७:०० सम्म खुला रहन्छ। फोन {phone}।",
    },
}


def network(owner_language: str = "en") -> dict[str, Any]:
    data = example_network()
    data["saved_replies"] = [OFFICE_HOURS]
    for person in data["people"]:
        if person["id"] == "ramesh":
            person["language"] = owner_language
    return data


@pytest.fixture
async def h(database_url: str) -> AsyncIterator[Harness]:
    running = await Harness.start(database_url, network=network())
    try:
        yield running
    finally:
        await running.stop()


async def claimed_sos(h: Harness, language: str) -> tuple[int, int, str]:
    worker = await h.user(f"Worker {language}", language)
    await h.say(worker, "/sos")
    await h.press_data(worker, lambda data: data == "sos:QA")
    owner = h.staff["ramesh"]
    await h.claim(owner, h.groups["qa-workers-centre"])
    return worker, owner, (await h.case_codes())[-1]


async def test_picked_from_buttons_reaches_a_nepali_worker_in_nepali(h: Harness) -> None:
    worker, owner, code = await claimed_sos(h, "ne")
    await h.say(owner, "/saved")  # one case of her own: straight to the list
    listing = await h.last_with_button(owner, COPIES_TITLE)
    assert f"case {code}" in listing["text"] and "in Nepali" in listing["text"]
    titles = [row[0]["text"] for row in listing["reply_markup"]["inline_keyboard"]]
    assert len(titles) >= 16 and "Our office hours" in titles  # built-in + the organisation's
    await h.tap(owner, COPIES_TITLE)
    preview = await h.last_bot_text(owner)
    assert preview.endswith(COPIES_TEXT) and "will read it in Nepali" in preview
    assert not any(COPIES_TEXT in t for t in await h.bot_texts(worker))  # not before Send
    await h.tap(owner, "Send")
    received = await h.last_bot_text(worker)
    assert received.endswith("\n" + tr("ne", COPIES_TEXT)) and code in received
    assert tr("ne", COPIES_TEXT) != COPIES_TEXT
    assert await h.last_bot_text(owner) == f"Sent to the reporter of {code}."


async def test_fields_are_asked_checked_and_the_date_is_the_readers(h: Harness) -> None:
    worker, owner, code = await claimed_sos(h, "id")
    await h.say(owner, f"/saved {code.lower()} pickup")
    assert await h.last_bot_text(owner) == "Name of the organisation:"
    await h.say(owner, "Jakarta Migrant Workers Union")
    await h.say(owner, "QR 652")
    await h.say(owner, "Friday 14:05")
    assert (await h.last_bot_text(owner)).startswith(
        "Please write the date and time as YYYY-MM-DD HH:MM"
    )
    await h.say(owner, "2026-12-04 14:05")
    arrival = dt.datetime(2026, 12, 4, 14, 5)
    preview = await h.last_bot_text(owner)
    assert "will read it in Indonesian" in preview
    assert format_datetime(arrival, "medium", locale="en") in preview
    await h.say(owner, "hello?")
    assert await h.last_bot_text(owner) == "Please press Send or Cancel under the preview."
    await h.tap(owner, "Send")
    received = await h.last_bot_text(worker)
    assert "Seseorang dari Jakarta Migrant Workers Union" in received
    assert "QR 652" in received and f"kasus {code}" in received
    assert format_datetime(arrival, "medium", locale="id") in received


async def test_an_organisations_own_reply_only_where_it_has_a_text(h: Harness) -> None:
    nepali, owner, nepali_case = await claimed_sos(h, "ne")
    await h.say(owner, f"/saved {nepali_case} DMWC_HOURS")
    await h.say(owner, "+974 4000 0000")
    await h.tap(owner, "Send")
    assert (await h.last_bot_text(nepali)).endswith(
        "\nहाम्रो दोहा कार्यालय आइतबारदेखि बिहीबार, ९:०० देखि १७:०० सम्म खुला रहन्छ। फोन +974 4000 0000।"
    )
    _filipino, _owner, filipino_case = await claimed_sos(h, "fil")
    await h.say(owner, f"/saved {filipino_case} DMWC_HOURS")
    assert await h.last_bot_text(owner) == (
        f"There is no saved reply DMWC_HOURS in the reporter's language (Filipino). "
        f"/saved {filipino_case} lists them."
    )
    await h.say(owner, "/saved")  # two cases now: which one?
    await h.press_data(owner, lambda data: data.startswith("svc:") and data != "svc:1")
    listing = await h.last_with_button(owner, COPIES_TITLE)
    titles = [row[0]["text"] for row in listing["reply_markup"]["inline_keyboard"]]
    assert "Our office hours" not in titles and "in Filipino" in listing["text"]


async def test_a_nepali_owner_previews_in_nepali_an_english_worker_reads_english(
    database_url: str,
) -> None:
    h = await Harness.start(database_url, network=network(owner_language="ne"))
    try:
        worker, owner, _code = await claimed_sos(h, "en")
        await h.say(owner, "/saved")
        await h.tap(owner, tr("ne", CHECKIN_TITLE))
        preview = await h.last_bot_text(owner)
        assert preview.endswith(tr("ne", CHECKIN_TEXT)) and "अङ्ग्रेजी" in preview
        await h.tap(owner, tr("ne", "✅ Send"))
        assert (await h.last_bot_text(worker)).endswith("\n" + CHECKIN_TEXT)
    finally:
        await h.stop()


async def test_wrong_commands_and_stale_buttons_get_clear_answers(h: Harness) -> None:
    owner = h.staff["ramesh"]
    await h.say(owner, "/saved")
    assert await h.last_bot_text(owner) == (
        "You have no open case of your own. Usage: /saved CODE [REPLY]"
    )
    worker, owner, code = await claimed_sos(h, "ne")
    await h.say(owner, "/saved NOPE-1")
    assert await h.last_bot_text(owner) == "No case NOPE-1 is yours."
    await h.say(owner, f"/saved {code} NOPE")
    assert (await h.last_bot_text(owner)).startswith("There is no saved reply NOPE")
    # Not her case: Aisha cannot send on Ramesh's case.
    aisha = h.staff["aisha"]
    await h.say(aisha, f"/saved {code} ACK")
    assert await h.last_bot_text(aisha) == f"No case {code} is yours."
    # Cancel sends nothing.
    await h.say(owner, f"/saved {code} ACK")
    await h.tap(owner, "Cancel")
    assert await h.last_bot_text(owner) == "Not sent."
    # A long field value is refused and asked again; /cancel stops the form.
    await h.say(owner, f"/saved {code} EMBASSY")
    await h.say(owner, "x" * 500)
    assert (await h.last_bot_text(owner)).startswith("That is too long: at most 120 characters")
    await h.say(owner, "/cancel")
    assert (await h.last_bot_text(owner)).startswith("Stopped. Nothing was sent.")
    # A preview whose case was resolved meanwhile cannot be sent.
    await h.say(owner, f"/saved {code} ACK")
    preview = await h.last_with_button(owner, "Send")
    await h.say(owner, f"/resolve {code}")
    await h.press_data(owner, lambda data: data.endswith(":UNABLE_TO_CONTACT"))
    answer = await h.tap(owner, "Send", message=preview)
    assert answer["text"] == "This button is no longer valid."
    texts = await h.bot_texts(worker)
    assert not any(tr("ne", BUILT_IN["ACK"][1]) in t for t in texts)


async def test_network_sync_changes_an_organisations_replies_without_a_restart(
    database_url: str, tmp_path: Path
) -> None:
    """The coordinator dumps the network, replaces the office-hours reply with another one
    and syncs the file from the command line while the bot runs: the owner is offered the
    new reply at once, and no longer the removed one."""
    key = generate_key()
    h = await Harness.start(database_url, network=network(), encryption_key=key)
    try:
        worker, owner, code = await claimed_sos(h, "ne")
        async with h.app.domain.sessions() as session:
            dumped = await dump_network(session)
        assert 'code = "DMWC_HOURS"' in dumped and "हाम्रो कार्यालय समय" in dumped
        edited = dumped.replace('code = "DMWC_HOURS"', 'code = "DMWC_NIGHT"').replace(
            "हाम्रो कार्यालय समय", "राति सम्पर्क"
        )
        path = tmp_path / "network.toml"
        path.write_text(edited, encoding="utf-8")
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(tmp_path),
            "CORRIDOR_ENCRYPTION_KEYS": key,
            "CORRIDOR_HASH_KEY": "harness",
            "CORRIDOR_DATABASE_URL": database_url,
        }
        done = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "bot", "--config", str(path), "network", "sync", str(path)],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        assert "+ saved reply DMWC_NIGHT" in done.stdout
        assert "- saved reply DMWC_HOURS" in done.stdout
        await h.say(owner, f"/saved {code} DMWC_HOURS")
        assert (await h.last_bot_text(owner)).startswith("There is no saved reply DMWC_HOURS")
        await h.say(owner, f"/saved {code}")
        listing = await h.last_with_button(owner, COPIES_TITLE)
        titles = [row[0]["text"] for row in listing["reply_markup"]["inline_keyboard"]]
        assert "Our office hours" in titles  # the English title is kept under the new code
        await h.say(owner, f"/saved {code} DMWC_NIGHT")
        await h.say(owner, "+974 4000 0001")
        await h.tap(owner, "Send")
        assert (await h.last_bot_text(worker)).endswith("फोन +974 4000 0001।")
        async with h.app.domain.sessions() as session:
            again = await dump_network(session)
        assert 'code = "DMWC_NIGHT"' in again and "DMWC_HOURS" not in again
    finally:
        await h.stop()
