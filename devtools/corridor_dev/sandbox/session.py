"""One sandbox world: the emulator, the bot, a fresh SQLite database and the example network,
and what people on the page do to it. Every change bumps a version the page waits on."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from sqlalchemy import select

from bot import labels
from bot.clock import FakeClock, as_utc
from bot.domain.cases import find_reporter
from bot.domain.people import person_by_telegram
from bot.i18n import DEFAULT_LANGUAGE, LANGUAGE_NAMES, N_, tr
from corridor_dev.harness import Harness
from corridor_dev.sandbox.guide import Guide
from corridor_dev.stories import Cast
from models import Case, CaseEvent, Timer

log = logging.getLogger(__name__)

# What the clock buttons do: a span, or "to the next digest".
CLOCK_STEPS = {
    "5m": dt.timedelta(minutes=5),
    "1h": dt.timedelta(hours=1),
    "1d": dt.timedelta(days=1),
}
# Where each person's "send location" puts them: near where their story happens.
SAMPLE_PLACES = {
    "hari": (25.2854, 51.5310),  # Doha
    "siti": (3.139, 101.687),  # Kuala Lumpur
    "wati": (-6.2088, 106.8456),  # Jakarta
}
DEFAULT_PLACE = (27.7172, 85.3240)  # Kathmandu
# The chats open when the page loads: a worker, a family member, two responders in their
# group and privately, a coordinator. Every other chat is one click away.
OPEN_CHATS = ("hari", "kamala", "qa-workers-centre", "ramesh", "aisha", "sita")


class SandboxError(Exception):
    """Something the page asked for that cannot be done; shown to the person as is. What
    a person can cause from the page is in the page's language; what only a hand-made
    request can cause (a wrong field, an unknown id) stays in English for its developer."""


def sample_bytes(name: str) -> bytes:
    return resources.files("corridor_dev.sandbox").joinpath("samples", name).read_bytes()


# What the page lists when a timer fires, by the timer's kind.
TIMER_KINDS = {
    "escalate": N_("Escalation step due"),
    "checkin": N_("Check-in due"),
    "owner_reminder": N_("Reminder to the owner due"),
    "digest": N_("Digest due"),
    "sos_silence": N_("Silence after an SOS checked"),
    "pending_referral": N_("Waiting referral checked"),
}
OTHER_TIMER = N_("A timer fired")


@dataclass
class Event:
    """A line of "What happened", written when the page asks, in the page's language."""

    at: dt.datetime
    text: Callable[[str], str]

    def render(self, language: str) -> str:
        return self.text(language)


