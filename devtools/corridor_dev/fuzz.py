"""Random and mutated updates through the real bot, counting what escapes the handlers.

The real Corridor (Harness: real aiogram dispatch over HTTP against the emulator, a real
database) receives, one at a time, updates drawn at random from a seeded generator:

* what people can send: texts (any script, control characters, markup, commands with
  odd arguments, huge numbers, texts up to Telegram's 4,096 characters, lone surrogates as
  a broken client would send them), media with captions, odd file names, locations,
  contacts, polls, dice, albums, forwards, edits and replies;
* taps: real buttons (once, or twice in a row like a double tap), forged callback data
  (known prefixes with huge, negative or non-numeric ids, any text, lone surrogates) on a
  bot message, on the user's own message or on a message that does not exist;
* raw updates (the emulator's ``inject_update``): a valid update for one of the senders,
  then mutated: fields dropped, replaced by values of other types or out of every range,
  unknown fields and objects added, the update type renamed.

An *unhandled exception* is one that escaped a handler: the errors router's "update …
failed" (the user got the apology), or anything logged at ERROR by aiogram or by the
polling loop. ``bench/fuzz_updates.py`` runs 10,000 updates; the test suite a few hundred.
"""

from __future__ import annotations

import copy
import logging
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from corridor_dev.harness import Harness
from tgemulator.client import EmulatorError

QA_ORG = "qa-workers-centre"
# Who logs an update that escaped its handler.
UNHANDLED_LOGGERS = ("handlers.errors", "aiogram", "bot.polling")

# -- the raw material ------------------------------------------------------------------------

COMMANDS = (
    "/start /sos /status /help /language /cancel /consent /clear /forget /skip /join /reply "
    "/case /resolve /reopen /refer /override /followup /oncall /digest /stats /invite /team "
    "/remove /block /linkgroup /away /cover /export /unknown"
).split()
WORDS = [
    "QA", "MY", "NP", "ID", "Doha", "self", "family", "yes", "no", "-", "0", "1", "-1",
    "99999", "2147483648", "9223372036854775807", "9223372036854775808",
    "18446744073709551616", "1e309", "NaN", "1200 QAR", "+974 3312 3456", "QA-AAAAA",
    "qa-workers-centre", "2030-01-01", "2020-02-30", "30d", "99999d", "WAGE", "Al Noor",
    "join_", "join_x", "sita", "farid", "'; DROP TABLE cases; --", "%s", "{code}", "\x00",
]  # fmt: skip
MARKUP = [
    "<b>", "</b>", "<i>x</i>", "<a href='tg://user?id=1'>x</a>", "<script>", "&amp;", "&",
    "<", ">", "*bold*", "_", "`", "[x](http://a)", "\\", "<tg-spoiler>", "&#0;", "&#xD800;",
]  # fmt: skip
ALPHABETS = [
    (0x20, 0x7E), (0xA0, 0x24F), (0x0900, 0x097F), (0x0980, 0x09FF), (0x0600, 0x06FF),
    (0x4E00, 0x4E80), (0x1F300, 0x1F64F), (0x0300, 0x036F), (0x0000, 0x001F), (0x200B, 0x200F),
    (0x2028, 0x202E), (0xFFF0, 0xFFFF), (0x10FFF0, 0x10FFFF),
]  # fmt: skip
PREFIXES = (
    "claim pass passr r chk cns out ref snz fb wd cwd inv lang menu nav pick sos clr fgt"
).split()
KNOWN = [
    "safe", "unsafe", "changed", "busy", "language", "destination_help", "origin_help",
    "statistics", "OTHER", "WAGES_RECOVERED", "np-returnee-shelter", "qa-workers-centre", "en",
    "ne", "xx", "sos", "report", "missing", "status", "help", "back", "cancel", "skip", "done",
    "submit", "resume", "restart", "role", "destination", "origin", "categories", "QA", "self",
    "WAGE",
]  # fmt: skip
HUGE = [2**31, 2**53, 2**63 - 1, 2**63, 2**64, 2**70, -(2**63) - 1, -1, 0, 10**30]
ODD_NAMES = [
    "../../etc/passwd", "CON", ".hidden", "a" * 255 + ".pdf", "payslip.pdf.exe",
    "رسالة\u202egpj.exe", "ज़मीन.png", "\u0000null.txt", "no_extension", "<b>x</b>.html",
]  # fmt: skip
UPDATE_TYPES = [
    "message", "edited_message", "callback_query", "my_chat_member", "chat_member", "poll",
    "poll_answer", "inline_query", "channel_post", "business_message", "message_reaction",
    "chat_join_request", "shipping_query", "pre_checkout_query", "future_update_type",
]  # fmt: skip


