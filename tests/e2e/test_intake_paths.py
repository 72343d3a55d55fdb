"""Every way into Corridor, end to end through the emulator, each in two languages.

For each path the test checks three things:

* what the reporter sees: every question, button and confirmation equals the catalogue
  text for the reporter's language (``bot.i18n.tr``); at the very end it also checks that
  those texts really are translated (not silently the English fallback);
* the Case row that results: categories, role, relationship, urgency, countries, consents;
* where its card went: which responder group got a card with ``claim:<case id>``.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import select

from bot import labels
from bot.domain.cases import consents_of
from bot.domain.sos import SOS_CONSENT
from bot.domain.wizard import MISSING_STEPS, REPORT_STEPS, StepSpec
from bot.i18n import tr
from bot.taxonomy import CONSENT_TEXTS, ConsentPurpose
from corridor_dev.harness import Harness, example_network
from handlers.common import menu_keyboard, menu_text
from models import Attachment, Case, CaseCard

SPECS = {
    "report": {spec.name: spec for spec in REPORT_STEPS},
    "missing": {spec.name: spec for spec in MISSING_STEPS},
}
# Steps whose buttons carry catalogue labels (the others show place names).
STATIC_OPTIONS = {
    "role",
    "relationship",
    "categories",
    "since",
    "danger",
    "workers",
    "contact",
    "safe_hours",
    "chat_hours",
    "last_contact",
    "consent",
    "sector",
    "gender",
    "consent_destination_help",
    "consent_origin_help",
    "consent_statistics",
}
WELCOME = "Welcome to Corridor."
ADDED = "Added. Send more, or press Done."
SUMMARY = "Please check your report:"
MAY_WE = "May we do this?"
REGISTERED = (
    "✅ Your report is registered. Your case code is {code}.\n\n"
    "Trusted helpers are being told now. When one of them takes your case, you will get a message here. "
    "You can write here at any time: your messages are added to your case.\n\n/status shows your cases."
)
HANDOVER = (
    "If the worker can use Telegram, give them this code. "
    "They send /join {token} to this bot to follow the case themselves."
)
JOINED = "You now follow case {code} yourself. Write here at any time; /status shows its status."
PROXY_TOLD = "The worker has joined case {code} and now follows it themselves."
BAD_CODE = "That code is not valid. Please check it with the person who reported for you."
ATTACHED = "Added to your case {code}. A helper will see it."
RELAYED = "Sent to your helper (case {code})."
NO_OPEN_CASE = "You have no open case. What would you like to do?"
CLAIMED_NOTICE = (
    "✅ A responder of {org} is now working on your case {code}. "
    "You can write here; your messages reach them."
)
SOS_ASK = "🆘 Which country are you in? Tap it and we alert helpers there at once."
SOS_SENT_ANSWER = "SOS sent"
SOS_SENT = (
    "🆘 SOS sent. Your case code is {code}. Helpers are being alerted now.\n\n"
    "If you can, share your location with the button below, or write what is happening. "
    "Everything you send here is added to this case."
)
SHARE_LOCATION = "📍 Share my location"
HELP_HEADER = "☎️ <b>Verified help contacts</b>"
HELP_SOURCE = "Source: {source}, checked {date}"
HELP_KINDS = {
    "hotline": "Hotline",
    "embassy": "Embassy",
    "labour_attache": "Labour attaché",
    "shelter": "Shelter",
    "nhri": "Human rights commission",
    "legal": "Legal aid",
    "other": "Other",
}
YOUR_CASES = "Your cases:"
WITHDRAW_BUTTON = "Withdraw {code}"
WITHDRAW_CONFIRM = "Withdraw case {code}? Helpers will stop working on it."
WITHDRAW_YES = "Yes, withdraw"
WITHDRAWN = "Case {code} was withdrawn. You can report again at any time."
OWNER_TOLD_WITHDRAWN = "The reporter withdrew case {code}. It is closed."
ORG_NAMES = {o["id"]: o["name"] for o in example_network()["organisations"]}

SKIP = object()
SUBMIT = object()
DETAILS = object()  # "Add details" on the summary


@dataclass(frozen=True)
class Typed:
    """A choice answered by typing instead of a button."""

    text: str


def plain(text: str) -> str:
    """What an HTML message looks like once Telegram has rendered it."""
    return html.unescape(re.sub(r"<[^>]+>", "", text))


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        b for row in (message.get("reply_markup") or {}).get("inline_keyboard", []) for b in row
    ]


def nav_key(data: str) -> str:
    """ "nav:skip" for a Skip button, whatever else its callback data carries."""
    parts = data.split(":")
    return ":".join(parts[:2]) if parts[0] == "nav" else data


@dataclass
class Scripted:
    """A scripted person in a private chat who checks the language of what the bot says."""

    h: Harness
    uid: int
    lang: str
    # (what was shown, the English original): checked for a real translation at the end.
    shown: list[tuple[str, str]] = field(default_factory=list)

    def expect(self, msgid: str, **values: Any) -> str:
        text = tr(self.lang, msgid, **values)
        self.shown.append((text, tr("en", msgid, **values)))
        return text

    async def last(self) -> dict[str, Any]:
        messages = [m for m in await self.h.tg.transcript(self.uid) if m.get("from_bot")]
        assert messages, "the bot said nothing"
        return messages[-1]

    async def sees(self, msgid: str, **values: Any) -> dict[str, Any]:
        message = await self.last()
        assert (message.get("text") or "") == self.expect(msgid, **values)
        return message

    async def bot_texts(self) -> list[str]:
        return await self.h.bot_texts(self.uid)

    def check_label(self, actual: str, msgid: str) -> None:
        assert actual == self.expect(msgid), (actual, msgid)

    def untranslated(self) -> list[str]:
        if self.lang == "en":
            return []
        return sorted(
            {
                english
                for shown, english in self.shown
                if shown == english and re.search(r"[A-Za-z]{3}", english)
            }
        )

    def assert_all_translated(self) -> None:
        missing = self.untranslated()
        assert not missing, f"shown in English to a {self.lang!r} reporter: {missing}"


async def newcomer(h: Harness, name: str, lang: str) -> Scripted:
    """A brand-new user whose phone speaks ``lang``: /start opens the menu in it at once."""
    r = Scripted(h, await h.user(name, lang), lang)
    await h.say(r.uid, "/start")
    texts = await r.bot_texts()
    assert texts == [r.expect(WELCOME) + "\n\n" + menu_text(lang)]
    r.shown.append((menu_text(lang), menu_text("en")))
    menu = await r.last()
    expected = [b.text for row in menu_keyboard(lang).inline_keyboard for b in row]
    assert [b["text"] for b in buttons(menu)] == expected
    # Whether these labels are really translated is checked once, in test_menu_language.
    return r


def labels_of(message: dict[str, Any]) -> dict[str, str]:
    return {nav_key(b.get("callback_data", "")): b["text"] for b in buttons(message)}


async def check_question(r: Scripted, flow: str, spec: StepSpec, answers: dict[str, Any]) -> None:
    message = await r.last()
    text = message.get("text") or ""
    if spec.kind == "summary":
        assert text.startswith(r.expect(SUMMARY) + "\n\n"), text
    elif spec.name == "consent":
        purposes = [r.expect(CONSENT_TEXTS[purpose]) for purpose in ConsentPurpose]
        assert text == r.expect(MAY_WE) + "\n\n" + "\n\n".join(f"• {p}" for p in purposes)
    elif spec.name.startswith("consent_"):
        assert text == r.expect(MAY_WE) + "\n\n" + r.expect(spec.question), text
    else:
        assert text == r.expect(spec.question), (spec.name, text)
    labels = {nav_key(b.get("callback_data", "")): b["text"] for b in buttons(message)}
    if spec.name in STATIC_OPTIONS:
        for value, label in spec.options(answers, []):  # type: ignore[misc]
            shown = labels[f"r:{spec.name}:{value}"].removeprefix("✅ ")
            r.check_label(shown, label)
    if spec.name == "destination" and flow == "report":
        r.check_label(labels["r:destination:home"], "Back in my home country")
    if spec.optional:
        r.check_label(labels["nav:skip"], "Skip")
    r.check_label(labels["nav:cancel"], "✖ Cancel")
    if spec.kind in ("multi", "media"):
        r.check_label(labels["nav:done"], "Done ✔")
    if spec.kind == "summary":
        r.check_label(labels["nav:submit"], "📨 Send report")


async def fill(r: Scripted, flow: str, script: list[tuple[str, Any]]) -> str:
    """Answers the report step by step, checking each question first. Returns the summary."""
    h, uid = r.h, r.uid
    await h.press_data(uid, lambda data: data == f"menu:{flow}")
    answers: dict[str, Any] = {}
    summary = ""
    for name, action in script:
        spec = SPECS[flow][name]
        await check_question(r, flow, spec, answers)
        if action is SKIP:
            await h.tap_nav(uid, "skip")
        elif spec.kind == "summary" and action is DETAILS:
            r.check_label(labels_of(await r.last())["nav:details"], "➕ Add details")
            await h.tap_nav(uid, "details")
        elif spec.kind == "summary":
            summary = (await r.last())["text"]
            assert action is SUBMIT
            await h.tap_nav(uid, "submit")
        elif isinstance(action, Typed):
            await h.say(uid, action.text)
            answers[name] = action.text
        elif spec.kind == "choice":
            await h.tap_value(uid, action)
            answers[name] = action
        elif spec.kind == "multi":
            for value in action:
                await h.tap_value(uid, value)
            await h.tap_nav(uid, "done")
            answers[name] = action
        elif spec.kind == "text":
            await h.say(uid, action)
            answers[name] = action
        elif spec.kind == "media":
            await h.say(uid, action)
            await r.sees(ADDED)
            await h.tap_nav(uid, "done")
        else:  # pragma: no cover - a script error
            raise AssertionError(f"cannot answer {name} with {action!r}")
    return summary


async def newest_case(h: Harness) -> tuple[Case, dict[str, bool]]:
    async with h.app.domain.sessions() as session:
        case = await session.scalar(select(Case).order_by(Case.id.desc()).limit(1))
        assert case is not None, "no case was created"
        return case, await consents_of(session, case)


async def case_by_id(h: Harness, case_id: int) -> Case:
    async with h.app.domain.sessions() as session:
        case = await session.get(Case, case_id)
        assert case is not None
        return case


async def card_orgs(h: Harness, case_id: int) -> set[str]:
    """Organisations whose group transcript holds a card with this case's Claim button."""
    found = set()
    for org, chat_id in h.groups.items():
        for message in await h.tg.transcript(chat_id):
            if any(b.get("callback_data") == f"claim:{case_id}" for b in buttons(message)):
                found.add(org)
    return found


