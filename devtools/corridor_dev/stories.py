"""The showcase stories as data: who does what, step by step.

`corridor demo` plays them all in a row and prints the transcripts; `corridor sandbox` plays
them one step at a time in the browser, highlighting whose turn it is and which button to
press. A step is data (who, in which chat, which button or text) plus the one way to carry
it out, so the two never drift apart."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from bot.i18n import N_, tr
from bot.labels import duration
from corridor_dev.harness import Harness

# People who write to the bot in the stories (staff come from the example network).
REPORTERS: dict[str, tuple[str, str, str]] = {
    "hari": ("Hari", "ne", "worker"),
    "kamala": ("Kamala", "ne", "mother"),
    "siti": ("Siti", "id", "worker"),
    "wati": ("Wati", "id", "wife"),
}


@dataclass
class Cast:
    """The people and chats of a running story, and what earlier steps left behind
    (case codes, who won a claim)."""

    h: Harness
    # Told what happens, as a text in any language the listener asks for.
    narrate: Callable[[Callable[[str], str]], None] = lambda text: None
    users: dict[str, int] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)
    facts: dict[str, str] = field(default_factory=dict)

    @classmethod
    async def gather(
        cls, h: Harness, narrate: Callable[[Callable[[str], str]], None] | None = None
    ) -> Cast:
        cast = cls(h, narrate or (lambda text: None))
        for person_id, user_id in h.staff.items():
            cast.users[person_id] = user_id
            cast.names[user_id] = person_id.capitalize()
        for key, (name, language, role) in REPORTERS.items():
            user_id = await h.user(name, language)
            cast.users[key] = user_id
            cast.names[user_id] = f"{name} ({role})"
        return cast

    def user(self, key: str) -> int:
        return self.users[self.facts.get(key, key)]

    def chat(self, key: str) -> int:
        """A group by its organisation id, otherwise someone's private chat."""
        if key in self.h.groups:
            return self.h.groups[key]
        return self.user(key)

    def fill(self, text: str) -> str:
        """Names facts in a text; one not known yet (a preview) stays as its name."""
        return text.format_map(_Known(self.facts))


