"""`corridor demo`: the whole loop, offline, through the real bot over HTTP.

A Nepali worker in Qatar reports unpaid wages; the Qatar group gets a card; two
responders race to claim it; messages and a photo are relayed both ways; a check-in
fires; the case is referred to a shelter in Nepal for an airport pickup and resolved;
a mother in Nepal reports her son missing; an Indonesian worker in Malaysia sends an
SOS that escalates across the corridor; the coordinator gets her morning digest and
exports the corridor's anonymised statistics (the database also holds a month of earlier
cases, so some of its cells are large enough to publish).

The story is printed as it happens: the narrator's steps on the fake clock, every
message in every chat (users' and the bot's), every button press and what it answered,
every edit the bot makes, in the order they happen."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import json
import logging
import shutil
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

from corridor_dev.harness import Harness

WIDTH = 100
BODY_LINES = 8  # lines of a long message shown in the story (all of it is in the transcripts)


class Narrator:
    """The narrator's voice: steps of the story (and nothing else when quiet)."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.started = time.monotonic()
        self.lines: list[str] = []

    def emit(self, text: str) -> None:
        self.lines.append(text)
        if not self.quiet:
            print(text, flush=True)

    def step(self, text: str) -> None:
        self.emit(f"\n▶ {text}")

    def note(self, text: str) -> None:
        self.emit(text)


class Story(Narrator):
    """The narrator plus everything that happens in the emulated Telegram, printed in order:
    after each action the chats are read again and what is new or changed is told, so the
    narrative, the people's messages and taps, and the bot's answers interleave."""

    def __init__(self, h: Harness, quiet: bool) -> None:
        super().__init__(quiet)
        self.h = h
        self.names: dict[int, str] = {uid: pid.capitalize() for pid, uid in h.staff.items()}
        self.seen: dict[tuple[int, int], str] = {}
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}
        self.chat_titles: dict[int, str] = {}
        self.origin = h.clock.now()
        self.last_moment = ""
        self.asked: dict[str, int] = {}  # callback query → who pressed
        self._lock = asyncio.Lock()

    def clock(self) -> str:
        now = self.h.clock.now()
        return f"day {(now.date() - self.origin.date()).days + 1}, {now:%H:%M} UTC"

    def step(self, text: str) -> None:
        self.emit(f"\n▶ [{self.clock()}] {text}")

    def who(self, user_id: int) -> str:
        # A private chat's title is its user's name.
        return self.names.get(user_id) or self.chat_titles.get(user_id) or str(user_id)

    def emit(self, text: str) -> None:
        # A new moment on the fake clock gets a line of its own, so the story reads in time.
        moment = self.clock()
        if text.startswith("  ") and moment != self.last_moment:
            super().emit(f"  ─── {moment}")
        if text.startswith(("  ", "\n▶")):
            self.last_moment = moment
        super().emit(text)

    def chat(self, chat_id: int) -> str:
        if chat_id in self.names:
            return self.names[chat_id]
        return self.chat_titles.get(chat_id, str(chat_id))

    # -- what people do -------------------------------------------------------------
    def tapped(self, user_id: int, chat_id: int, label: str | None) -> None:
        where = "" if chat_id == user_id else f" in {self.chat(chat_id)}"
        self.emit(f"  👆 {self.who(user_id)} taps [{label or '?'}]{where}")

    def answered(self, query_id: str, text: str | None) -> None:
        if text:
            who = self.who(self.asked.pop(query_id)) if query_id in self.asked else "they"
            self.emit(f"     ↳ {who} sees “{_shorten(text)}”")

    # -- what the chats show --------------------------------------------------------
    async def catch_up(self) -> None:
        async with self._lock:
            fresh: list[tuple[int, int, int, str, dict[str, Any]]] = []
            for order, chat in enumerate(await self.h.tg.chats()):
                self.chat_titles[chat["id"]] = chat.get("title") or str(chat["id"])
                for message in await self.h.tg.transcript(chat["id"], include_deleted=True):
                    key = (chat["id"], message["message_id"])
                    signature = _signature(message)
                    before = self.seen.get(key)
                    previous = self.messages.get(key)
                    self.seen[key] = signature
                    self.messages[key] = message
                    if before == signature:
                        continue  # unchanged, or only its buttons changed
                    if before is None and message.get("deleted"):
                        continue
                    if before is None:
                        kind = "new"
                    elif message.get("deleted"):
                        kind = "deleted"
                    else:
                        kind = "edited"
                        message = {**message, "previous": _body(previous or {})}
                    # People act, then the bot reacts: within one moment, theirs come first.
                    mover = 1 if message.get("from_bot") else 0
                    fresh.append((message["date"], mover, order, kind, message))
            for _, _, _, kind, message in sorted(fresh, key=lambda item: item[:3]):
                for line in await self.render(kind, message):
                    self.emit(line)

    async def render(self, kind: str, message: dict[str, Any]) -> list[str]:
        chat_id = message["chat"]["id"]
        private = message["chat"].get("type") == "private"
        if message.get("from_bot"):
            who = f"🤖 → {self.chat(chat_id)}"
        else:
            who = f"👤 {self.who(message['from']['id'])}" + (
                "" if private else f" in {self.chat(chat_id)}"
            )
        if kind == "deleted":
            return [f"  🗑  the bot deletes a message in {self.chat(chat_id)}"]
        if kind == "edited":
            old = set(message["previous"].splitlines())
            changed = [line for line in _body(message).splitlines() if line not in old]
            return [
                f"  ✎ 🤖 edits its message in {self.chat(chat_id)}: "
                + " / ".join(_shorten(line) for line in changed[:3] or ["(same words)"])
            ]
        prefix = f"  {who}"
        body = _body(message)
        media = message.get("media_kind")
        if media:
            name = (message.get("document") or {}).get("file_name")
            body = f"[{media}{' ' + name if name else ''}] {body}".strip()
        lines = body.splitlines() or [""]
        shown = [f"{prefix}: {_shorten(lines[0])}"]
        shown += [f"       {_shorten(line)}" for line in lines[1:BODY_LINES]]
        if len(lines) > BODY_LINES:
            more = len(lines) - BODY_LINES
            shown.append(f"       … ({more} more line{'s' if more > 1 else ''})")
        buttons = [
            b["text"]
            for row in (message.get("reply_markup") or {}).get("inline_keyboard", [])
            for b in row
        ]
        if buttons and kind == "new":
            shown.append(
                "       "
                + " ".join(f"[{b}]" for b in buttons[:8])
                + (" …" if len(buttons) > 8 else "")
            )
        document = message.get("document") or {}
        if kind == "new" and str(document.get("file_name", "")).endswith(".csv"):
            shown += await self.csv_preview(document["file_id"])
        return shown

    async def csv_preview(self, file_id: str) -> list[str]:
        rows = list(
            csv.DictReader(
                io.StringIO((await self.h.tg.get_file_bytes(file_id)).decode("utf-8-sig"))
            )
        )
        published = [r for r in rows if r.get("suppressed") == "no"]
        lines = [
            f"       ({len(rows)} cells: {len(published)} published, {len(rows) - len(published)} suppressed)"
        ]
        for row in published[:6]:
            lines.append(
                f"       {row['month']} {row['corridor']} {row['dimension']}={row['code']}: "
                f"{row['cases']} cases"
            )
        return lines