async def case_count(h: Harness) -> int:
    return len(await h.case_codes())


async def reporter_id_of(h: Harness, uid: int) -> int | None:
    from bot.domain.cases import find_reporter

    async with h.app.domain.sessions() as session:
        reporter = await find_reporter(session, h.app.domain, uid)
        return reporter.id if reporter else None


# -- self-report -------------------------------------------------------------------------------

# Qatar's only origin in the example network is Nepal: the origin is not asked.
SELF_REPORT = [
    ("role", "self"),
    ("destination", "QA"),
    ("categories", ["WAGE", "DOCS"]),
    ("danger", "no"),
    ("contact", "chat"),
    ("consent", "all"),
    ("summary", DETAILS),
    ("area", "Doha"),
    ("since", "months"),
    ("workers", "6-20"),
    ("employer", "Al Noor Contracting"),
    ("agency", SKIP),
    ("wages", "4800"),
    ("description", "Four months without pay. The company keeps our passports."),
    ("chat_hours", "any"),
    ("sector", "SECTOR_F"),
    ("gender", "MAN"),
    ("summary", SUBMIT),
]


@pytest.mark.parametrize("lang", ["en", "ne"])
async def test_self_report(harness: Harness, lang: str) -> None:
    h = harness
    r = await newcomer(h, "Hari", lang)
    summary = await fill(r, "report", SELF_REPORT)
    categories = labels.categories(["WAGE", "DOCS"], lang)
    assert r.expect("What happened: {categories}", categories=categories) in summary
    assert "WAGE" not in summary
    assert r.expect("Description and files: {n}", n=1) in summary
    assert (
        r.expect(
            "Consent: destination {d} · home country {o} · statistics {s}", d="✓", o="✓", s="✓"
        )
        in summary
    )
    assert "Al Noor" not in summary and "4800" not in summary  # never echoed back
    # Sector and gender: one neutral tick, never the answer, on the reporter's own screen.
    assert r.expect("For anonymous statistics") + ": " + r.expect("given ✓") in summary
    assert r.expect("Construction") not in summary and r.expect("Man") not in summary

    case, consents = await newest_case(h)
    await r.sees(REGISTERED, code=case.code)
    assert "/join" not in (await r.last())["text"]  # no hand-over code for the worker himself
    assert case.reporter_id == await reporter_id_of(h, r.uid)
    assert case.reporter_role == "self" and case.relationship is None
    assert case.categories == ["DOCS", "WAGE"]
    assert case.urgency == "normal" and not case.in_danger
    assert (case.destination_country, case.origin_country, case.corridor_code) == (
        "QA",
        "NP",
        "NP-QA",
    )
    assert case.area == "Doha" and case.worker_location == "destination"
    assert case.since == "months" and case.workers_affected == 10
    assert case.employer == "Al Noor Contracting" and case.agency is None
    assert (case.wage_owed_minor, case.wage_currency) == (480000, "QAR")
    assert case.description == "Four months without pay. The company keeps our passports."
    assert case.contact_method == "chat" and case.contact_phone is None
    assert case.language == lang
    assert consents == {"destination_help": True, "origin_help": True, "statistics": True}
    assert case.status == "routed" and case.side == "destination"
    assert await card_orgs(h, case.id) == {"qa-workers-centre"}
    assert (case.sector, case.gender) == ("SECTOR_F", "MAN")
    group_texts = await h.bot_texts(h.groups["qa-workers-centre"])
    assert not any(
        tr(language, label) in text
        for text in group_texts
        for language in ("en", "ne")
        for label in ("Construction", "Man", "Woman")
    )
    r.assert_all_translated()