class _Known(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


@dataclass(frozen=True)
class Button:
    """Which inline button a step presses: by label, or by what it means (callback data),
    so a step works whatever language the chat is in."""

    label: str | None = None  # the label contains this
    value: str | None = None  # a report answer: r:<question>:<value>
    nav: str | None = None  # a report navigation button: nav:<action>:…
    prefix: str | None = None
    suffix: str | None = None

    def __str__(self) -> str:
        if self.label is not None:
            return f"“{self.label}”"
        if self.value is not None:
            return f"the answer {self.value!r}"
        if self.nav is not None:
            return f"the {self.nav!r} button"
        return f"a button for {self.prefix or self.suffix!r}"

    def matches(self, button: dict[str, Any]) -> bool:
        data = button.get("callback_data") or ""
        if not data:
            return False
        if self.label is not None:
            return self.label in (button.get("text") or "")
        if self.value is not None:
            return data.startswith("r:") and data.split(":", 2)[2] == self.value
        if self.nav is not None:
            return data.startswith(f"nav:{self.nav}:")
        if self.prefix is not None:
            return data.startswith(self.prefix)
        return self.suffix is not None and data.endswith(self.suffix)


async def find_button(
    h: Harness, chat_id: int, wanted: Button
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The newest message in the chat with a matching button, and that button."""
    for message in reversed(await h.tg.transcript(chat_id)):
        for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
            for button in row:
                if wanted.matches(button):
                    return message, button
    raise LookupError(f"no button {wanted} in chat {chat_id}")


async def newest_case_code(h: Harness) -> str:
    return (await h.case_codes())[-1]


@dataclass(frozen=True)
class Press:
    actor: str
    button: Button
    chat: str | None = None  # default: the actor's private chat
    remember: str | None = None  # after pressing, the newest case code is this fact

    def chat_id(self, cast: Cast) -> int:
        return cast.chat(self.chat or self.actor)

    async def target(self, cast: Cast) -> tuple[dict[str, Any], dict[str, Any]]:
        return await find_button(cast.h, self.chat_id(cast), self.button)

    async def hint(self, cast: Cast, language: str) -> str:
        try:
            _, button = await self.target(cast)
        except LookupError:
            return tr(language, "press the highlighted button")
        return tr(language, "press “{label}”", label=button["text"])

    async def run(self, cast: Cast) -> None:
        message, button = await self.target(cast)
        chat_id = self.chat_id(cast)
        query = await cast.h.tg.press_button(
            cast.user(self.actor), chat_id, message["message_id"], data=button["callback_data"]
        )
        await cast.h.tg.get_callback_answer(query, timeout=20)
        await cast.h.settle()
        await self.observe(cast)

    async def observe(self, cast: Cast) -> None:
        """Takes note of what the step left behind (also when a person did it by hand)."""
        if self.remember:
            cast.facts[self.remember] = await newest_case_code(cast.h)


@dataclass(frozen=True)
class Say:
    actor: str
    text: str  # may name facts: "/refer {code}"
    chat: str | None = None
    reply_to: str | None = None  # answer (by Telegram reply) the newest bot message containing this

    async def hint(self, cast: Cast, language: str) -> str:
        if self.reply_to:
            return tr(
                language,
                "reply to the message marked “{mark}” with: {text}",
                mark=self.reply_to,
                text=cast.fill(self.text),
            )
        return tr(language, "send: {text}", text=cast.fill(self.text))

    async def run(self, cast: Cast) -> None:
        user_id = cast.user(self.actor)
        chat_id = cast.chat(self.chat) if self.chat else None
        reply_to = None
        if self.reply_to:
            relayed = await cast.h.tg.wait_for_message(
                chat_id or user_id, contains=self.reply_to, timeout=10
            )
            reply_to = relayed["message_id"]
        await cast.h.tg.send_message(
            user_id, cast.fill(self.text), chat_id=chat_id, reply_to_message_id=reply_to
        )
        await cast.h.settle()

    async def observe(self, cast: Cast) -> None:
        pass


SEND_HINTS = {
    "photo": N_("send a photo (📷)"),
    "location": N_("send a location (📍)"),
    "document": N_("send a document (📄)"),
    "voice": N_("send a voice note (🎤)"),
}


@dataclass(frozen=True)
class Send:
    actor: str
    kind: str  # photo | location | document | voice
    args: tuple[tuple[str, Any], ...] = ()
    remember: str | None = None

    async def hint(self, cast: Cast, language: str) -> str:
        return tr(language, SEND_HINTS.get(self.kind, SEND_HINTS["document"]))

    async def run(self, cast: Cast) -> None:
        await cast.h.send(self.kind, cast.user(self.actor), **dict(self.args))
        await self.observe(cast)

    async def observe(self, cast: Cast) -> None:
        if self.remember:
            cast.facts[self.remember] = await newest_case_code(cast.h)


@dataclass(frozen=True)
class Wait:
    """Time passes: by a span, or to the next local time of day somewhere."""

    hours: float = 0
    minutes: float = 0
    local: tuple[str, int, int] | None = None  # (time zone, hour, minute)
    actor: str | None = None  # nobody's turn: the clock's

    def until(self, now: dt.datetime) -> dt.datetime:
        if self.local is None:
            return now + dt.timedelta(hours=self.hours, minutes=self.minutes)
        zone, hour, minute = self.local
        local = now.astimezone(ZoneInfo(zone))
        target = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
        if target <= local:
            target += dt.timedelta(days=1)
        return target.astimezone(dt.UTC)

    async def hint(self, cast: Cast, language: str) -> str:
        if self.local:
            zone, hour, minute = self.local
            return tr(
                language,
                "move the clock on to {time} in {place}",
                time=f"{hour:02d}:{minute:02d}",
                place=zone.split("/")[-1].replace("_", " "),
            )
        span = dt.timedelta(hours=self.hours, minutes=self.minutes)
        return tr(language, "move the clock forward by {span}", span=duration(span, language))

    async def run(self, cast: Cast) -> None:
        await cast.h.advance_until(self.until(cast.h.clock.now()))

    async def observe(self, cast: Cast) -> None:
        pass


@dataclass(frozen=True)
class Race:
    """Several people press the same button at the same moment; the winner becomes a fact."""

    actors: tuple[str, ...]
    button: Button
    chat: str
    winner: str
    actor: str | None = None

    async def hint(self, cast: Cast, language: str) -> str:
        return tr(
            language,
            "{first} and {second} press the same button at the same moment",
            first=self.actors[0].capitalize(),
            second=self.actors[-1].capitalize(),
        )

    async def run(self, cast: Cast) -> None:
        chat_id = cast.chat(self.chat)
        message, button = await find_button(cast.h, chat_id, self.button)

        async def press(actor: str) -> dict[str, Any]:
            query = await cast.h.tg.press_button(
                cast.user(actor), chat_id, message["message_id"], data=button["callback_data"]
            )
            return await cast.h.tg.get_callback_answer(query, timeout=20)

        answers = await asyncio.gather(*(press(a) for a in self.actors))
        await cast.h.settle()
        for actor, answer in zip(self.actors, answers, strict=True):
            cast.narrate(
                lambda lang, who=actor.capitalize(), seen=answer.get("text") or "": tr(
                    lang, "{who} sees: {answer}", who=who, answer=seen
                )
            )
        await self.observe(cast)

    async def observe(self, cast: Cast) -> None:
        """The winner is whoever owns the newest case now."""
        from sqlalchemy import select

        from models import Case

        async with cast.h.app.domain.sessions() as session:
            owner = await session.scalar(
                select(Case.owner_person_id).order_by(Case.id.desc()).limit(1)
            )
        cast.facts[self.winner] = owner if owner in self.actors else self.actors[0]


Step = Press | Say | Send | Wait | Race


@dataclass(frozen=True)
class Beat:
    """One paragraph of a story: what happens, then the steps that make it happen."""

    text: str
    steps: tuple[Step, ...]


@dataclass(frozen=True)
class Story:
    key: str
    title: str
    beats: tuple[Beat, ...]
    requires: tuple[str, ...] = ()  # stories whose cases this one continues


def _answers(actor: str, *values: str) -> tuple[Press, ...]:
    return tuple(Press(actor, Button(value=v)) for v in values)


def _nav(actor: str, action: str, remember: str | None = None) -> Press:
    return Press(actor, Button(nav=action), remember=remember)


WORKER_REPORT = Story(
    "worker-report",
    N_("A worker's report"),
    (
        Beat(
            N_(
                "Hari, a Nepali construction worker in Doha, opens the bot and reports unpaid wages (in Nepali)."
            ),
            (
                Say("hari", "/start"),  # his phone is in Nepali: the menu comes in it
                Press("hari", Button(label="📝")),
                *_answers("hari", "self", "QA", "WAGE", "DOCS"),
                _nav("hari", "done"),
                *_answers("hari", "no", "chat", "all"),
                _nav("hari", "details"),
                *_answers("hari", "Doha", "months", "6-20"),
                Say("hari", "Al Noor Contracting W.L.L."),
                _nav("hari", "skip"),
                Say("hari", "4800 QAR"),
                Say("hari", "हामीलाई चार महिनादेखि तलब दिइएको छैन र कम्पनीले राहदानी राखेको छ।"),
                Send("hari", "photo", (("caption", "payslip"),)),
                _nav("hari", "done"),
                *_answers("hari", "18-22", "SECTOR_F", "MAN"),
                _nav("hari", "submit", remember="code"),
            ),
        ),
        Beat(
            N_(
                "Case {code} is posted in the Qatar responders' group; Ramesh and Aisha tap Claim at the same moment."
            ),
            (
                Race(
                    ("ramesh", "aisha"),
                    Button(prefix="claim:"),
                    chat="qa-workers-centre",
                    winner="owner",
                ),
            ),
        ),
        Beat(
            N_(
                "Hari writes again and sends a photo; both reach the owner, who answers by replying."
            ),
            (
                Say("hari", "मालिकले आज फेरि धम्की दियो।"),
                Send("hari", "photo", (("caption", "contract"),)),
                Say(
                    "owner",
                    "We have contacted the labour ministry. Please keep copies of your payslips.",
                    reply_to="Reporter:",
                ),
            ),
        ),
        Beat(
            N_(
                "Three days pass. A check-in reaches Hari inside his safe hours (18–22 Doha time); he answers."
            ),
            (Wait(hours=72), Wait(hours=9), Press("hari", Button(label="🙂"))),
        ),
    ),
)

AIRPORT_REFERRAL = Story(
    "airport-referral",
    N_("A referral for an airport pickup"),
    (
        Beat(
            N_(
                "Hari is deported. The owner refers the case to the Kathmandu shelter for an airport pickup."
            ),
            (
                Say("owner", "/refer {code}"),
                Press("owner", Button(label="Kathmandu Returnee Shelter")),
                Say(
                    "owner",
                    "Deported, arrives Tribhuvan airport Friday 14:05 on QR 652. Needs transport and wage claim follow-up.",
                ),
                Press("bishnu", Button(prefix="claim:"), chat="np-returnee-shelter"),
            ),
        ),
        Beat(
            N_(
                "Bishnu meets Hari and recovers part of the wages; the case is resolved and Hari gives feedback."
            ),
            (
                Say("bishnu", "/resolve {code}"),
                Press("bishnu", Button(suffix=":WAGES_RECOVERED")),
                Say("bishnu", "3600 QAR"),
                Say(
                    "bishnu", "Employer paid 3 of 4 months after embassy letter; passport returned."
                ),
                Press("hari", Button(label="5")),
            ),
        ),
    ),
    requires=("worker-report",),
)

MISSING_PERSON = Story(
    "missing-person",
    N_("A missing person"),
    (
        Beat(
            N_("Kamala in Nepal reports that her son, working in Qatar, cannot be reached."),
            (
                Say("kamala", "/start"),
                Press("kamala", Button(label="🌐")),
                Press("kamala", Button(label="English")),
                Press("kamala", Button(label="🔎")),
                *_answers("kamala", "parent", "QA"),
                Say("kamala", "Suman Tamang"),
                *_answers("kamala", "month", "phone"),
                Say("kamala", "+977 984 123 4567"),
                *_answers("kamala", "any", "all"),
                _nav("kamala", "details"),
                *_answers("kamala", "Al Khor"),
                _nav("kamala", "skip"),
                Say("kamala", "Gulf Star Manpower"),
                Say("kamala", "+974 3312 3456"),
                _nav("kamala", "done"),
                _nav("kamala", "skip"),
                _nav("kamala", "skip"),
                _nav("kamala", "submit", remember="missing_code"),
            ),
        ),
    ),
)

SOS_ESCALATION = Story(
    "sos-escalation",
    N_("An SOS with escalation"),
    (
        Beat(
            N_("Siti, an Indonesian domestic worker in Malaysia, sends an SOS: two taps."),
            (
                Say("siti", "/sos"),
                Press("siti", Button(label="Malaysia")),
                Send(
                    "siti",
                    "location",
                    (("latitude", 3.139), ("longitude", 101.687)),
                    remember="sos_code",
                ),
            ),
        ),
        Beat(
            N_(
                "Nobody claims {sos_code} in Kuala Lumpur within 5 minutes: it escalates to the Jakarta union, where Budi claims it."
            ),
            (
                Wait(minutes=6),
                Wait(minutes=6),
                Press("budi", Button(prefix="claim:"), chat="id-migrant-union"),
            ),
        ),
    ),
)

FAMILY_REPORT = Story(
    "family-report",
    N_("A family's report"),
    (
        Beat(
            N_(
                "Wati in Indonesia reports that her husband's employer in Malaysia keeps his passport."
            ),
            (
                Say("wati", "/start"),
                Press("wati", Button(label="🌐")),
                Press("wati", Button(label="English")),
                Press("wati", Button(label="📝")),
                *_answers("wati", "spouse", "MY", "ID", "DOCS"),
                _nav("wati", "done"),
                *_answers("wati", "no", "chat", "all"),
                _nav("wati", "details"),
                _nav("wati", "skip"),  # area
                *_answers("wati", "months"),
                _nav("wati", "skip"),  # workers
                Say("wati", "Mega Jaya Plantation Sdn Bhd"),
                _nav("wati", "skip"),  # agency
                Say("wati", "Agus Salim"),
                _nav("wati", "done"),
                *_answers("wati", "any"),
                _nav("wati", "skip"),  # sector
                _nav("wati", "skip"),  # gender
                _nav("wati", "submit", remember="family_code"),
            ),
        ),
        Beat(
            N_(
                "A family at home is helped from the home side: the card reaches the Jakarta union, where Budi claims it."
            ),
            (Press("budi", Button(prefix="claim:"), chat="id-migrant-union"),),
        ),
    ),
)

COORDINATOR_MORNING = Story(
    "coordinator-morning",
    N_("A coordinator's morning: digest and export"),
    (
        Beat(
            N_(
                "Next morning at 08:00 Kathmandu time, Sita (coordinator) receives her digest with a chart."
            ),
            (Wait(local=("Asia/Kathmandu", 8, 1)),),
        ),
        Beat(
            N_("Sita exports anonymised statistics for a partner report (small cells suppressed)."),
            (Say("sita", "/export csv 2026-01-01 2026-12-31 NP-QA"),),
        ),
    ),
)

STORIES: tuple[Story, ...] = (
    WORKER_REPORT,
    FAMILY_REPORT,
    MISSING_PERSON,
    SOS_ESCALATION,
    AIRPORT_REFERRAL,
    COORDINATOR_MORNING,
)
# The demo's order: one day in the life of the network, as `corridor demo` has always told it.
DEMO: tuple[Story, ...] = (
    WORKER_REPORT,
    AIRPORT_REFERRAL,
    MISSING_PERSON,
    SOS_ESCALATION,
    COORDINATOR_MORNING,
)


def story(key: str) -> Story:
    for candidate in STORIES:
        if candidate.key == key:
            return candidate
    raise KeyError(key)


async def play(cast: Cast, stories: tuple[Story, ...]) -> None:
    for each in stories:
        for beat in each.beats:
            cast.narrate(lambda lang, text=beat.text: cast.fill(tr(lang, text)))
            for step in beat.steps:
                await step.run(cast)
