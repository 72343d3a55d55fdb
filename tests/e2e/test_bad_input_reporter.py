"""Bad input from reporters in a private chat, end to end through the emulator.

Every case checks three things: the bot gives a defined answer in the reporter's own
language (compared with the translation catalogue through ``bot.i18n.tr``), nothing
crashes (the "something went wrong" apology never appears), and nothing already
entered is lost (the summary before submitting, or the stored case, still shows it).

One harness serves the whole module (each test is its own reporter), except for the
restart test, which starts and stops its own.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import func, select

from bot import labels
from bot.crypto import generate_key
from bot.domain.cases import find_reporter
from bot.domain.places import country_name
from bot.domain.wizard import MAX_DESCRIPTION, REPORT_STEPS
from bot.i18n import LANGUAGE_NAMES, tr
from corridor_dev.harness import Harness
from models import Attachment, Case, CaseEvent, Consent
from tests.support import database

pytestmark = pytest.mark.asyncio(loop_scope="module")

QUESTION = {spec.name: spec.question for spec in REPORT_STEPS}
APOLOGY = "Sorry, something went wrong on our side. Nothing you sent is lost; please try again in a moment."
UNSUPPORTED = "I can't use that kind of message. Please write text, or send a photo, voice note, document or location."
ONLY_TEXT = "I can only use text, photos, voice notes, documents and locations here."
CHOOSE_BUTTON = "Please choose one of the buttons below."
EARLIER_QUESTION = "That button belongs to an earlier question."
NO_LONGER_VALID = "This button is no longer valid."
UNKNOWN_COMMAND = "I don't know that command. Here is the menu:"
EDITED = "I saw that you edited a message. Edits are not passed on: please send the correction as a new message."
BAD_PHONE = "That does not look like a valid phone number. Please include the country code, for example +974 3312 3456."
WELCOME = "Welcome to Corridor. Choose your language:"
UNFINISHED = "You have an unfinished report. Continue where you stopped, or start again?"
SUMMARY = "Please check your report:"
MENU_DATA = ["menu:sos", "menu:report", "menu:missing", "menu:status", "menu:help", "menu:language"]


# The encryption key is process-wide (bot.crypto.install): the restart test's harnesses use
# the module harness's key, so neither can make the other's stored data unreadable.
KEY = generate_key()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def harness(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Harness]:
    async with database(tmp_path_factory.mktemp("bad-input-reporter")) as url:
        running = await Harness.start(url, encryption_key=KEY)
        try:
            yield running
        finally:
            await running.stop()


# -- driving the emulator --------------------------------------------------------------------
async def say(h: Harness, uid: int, text: str, **kwargs: Any) -> dict[str, Any]:
    sent = await h.tg.send_message(uid, text, **kwargs)
    await h.settle()
    return sent


async def send(h: Harness, kind: str, uid: int, **kwargs: Any) -> Any:
    sent = await getattr(h.tg, f"send_{kind}")(uid, **kwargs)
    await h.settle()
    return sent


async def press(
    h: Harness, uid: int, chat_id: int, message_id: int, data: str, *, strict: bool = True
) -> dict[str, Any]:
    query = await h.tg.press_button(uid, chat_id, message_id, data=data, strict=strict)
    answer = await h.tg.get_callback_answer(query, timeout=20)
    await h.settle()
    return answer


async def press_data(h: Harness, uid: int, data: str, chat_id: int | None = None) -> dict[str, Any]:
    """Presses the newest button carrying exactly ``data``."""
    chat = uid if chat_id is None else chat_id
    for message in reversed(await h.tg.transcript(chat)):
        if data in buttons(message):
            return await press(h, uid, chat, message["message_id"], data)
    texts = [m.get("text") for m in await h.tg.transcript(chat)][-5:]
    raise LookupError(f"no button {data!r} in chat {chat}; last messages: {texts}")


def nav_button(message: dict[str, Any], action: str) -> str:
    """The data of a report navigation button (Done, Skip, Back, …) on ``message``."""
    return next(
        d for d in buttons(message) if d == f"nav:{action}" or d.startswith(f"nav:{action}:")
    )


async def press_nav(h: Harness, uid: int, action: str) -> dict[str, Any]:
    """Presses the newest navigation button for ``action``."""
    for message in reversed(await h.tg.transcript(uid)):
        if any(d == f"nav:{action}" or d.startswith(f"nav:{action}:") for d in buttons(message)):
            return await press(h, uid, uid, message["message_id"], nav_button(message, action))
    raise LookupError(f"no {action} button in chat {uid}")


# -- a scripted reporter -------------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    destination: str
    origin: str
    area: str
    wages: str
    phone: str


QATAR = Place("QA", "NP", "Doha", "4800 QAR", "+974 3312 3456")
MALAYSIA = Place("MY", "ID", "Kuala Lumpur", "1500 MYR", "+60 12-345 6789")
EMPLOYER = "Al Noor Contracting W.L.L."
DESCRIPTION = "We have not been paid for four months and the company keeps our passports."

# The order the report asks its questions in, for a worker reporting for themselves,
# with wages owed and a phone contact (so every kind of step is visited). "details" is the
# summary, answered with "Add details"; the origin is asked only where a destination has
# more than one (Malaysia in the example network).
FLOW = [
    "role",
    "destination",
    "origin",
    "categories",
    "danger",
    "contact",
    "phone",
    "safe_hours",
    "consent",
    "details",
    "area",
    "since",
    "workers",
    "employer",
    "agency",
    "wages",
    "description",
    "sector",
    "gender",
]


class Reporter:
    """One reporter driving the guided report by its buttons, checking each question."""

    def __init__(self, h: Harness, uid: int, lang: str, place: Place = QATAR) -> None:
        self.h, self.uid, self.lang, self.place = h, uid, lang, place
        self.step_index = 0

    @classmethod
    async def create(
        cls,
        h: Harness,
        name: str,
        lang: str = "en",
        *,
        place: Place = QATAR,
        user_id: int | None = None,
    ) -> Reporter:
        uid = await h.user(name, language_code=lang, user_id=user_id)
        await say(h, uid, "/start")
        # The phone speaks one of the bot's languages: the menu comes at once, in it.
        menu = await last_bot_message(h, uid)
        assert menu["text"].startswith(tr(lang, "Welcome to Corridor.")), menu["text"]
        assert buttons(menu) == MENU_DATA
        return cls(h, uid, lang, place)

    def t(self, msgid: str, **values: object) -> str:
        return tr(self.lang, msgid, **values)

    async def last(self) -> str:
        return await self.h.last_bot_text(self.uid)

    async def texts(self) -> list[str]:
        return await self.h.bot_texts(self.uid)

    async def begin(self) -> None:
        await press_data(self.h, self.uid, "menu:report")
        self.step_index = 0

    @property
    def flow(self) -> list[str]:
        return [step for step in FLOW if step != "origin" or self.place.destination == "MY"]

    @property
    def step(self) -> str:
        return self.flow[self.step_index] if self.step_index < len(self.flow) else "summary"

    async def assert_asked(self, step: str | None = None, note: str | None = None) -> str:
        """The newest bot message asks ``step`` (default: the current one), after ``note``."""
        step = step or self.step
        text = await self.last()
        question = self.t(SUMMARY if step in ("summary", "details") else QUESTION[step])
        assert question in text, f"expected the {step!r} question in {self.lang}, got {text!r}"
        if note is not None:
            assert text.startswith(self.t(note) + "\n\n"), f"expected {note!r} first, got {text!r}"
        return text

    async def answer(self) -> None:
        """Answers the current question the normal way and moves on."""
        h, uid, p, step = self.h, self.uid, self.place, self.step
        await self.assert_asked(step)
        choices = {
            "role": "self",
            "destination": p.destination,
            "origin": p.origin,
            "area": p.area,
            "since": "months",
            "danger": "no",
            "workers": "6-20",
            "contact": "phone",
            "safe_hours": "18-22",
            "consent": "all",
            "sector": "SECTOR_F",
            "gender": "UNSAID",
        }
        if step in choices:
            await self.tap(step, choices[step])
        elif step == "details":
            await press_nav(h, uid, "details")
        elif step == "categories":
            await self.tap(step, "WAGE")
            await self.tap(step, "DOCS")
            await press_nav(h, uid, "done")
        elif step == "employer":
            await say(h, uid, EMPLOYER)
        elif step == "agency":
            await press_nav(h, uid, "skip")
        elif step == "wages":
            await say(h, uid, p.wages)
        elif step == "phone":
            await say(h, uid, p.phone)
        elif step == "description":
            await say(h, uid, DESCRIPTION)
            assert await self.last() == self.t("Added. Send more, or press Done.")
            await press_nav(h, uid, "done")
        else:  # pragma: no cover - a FLOW typo
            raise AssertionError(step)
        self.step_index += 1

    async def tap(self, step: str, value: str) -> dict[str, Any]:
        answer = await press_data(self.h, self.uid, f"r:{step}:{value}")
        assert not answer.get("show_alert"), answer
        return answer

    async def answer_until(self, step: str) -> None:
        while self.step != step:
            await self.answer()

    async def summary(self) -> str:
        await self.answer_until("summary")
        return await self.assert_asked("summary")

    def expected_summary(self, pieces: int, *, phone: bool = True) -> list[str]:
        given = self.t("given ✓")
        lines = [
            self.t("Reported by: {who}", who=self.t("I am the worker")),
            self.t(
                "Where: {place}",
                place=f"{country_name(self.place.destination, self.lang)} ← "
                f"{country_name(self.place.origin, self.lang)}",
            ),
            self.t(
                "What happened: {categories}",
                categories=labels.categories(["WAGE", "DOCS"], self.lang),
            ),
            self.t("In danger now: {answer}", answer=self.t("No")),
            f"{self.t('Employer')}: {given}",
            f"{self.t('Wages owed')}: {given}",
            self.t("Description and files: {n}", n=pieces),
            self.t(
                "Consent: destination {d} · home country {o} · statistics {s}", d="✓", o="✓", s="✓"
            ),
        ]
        if phone:
            lines.append(f"{self.t('Phone')}: {given}")
        return lines

    async def assert_summary(self, pieces: int) -> str:
        text = await self.summary()
        for line in self.expected_summary(pieces):
            assert line in text.splitlines(), f"summary lacks {line!r}:\n{text}"
        return text

    async def submit(self) -> Case:
        await self.assert_asked("summary")
        answer = await press_nav(self.h, self.uid, "submit")
        assert not answer.get("show_alert"), answer
        code = (await cases_of(self.h, self.uid))[-1].code
        assert await self.last() == self.t(
            "✅ Your report is registered. Your case code is {code}.\n\n"
            "Trusted helpers are being told now. When one of them takes your case, you will get a message here. "
            "You can write here at any time: your messages are added to your case.\n\n/status shows your cases.",
            code=code,
        )
        return await case_by_code(self.h, code)

    async def assert_no_apology(self) -> None:
        assert self.t(APOLOGY) not in await self.texts()
        assert tr("en", APOLOGY) not in await self.texts()


async def case_by_code(h: Harness, code: str) -> Case:
    async with h.app.domain.sessions() as session:
        case = await session.scalar(select(Case).where(Case.code == code))
        assert case is not None
        return case


async def cases_of(h: Harness, uid: int) -> list[Case]:
    async with h.app.domain.sessions() as session:
        reporter = await find_reporter(session, h.app.domain, uid)
        if reporter is None:
            return []
        return list(
            await session.scalars(
                select(Case).where(Case.reporter_id == reporter.id).order_by(Case.id)
            )
        )


async def attachments_of(h: Harness, case_id: int) -> list[Attachment]:
    async with h.app.domain.sessions() as session:
        return list(
            await session.scalars(
                select(Attachment).where(Attachment.case_id == case_id).order_by(Attachment.id)
            )
        )


async def count(h: Harness, model: type, *where: Any) -> int:
    async with h.app.domain.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)))


def buttons(message: dict[str, Any]) -> list[str]:
    return [
        b.get("callback_data", "")
        for row in (message.get("reply_markup") or {}).get("inline_keyboard", [])
        for b in row
    ]


async def last_bot_message(h: Harness, chat_id: int) -> dict[str, Any]:
    return next(m for m in reversed(await h.tg.transcript(chat_id)) if m.get("from_bot"))


async def assert_case_matches_report(case: Case, place: Place = QATAR) -> None:
    assert (case.destination_country, case.origin_country, case.area) == (
        place.destination,
        place.origin,
        place.area,
    )
    assert sorted(case.categories) == ["DOCS", "WAGE"]
    assert case.employer == EMPLOYER and case.agency is None
    assert case.since == "months" and case.in_danger is False and case.workers_affected == 10
    assert (
        case.wage_owed_minor is not None and case.contact_method == "phone" and case.contact_phone
    )


# -- unsupported kinds of message ---------------------------------------------------------

KINDS: dict[str, Callable[[Harness, int], Awaitable[Any]]] = {
    "sticker": lambda h, uid: send(h, "sticker", uid, emoji="😀"),
    "animation": lambda h, uid: send(h, "animation", uid),
    "poll": lambda h, uid: send(
        h, "poll", uid, question="Which day?", options=["Friday", "Saturday"]
    ),
    "contact": lambda h, uid: send(
        h, "contact", uid, phone_number="+97433123456", first_name="Boss"
    ),
    "dice": lambda h, uid: send(h, "dice", uid, emoji="🎲", value=3),
}


async def test_unsupported_kinds_outside_a_report_get_the_cant_use_reply(
    harness: Harness, subtests: Any
) -> None:
    lang = "ne"
    for kind, send_it in KINDS.items():
        with subtests.test(kind=kind):
            reporter = await Reporter.create(harness, f"Maya {kind}", lang)
            await send_it(harness, reporter.uid)
            message = await last_bot_message(harness, reporter.uid)
            assert message["text"] == tr(lang, UNSUPPORTED), f"{kind}: {message['text']!r}"
            assert buttons(message) == MENU_DATA
            await reporter.assert_no_apology()
            assert await cases_of(harness, reporter.uid) == []


async def test_unsupported_kinds_during_a_report_are_refused_and_the_report_continues(
    harness: Harness, subtests: Any
) -> None:
    """Each kind sent at a choice step, a text step and the description step: each time the
    bot says what it can use and asks the same question again; the finished report keeps
    everything and holds none of them."""
    reporter = await Reporter.create(harness, "Ram", "en")
    await reporter.begin()
    for stop in ("destination", "employer", "description"):
        await reporter.answer_until(stop)
        for kind, send_it in KINDS.items():
            with subtests.test(kind=kind, step=stop):
                before = len(await reporter.texts())
                await send_it(harness, reporter.uid)
                assert len(await reporter.texts()) == before + 1, "expected exactly one answer"
                await reporter.assert_asked(stop, note=ONLY_TEXT)
    # The description step counts what it holds: none of the unusable messages is among it.
    assert reporter.t("Received so far: {n}", n=1) not in await reporter.last()
    await reporter.assert_summary(pieces=1)
    case = await reporter.submit()
    await assert_case_matches_report(case)
    assert case.description == DESCRIPTION
    assert [a.kind for a in await attachments_of(harness, case.id)] == []
    await reporter.assert_no_apology()


# -- long text, albums, forwards, edits ----------------------------------------------------


def words(n_chars: int, seed: int) -> str:
    rng = random.Random(seed)
    vocabulary = [
        "wages",
        "passport",
        "camp",
        "supervisor",
        "overtime",
        "contract",
        "visa",
        "heat",
        "food",
        "agent",
    ]
    text = ""
    while len(text) < n_chars:
        text += rng.choice(vocabulary) + f"{len(text)} "
    return text[:n_chars].rstrip() + "."


async def test_description_over_telegrams_limit_is_kept_whole_and_in_order(
    harness: Harness,
) -> None:
    reporter = await Reporter.create(harness, "Sunita", "ne")
    await reporter.begin()
    await reporter.answer_until("description")
    long_text = words(19_000, seed=1)  # a client sends this as five messages
    sent = await say(harness, reporter.uid, long_text)
    assert len(sent.get("parts", [])) == 5
    assert (await reporter.texts())[-5:] == [reporter.t("Added. Send more, or press Done.")] * 5
    await press_nav(harness, reporter.uid, "done")
    reporter.step_index = reporter.flow.index("sector")
    await reporter.assert_summary(pieces=1)
    case = await reporter.submit()
    # The parts are joined again, in the order they were written; only the whitespace at
    # the cuts may differ.
    assert case.description is not None
    order = [long_text.find(line) for line in case.description.split("\n")]
    assert case.description.split() == long_text.split(), (
        f"parts kept at offsets {order} of the text"
    )
    await reporter.assert_no_apology()


async def test_description_beyond_max_is_capped_with_a_message(harness: Harness) -> None:
    """Messages one after another (each within Telegram's limit) until the description
    passes MAX_DESCRIPTION: the bot says so once and keeps the beginning."""
    reporter = await Reporter.create(harness, "Bikash", "en")
    await reporter.begin()
    await reporter.answer_until("description")
    chunks = [words(3_500, seed=n) for n in range(7)]
    cap_at = next(
        i for i in range(len(chunks)) if len("\n".join(chunks[: i + 1])) > MAX_DESCRIPTION
    )
    assert cap_at == 5
    added = reporter.t("Added. Send more, or press Done.")
    capped = reporter.t(
        "Your description is very long; I kept the first {n} characters. Press Done to continue.",
        n=MAX_DESCRIPTION,
    )
    for index, chunk in enumerate(chunks):
        await say(harness, reporter.uid, chunk)
        texts = await reporter.texts()
        assert texts[-1] == added
        assert (texts[-2] == capped) == (index >= cap_at), index
    await press_nav(harness, reporter.uid, "done")
    reporter.step_index = reporter.flow.index("sector")
    await reporter.assert_summary(pieces=1)
    case = await reporter.submit()
    assert case.description == "\n".join(chunks)[:MAX_DESCRIPTION]
    await reporter.assert_no_apology()


async def test_twenty_photo_album_in_the_description_step_keeps_all_twenty(
    harness: Harness,
) -> None:
    reporter = await Reporter.create(harness, "Hari", "en")
    await reporter.begin()
    await reporter.answer_until("description")
    sent = await send(harness, "album", reporter.uid, n=20, caption="payslips")
    assert len(sent) == 20
    receipts = sorted(t for t in await reporter.texts() if t.startswith("Received ("))
    await press_nav(harness, reporter.uid, "done")
    reporter.step_index = reporter.flow.index("sector")
    await reporter.answer_until("summary")
    text = await reporter.assert_asked("summary")
    kept = next(
        line
        for line in text.splitlines()
        if line.startswith(reporter.t("Description and files: {n}", n=""))
    )
    assert kept == reporter.t("Description and files: {n}", n=20), f"the summary says {kept!r}"
    case = await reporter.submit()
    photos = await attachments_of(harness, case.id)
    assert len(photos) == 20 and {a.kind for a in photos} == {"photo"}
    assert len({a.file_id for a in photos}) == 20
    # Each photo was acknowledged once, with the running count.
    expected = sorted(
        reporter.t("Received ({n}). Send more, or press Done.", n=n) for n in range(1, 21)
    )
    assert receipts == expected
    await reporter.assert_no_apology()


async def test_forwarded_messages(harness: Harness) -> None:
    reporter = await Reporter.create(harness, "Dipak", "en")
    boss = await harness.user("Boss")
    # Outside a report, with no case: a defined answer and the menu.
    await say(harness, reporter.uid, "Pay will come next month.", forward_from_user_id=boss)
    message = await last_bot_message(harness, reporter.uid)
    assert message["text"] == reporter.t("You have no open case. What would you like to do?")
    assert buttons(message) == MENU_DATA
    # At a choice step a forward is no answer: the question comes again.
    await reporter.begin()
    await reporter.answer_until("destination")
    await say(
        harness,
        reporter.uid,
        "Pay will come next month.",
        forward_origin={"type": "hidden_user", "sender_user_name": "Boss"},
    )
    await reporter.assert_asked("destination", note=CHOOSE_BUTTON)
    # In the description a forwarded threat is evidence: it is added.
    await reporter.answer_until("description")
    await say(harness, reporter.uid, DESCRIPTION)
    await say(
        harness, reporter.uid, "If you complain you will be deported.", forward_from_user_id=boss
    )
    assert await reporter.last() == reporter.t("Added. Send more, or press Done.")
    await press_nav(harness, reporter.uid, "done")
    reporter.step_index = reporter.flow.index("sector")
    await reporter.assert_summary(pieces=1)
    case = await reporter.submit()
    assert case.description == DESCRIPTION + "\nIf you complain you will be deported."
    await assert_case_matches_report(case)
    # Forwarded into the open case, it joins the case like anything the reporter sends.
    await say(harness, reporter.uid, "Final warning.", forward_from_user_id=boss)
    assert await reporter.last() == reporter.t(
        "Added to your case {code}. A helper will see it.", code=case.code
    )
    assert [a.text for a in await attachments_of(harness, case.id)] == ["Final warning."]
    await reporter.assert_no_apology()


async def test_edited_earlier_answer_gets_the_edit_reply_and_the_original_is_kept(
    harness: Harness,
) -> None:
    reporter = await Reporter.create(harness, "Gita", "ne")
    await reporter.begin()
    await reporter.answer_until("employer")
    sent = await say(harness, reporter.uid, EMPLOYER)
    reporter.step_index += 1
    await reporter.assert_asked("agency")
    await harness.tg.edit_message(
        reporter.uid, reporter.uid, sent["message_id"], "Some other company"
    )
    await harness.settle()
    edit_reply = await last_bot_message(harness, reporter.uid)
    assert edit_reply["text"] == reporter.t(EDITED)
    # The report is still at the agency question and goes on from there.
    await press_nav(harness, reporter.uid, "skip")
    reporter.step_index += 1
    await reporter.assert_summary(pieces=1)
    case = await reporter.submit()
    assert case.employer == EMPLOYER
    # After submitting, an edit is answered the same way and changes nothing in the case.
    await harness.tg.edit_message(
        reporter.uid, reporter.uid, sent["message_id"], "Yet another company"
    )
    await harness.settle()
    assert await reporter.last() == reporter.t(EDITED)
    assert (await case_by_code(harness, case.code)).employer == EMPLOYER
    await reporter.assert_no_apology()


# -- typing instead of pressing, stale buttons, wrong values --------------------------------


async def test_text_where_a_button_is_expected_asks_again(harness: Harness) -> None:
    reporter = await Reporter.create(harness, "Anjali", "id", place=MALAYSIA)
    await reporter.begin()
    await say(harness, reporter.uid, "saya sendiri, tolong")
    await reporter.assert_asked("role", note=CHOOSE_BUTTON)
    await reporter.answer_until("danger")
    await say(harness, reporter.uid, "maybe")
    await reporter.assert_asked("danger", note=CHOOSE_BUTTON)
    await reporter.answer_until("consent")
    await say(harness, reporter.uid, "ok")
    await reporter.assert_asked("consent", note=CHOOSE_BUTTON)
    await reporter.assert_summary(pieces=1)
    case = await reporter.submit()
    await assert_case_matches_report(case, MALAYSIA)
    await reporter.assert_no_apology()


async def test_number_where_a_country_is_expected_asks_again(harness: Harness) -> None:
    reporter = await Reporter.create(harness, "Kiran", "en", place=MALAYSIA)
    await reporter.begin()
    await reporter.answer_until("destination")
    for typed in ("974", "1", "0", "-1"):
        await say(harness, reporter.uid, typed)
        await reporter.assert_asked("destination", note=CHOOSE_BUTTON)
        assert "r:destination:QA" in buttons(await last_bot_message(harness, reporter.uid))
    await reporter.answer_until("origin")
    await say(harness, reporter.uid, "977")
    await reporter.assert_asked("origin", note=CHOOSE_BUTTON)
    await reporter.assert_summary(pieces=1)
    case = await reporter.submit()
    await assert_case_matches_report(case, MALAYSIA)


async def test_button_from_an_old_message_is_refused_and_the_question_asked_again(
    harness: Harness,
) -> None:
    reporter = await Reporter.create(harness, "Laxmi", "ne")
    await reporter.begin()
    await reporter.answer_until("destination")
    # A typed answer makes the bot ask again, so the first question keeps its buttons.
    await say(harness, reporter.uid, "Qatar please")
    transcript = await harness.tg.transcript(reporter.uid)
    old = next(m for m in transcript if m.get("from_bot") and "r:destination:MY" in buttons(m))
    await reporter.answer_until("categories")
    # The categories question as a phone that missed the later edits still shows it.
    categories = await last_bot_message(harness, reporter.uid)
    await reporter.answer_until("employer")
    for message, data in (
        (old, "r:destination:MY"),
        (categories, "r:categories:THRT"),
        (categories, nav_button(categories, "done")),
    ):
        answer = await press(
            harness, reporter.uid, reporter.uid, message["message_id"], data, strict=False
        )
        assert answer.get("text") == reporter.t(EARLIER_QUESTION), (data, answer)
        await reporter.assert_asked("employer")
    await reporter.assert_summary(pieces=1)
    case = await reporter.submit()
    await assert_case_matches_report(case)  # still Qatar, still WAGE and DOCS only
    await reporter.assert_no_apology()


async def test_stale_skip_from_an_earlier_optional_question_does_not_skip_the_current_one(
    harness: Harness,
) -> None:
    """Skip on the area question, pressed again later on the "since" question (also optional),
    belongs to the area question: it must not silently skip "since"."""
    reporter = await Reporter.create(harness, "Prem", "en")
    await reporter.begin()
    await reporter.answer_until("area")
    area_question = await last_bot_message(harness, reporter.uid)
    stale_skip = nav_button(area_question, "skip")
    await reporter.answer_until("since")
    # The client still shows the area question with its Skip button.
    answer = await press(
        harness, reporter.uid, reporter.uid, area_question["message_id"], stale_skip, strict=False
    )
    assert answer.get("text") == reporter.t(EARLIER_QUESTION), answer
    await reporter.assert_asked("since")
    await reporter.assert_summary(pieces=1)
    case = await reporter.submit()
    await assert_case_matches_report(case)


async def test_invalid_phone_number_is_explained_and_the_step_kept(harness: Harness) -> None:
    reporter = await Reporter.create(harness, "Siti", "id", place=MALAYSIA)
    await reporter.begin()
    await reporter.answer_until("phone")
    for typed in ("12345", "call me", "+60 1", "+974 3312 3456 7777 8888"):
        await say(harness, reporter.uid, typed)
        await reporter.assert_asked("phone", note=BAD_PHONE)
    await reporter.assert_summary(pieces=1)
    case = await reporter.submit()
    assert case.contact_phone == "+60123456789"
    await assert_case_matches_report(case, MALAYSIA)
    await reporter.assert_no_apology()


# -- languages and commands ----------------------------------------------------------------


async def test_telegram_language_code_picks_the_language_or_preselects_the_picker(
    harness: Harness, subtests: Any
) -> None:
    for language_code, expected, asked in (
        ("xx", "en", True),
        ("ne-NP", "ne", False),
        ("ne", "ne", False),
        ("in", "id", False),
        (None, "en", True),
    ):
        with subtests.test(language_code=language_code):
            uid = await harness.user("Newcomer", language_code=language_code)  # type: ignore[arg-type]
            await say(harness, uid, "/start")
            if asked:
                welcome = await last_bot_message(harness, uid)
                assert welcome["text"] == tr(expected, WELCOME)
                labels = [
                    b["text"] for row in welcome["reply_markup"]["inline_keyboard"] for b in row
                ]
                assert [label for label in labels if label.startswith("✓ ")] == [
                    "✓ " + LANGUAGE_NAMES[expected]
                ]
                # Tapping the preselected language opens the menu in it.
                await press_data(harness, uid, f"lang:{expected}")
            menu = await last_bot_message(harness, uid)
            assert buttons(menu) == MENU_DATA
            assert menu["reply_markup"]["inline_keyboard"][1][0]["text"] == tr(
                expected, "📝 Report a problem"
            )


async def test_unknown_commands_get_the_menu_and_keep_the_report(harness: Harness) -> None:
    reporter = await Reporter.create(harness, "Bimala", "ne")
    expected = {
        "/foo": UNKNOWN_COMMAND,
        "/FOO bar baz": UNKNOWN_COMMAND,
        f"/foo@{harness.app.domain.bot_username}": UNKNOWN_COMMAND,
        "/reply XX-123 hello": "This command is for responders.",
        "/case QA-ABCDE": "This command is for responders.",
        "/resolve QA-ABCDE": "Usage: /resolve CODE (a case you own)",
        "/digest": "This command is for coordinators.",
    }
    for command, reply in expected.items():
        await say(harness, reporter.uid, command)
        assert await reporter.last() == reporter.t(reply), command
    assert buttons(await last_bot_message(harness, reporter.uid)) == []
    await say(harness, reporter.uid, "/foo")
    assert buttons(await last_bot_message(harness, reporter.uid)) == MENU_DATA
    await reporter.begin()
    await reporter.answer_until("employer")
    await say(harness, reporter.uid, "/foo")
    assert await reporter.last() == reporter.t(UNKNOWN_COMMAND)
    # The report was not touched: the employer question is still the one to answer.
    await say(harness, reporter.uid, EMPLOYER)
    reporter.step_index += 1
    await reporter.assert_asked("agency")
    await reporter.assert_summary(pieces=1)
    case = await reporter.submit()
    await assert_case_matches_report(case)
    await reporter.assert_no_apology()


# -- forged callback data ------------------------------------------------------------------


async def test_forged_callback_data_gets_a_polite_answer_and_changes_nothing(
    harness: Harness,
) -> None:
    # Someone else's real case, to forge buttons against.
    other = await Reporter.create(harness, "Victim", "en")
    await say(harness, other.uid, "/sos")
    await press_data(harness, other.uid, "sos:QA")
    (victim,) = await cases_of(harness, other.uid)
    victim_code = victim.code
    events_before = await count(harness, CaseEvent, CaseEvent.case_id == victim.id)
    consents_before = await count(harness, Consent, Consent.case_id == victim.id)

    reporter = await Reporter.create(harness, "Mallory", "ne")
    await reporter.begin()
    await reporter.answer_until("destination")
    question = await last_bot_message(harness, reporter.uid)
    rng = random.Random(7)
    random_data = [
        "".join(chr(rng.randrange(33, 0x2FF)) for _ in range(rng.randrange(1, 30)))
        for _ in range(4)
    ]
    random_data += [rng.randbytes(32).hex(), "x" * 64, ":::", "r::", "r:destination", "nav:"]
    forged = [
        "claim:abc",
        f"claim:{victim.id}",
        "pass:abc",
        "r:destination:ZZ",
        "r:destination:" + "Q" * 50,
        "r:nosuchstep:QA",
        "chk:999999:safe",
        f"chk:{victim.id}:unsafe",
        f"wd:{victim.id}:1",
        f"fb:{victim.id}:1",
        f"cns:{victim.id}:destination_help:0",
        f"pick:{victim.id}",
        "lang:xx",
        "menu:admin",
        "nav:frobnicate",
        "nav:submit:summary",
        "nav:skip:destination",
        "nav:done:destination",
        f"out:{victim.id}:OTHER",
        f"ref:{victim.id}:np-returnee-shelter",
        "sos:ZZ",
        *random_data,
    ]
    polite = {
        reporter.t(m)
        for m in (
            NO_LONGER_VALID,
            "That choice is not available.",
            EARLIER_QUESTION,
            "This language is not available.",
        )
    }
    # Each on the question the reporter is looking at, some on a message the bot never sent.
    presses = [(data, question["message_id"]) for data in forged] + [
        (data, 999_999) for data in forged[::3]
    ]
    for data, message_id in presses:
        assert len(data.encode()) <= 64, data
        answer = await press(harness, reporter.uid, reporter.uid, message_id, data, strict=False)
        assert answer.get("text") in polite, (data, message_id, answer)
    # Nothing changed: no new case, the victim's case is as it was, and the report goes on.
    assert [c.code for c in await cases_of(harness, other.uid)] == [victim_code]
    assert await cases_of(harness, reporter.uid) == []
    after = await case_by_code(harness, victim_code)
    assert (after.status, after.owner_person_id, after.feedback_score) == (
        victim.status,
        None,
        None,
    )
    assert await count(harness, CaseEvent, CaseEvent.case_id == victim.id) == events_before
    assert await count(harness, Consent, Consent.case_id == victim.id) == consents_before
    await reporter.assert_asked("destination")
    await reporter.assert_summary(pieces=1)
    case = await reporter.submit()
    await assert_case_matches_report(case)
    await reporter.assert_no_apology()
    await other.assert_no_apology()


# -- a restart in the middle of a report ---------------------------------------------------


async def test_report_survives_a_restart(tmp_path: Path) -> None:
    async with database(tmp_path) as database_url:
        await restart_in_the_middle_of_a_report(database_url)


async def restart_in_the_middle_of_a_report(database_url: str) -> None:
    user_id = 7_100_000_001
    first = await Harness.start(database_url, encryption_key=KEY)
    try:
        reporter = await Reporter.create(first, "Resham", "ne", user_id=user_id)
        await reporter.begin()
        await reporter.answer_until("wages")  # role … employer and agency answered
        await send(first, "photo", user_id, caption="contract")  # a file sent early is kept too
        await reporter.assert_asked("wages", note="Thank you, I added this to your report.")
    finally:
        await first.stop()

    second = await Harness.start(database_url, encryption_key=KEY)
    try:
        await second.user("Resham", language_code="ne", user_id=user_id)
        again = Reporter(second, user_id, "ne")
        again.step_index = reporter.step_index
        await say(second, user_id, "/start")
        assert await again.last() == again.t(UNFINISHED)
        await press_data(second, user_id, "nav:resume")
        await again.assert_asked("wages")
        await again.assert_summary(pieces=2)  # the description and the early photo
        case = await again.submit()
        await assert_case_matches_report(case)
        assert case.language == "ne" and case.description == DESCRIPTION
        assert [a.kind for a in await attachments_of(second, case.id)] == ["photo"]
        await again.assert_no_apology()
    finally:
        await second.stop()


# -- a whole report in each language -------------------------------------------------------


@pytest.mark.parametrize(("lang", "place"), [("en", QATAR), ("ne", QATAR), ("id", MALAYSIA)])
async def test_full_report_speaks_the_reporters_language(
    harness: Harness, lang: str, place: Place
) -> None:
    reporter = await Reporter.create(harness, "Worker", lang, place=place)
    menu = await last_bot_message(harness, reporter.uid)
    assert menu["text"] == tr(lang, "Welcome to Corridor.") + "\n\n" + tr(
        lang,
        "Corridor helps migrant workers and their families get help from trusted organisations.\n"
        "What you tell us is shared only with the helpers you agree to. What would you like to do?",
    )
    await reporter.begin()
    questions_seen = []
    while reporter.step != "summary":
        questions_seen.append(await reporter.assert_asked())
        await reporter.answer()
    if lang != "en":
        # The check means something: these are not the English texts.
        assert all(
            tr("en", QUESTION.get(step, SUMMARY)) not in text
            for step, text in zip(reporter.flow, questions_seen, strict=True)
        )
    await reporter.assert_summary(pieces=1)
    case = await reporter.submit()
    assert case.language == lang
    await assert_case_matches_report(case, place)
    await reporter.assert_no_apology()