# -- family proxy report and the hand-over to the worker --------------------------------------

FAMILY_REPORT = [
    ("role", "parent"),
    ("destination", "QA"),
    ("categories", ["WAGE"]),
    ("danger", "no"),
    ("contact", "family"),
    ("phone", "+977 984 123 4567"),
    ("safe_hours", "18-22"),
    ("consent", "choose"),
    ("consent_destination_help", "no"),
    ("consent_origin_help", "yes"),
    ("consent_statistics", "no"),
    ("summary", DETAILS),
    ("area", SKIP),
    ("since", SKIP),
    ("workers", SKIP),
    ("employer", SKIP),
    ("agency", SKIP),
    ("wages", SKIP),
    ("worker_name", "Ram Bahadur Thapa"),
    ("description", SKIP),
    ("summary", SUBMIT),
]


@pytest.mark.parametrize("lang", ["ne", "bn"])
async def test_family_proxy_report_and_handover(harness: Harness, lang: str) -> None:
    h = harness
    mother = await newcomer(h, "Kamala", lang)
    await fill(mother, "report", FAMILY_REPORT)
    case, consents = await newest_case(h)

    submitted = (await mother.last())["text"]
    match = re.search(r"/join ([A-Z0-9]{8})\b", submitted)
    assert match, submitted
    token = match.group(1)
    assert submitted == mother.expect(REGISTERED, code=case.code) + "\n\n" + mother.expect(
        HANDOVER, token=token
    )
    assert case.reporter_role == "family" and case.relationship == "parent"
    assert case.categories == ["WAGE"] and case.urgency == "normal"
    assert (case.destination_country, case.origin_country) == ("QA", "NP")
    assert case.worker_name == "Ram Bahadur Thapa"
    assert (case.contact_method, case.contact_phone) == ("family", "+9779841234567")
    assert consents == {"destination_help": False, "origin_help": True, "statistics": False}
    # Without the statistics consent, sector and gender are not asked at all.
    assert (case.sector, case.gender) == (None, None)
    # A relative's report goes to the home-country side; the destination side was refused.
    assert case.side == "origin"
    assert await card_orgs(h, case.id) == {"np-returnee-shelter"}
    assert case.handover_key is not None

    # The worker joins with the code. The relative is told too, but that message is sent
    # on the bot's own initiative, so it waits for the safe hours she chose (18–22, the
    # clock starts at 09:00 in Doha).
    worker = Scripted(h, await h.user("Ram", lang), lang)
    await h.say(worker.uid, f"/join {token}")
    await worker.sees(JOINED, code=case.code)
    told = mother.expect(PROXY_TOLD, code=case.code)
    assert told not in await mother.bot_texts()
    worker_reporter = await reporter_id_of(h, worker.uid)
    joined = await case_by_id(h, case.id)
    assert worker_reporter is not None and joined.reporter_id == worker_reporter
    assert joined.handover_key is None

    # The code works once only.
    stranger = Scripted(h, await h.user("Someone", lang), lang)
    await h.say(stranger.uid, f"/join {token}")
    await stranger.sees(BAD_CODE)
    assert (await case_by_id(h, case.id)).reporter_id == worker_reporter

    # From now on what the worker writes is attached to this case …
    await h.say(worker.uid, "I am Ram. The supervisor took my phone for two days.")
    await worker.sees(ATTACHED, code=case.code)
    async with h.app.domain.sessions() as session:
        texts = list(
            await session.scalars(
                select(Attachment.text).where(
                    Attachment.case_id == case.id, Attachment.kind == "text"
                )
            )
        )
    assert texts == ["I am Ram. The supervisor took my phone for two days."]

    # … the helper who claims it talks to the worker, not to the relative …
    bishnu = h.staff["bishnu"]
    await h.claim(bishnu, h.groups["np-returnee-shelter"])
    org = ORG_NAMES["np-returnee-shelter"]
    await worker.sees(CLAIMED_NOTICE, org=org, code=case.code)
    assert not any(case.code in t and org in t for t in await mother.bot_texts())
    await h.say(worker.uid, "Thank you for taking my case.")
    await worker.sees(RELAYED, code=case.code)
    relayed = await h.bot_texts(bishnu)
    assert any("Thank you for taking my case." in t and case.code in t for t in relayed)

    # … and the relative no longer has an open case here.
    await h.say(mother.uid, "Any news?")
    await mother.sees(NO_OPEN_CASE)

    # In her safe hours she gets the news that the worker joined, once, and nothing else
    # about the case (the helper's notice went to the worker).
    await h.advance_to_local("Asia/Qatar", 18, 1)
    mother_texts = await mother.bot_texts()
    assert mother_texts.count(told) == 1
    assert not any(org in t for t in mother_texts)
    people = (("relative", mother), ("worker", worker), ("stranger", stranger))
    untranslated = {name: person.untranslated() for name, person in people if person.untranslated()}
    assert not untranslated, f"shown in English to {lang!r} readers: {untranslated}"