def _signature(message: dict[str, Any]) -> str:
    """What makes a change worth telling: the words and whether it is still there (a
    keyboard taken away after its answer is not news)."""
    return json.dumps([_body(message), message.get("deleted")], ensure_ascii=False)


def _body(message: dict[str, Any]) -> str:
    return message.get("text") or message.get("caption") or ""


def _shorten(line: str) -> str:
    return textwrap.shorten(line, WIDTH, placeholder=" …") if len(line) > WIDTH else line


class DemoHarness(Harness):
    """The harness, telling the story after every step it waits for."""

    story: Story | None = None

    def tell(self, quiet: bool) -> Story:
        self.story = Story(self, quiet)
        press, answer = self.tg.press_button, self.tg.get_callback_answer

        async def press_button(user_id: int, chat_id: int, message_id: int, **kwargs: Any) -> str:
            assert self.story is not None
            await self.story.catch_up()
            label = kwargs.get("button_text") or _label(
                self.story.messages.get((chat_id, message_id)), kwargs.get("data")
            )
            self.story.tapped(user_id, chat_id, label)
            query_id = await press(user_id, chat_id, message_id, **kwargs)
            self.story.asked[query_id] = user_id
            return query_id

        async def get_callback_answer(query_id: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
            result = await answer(query_id, *args, **kwargs)
            if self.story is not None:
                self.story.answered(query_id, result.get("text"))
            return result

        self.tg.press_button = press_button  # type: ignore[method-assign]
        self.tg.get_callback_answer = get_callback_answer  # type: ignore[method-assign]
        return self.story

    async def settle(self) -> None:
        await super().settle()
        if self.story is not None:
            await self.story.catch_up()


def _label(message: dict[str, Any] | None, data: str | None) -> str | None:
    for row in ((message or {}).get("reply_markup") or {}).get("inline_keyboard", []):
        for button in row:
            if data is not None and button.get("callback_data") == data:
                return button.get("text")
    return None


async def seed_history(h: Harness, count: int = 14) -> None:
    """A month of earlier Nepal → Qatar wage cases, resolved in February, written straight
    into the database as it holds them after resolution (no chat replayed): what a corridor
    accumulates, and what makes some export cells large enough to publish."""
    from bot.domain.cases import new_code, record_consents
    from bot.taxonomy import CaseStatus
    from models import Case, Reporter

    domain = h.app.domain
    first = dt.datetime(2026, 2, 2, 9, 0, tzinfo=dt.UTC)
    async with domain.sessions() as session, session.begin():
        for number in range(count):
            created = first + dt.timedelta(days=number * 2, hours=number % 5)
            reporter = Reporter(
                user_key=domain.keys.pseudonym("user", 8_000_000_000 + number),
                language="ne",
                created_at=created,
            )
            session.add(reporter)
            await session.flush()
            recovered = number % 3 != 0
            case = Case(
                code=await new_code(session, "QA"),
                corridor_code="NP-QA",
                reporter_id=reporter.id,
                reporter_role="self",
                categories=["WAGE", "DOCS"] if number % 2 else ["WAGE"],
                urgency="normal",
                status=CaseStatus.RESOLVED.value,
                side="destination",
                language="ne",
                destination_country="QA",
                origin_country="NP",
                wage_owed_minor=300_000 + 25_000 * (number % 4),
                wage_currency="QAR",
                owner_organisation_id="qa-workers-centre",
                owner_person_id="ramesh" if number % 2 else "aisha",
                outcome="WAGES_RECOVERED" if recovered else "DOCUMENTS_RETURNED",
                outcome_amount_minor=200_000 if recovered else None,
                outcome_currency="QAR" if recovered else None,
                created_at=created,
                routed_at=created,
                claimed_at=created + dt.timedelta(minutes=40),
                resolved_at=created + dt.timedelta(days=9),
                last_activity_at=created + dt.timedelta(days=9),
            )
            session.add(case)
            await session.flush()
            consents = {"destination_help": True, "origin_help": False, "statistics": True}
            await record_consents(session, domain, reporter, case, consents, "ne")


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
    await h.say(hari, "/start")  # his phone is in Nepali: the menu comes in it
    await h.tap(hari, "📝")  # Report a problem
    for answer in ("self", "QA", "WAGE", "DOCS"):
        await h.tap_value(hari, answer)
    await h.tap_nav(hari, "done")
    for answer in ("no", "chat", "all"):  # not in danger; write here; consents
        await h.tap_value(hari, answer)
    await h.tap_nav(hari, "details")
    for answer in ("Doha", "months", "6-20"):
        await h.tap_value(hari, answer)
    await h.say(hari, "Al Noor Contracting W.L.L.")
    await h.tap_nav(hari, "skip")  # agency
    await h.say(hari, "4800 QAR")
    await h.say(hari, "हामीलाई चार महिनादेखि तलब दिइएको छैन र कम्पनीले राहदानी राखेको छ।")
    await h.send("photo", hari, caption="payslip")
    await h.tap_nav(hari, "done")
    for answer in ("18-22", "SECTOR_F", "MAN"):  # safe hours, sector, gender
        await h.tap_value(hari, answer)
    await h.tap_nav(hari, "submit")
    code = (await h.case_codes())[-1]

    say.step(
        f"Case {code} is posted in the Qatar responders' group; Ramesh and Aisha tap Claim at the same moment."
    )
    card = await h.last_with_button(qa_group, "Claim")
    # Both press before either is answered: two phones showing the same card.
    presses = [
        await h.press(ramesh, "Claim", chat_id=qa_group, message=card),
        await h.press(aisha, "Claim", chat_id=qa_group, message=card),
    ]
    answers = await asyncio.gather(
        *(h.tg.get_callback_answer(query, timeout=20) for query in presses)
    )
    await h.settle()
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
    await h.tap(kamala, "🌐")  # her phone is in Nepali; she reports in English
    await h.tap(kamala, "English")
    await h.tap(kamala, "🔎")
    await h.tap_value(kamala, "parent")
    await h.tap_value(kamala, "QA")
    await h.say(kamala, "Suman Tamang")
    await h.tap_value(kamala, "month")
    await h.tap_value(kamala, "phone")
    await h.say(kamala, "+977 984 123 4567")
    await h.tap_value(kamala, "any")
    await h.tap_value(kamala, "all")
    await h.tap_nav(kamala, "details")
    await h.tap_value(kamala, "Al Khor")
    await h.tap_nav(kamala, "skip")  # employer
    await h.say(kamala, "Gulf Star Manpower")
    await h.say(kamala, "+974 3312 3456")
    await h.tap_nav(kamala, "done")
    await h.tap_nav(kamala, "skip")  # sector
    await h.tap_nav(kamala, "skip")  # gender
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
    keep: Path,
    story: list[str],
    chats: dict[str, str],
    files: list[dict[str, Any]],
    contents: dict[str, bytes],
) -> None:
    keep.mkdir(parents=True, exist_ok=True)
    (keep / "story.txt").write_text("\n".join(story).lstrip("\n") + "\n")
    for title, text in chats.items():
        safe = "".join(c if c.isalnum() else "_" for c in title)[:60]
        (keep / f"transcript-{safe}.txt").write_text(text + "\n")
    for number, item in enumerate(files, 1):
        name = item.get("name") or item["file_id"]
        (keep / f"{number:02d}-{name}").write_bytes(contents[item["file_id"]])
    (keep / "files.json").write_text(json.dumps(files, indent=2))