class Sandbox:
    def __init__(self) -> None:
        self.h: Harness | None = None
        self.cast: Cast | None = None
        self.guide = Guide(self)
        self.version = 0
        self.events: list[Event] = []
        self.lock = asyncio.Lock()
        self._changed = asyncio.Condition()
        self._workdir: Path | None = None
        self._seen_event_id = 0
        self._seen_timers: set[int] = set()
        self.language_of: dict[int, str] = {}  # languages set on the page
        # The language of the page itself (its buttons, stories and "What happened").
        self.page_language = DEFAULT_LANGUAGE

    # -- life cycle ----------------------------------------------------------------------
    async def start(self) -> None:
        self._workdir = Path(tempfile.mkdtemp(prefix="corridor-sandbox-"))
        self.h = await Harness.start(
            f"sqlite+aiosqlite:///{self._workdir / 'corridor.sqlite3'}", clock=FakeClock()
        )
        self.cast = await Cast.gather(self.h, self._narrate)
        await self._sync_emulator_clock()
        self.events = [
            Event(
                self.h.clock.now(),
                lambda lang: tr(lang, "Sandbox started: a fresh database and the example network."),
            )
        ]
        self._seen_event_id = 0
        self._seen_timers = set()
        self.language_of = {}
        await self._changed_now()

    async def stop(self) -> None:
        self.guide.stop()
        if self.h is not None:
            await self.h.stop(check_privacy=False)
            self.h = None
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

    async def reset(self) -> None:
        async with self.lock:
            await self.stop()
            self.guide = Guide(self)
            await self.start()

    # -- change notification -------------------------------------------------------------
    async def _changed_now(self) -> None:
        async with self._changed:
            self.version += 1
            self._changed.notify_all()

    async def wait_for_change(self, after: int, timeout: float) -> int:  # noqa: ASYNC109
        async with self._changed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._changed.wait_for(lambda: self.version > after), timeout
                )
            return self.version

    async def after_action(self) -> None:
        """Records what the bot did (case events, timers that fired) and wakes the page."""
        await self._sync_emulator_clock()
        await self._collect_events()
        await self._changed_now()

    async def _sync_emulator_clock(self) -> None:
        """Messages carry the bot's time, not the wall clock's, as in a real chat."""
        h = self.harness()
        behind = h.clock.now().timestamp() - await h.tg.now()
        if abs(behind) >= 1:
            await h.tg.advance_clock(behind)

    def _narrate(self, text: Callable[[str], str]) -> None:
        if self.h is not None:
            self.events.append(Event(self.h.clock.now(), lambda lang: "📖 " + text(lang)))

    async def _collect_events(self) -> None:
        assert self.h is not None
        async with self.h.app.domain.sessions() as session:
            rows = (
                await session.execute(
                    select(CaseEvent.id, CaseEvent.at, CaseEvent.kind, CaseEvent.actor, Case.code)
                    .outerjoin(Case, Case.id == CaseEvent.case_id)
                    .where(CaseEvent.id > self._seen_event_id)
                    .order_by(CaseEvent.id)
                )
            ).all()
            timers = (
                await session.execute(
                    select(Timer.id, Timer.fired_at, Timer.kind, Case.code)
                    .outerjoin(Case, Case.id == Timer.case_id)
                    .where(Timer.status == "done")
                    .order_by(Timer.fired_at, Timer.id)
                )
            ).all()
        for timer in timers:
            if timer.id in self._seen_timers:
                continue
            self._seen_timers.add(timer.id)
            self.events.append(Event(as_utc(timer.fired_at), _timer_text(timer.kind, timer.code)))
        names = {person.id: person.name for person in self.h.app.config.people}
        for row in rows:
            self._seen_event_id = row.id
            self.events.append(
                Event(as_utc(row.at), _event_text(row.kind, row.actor, row.code, names))
            )
        self.events.sort(key=lambda event: event.at)
        del self.events[:-200]

    # -- what people on the page do --------------------------------------------------------
    def harness(self) -> Harness:
        if self.h is None:
            raise SandboxError(
                tr(self.page_language, "The sandbox is restarting; try again in a moment.")
            )
        return self.h

    def _member(self, user_id: int, chat_id: int) -> None:
        h = self.harness()
        known = set(h.staff.values()) | set(self.cast.users.values() if self.cast else ())
        if user_id not in known:
            raise SandboxError(f"nobody with user id {user_id} in the sandbox")
        if chat_id > 0 and chat_id != user_id:
            raise SandboxError("one can only write in one's own private chat")

    async def say(self, user_id: int, chat_id: int, text: str, reply_to: int | None) -> None:
        text = text.strip()
        if not text:
            raise SandboxError(tr(self.page_language, "Type a message first."))
        self._member(user_id, chat_id)
        async with self.lock:
            h = self.harness()
            await h.tg.send_message(
                user_id,
                text,
                chat_id=None if chat_id == user_id else chat_id,
                reply_to_message_id=reply_to,
            )
            await h.settle()
            await self.after_action()

    async def press(self, user_id: int, chat_id: int, message_id: int, data: str) -> str:
        """Presses an inline button; returns the bot's callback answer (a toast), if any."""
        self._member(user_id, chat_id)
        async with self.lock:
            h = self.harness()
            query = await h.tg.press_button(user_id, chat_id, message_id, data=data)
            answer = await h.tg.get_callback_answer(query, timeout=20)
            await h.settle()
            await self.after_action()
        return answer.get("text") or ""

    async def send_sample(self, user_id: int, chat_id: int, kind: str) -> None:
        self._member(user_id, chat_id)
        target = None if chat_id == user_id else chat_id
        async with self.lock:
            h = self.harness()
            if kind == "photo":
                await h.tg.send_photo(user_id, chat_id=target, data=sample_bytes("photo.jpg"))
            elif kind == "document":
                await h.tg.send_document(
                    user_id,
                    "contract.pdf",
                    sample_bytes("contract.pdf"),
                    chat_id=target,
                    mime_type="application/pdf",
                )
            elif kind == "voice":
                await h.tg.send_voice(user_id, duration=7, chat_id=target)
            elif kind == "location":
                key = next(
                    (k for k, v in (self.cast.users if self.cast else {}).items() if v == user_id),
                    "",
                )
                latitude, longitude = SAMPLE_PLACES.get(key, DEFAULT_PLACE)
                await h.tg.send_location(user_id, latitude, longitude, chat_id=target)
            else:
                raise SandboxError(
                    f"unknown kind of file {kind!r}: photo, voice, document or location"
                )
            await h.settle()
            await self.after_action()

    async def set_language(self, user_id: int, language: str) -> None:
        """What the person's Telegram app says, and what the bot already remembers of them."""
        if language not in LANGUAGE_NAMES:
            raise SandboxError(f"unknown language {language!r}")
        self._member(user_id, user_id)
        async with self.lock:
            h = self.harness()
            await h.tg.set_language(user_id, language)
            async with h.app.domain.sessions() as session, session.begin():
                person = await person_by_telegram(session, user_id)
                reporter = None if person else await find_reporter(session, h.app.domain, user_id)
                for known in (person, reporter):
                    if known is not None:
                        known.language = language
            self.language_of[user_id] = language
            await self.after_action()

    async def advance(self, step: str) -> None:
        async with self.lock:
            h = self.harness()
            if step == "digest":
                target = await self._next_digest()
            elif step in CLOCK_STEPS:
                target = h.clock.now() + CLOCK_STEPS[step]
            else:
                raise SandboxError(f"unknown clock step {step!r}: 5m, 1h, 1d or digest")
            await h.advance_until(target)
            moved_to = h.clock.now()
            self.events.append(
                Event(
                    moved_to,
                    lambda lang: tr(
                        lang, "🕑 The clock moved to {time} UTC", time=labels.moment(moved_to, lang)
                    ),
                )
            )
            await self.after_action()

    async def _next_digest(self) -> dt.datetime:
        h = self.harness()
        async with h.app.domain.sessions() as session:
            due = await session.scalar(
                select(Timer.due_at)
                .where(Timer.kind == "digest", Timer.status == "pending")
                .order_by(Timer.due_at)
                .limit(1)
            )
        if due is None:
            raise SandboxError(tr(self.page_language, "No digest is scheduled."))
        return max(h.clock.now(), as_utc(due))

    async def language_by_user(self) -> dict[int, str]:
        """Each person's language as the bot knows it now (a reporter may have chosen one)."""
        h = self.harness()
        assert self.cast is not None
        known = {p.telegram_user_id: p.language for p in h.app.config.people}
        known.update(self.language_of)  # what the page set for someone the bot does not know yet
        async with h.app.domain.sessions() as session:
            for user_id in self.cast.users.values():
                person = await person_by_telegram(session, user_id)
                reporter = None if person else await find_reporter(session, h.app.domain, user_id)
                if person or reporter:
                    known[user_id] = (person or reporter).language
        return known

    def languages(self) -> dict[str, str]:
        return dict(LANGUAGE_NAMES)

    async def set_page_language(self, language: str) -> None:
        if language not in LANGUAGE_NAMES:
            raise SandboxError(f"unknown language {language!r}")
        self.page_language = language
        await self._changed_now()


def _timer_text(kind: str, code: str | None) -> Callable[[str], str]:
    def text(lang: str) -> str:
        what = tr(lang, TIMER_KINDS.get(kind, OTHER_TIMER))
        return f"⏰ {what}" + (f" · {code}" if code else "")

    return text


def _event_text(
    kind: str, actor: str, code: str | None, names: dict[str, str]
) -> Callable[[str], str]:
    """A case event in words; staff by name, anyone else by their part ("the reporter")."""

    def text(lang: str) -> str:
        what = labels.event(kind, lang)
        who = "" if actor == "system" else " · " + labels.actor(actor, lang, names)
        return (f"{code}: " if code else "") + what + who

    return text