# -- advocate -----------------------------------------------------------------------------------


def advocate_script(destination: str, origin: str, area: str, phone: str) -> list[tuple[str, Any]]:
    # Malaysia has workers from Nepal and Indonesia in the example network: the origin is asked.
    origin_question = [("origin", origin)] if destination == "MY" else []
    return [
        ("role", "advocate"),
        ("destination", destination),
        *origin_question,
        ("categories", ["HOUR", "COND"]),
        ("danger", "no"),
        ("contact", "phone"),
        ("phone", phone),
        ("safe_hours", "6-12"),
        ("consent", "choose"),
        ("consent_destination_help", "yes"),
        ("consent_origin_help", "yes"),
        ("consent_statistics", "no"),
        ("summary", DETAILS),
        ("area", area),
        ("since", "weeks"),
        ("workers", Typed("35")),
        ("employer", "Bright Star Cleaning"),
        ("agency", "Sunrise Manpower"),
        ("worker_name", "Maya Gurung"),
        ("description", SKIP),
        ("summary", SUBMIT),
    ]


@pytest.mark.parametrize(
    ("lang", "destination", "origin", "area", "phone", "e164", "org"),
    [
        ("en", "QA", "NP", "Al Khor", "+974 3312 3456", "+97433123456", "qa-workers-centre"),
        ("id", "MY", "ID", "Johor", "+60 12-345 6789", "+60123456789", "my-legal-aid"),
    ],
)
async def test_advocate_report(
    harness: Harness,
    lang: str,
    destination: str,
    origin: str,
    area: str,
    phone: str,
    e164: str,
    org: str,
) -> None:
    h = harness
    r = await newcomer(h, "Advocate", lang)
    await fill(r, "report", advocate_script(destination, origin, area, phone))
    case, consents = await newest_case(h)
    submitted = (await r.last())["text"]
    match = re.search(r"/join ([A-Z0-9]{8})\b", submitted)
    assert match, submitted
    assert submitted == r.expect(REGISTERED, code=case.code) + "\n\n" + r.expect(
        HANDOVER, token=match.group(1)
    )
    assert case.reporter_role == "advocate" and case.relationship is None
    assert case.categories == ["COND", "HOUR"] and case.urgency == "normal"
    assert (case.destination_country, case.origin_country) == (destination, origin)
    assert case.corridor_code == f"{origin}-{destination}"
    assert case.area == area and case.since == "weeks" and case.workers_affected == 35
    assert (case.employer, case.agency, case.worker_name) == (
        "Bright Star Cleaning",
        "Sunrise Manpower",
        "Maya Gurung",
    )
    assert (case.contact_method, case.contact_phone) == ("phone", e164)
    assert case.wage_owed_minor is None
    assert consents == {"destination_help": True, "origin_help": True, "statistics": False}
    assert case.side == "destination"
    assert await card_orgs(h, case.id) == {org}
    r.assert_all_translated()


