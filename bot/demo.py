"""`corridor demo`: the whole loop, offline, through the real bot over HTTP.

A Nepali worker in Qatar reports unpaid wages; the Qatar group gets a card; two
responders race to claim it; messages and a photo are relayed both ways; a check-in
fires; the case is referred to a shelter in Nepal for an airport pickup and resolved;
a mother in Nepal reports her son missing; an Indonesian worker in Malaysia sends an
SOS that escalates across the corridor; the coordinator gets her morning digest."""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

from bot.harness import Harness

WIDTH = 88


class Narrator:
    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.started = time.monotonic()

    def step(self, text: str) -> None:
        if not self.quiet:
            print(f"\n▶ {text}")


def render_message(message: dict[str, Any], names: dict[int, str]) -> str:
    who = (
        "🤖 bot"
        if message.get("from_bot")
        else "👤 " + names.get(message["from"]["id"], message["from"].get("first_name", "?"))
    )
    body = message.get("text") or message.get("caption") or ""
    kind = message.get("media_kind") or message.get("kind")
    if kind and kind != "text":
        body = f"[{kind}] {body}".strip()
    lines = [f"{who}: " + (body.splitlines()[0] if body else "")]
    lines += ["      " + line for line in body.splitlines()[1:]]
    buttons = [
        b["text"]
        for row in (message.get("reply_markup") or {}).get("inline_keyboard", [])
        for b in row
    ]
    if buttons:
        lines.append(
            "      " + " ".join(f"[{b}]" for b in buttons[:8]) + (" …" if len(buttons) > 8 else "")
        )
    if message.get("edited"):
        lines[0] += "  (edited)"
    return "\n".join(
        textwrap.shorten(line, WIDTH * 2, placeholder="…") if len(line) > WIDTH * 2 else line
        for line in lines
    )


async def transcripts(h: Harness, names: dict[int, str]) -> dict[str, str]:
    result = {}
    for chat in await h.tg.chats():
        messages = await h.tg.transcript(chat["id"])
        if not messages:
            continue
        title = chat.get("title") or names.get(chat["id"], str(chat["id"]))
        header = f"═══ {title} ({chat['type']}, {chat['id']}) " + "═" * 10
        result[title] = header + "\n" + "\n".join(render_message(m, names) for m in messages)
    return result