@dataclass
class Sender:
    key: str
    uid: int
    chat: int  # their private chat, or the group they write in
    language_code: str

    @property
    def private(self) -> bool:
        return self.chat == self.uid


@dataclass(frozen=True)
class Escaped:
    """An exception that escaped a handler, and the update that caused it."""

    kind: str  # what was sent: text, tap_forged, raw …
    sender: str
    exception: str
    category: str
    line: str

    def __str__(self) -> str:
        return f"{self.kind} by {self.sender}: {self.line}"


@dataclass
class Report:
    updates: int = 0
    by_kind: Counter[str] = field(default_factory=Counter)
    callbacks: int = 0
    refused_by_client: int = 0  # what no Telegram client can send (the emulator said 400)
    unanswered: list[str] = field(default_factory=list)  # callback queries left spinning
    unhandled: list[Escaped] = field(default_factory=list)
    unhandled_by_kind: Counter[str] = field(default_factory=Counter)
    exception_types: Counter[str] = field(default_factory=Counter)
    by_category: Counter[str] = field(default_factory=Counter)
    skipped_unparseable: int = 0  # raw updates the polling loop logged and skipped
    leaks: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def unhandled_count(self) -> int:
        return len(self.unhandled)


class ErrorTap(logging.Handler):
    """Collects what escaped a handler, and the polling loop's "skipped" notes."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.errors: list[logging.LogRecord] = []
        self.skipped = 0

    def emit(self, record: logging.LogRecord) -> None:
        if record.name == "bot.polling" and "skipped" in record.getMessage():
            self.skipped += 1
        if record.levelno < logging.ERROR or not record.name.startswith(UNHANDLED_LOGGERS):
            return
        if record.name == "bot.polling" and not record.exc_info:
            return  # getUpdates itself failing is not an update escaping a handler
        self.errors.append(record)

    def take(self) -> tuple[list[logging.LogRecord], int]:
        errors, skipped = self.errors, self.skipped
        self.errors, self.skipped = [], 0
        return errors, skipped


BOT_API_REFUSED = "the Bot API refused a handler's own call"


def describe(record: logging.LogRecord) -> tuple[str, str, str]:
    """(exception type, category, one line) of an error record.

    The category separates a Bot API call a handler made itself being refused (a reply to
    a chat or message that does not exist, answering a callback query twice …: with replies
    queued in the outbox and cosmetic calls made after the commit, these are logged, not
    raised) from everything else."""
    from aiogram.exceptions import TelegramAPIError

    if record.exc_info and record.exc_info[1] is not None:
        error = record.exc_info[1]
        category = BOT_API_REFUSED if isinstance(error, TelegramAPIError) else "other"
        return type(error).__name__, category, f"{type(error).__name__}: {str(error)[:160]}"
    return "logged error", "other", f"{record.name}: {record.getMessage()[:160]}"


# -- drawing ---------------------------------------------------------------------------------


class Draw:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def chars(self, n: int) -> str:
        out = []
        for _ in range(n):
            low, high = self.rng.choice(ALPHABETS)
            out.append(chr(self.rng.randint(low, high)))
        return "".join(out)

    def text(self) -> str:
        r = self.rng
        choice = r.random()
        if choice < 0.25:
            text = self.chars(r.randint(1, 60))
        elif choice < 0.4:
            text = r.choice(WORDS)
        elif choice < 0.55:
            text = "".join(r.choice([*MARKUP, self.chars(r.randint(0, 8))]) for _ in range(6))
        elif choice < 0.75:
            args = " ".join(r.choice([*WORDS, self.chars(4)]) for _ in range(r.randint(0, 3)))
            text = f"{r.choice(COMMANDS)} {args}".strip()
        elif choice < 0.85:
            # Up to Telegram's limit: 4,080 and 4,096 characters are where it used to break.
            size = r.choice([4096, 4080, 4095, r.randint(1000, 4096)])
            text = (self.chars(r.randint(1, 12)) + " ") * (size // 4)
            text = text[:size]
        elif choice < 0.93:
            # A broken or forged client: a lone UTF-16 surrogate somewhere.
            text = self.chars(r.randint(0, 20)) + chr(r.randint(0xD800, 0xDFFF)) + self.chars(3)
        else:
            text = " \n\t" * r.randint(1, 5) + self.chars(2)
        return text if text.strip() else text + "x"

    def callback_data(self) -> str:
        r = self.rng
        for _ in range(20):
            choice = r.random()
            if choice < 0.7:
                parts = [
                    r.choice(
                        [
                            str(r.randint(-3, 30)),
                            str(r.choice(HUGE)),
                            r.choice(KNOWN),
                            self.chars(r.randint(0, 6)),
                            "",
                        ]
                    )
                    for _ in range(r.randint(0, 3))
                ]
                data = r.choice(PREFIXES) + ":" + ":".join(parts)
            elif choice < 0.85:
                data = self.chars(r.randint(1, 40))
            else:
                data = r.choice(PREFIXES) + ":" + chr(r.randint(0xD800, 0xDFFF))
            if 1 <= len(data.encode("utf-8", "surrogatepass")) <= 64:
                return data
        return "menu:help"

    def caption(self) -> str | None:
        r = self.rng
        if r.random() < 0.3:
            return None
        if r.random() < 0.2:
            return ("word " * 300)[: r.choice([1024, 1000, 1023])]
        return self.text()[:1024]

    def value(self, depth: int = 0) -> Any:
        """Anything JSON can hold, for replacing a field."""
        r = self.rng
        options: list[Any] = [
            None, True, False, r.choice(HUGE), r.randint(-5, 5), 1.5, -0.0, "", "x" * 5000,
            self.chars(5), chr(0xD800), "0", [],
        ]  # fmt: skip
        if depth < 2:
            options += [
                {self.chars(3): self.value(depth + 1)},
                [self.value(depth + 1)],
                {"id": r.choice(HUGE), "type": "private"},
            ]
        return r.choice(options)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            found.append((*prefix, key))
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.append((*prefix, index))
            found += _paths(value, (*prefix, index))
    return found


def mutate(update: dict[str, Any], draw: Draw) -> dict[str, Any]:
    """One to three changes to a valid update: drop, replace, add, rename its type."""
    r = draw.rng
    raw = copy.deepcopy(update)
    for _ in range(r.randint(1, 3)):
        paths = [p for p in _paths(raw) if p != ("update_id",)]
        if not paths:
            break
        path = r.choice(paths)
        parent: Any = raw
        for step in path[:-1]:
            parent = parent[step]
        last = path[-1]
        action = r.random()
        if action < 0.3 and isinstance(parent, dict):
            del parent[last]
        elif action < 0.75:
            parent[last] = draw.value()
        elif action < 0.9 and isinstance(parent, dict):
            parent[draw.chars(4)] = draw.value()
        else:
            kinds = [k for k in raw if k != "update_id"]
            if kinds:
                raw[r.choice(UPDATE_TYPES)] = raw.pop(kinds[0])
    return raw


# -- the world -------------------------------------------------------------------------------


async def prepare(h: Harness) -> dict[str, Sender]:
    """Strangers, a reporter with a case a responder owns, reporters in the middle of a
    report, a responder in private and in their group, a visitor in that group."""
    from bot.domain import cases, claims
    from models import Person

    senders: dict[str, Sender] = {}
    for lang in ("en", "ne", "id"):
        uid = (await h.tg.create_user(f"Stranger {lang}", language_code=lang, started=True))["id"]
        senders[f"stranger_{lang}"] = Sender(f"stranger_{lang}", uid, uid, lang)
    uid = (await h.tg.create_user("Wulan", language_code="id", started=True))["id"]
    domain = h.app.domain
    async with domain.sessions() as session, session.begin():
        reporter = await cases.reporter_for(session, domain, uid, uid, "id")
        case = await cases.submit_report(
            session,
            domain,
            reporter,
            cases.Report(
                reporter_role="self",
                destination_country="MY",
                origin_country="ID",
                categories=["WAGE"],
                language="id",
                consents={"destination_help": True, "origin_help": True, "statistics": True},
            ),
        )
        farid = await session.get(Person, "farid")
        await claims.claim(session, domain, case.id, farid, h.groups["my-legal-aid"])
    await h.settle()
    senders["reporter_case"] = Sender("reporter_case", uid, uid, "id")
    for lang, flow in (("ne", "report"), ("id", "missing")):
        uid = (await h.tg.create_user(f"Drafting {lang}", language_code=lang))["id"]
        await h.say(uid, "/start")  # the phone speaks the language: the menu at once
        await h.press_data(uid, lambda data, flow=flow: data == f"menu:{flow}")
        senders[f"drafting_{lang}"] = Sender(f"drafting_{lang}", uid, uid, lang)
    ramesh = h.staff["ramesh"]
    senders["responder"] = Sender("responder", ramesh, ramesh, "en")
    senders["coordinator"] = Sender("coordinator", h.staff["sita"], h.staff["sita"], "en")
    group = h.groups[QA_ORG]
    senders["group_responder"] = Sender("group_responder", ramesh, group, "en")
    visitor = (await h.tg.create_user("Visitor", language_code="ne"))["id"]
    await h.tg.add_member(group, visitor)
    await h.settle()
    senders["group_visitor"] = Sender("group_visitor", visitor, group, "ne")
    return senders


class Fuzzer:
    def __init__(self, h: Harness, seed: int = 0, *, answer_timeout: float = 20.0) -> None:
        self.h = h
        self.rng = random.Random(seed)
        self.draw = Draw(self.rng)
        self.senders: dict[str, Sender] = {}
        self.report = Report()
        self.tap = ErrorTap()
        self.answer_timeout = answer_timeout

    async def run(self, n: int, progress: Any = None) -> Report:
        for name in UNHANDLED_LOGGERS:
            logging.getLogger(name).addHandler(self.tap)
        # The polling loop's notes are at WARNING; make sure they reach the tap.
        polling = logging.getLogger("bot.polling")
        level = polling.level
        polling.setLevel(logging.INFO)
        began = time.perf_counter()
        try:
            if not self.senders:
                self.senders = await prepare(self.h)
            self.tap.take()
            while self.report.updates < n:
                await self.step()
                if progress is not None:
                    progress(self.report)
            self.report.leaks = await self.h.leaks_into_groups()
        finally:
            polling.setLevel(level)
            for name in UNHANDLED_LOGGERS:
                logging.getLogger(name).removeHandler(self.tap)
            self.report.seconds += time.perf_counter() - began
        return self.report

    async def step(self) -> None:
        r = self.rng
        sender = self.senders[r.choice(sorted(self.senders))]
        roll = r.random()
        if roll < 0.35:
            kind = "text"
        elif roll < 0.6:
            kind = r.choice(["tap_real", "tap_forged", "tap_forged", "tap_elsewhere"])
        elif roll < 0.85:
            kind = r.choice(
                "photo document voice audio video video_note animation sticker location "
                "contact dice poll album forward edit reply".split()
            )
        else:
            kind = "raw"
        queries: list[str] = []
        try:
            count, queries = await self._send(sender, kind)
        except EmulatorError:
            self.report.refused_by_client += 1
            return
        if count == 0:
            return
        self.report.updates += count
        self.report.by_kind[kind] += count
        self.report.callbacks += len(queries)
        for query in queries:
            try:
                await self.h.tg.get_callback_answer(query, timeout=self.answer_timeout)
            except TimeoutError:
                self.report.unanswered.append(f"{kind} by {sender.key}")
        await self.h.settle()
        errors, skipped = self.tap.take()
        self.report.skipped_unparseable += skipped
        for record in errors:
            kind_name, category, line = describe(record)
            self.report.exception_types[kind_name] += 1
            self.report.by_category[category] += 1
            self.report.unhandled_by_kind[kind] += 1
            self.report.unhandled.append(Escaped(kind, sender.key, kind_name, category, line))

    async def _send(self, s: Sender, kind: str) -> tuple[int, list[str]]:
        """Sends one drawn update (several when a client splits it); (count, query ids)."""
        tg, r, d = self.h.tg, self.rng, self.draw
        group = None if s.private else s.chat
        if kind.startswith("tap"):
            return await self._tap(s, kind)
        if kind == "raw":
            return await self._raw(s), []
        if kind == "text":
            sent: Any = await tg.send_message(s.uid, d.text(), chat_id=group)
        elif kind == "forward":
            origin = {"type": "hidden_user", "sender_user_name": "Boss"}
            sent = await tg.send_message(s.uid, d.text(), chat_id=group, forward_origin=origin)
        elif kind == "edit":
            mine = [m for m in await tg.transcript(s.chat) if not m.get("from_bot") and "text" in m]
            if not mine:
                return 0, []
            sent = await tg.edit_message(s.uid, s.chat, r.choice(mine)["message_id"], d.text())
        elif kind == "reply":
            messages = await tg.transcript(s.chat)
            target = r.choice(messages)["message_id"] if messages else None
            sent = await tg.send_message(s.uid, d.text(), chat_id=group, reply_to_message_id=target)
        elif kind == "album":
            sent = await tg.send_album(s.uid, r.randint(2, 12), chat_id=group, caption=d.caption())
        elif kind == "document":
            name = r.choice([*ODD_NAMES, d.chars(r.randint(1, 30))])
            sent = await tg.send_document(
                s.uid, name, r.randbytes(r.randint(0, 64)), chat_id=group, caption=d.caption()
            )
        elif kind in ("photo", "video", "animation"):
            sent = await getattr(tg, f"send_{kind}")(s.uid, chat_id=group, caption=d.caption())
        elif kind in ("voice", "audio", "video_note"):
            duration = r.choice([0, 1, 30, 100_000])
            sent = await getattr(tg, f"send_{kind}")(s.uid, duration=duration, chat_id=group)
        elif kind == "sticker":
            sent = await tg.send_sticker(s.uid, r.choice(["👍", "🆘", "a", ""]), chat_id=group)
        elif kind == "location":
            sent = await tg.send_location(
                s.uid, r.uniform(-90, 90), r.uniform(-180, 180), chat_id=group
            )
        elif kind == "contact":
            phone = r.choice(["+97433123456", "0", "+1", "", d.chars(8)])
            sent = await tg.send_contact(s.uid, phone, d.chars(5) or "x", chat_id=group)
        elif kind == "dice":
            sent = await tg.send_dice(s.uid, "🎲", r.randint(1, 6), chat_id=group)
        else:  # poll
            options = [d.chars(r.randint(1, 20)) for _ in range(r.randint(2, 4))]
            sent = await tg.send_poll(s.uid, d.chars(10) or "?", options, chat_id=group)
        parts = sent if isinstance(sent, list) else [sent]
        return (len(parts[-1].get("parts", [1])) if kind != "album" else len(parts)), []

    async def _tap(self, s: Sender, kind: str) -> tuple[int, list[str]]:
        tg, r = self.h.tg, self.rng
        messages = await tg.transcript(s.chat)
        bot_messages = [m for m in messages if m.get("from_bot")]
        if not bot_messages:
            await tg.send_message(s.uid, "/start", chat_id=None if s.private else s.chat)
            return 1, []
        if kind == "tap_real":
            real = [
                (m, b["callback_data"])
                for m in bot_messages
                for row in (m.get("reply_markup") or {}).get("inline_keyboard", [])
                for b in row
                if "callback_data" in b
            ]
            if not real:
                return 0, []
            message, data = r.choice(real)
            times, strict = r.choice([1, 1, 2]), True
            target = message["message_id"]
        else:
            data, times, strict = self.draw.callback_data(), 1, False
            if kind == "tap_forged":
                target = r.choice(bot_messages)["message_id"]
            else:
                # On the user's own message, or on one that does not exist.
                own = [m["message_id"] for m in messages if not m.get("from_bot")]
                target = r.choice([*own, 10**9 + r.randint(0, 1000)])
        queries = [
            await tg.press_button(s.uid, s.chat, target, data=data, strict=strict)
            for _ in range(times)
        ]
        return len(queries), queries

    async def _raw(self, s: Sender) -> int:
        """A valid update for this sender, mutated, queued as raw JSON."""
        tg, r = self.h.tg, self.rng
        user = {"id": s.uid, "is_bot": False, "first_name": "Raw", "language_code": s.language_code}
        chat = (
            {"id": s.chat, "type": "private", "first_name": "Raw"}
            if s.private
            else {"id": s.chat, "type": "supergroup", "title": "Group"}
        )
        message = {
            "message_id": r.randint(1, 10**6),
            "date": int(time.time()),
            "chat": chat,
            "from": user,
            "text": self.draw.text(),
        }
        base: dict[str, Any] = r.choice(
            [
                {"message": message},
                {"edited_message": {**message, "edit_date": int(time.time())}},
                {
                    "callback_query": {
                        "id": str(r.getrandbits(62)),
                        "from": user,
                        "chat_instance": "1",
                        "message": message,
                        "data": self.draw.callback_data(),
                    }
                },
                {
                    "my_chat_member": {
                        "chat": chat,
                        "from": user,
                        "date": int(time.time()),
                        "old_chat_member": {"status": "member", "user": user},
                        "new_chat_member": {"status": "left", "user": user},
                    }
                },
            ]
        )
        await tg.inject_update(mutate({"update_id": 0, **base}, self.draw))
        return 1


async def fuzz(database_url: str, n: int, seed: int = 0, progress: Any = None) -> Report:
    """Starts a bot on ``database_url``, sends it ``n`` drawn updates, stops it."""
    h = await Harness.start(database_url)
    try:
        return await Fuzzer(h, seed).run(n, progress)
    finally:
        await h.stop(check_privacy=False)


def summary(report: Report) -> str:
    lines = [
        f"{report.updates} updates ({report.callbacks} callback queries) in "
        f"{report.seconds:.0f}s; {report.refused_by_client} refused by the client",
        f"unhandled exceptions: {report.unhandled_count}"
        + (
            f" {dict(report.exception_types)} {dict(report.by_category)}"
            if report.unhandled
            else ""
        ),
        f"unanswered callback queries: {len(report.unanswered)}",
        f"unparseable raw updates skipped by polling: {report.skipped_unparseable}",
        f"reporter text in groups: {len(report.leaks)}",
    ]
    lines += [f"  {escaped}" for escaped in report.unhandled[:20]]
    return "\n".join(lines)