# -- missing person -----------------------------------------------------------------------------

MISSING_REPORT = [
    ("relationship", "sibling"),
    ("destination", "QA"),
    ("worker_name", "Suman Tamang"),
    ("last_contact", "month"),
    ("contact", "phone"),
    ("phone", "+977 984 123 4567"),
    ("safe_hours", "any"),
    ("consent", "all"),
    ("summary", DETAILS),
    ("area", "Al Khor"),
    ("employer", SKIP),
    ("agency", "Gulf Star Manpower"),
    ("phones_tried", "+974 3312 3456"),
    ("description", "He stopped answering after his visa expired."),
    ("sector", SKIP),
    ("gender", "UNSAID"),
    ("summary", SUBMIT),
]


@pytest.mark.parametrize("lang", ["ne", "hi"])
async def test_missing_person_report(harness: Harness, lang: str) -> None:
    h = harness
    r = await newcomer(h, "Gita", lang)
    summary = await fill(r, "missing", MISSING_REPORT)
    assert summary.startswith(r.expect(SUMMARY) + "\n\n" + r.expect("Report: missing person"))
    case, consents = await newest_case(h)
    assert (await r.last())["text"].startswith(r.expect(REGISTERED, code=case.code))
    assert case.code.startswith("QA-")
    assert case.categories == ["MISS"]
    assert case.reporter_role == "family" and case.relationship == "sibling"
    assert case.urgency == "high"
    assert (case.destination_country, case.origin_country) == ("QA", "NP")
    assert case.worker_name == "Suman Tamang" and case.area == "Al Khor"
    assert case.agency == "Gulf Star Manpower" and case.employer is None
    assert (case.contact_method, case.contact_phone) == ("phone", "+9779841234567")
    assert case.description == "He stopped answering after his visa expired."
    assert consents == {"destination_help": True, "origin_help": True, "statistics": True}
    # A missing worker is searched for where they were working.
    assert case.side == "destination"
    assert await card_orgs(h, case.id) == {"qa-workers-centre"}
    async with h.app.domain.sessions() as session:
        details = json.loads((await session.get(Case, case.id)).details or "{}")
    assert details == {"last_contact": "month", "phones_tried": "+974 3312 3456"}
    assert (case.sector, case.gender) == (None, "UNSAID")
    r.assert_all_translated()