def render_message(message: dict[str, Any], names: dict[int, str]) -> str:
    """One message of a transcript file."""
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
        lines.append("      " + " ".join(f"[{b}]" for b in buttons))
    if message.get("edited"):
        lines[0] += "  (edited)"
    return "\n".join(lines)


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


async def run_demo(keep: Path | None = None, quiet: bool = False) -> int:
    logging.getLogger("aiogram").setLevel(logging.WARNING)
    logging.getLogger().setLevel(logging.WARNING)
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="corridor-demo-"))
    h = await DemoHarness.start(f"sqlite+aiosqlite:///{workdir / 'corridor.sqlite3'}")
    # Reading every chat after every step costs time: only when someone will read it.
    story: Narrator = h.tell(quiet) if not quiet or keep is not None else Narrator(quiet)
    published = suppressed = 0
    try:
        await seed_history(h)
        story.step(
            "The Doha centre has worked the Nepal → Qatar corridor for a month: 14 wage cases "
            "from February, all resolved, are in the database (written directly, not replayed)."
        )
        try:
            names = await scenario(h, story)
        except Exception:
            # Show what happened up to the failure: that is what one needs to debug it.
            for text in (await transcripts(h, {})).values():
                print(text + "\n", file=sys.stderr)
            raise
        if isinstance(story, Story):
            names.update(story.names)
        files = await h.tg.sent_files()
        for item in files:
            if str(item.get("name", "")).endswith(".csv"):
                body = (await h.tg.get_file_bytes(item["file_id"])).decode("utf-8-sig")
                for row in csv.DictReader(io.StringIO(body)):
                    if row.get("suppressed") == "no":
                        published += 1
                    else:
                        suppressed += 1
        if keep is not None:
            chats = await transcripts(h, names)
            contents = {
                item["file_id"]: await h.tg.get_file_bytes(item["file_id"]) for item in files
            }
            # Last: the corridor evidence report and an HXL export, on a seeded year.
            from corridor_dev.demo_evidence import write as write_evidence

            for path in await write_evidence(h.app.domain, keep):
                story.step(f"Wrote {path.name}")
            save(keep, story.lines, chats, files, contents)
    finally:
        await h.stop()
    if keep is not None:
        shutil.copy(workdir / "corridor.sqlite3", keep / "corridor.sqlite3")
    shutil.rmtree(workdir, ignore_errors=True)
    print(
        f"demo finished in {time.monotonic() - started:.1f}s; the partner export has "
        f"{published} cells published, {suppressed} suppressed"
        + (f"; kept in {keep}" if keep else ""),
        file=sys.stderr,
    )
    return 0