async def scenario(h: Harness, say: Narrator) -> dict[int, str]:
    names = {uid: pid.capitalize() for pid, uid in h.staff.items()}
    qa_group, np_group = h.groups["qa-workers-centre"], h.groups["np-returnee-shelter"]
    my_group, id_group = h.groups["my-legal-aid"], h.groups["id-migrant-union"]
    ramesh, aisha, bishnu, budi, sita = (
        h.staff[p] for p in ("ramesh", "aisha", "bishnu", "budi", "sita")
    )

    say.step(
        "Hari, a Nepali construction worker in Doha, opens the bot and reports unpaid wages (in Nepali)."
    )
    hari = await h.user("Hari", "ne")
    names[hari] = "Hari (worker)"
    await h.say(hari, "/start")
    await h.tap(hari, "नेपाली")
    await h.tap(hari, "📝")  # Report a problem
    for answer in ("self", "QA", "NP", "Doha"):
        await h.tap_value(hari, answer)
    await h.tap_value(hari, "WAGE")
    await h.tap_value(hari, "DOCS")
    await h.tap_nav(hari, "done")
    await h.tap_value(hari, "months")
    await h.tap_value(hari, "no")
    await h.tap_value(hari, "6-20")
    await h.say(hari, "Al Noor Contracting W.L.L.")
    await h.tap_nav(hari, "skip")  # agency
    await h.say(hari, "4800 QAR")
    await h.say(hari, "हामीलाई चार महिनादेखि तलब दिइएको छैन र कम्पनीले राहदानी राखेको छ।")
    await h.send("photo", hari, caption="payslip")
    await h.tap_nav(hari, "done")
    await h.tap_value(hari, "chat")
    await h.tap_value(hari, "18-22")
    for _ in range(3):
        await h.tap_value(hari, "yes")
    await h.tap_nav(hari, "submit")
    code = (await h.case_codes())[-1]

    say.step(
        f"Case {code} is posted in the Qatar responders' group; Ramesh and Aisha tap Claim at the same moment."
    )
    card = await h.last_with_button(qa_group, "Claim")
    answers = await asyncio.gather(
        h.tap(ramesh, "Claim", chat_id=qa_group, message=card),
        h.tap(aisha, "Claim", chat_id=qa_group, message=card),
    )
    for who, answer in zip(("Ramesh", "Aisha"), answers, strict=True):
        say.step(f"  {who} sees: {answer.get('text')}")

    owner = ramesh if "own" in (answers[0].get("text") or "") else aisha
    say.step("Hari writes again and sends a photo; both reach the owner, who answers by replying.")
    await h.say(hari, "मालिकले आज फेरि धम्की दियो।")
    await h.send("photo", hari, caption="contract")
    relayed = await h.tg.wait_for_message(owner, contains="Reporter:")
    reply = await h.tg.send_message(
        owner,
        "We have contacted the labour ministry. Please keep copies of your payslips.",
        reply_to_message_id=relayed["message_id"],
    )
    del reply
    await h.settle()

    say.step(
        "Three days pass. A check-in reaches Hari inside his safe hours (18–22 Doha time); he answers."
    )
    await h.advance(hours=72)
    await h.advance(hours=9)
    await h.tap(hari, "🙂")

    say.step(
        "Hari is deported. The owner refers the case to the Kathmandu shelter for an airport pickup."
    )
    await h.say(owner, f"/refer {code}")
    await h.tap(owner, "Kathmandu Returnee Shelter")
    await h.say(
        owner,
        "Deported, arrives Tribhuvan airport Friday 14:05 on QR 652. Needs transport and wage claim follow-up.",
    )
    await h.claim(bishnu, np_group)

    say.step(
        "Bishnu meets Hari and recovers part of the wages; the case is resolved and Hari gives feedback."
    )
    await h.say(bishnu, f"/resolve {code}")
    await h.press_data(bishnu, lambda data: data.endswith(":WAGES_RECOVERED"))
    await h.say(bishnu, "3600 QAR")
    await h.say(bishnu, "Employer paid 3 of 4 months after embassy letter; passport returned.")
    await h.tap(hari, "5")

    say.step("Kamala in Nepal reports that her son, working in Qatar, cannot be reached.")
    kamala = await h.user("Kamala", "ne")
    names[kamala] = "Kamala (mother)"
    await h.say(kamala, "/start")
    await h.tap(kamala, "English")
    await h.tap(kamala, "🔎")
    await h.tap_value(kamala, "parent")
    await h.tap_value(kamala, "QA")
    await h.tap_value(kamala, "NP")
    await h.say(kamala, "Suman Tamang")
    await h.tap_value(kamala, "month")
    await h.tap_value(kamala, "Al Khor")
    await h.tap_nav(kamala, "skip")
    await h.say(kamala, "Gulf Star Manpower")
    await h.say(kamala, "+974 3312 3456")
    await h.tap_nav(kamala, "done")
    await h.tap_value(kamala, "phone")
    await h.say(kamala, "+977 984 123 4567")
    await h.tap_value(kamala, "any")
    for _ in range(3):
        await h.tap_value(kamala, "yes")
    await h.tap_nav(kamala, "submit")

    say.step("Siti, an Indonesian domestic worker in Malaysia, sends an SOS: two taps.")
    siti = await h.user("Siti", "id")
    names[siti] = "Siti (worker)"
    await h.say(siti, "/sos")
    await h.tap(siti, "Malaysia")
    await h.send("location", siti, latitude=3.139, longitude=101.687)
    sos_code = (await h.case_codes())[-1]

    say.step(
        f"Nobody claims {sos_code} in Kuala Lumpur within 5 minutes: it escalates to the Jakarta union, where Budi claims it."
    )
    await h.advance(minutes=6)
    await h.advance(minutes=6)
    await h.claim(budi, id_group)
    del my_group

    say.step(
        "Next morning at 08:00 Kathmandu time, Sita (coordinator) receives her digest with a chart."
    )
    await h.advance_to_local("Asia/Kathmandu", 8, 1)
    await h.tg.wait_for_message(sita, contains="digest", timeout=10)

    say.step("Sita exports anonymised statistics for a partner report (small cells suppressed).")
    await h.say(sita, "/export csv 2026-01-01 2026-12-31 NP-QA")
    return names


def save(
    keep: Path, chats: dict[str, str], files: list[dict[str, Any]], contents: dict[str, bytes]
) -> None:
    keep.mkdir(parents=True, exist_ok=True)
    for title, text in chats.items():
        safe = "".join(c if c.isalnum() else "_" for c in title)[:60]
        (keep / f"transcript-{safe}.txt").write_text(text + "\n")
    for number, item in enumerate(files, 1):
        name = item.get("name") or item["file_id"]
        (keep / f"{number:02d}-{name}").write_bytes(contents[item["file_id"]])
    (keep / "files.json").write_text(json.dumps(files, indent=2))


async def run_demo(keep: Path | None = None, quiet: bool = False) -> int:
    logging.getLogger("aiogram").setLevel(logging.WARNING)
    logging.getLogger().setLevel(logging.WARNING)
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="corridor-demo-"))
    say = Narrator(quiet)
    h = await Harness.start(f"sqlite+aiosqlite:///{workdir / 'corridor.sqlite3'}")
    try:
        try:
            names = await scenario(h, say)
        except Exception:
            # Show what happened up to the failure: that is what one needs to debug it.
            for text in (await transcripts(h, {})).values():
                print(text + "\n", file=sys.stderr)
            raise
        chats = await transcripts(h, names)
        files = await h.tg.sent_files()
        if not quiet:
            print()
            for text in chats.values():
                print(text + "\n")
        if keep is not None:
            contents = {
                item["file_id"]: await h.tg.get_file_bytes(item["file_id"]) for item in files
            }
            save(keep, chats, files, contents)
            # Last: the corridor evidence report and an HXL export, on a seeded year.
            from bot.demo_evidence import write as write_evidence

            for path in await write_evidence(h.app.domain, keep):
                say.step(f"Wrote {path.name}")
    finally:
        await h.stop()
    if keep is not None:
        shutil.copy(workdir / "corridor.sqlite3", keep / "corridor.sqlite3")
    shutil.rmtree(workdir, ignore_errors=True)
    print(
        f"demo finished in {time.monotonic() - started:.1f}s"
        + (f"; kept in {keep}" if keep else ""),
        file=sys.stderr,
    )
    return 0