# -- SOS ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "country", "origin", "org"),
    [("id", "MY", "ID", "my-legal-aid"), ("fil", "QA", "NP", "qa-workers-centre")],
)
async def test_sos(harness: Harness, lang: str, country: str, origin: str, org: str) -> None:
    h = harness
    r = Scripted(h, await h.user("Siti", lang), lang)
    await h.say(r.uid, "/sos")
    ask = await r.last()
    assert ask["text"] == r.expect(SOS_ASK) + "\n\n" + r.expect(SOS_CONSENT)
    assert f"sos:{country}" in {b.get("callback_data") for b in buttons(ask)}

    query = await h.tg.press_button(r.uid, r.uid, ask["message_id"], data=f"sos:{country}")
    answer = await h.tg.get_callback_answer(query, timeout=20)
    await h.settle()
    assert answer.get("text") == r.expect(SOS_SENT_ANSWER)
    case, consents = await newest_case(h)
    sent = await r.sees(SOS_SENT, code=case.code)
    keyboard = (sent.get("reply_markup") or {}).get("keyboard") or []
    assert [[b.get("text") for b in row] for row in keyboard] == [[r.expect(SHARE_LOCATION)]]
    assert keyboard[0][0].get("request_location") is True

    assert case.urgency == "sos" and case.in_danger
    assert case.categories == ["OTHR"] and case.reporter_role == "self"
    assert (case.destination_country, case.origin_country) == (country, origin)
    assert consents == {"destination_help": True, "origin_help": True}
    # Routed at once: no tick of the clock was needed for the card to arrive.
    assert case.status == "routed" and case.routed_at == case.created_at
    assert case.side == "destination"
    assert await card_orgs(h, case.id) == {org}
    assert case.precise_location is None

    # A location sent next joins the same case.
    await h.send("location", r.uid, latitude=3.139, longitude=101.687)
    await r.sees(ATTACHED, code=case.code)
    assert await case_count(h) == 1
    located = await case_by_id(h, case.id)
    assert located.precise_location == "3.13900,101.68700"
    async with h.app.domain.sessions() as session:
        kinds = list(
            await session.scalars(select(Attachment.kind).where(Attachment.case_id == case.id))
        )
    assert kinds == ["location"]
    r.assert_all_translated()


# -- help directory, status and withdrawal ------------------------------------------------------


def directory_entries(corridors: set[str] | None = None) -> list[dict[str, Any]]:
    return [
        entry
        for entry in example_network()["help"]
        if corridors is None or entry["corridor"] in corridors
    ]


@pytest.mark.parametrize("lang", ["en", "ne"])
async def test_help_lists_the_directory_with_source_and_date(harness: Harness, lang: str) -> None:
    h = harness
    r = Scripted(h, await h.user("Asha", lang), lang)
    await h.say(r.uid, "/help")
    text = (await r.last())["text"]
    assert text.startswith(plain(r.expect(HELP_HEADER)))
    entries = directory_entries()
    assert len(entries) == 3
    for entry in entries:
        line = f"• {r.expect(HELP_KINDS[entry['kind']])}: {entry['name']} — {entry['phone']}"
        checked = labels.date(entry["verified"], lang)  # the reader's date format, not ISO
        source = r.expect(HELP_SOURCE, source=entry["source"], date=checked)
        assert f"{line}\n  {source}" in text, (line, source, text)
    for corridor in ("NP-QA", "ID-MY"):
        assert f"\n{corridor}\n" in text

    # Once the reporter has a case, /help narrows the list to that case's corridor.
    await h.say(r.uid, "/sos")
    await h.press_data(r.uid, lambda data: data == "sos:QA")
    await h.say(r.uid, "/help")
    text = (await r.last())["text"]
    for entry in directory_entries({"NP-QA"}):
        assert entry["name"] in text
    assert "Kuala Lumpur" not in text and "ID-MY" not in text
    r.assert_all_translated()


async def test_menu_language(harness: Harness) -> None:
    """The main menu a newcomer sees after choosing a language is in that language."""
    h = harness
    untranslated = {}
    for lang in ("ne", "bn", "id", "fil", "hi"):
        r = await newcomer(h, f"User {lang}", lang)
        menu = await r.last()
        english = [b.text for row in menu_keyboard("en").inline_keyboard for b in row]
        r.shown += list(zip([b["text"] for b in buttons(menu)], english, strict=True))
        if r.untranslated():
            untranslated[lang] = r.untranslated()
    assert not untranslated, f"menu labels shown in English: {untranslated}"


@pytest.mark.parametrize("lang", ["ne"])
async def test_status_and_withdraw(harness: Harness, lang: str) -> None:
    h = harness
    r = Scripted(h, await h.user("Hari", lang), lang)
    await h.say(r.uid, "/sos")
    await h.press_data(r.uid, lambda data: data == "sos:QA")
    case, _consents = await newest_case(h)

    await h.say(r.uid, "/status")
    status = await r.last()
    waiting = r.expect(YOUR_CASES) + f"\n• {case.code}: " + r.expect("waiting for a helper")
    assert status["text"] == waiting
    assert [(b["text"], b["callback_data"]) for b in buttons(status)] == [
        (r.expect(WITHDRAW_BUTTON, code=case.code), f"wd:{case.id}:0")
    ]

    ramesh = h.staff["ramesh"]
    answer = await h.claim(ramesh, h.groups["qa-workers-centre"])
    assert case.code in (answer.get("text") or "")
    await h.say(r.uid, "/status")
    working = r.expect(YOUR_CASES) + f"\n• {case.code}: " + r.expect("a helper is working on it")
    assert (await r.last())["text"] == working

    await h.press_data(r.uid, lambda data: data == f"wd:{case.id}:0")
    confirm = await r.sees(WITHDRAW_CONFIRM, code=case.code)
    assert [b["text"] for b in buttons(confirm)] == [r.expect(WITHDRAW_YES)]
    await h.press_data(r.uid, lambda data: data == f"wd:{case.id}:1")
    assert (await r.bot_texts())[-1] == r.expect(WITHDRAWN, code=case.code)

    closed = await case_by_id(h, case.id)
    assert closed.status == "closed" and closed.outcome == "WITHDRAWN_BY_REPORTER"
    assert closed.resolved_at is not None
    owner_texts = await h.bot_texts(ramesh)
    assert owner_texts.count(tr("en", OWNER_TOLD_WITHDRAWN, code=case.code)) == 1
    # The group card shows the closed case and offers nothing to press.
    async with h.app.domain.sessions() as session:
        cards = list(await session.scalars(select(CaseCard).where(CaseCard.case_id == case.id)))
    assert {c.chat_id for c in cards} == {h.groups["qa-workers-centre"]}
    card = next(
        m
        for m in await h.tg.transcript(h.groups["qa-workers-centre"])
        if m.get("from_bot") and case.code in (m.get("text") or "")
    )
    assert tr("en", "Status: {status}", status=tr("en", "closed")) in card["text"]
    assert not buttons(card)

    await h.say(r.uid, "/status")
    final = await r.last()
    assert final["text"] == r.expect(YOUR_CASES) + f"\n• {case.code}: " + r.expect("closed")
    assert not buttons(final)
    r.assert_all_translated()


async def test_a_tapped_answer_turns_its_question_into_the_next(harness: Harness) -> None:
    """One live question on the phone: a tap edits the question into the next one (no dead
    question left above it); something typed gets the next question below it."""
    h = harness
    r = await newcomer(h, "Asha", "en")
    await h.press_data(r.uid, lambda data: data == "menu:report")
    asked = await r.last()
    assert "r:role:self" in [b.get("callback_data") for b in buttons(asked)]
    count = len(await r.bot_texts())

    await h.tap_value(r.uid, "self")
    edited = await r.last()
    assert edited["message_id"] == asked["message_id"]
    assert edited["text"] != asked["text"]
    assert any(b.get("callback_data", "").startswith("r:destination:") for b in buttons(edited))
    assert len(await r.bot_texts()) == count

    # Typed where a tap was wanted: the question comes again below what was typed, with
    # a note, and the one above is left as it was.
    await h.say(r.uid, "Qatar please")
    again = await r.last()
    assert again["message_id"] > edited["message_id"]
    assert any(b.get("callback_data", "").startswith("r:destination:") for b in buttons(again))
    assert len(await r.bot_texts()) == count + 1
