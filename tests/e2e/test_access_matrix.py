"""Who may do what to a case: the role × action matrix, end to end through the emulator.

| action | stranger | reporter (own case) | another reporter | responder, owning org | owner | responder, other org (Bishnu) | coordinator NP-QA (Sita) | coordinator ID-MY (Dewi) | removed responder |
|---|---|---|---|---|---|---|---|---|---|
| `/reply CODE text` | deny | deny | deny | deny | allow | deny | deny | deny | deny |
| reply to a relayed message | deny | deny (own) | deny (own) | deny | allow | deny | deny | deny | deny |
| `/case CODE` (timeline) | deny | deny | deny | deny | allow | deny | allow | deny | deny |
| `/resolve CODE` + outcome (`out:`) | deny | deny | deny | deny | allow | deny | allow | deny | deny |
| `/reopen CODE` | deny | deny | deny | deny | allow | deny | allow | deny | deny |
| `/refer CODE` + target (`ref:`) + note | deny | deny | deny | deny | allow | deny | allow | deny | deny |
| `/override CODE ORG reason` | deny | deny | deny | deny | deny | deny | allow | deny | deny |
| `/followup CODE date` | deny | deny | deny | deny | allow | deny | allow | deny | deny |
| Snooze button (`snz:`) | deny | deny | deny | deny | allow | deny | deny | deny | deny |
| `/digest` (covering NP-QA) | deny | deny | deny | deny | deny | deny | allow | deny (own) | deny |
| `/stats NP-QA` | deny | deny | deny | deny | deny | deny | allow | deny | deny |
| `/invite` → the case's org (`inv:`) | deny | deny | deny | deny | deny | deny | allow | deny | deny |
| `/team` (showing the case's org) | deny | deny | deny | deny | deny | deny | allow | deny (own) | deny |
| `/remove` a responder of the case's org | deny | deny | deny | deny | deny | deny | allow | deny | deny |
| `/block CODE` | deny | deny | deny | deny | deny | deny | allow | deny | deny |
| `/linkgroup` the case's org, in a new group | deny | deny | deny | deny | deny | deny | allow | deny | deny |
| `/linkgroup` another org, in the case org's group | deny | deny | deny | deny | deny | deny | allow | deny | deny |
| Claim on the card (`claim:`) | deny | deny | deny | allow | allow | deny | deny | deny | deny |
| Pass on the card (`pass:`, `passr:`) | deny | deny | deny | allow | allow | deny | deny | deny | deny |
| check-in answer (`chk:`) | deny | allow | deny | deny | deny | deny | deny | deny | deny |
| feedback (`fb:`) | deny | allow | deny | deny | deny | deny | deny | deny | deny |
| consent answer (`cns:`) | deny | allow | deny | deny | deny | deny | deny | deny | deny |
| withdraw the case (`wd:`) | deny | allow | deny | deny | deny | deny | deny | deny | deny |
| withdraw consent (`cwd:`) | deny | allow | deny | deny | deny | deny | deny | deny | deny |
| `/status` lists the case | deny (own) | allow | deny (own) | deny (own) | deny (own) | deny (own) | deny (own) | deny (own) | deny (own) |
| `/consent` lists the case | deny (own) | allow | deny (own) | deny (own) | deny (own) | deny (own) | deny (own) | deny (own) | deny (own) |
| `/forget` (`fgt:`) erases the case | deny | allow | deny (own) | deny | deny | deny | deny | deny | deny |
| `/clear` (`clr:`) clears the reporter's chat | deny (own) | allow | deny (own) | deny (own) | deny (own) | deny (own) | deny (own) | deny (own) | deny (own) |

Every cell is decided by ``access.decide`` and ``access.reaches``, and the whole table is
checked as a unit table over them (``tests/unit/test_access.py``). Here, end to end, each
action runs its allowed cells and its nearest denials (``NEAREST_DENIALS``), each its own
test (``test_access_cell[action-role]``): enough to show that its handler asks the policy. The target is a case
``C`` of the NP→QA corridor, reported by *reporter* and (for most actions) claimed by
*owner* (Ramesh, Doha Migrant Workers Centre). For Claim and Pass the card is still
unclaimed, so *owner* is simply the responder who will own it; for ``/reopen`` and
feedback the case is resolved. *another reporter* has a case of their own; the *removed
responder* owned a case of the same organisation until Sita removed him with
``/remove`` (he is still in the organisation's Telegram group). Sita coordinates NP-QA,
Dewi only ID-MY.

**allow** means the action reaches the target (the case, its corridor NP-QA or its
organisation qa-workers-centre). **deny** means the bot refuses (a refusal in the
caller's language, or the "no longer valid" callback alert) and the database is
unchanged: case row, its events, consents, attachments and timers, the reporter's ban,
invites, responder groups, the responder who would be removed, NP-QA digests, the
reporter's chat and the organisation's group. **deny (own)** means the command works but
only on the caller's own data (their own cases, chat or corridors), never on the target.

Callbacks are pressed on the real button by those who were given it, and forged
(``press_button(strict=False)`` with the same data, in their own private chat) by
everyone else. Claim and Pass are pressed in the group by its members; everyone else
forges them in private and then, having joined the group, presses the real card.

One harness serves the module. The people and cases a cell needs (a "world") are built
once per action and shared by its denied cells, which must leave them unchanged; an
allowed cell of an action that changes the case gets a world of its own.

After the cells: access is checked again when a multi-step action completes (a responder
released or removed between choosing an outcome and writing the note), and referral
targets are limited to organisations serving the case's corridor (forged ``ref:`` data,
``/override`` to another corridor's organisation).
"""

from __future__ import annotations

import datetime as dt
import html
import logging
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import func, select, update

from bot import labels
from bot.domain import cases, claims, followups, referral, resolution
from bot.domain.notices import QuietCase
from bot.i18n import ntr, tr
from corridor_dev.harness import Harness, example_network
from models import (
    Attachment,
    Case,
    CaseEvent,
    Consent,
    Invite,
    Organisation,
    Person,
    ResponderGroup,
    Timer,
)
from tests.support import database, wage_report

pytestmark = pytest.mark.asyncio(loop_scope="module")

# -- the matrix ------------------------------------------------------------------------------

ROLES = (
    "stranger",
    "reporter",
    "other_reporter",
    "org_responder",
    "owner",
    "other_org_responder",
    "coordinator",
    "other_coordinator",
    "removed",
)
ROLE_LABELS = {
    "stranger": "stranger",
    "reporter": "reporter (own case)",
    "other_reporter": "another reporter",
    "org_responder": "responder, owning org",
    "owner": "owner",
    "other_org_responder": "responder, other org (Bishnu)",
    "coordinator": "coordinator NP-QA (Sita)",
    "other_coordinator": "coordinator ID-MY (Dewi)",
    "removed": "removed responder",
}
REPORTERS = ("reporter", "other_reporter")
NOT_OWNER = tuple(r for r in ROLES if r not in ("reporter",))


def _row(*allowed: str, own: tuple[str, ...] = ()) -> dict[str, str]:
    """One action's row: every role denied unless named; ``own`` marks deny (own)."""
    assert set(allowed) <= set(ROLES) and set(own) <= set(ROLES)
    return {
        role: "allow" if role in allowed else "deny (own)" if role in own else "deny"
        for role in ROLES
    }


# What the handlers say they allow (handlers/responder.py, coordinator.py, groups.py,
# reporter.py, safety.py; bot/domain/claims.py, onboarding.py).
MATRIX: dict[str, dict[str, str]] = {
    "reply": _row("owner"),
    "relayed": _row("owner", own=REPORTERS),
    "case": _row("owner", "coordinator"),
    "resolve": _row("owner", "coordinator"),
    "reopen": _row("owner", "coordinator"),
    "refer": _row("owner", "coordinator"),
    "override": _row("coordinator"),
    "followup": _row("owner", "coordinator"),
    "snooze": _row("owner"),
    "digest": _row("coordinator", own=("other_coordinator",)),
    "stats": _row("coordinator"),
    "invite": _row("coordinator"),
    "team": _row("coordinator", own=("other_coordinator",)),
    "remove": _row("coordinator"),
    "block": _row("coordinator"),
    "linkgroup_new": _row("coordinator"),
    "linkgroup_repoint": _row("coordinator"),
    "claim": _row("org_responder", "owner"),
    "pass": _row("org_responder", "owner"),
    "checkin": _row("reporter"),
    "feedback": _row("reporter"),
    "consent_answer": _row("reporter"),
    "withdraw": _row("reporter"),
    "consent_withdraw": _row("reporter"),
    "status": _row("reporter", own=NOT_OWNER),
    "consent": _row("reporter", own=NOT_OWNER),
    "forget": _row("reporter", own=("other_reporter",)),
    "clear": _row("reporter", own=NOT_OWNER),
}

ACTION_LABELS = {
    "reply": "`/reply CODE text`",
    "relayed": "reply to a relayed message",
    "case": "`/case CODE` (timeline)",
    "resolve": "`/resolve CODE` + outcome (`out:`)",
    "reopen": "`/reopen CODE`",
    "refer": "`/refer CODE` + target (`ref:`) + note",
    "override": "`/override CODE ORG reason`",
    "followup": "`/followup CODE date`",
    "snooze": "Snooze button (`snz:`)",
    "digest": "`/digest` (covering NP-QA)",
    "stats": "`/stats NP-QA`",
    "invite": "`/invite` → the case's org (`inv:`)",
    "team": "`/team` (showing the case's org)",
    "remove": "`/remove` a responder of the case's org",
    "block": "`/block CODE`",
    "linkgroup_new": "`/linkgroup` the case's org, in a new group",
    "linkgroup_repoint": "`/linkgroup` another org, in the case org's group",
    "claim": "Claim on the card (`claim:`)",
    "pass": "Pass on the card (`pass:`, `passr:`)",
    "checkin": "check-in answer (`chk:`)",
    "feedback": "feedback (`fb:`)",
    "consent_answer": "consent answer (`cns:`)",
    "withdraw": "withdraw the case (`wd:`)",
    "consent_withdraw": "withdraw consent (`cwd:`)",
    "status": "`/status` lists the case",
    "consent": "`/consent` lists the case",
    "forget": "`/forget` (`fgt:`) erases the case",
    "clear": "`/clear` (`clr:`) clears the reporter's chat",
}


def render_table() -> str:
    header = "| action | " + " | ".join(ROLE_LABELS[r] for r in ROLES) + " |"
    rule = "|---|" + "---|" * len(ROLES)
    rows = [
        f"| {ACTION_LABELS[a]} | " + " | ".join(MATRIX[a][r] for r in ROLES) + " |" for a in MATRIX
    ]
    return "\n".join([header, rule, *rows])


# -- texts -----------------------------------------------------------------------------------

STALE = "This button is no longer valid."
NOT_RESPONDER = "This command is for responders."
NOT_YOURS = "No case {code} is yours."
NOT_COORDINATOR = "This command is for coordinators."
NOT_MEMBER = "Only responders of this group's organisation can claim this case."
APOLOGY = "Sorry, something went wrong on our side. Nothing you sent is lost; please try again in a moment."
NOTE_PROMPT = "A short note for the record (or send - for none)."
REFER_NOTE_PROMPT = "A note for {org} (what they need to know, e.g. flight and arrival time):"
REFERRED = "Case {code} referred to {org}. You will be told when they claim it."
NO_REPORTS = "We hold no reports from you."
NO_CASES = "You have no cases yet."

QA_ORG = "qa-workers-centre"
NP_ORG = "np-returnee-shelter"
ORG_NAMES = {o["id"]: o["name"] for o in example_network()["organisations"]}

# Extra responders of the Doha organisation: Kiran is removed before the tests, Tara is
# the one coordinators try to /remove, Mina is removed in the middle of resolving.
EXTRA_PEOPLE = [
    {"id": "kiran", "name": "Kiran", "telegram_user_id": 5000011},
    {"id": "tara", "name": "Tara", "telegram_user_id": 5000012},
    {"id": "mina", "name": "Mina", "telegram_user_id": 5000013},
]


def network() -> dict[str, Any]:
    data = example_network()
    for person in EXTRA_PEOPLE:
        data["people"].append(
            {
                **person,
                "role": "responder",
                "organisation": QA_ORG,
                "language": "en",
                "timezone": "Asia/Qatar",
            }
        )
    return data


STAFF = {
    "org_responder": "aisha",
    "owner": "ramesh",
    "other_org_responder": "bishnu",
    "coordinator": "sita",
    "other_coordinator": "dewi",
}
LANGUAGES = {p["id"]: p.get("language", "en") for p in network()["people"]}

# -- driving the emulator --------------------------------------------------------------------


def buttons(message: dict[str, Any]) -> list[str]:
    return [
        b.get("callback_data", "")
        for row in (message.get("reply_markup") or {}).get("inline_keyboard", [])
        for b in row
    ]


def shown(message: dict[str, Any]) -> str:
    return message.get("text") or message.get("caption") or ""


async def send_text(
    h: Harness, uid: int, text: str, chat_id: int | None = None, reply_to: int | None = None
) -> list[dict[str, Any]]:
    """Sends ``text``; returns the bot's messages in that chat that came after it."""
    chat = uid if chat_id is None else chat_id
    sent = await h.tg.send_message(uid, text, chat_id=chat_id, reply_to_message_id=reply_to)
    await h.settle()
    return [
        m
        for m in await h.tg.transcript(chat)
        if m.get("from_bot") and m["message_id"] > sent["message_id"]
    ]


async def answer_of(h: Harness, query_id: str) -> dict[str, Any]:
    answer = await h.tg.get_callback_answer(query_id, timeout=20)
    await h.settle()
    return answer


async def press_real(h: Harness, uid: int, data: str, chat_id: int | None = None) -> dict[str, Any]:
    """Presses the newest button carrying exactly ``data`` (it must exist)."""
    chat = uid if chat_id is None else chat_id
    for message in reversed(await h.tg.transcript(chat)):
        if data in buttons(message):
            query = await h.tg.press_button(uid, chat, message["message_id"], data=data)
            return await answer_of(h, query)
    raise LookupError(f"no button {data!r} in chat {chat}")


async def press_forged(h: Harness, uid: int, data: str) -> dict[str, Any]:
    """Sends ``data`` as a callback from the user's own private chat, on the newest bot
    message there (a made-up message when the chat is empty)."""
    messages = await h.tg.transcript(uid)
    from_bot = [m for m in messages if m.get("from_bot")]
    target = (from_bot or messages or [{"message_id": 1}])[-1]["message_id"]
    query = await h.tg.press_button(uid, uid, target, data=data, strict=False)
    return await answer_of(h, query)


def texts(messages: list[dict[str, Any]]) -> list[str]:
    return [shown(m) for m in messages]


def expect_text(messages: list[dict[str, Any]], wanted: str) -> None:
    got = texts(messages)
    assert wanted in got, f"expected {wanted!r}, the bot said {got!r}"


def expect_stale(answer: dict[str, Any], lang: str) -> None:
    assert answer.get("text") == tr(lang, STALE) and answer.get("show_alert") is True, answer


def expect_ok(answer: dict[str, Any]) -> None:
    assert not answer.get("show_alert"), answer


# -- the world -------------------------------------------------------------------------------


@dataclass
class World:
    a: int  # the reporter of the target case
    b: int  # another reporter, with a case of their own
    case_id: int
    code: str
    d_id: int
    d_code: str
    relayed: int | None = None  # the reporter's message as relayed into the owner's chat
    dirty: bool = False


@dataclass
class Env:
    h: Harness
    errors: list[logging.LogRecord]
    kiran_relayed: int  # a relayed message in Kiran's chat, from when he owned a case
    eve: int  # the reporter of that case
    worlds: dict[str, World] = field(default_factory=dict)
    joined: set[int] = field(default_factory=set)  # who was added to the Doha group

    @property
    def qa_group(self) -> int:
        return self.h.groups[QA_ORG]


@dataclass(frozen=True)
class Actor:
    role: str
    uid: int
    lang: str
    person: str | None  # an active Person behind the account, if any


class Collect(logging.Handler):
    def __init__(self, into: list[logging.LogRecord]) -> None:
        super().__init__(logging.ERROR)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        self.into.append(record)


async def new_user(h: Harness, name: str, lang: str = "en") -> int:
    """A user who opened the chat with the bot but never wrote to it."""
    return (await h.tg.create_user(name, language_code=lang, started=True))["id"]


async def file_case(session: Any, h: Harness, uid: int, *, origin_help: bool = True) -> Case:
    domain = h.app.domain
    reporter = await cases.reporter_for(session, domain, uid, uid, "en")
    return await cases.submit_report(
        session,
        domain,
        reporter,
        wage_report(
            language="en",
            consents={
                "destination_help": True,
                "origin_help": origin_help,
                "statistics": True,
            },
            employer="Matrix Contracting W.L.L.",
            description="Four months without pay; the company holds our passports.",
        ),
    )


@dataclass(frozen=True)
class WorldSpec:
    state: str = "claimed"  # claimed | routed | resolved
    origin_help: bool = True
    relay: bool = False
    extra: str | None = None  # checkin | consent_request | snooze


async def build_world(env: Env, spec: WorldSpec) -> World:
    h, domain = env.h, env.h.app.domain
    a, b = await new_user(h, "Asha"), await new_user(h, "Binod")
    async with domain.sessions() as session, session.begin():
        target = await file_case(session, h, a, origin_help=spec.origin_help)
        other = await file_case(session, h, b)
        if spec.state in ("claimed", "resolved"):
            ramesh = await session.get(Person, "ramesh")
            won = await claims.claim(session, domain, target.id, ramesh, env.qa_group)
            assert won.outcome == "won", won
            if spec.state == "resolved":
                await resolution.resolve(session, domain, target, ramesh, "OTHER")
            if spec.extra == "checkin":
                await followups.fire_checkin(session, domain, target)
            elif spec.extra == "consent_request":
                shelter = await session.get(Organisation, NP_ORG)
                await referral.ask_consent(
                    session, domain, target, "origin_help", shelter, "airport pickup", "ramesh"
                )
            elif spec.extra == "snooze":
                await followups.notify_owner(session, domain, target, QuietCase(target))
        world = World(a, b, target.id, target.code, other.id, other.code)
    await h.settle()
    if spec.relay:
        await send_text(h, a, "Asha again: the supervisor threatened me today")
        ramesh_chat = await h.tg.transcript(h.staff["ramesh"])
        world.relayed = next(
            m["message_id"]
            for m in reversed(ramesh_chat)
            if f"[{world.code}]" in shown(m) and "threatened me today" in shown(m)
        )
    return world


async def actor_for(env: Env, w: World, role: str) -> Actor:
    h = env.h
    if role == "stranger":
        return Actor(role, await new_user(h, "Stranger"), "en", None)
    if role == "reporter":
        return Actor(role, w.a, "en", None)
    if role == "other_reporter":
        return Actor(role, w.b, "en", None)
    if role == "removed":
        return Actor(role, h.staff["kiran"], "en", None)
    person = STAFF[role]
    return Actor(role, h.staff[person], LANGUAGES[person], person)


def t(actor: Actor, msgid: str, **values: object) -> str:
    return tr(actor.lang, msgid, **values)


# -- what must not change on a deny ----------------------------------------------------------


async def snapshot(env: Env, w: World) -> dict[str, Any]:
    h = env.h
    async with h.app.domain.sessions() as session:
        case = await session.get(Case, w.case_id)
        reporter = await cases.find_reporter(session, h.app.domain, w.a)
        kinds = Counter(
            await session.scalars(select(CaseEvent.kind).where(CaseEvent.case_id == w.case_id))
        )
        consents = [
            (c.purpose, c.granted, c.withdrawn_at is None)
            for c in await session.scalars(
                select(Consent).where(Consent.case_id == w.case_id).order_by(Consent.id)
            )
        ]
        attachments = await session.scalar(
            select(func.count()).select_from(Attachment).where(Attachment.case_id == w.case_id)
        )
        timers = Counter(
            (t.kind, t.status, t.due_at)
            for t in await session.scalars(select(Timer).where(Timer.case_id == w.case_id))
        )
        invites = await session.scalar(
            select(func.count()).select_from(Invite).where(Invite.organisation_id == QA_ORG)
        )
        groups = [
            (g.chat_id, g.organisation_id, g.active)
            for g in await session.scalars(select(ResponderGroup).order_by(ResponderGroup.id))
        ]
        tara = await session.get(Person, "tara")
        digests = [
            e.data.get("person")
            for e in await session.scalars(select(CaseEvent).where(CaseEvent.kind == "digest_sent"))
        ]
    assert case is not None and reporter is not None and tara is not None
    qa_bot = [m for m in await h.tg.transcript(env.qa_group) if m.get("from_bot")]
    # The Doha group: the target's card as it stands, and how many messages the bot posted
    # there other than answers to group commands (which any member may send).
    cards = [(m["message_id"], shown(m), buttons(m)) for m in qa_bot if w.code in shown(m)]
    posts = [m for m in qa_bot if not shown(m.get("reply_to_message") or {}).startswith("/")]
    return {
        "case": (
            case.status,
            case.owner_person_id,
            case.owner_organisation_id,
            case.urgency,
            case.feedback_score,
            case.erased,
            case.reporter_id,
            case.outcome,
            case.side,
        ),
        "events": sorted(kinds.items()),
        "consents": consents,
        "attachments": attachments,
        "timers": sorted(timers.items()),
        "reporter_banned": reporter.banned,
        "invites": invites,
        "responder_groups": groups,
        "tara_active": tara.active,
        "np_qa_digests": digests.count("sita"),
        "reporter_chat": [(m["message_id"], shown(m)) for m in await h.tg.transcript(w.a)],
        "eve_chat": len(await h.tg.transcript(env.eve)),
        "qa_group_card": cards,
        "qa_group_posts": len(posts),
    }


async def load_case(h: Harness, case_id: int) -> Case:
    async with h.app.domain.sessions() as session:
        case = await session.get(Case, case_id)
    assert case is not None
    return case


async def event_count(h: Harness, case_id: int, kind: str) -> int:
    async with h.app.domain.sessions() as session:
        return int(
            await session.scalar(
                select(func.count())
                .select_from(CaseEvent)
                .where(CaseEvent.case_id == case_id, CaseEvent.kind == kind)
            )
        )


# -- the actions -----------------------------------------------------------------------------
# Each runs the action as ``actor`` and checks the bot's answer for the expected verdict;
# the state checks for a deny are done once, by the runner, from the snapshot.

Run = Callable[[Env, World, Actor, bool], Awaitable[None]]


async def act_reply(env: Env, w: World, actor: Actor, allow: bool) -> None:
    h = env.h
    said = await send_text(h, actor.uid, f"/reply {w.code} Please keep copies of your payslips")
    if allow:
        expect_text(said, t(actor, "Sent to the reporter of {code}.", code=w.code))
        assert any("Please keep copies of your payslips" in x for x in await h.bot_texts(w.a))
    elif actor.person is None:
        expect_text(said, t(actor, NOT_RESPONDER))
    else:
        expect_text(said, t(actor, NOT_YOURS, code=w.code))


async def act_relayed(env: Env, w: World, actor: Actor, allow: bool) -> None:
    h = env.h
    text = "We spoke to the employer about this today"
    if actor.role == "owner":
        target: int | None = w.relayed
    elif actor.role == "removed":
        target = env.kiran_relayed
    else:
        # Whatever they have to reply to in their own chat; a stranger has nothing yet.
        mine = await h.tg.transcript(actor.uid)
        target = mine[-1]["message_id"] if mine else None
    said = await send_text(h, actor.uid, text, reply_to=target)
    if allow:
        expect_text(said, t(actor, "Sent to the reporter of {code}.", code=w.code))
        assert any(text in x for x in await h.bot_texts(w.a))
    elif actor.role == "reporter":
        expect_text(said, t(actor, "Sent to your helper (case {code}).", code=w.code))
    elif actor.role == "other_reporter":
        expect_text(
            said, t(actor, "Added to your case {code}. A helper will see it.", code=w.d_code)
        )
    elif actor.person is not None:
        expect_text(said, t(actor, "That message is not linked to a case. Use /reply CODE text."))
    else:
        expect_text(said, t(actor, "You have no open case. What would you like to do?"))


async def act_case(env: Env, w: World, actor: Actor, allow: bool) -> None:
    h = env.h
    before = await event_count(h, w.case_id, "timeline_read")
    said = await send_text(h, actor.uid, f"/case {w.code}")
    if allow:
        assert any(x.startswith(f"🗂 {w.code}") for x in texts(said)), texts(said)
        assert await event_count(h, w.case_id, "timeline_read") == before + 1
    else:
        assert not any(x.startswith("🗂") for x in texts(said)), texts(said)
        expect_text(
            said,
            t(actor, NOT_YOURS, code=w.code) if actor.person else t(actor, NOT_RESPONDER),
        )


async def act_resolve(env: Env, w: World, actor: Actor, allow: bool) -> None:
    h = env.h
    said = await send_text(h, actor.uid, f"/resolve {w.code}")
    data = f"out:{w.case_id}:OTHER"
    if allow:
        expect_text(said, t(actor, "Outcome of case {code}?", code=w.code))
        expect_ok(await press_real(h, actor.uid, data))
        assert await h.last_bot_text(actor.uid) == t(actor, NOTE_PROMPT)
        said = await send_text(h, actor.uid, "-")
        expect_text(said, t(actor, "Case {code} resolved. Thank you.", code=w.code))
        assert (await load_case(h, w.case_id)).status == "resolved"
    else:
        expect_text(said, t(actor, "Usage: /resolve CODE (a case you own)"))
        assert not any(data in buttons(m) for m in said)
        expect_stale(await press_forged(h, actor.uid, data), actor.lang)


async def act_reopen(env: Env, w: World, actor: Actor, allow: bool) -> None:
    h = env.h
    said = await send_text(h, actor.uid, f"/reopen {w.code}")
    if allow:
        expect_text(said, t(actor, "Case {code} is open again.", code=w.code))
        assert (await load_case(h, w.case_id)).status == "claimed"
    else:
        expect_text(said, t(actor, "Usage: /reopen CODE"))


async def act_refer(env: Env, w: World, actor: Actor, allow: bool) -> None:
    h = env.h
    said = await send_text(h, actor.uid, f"/refer {w.code}")
    data = f"ref:{w.case_id}:{NP_ORG}"
    org = ORG_NAMES[NP_ORG]
    if allow:
        expect_text(said, t(actor, "Refer case {code} to:", code=w.code))
        expect_ok(await press_real(h, actor.uid, data))
        assert await h.last_bot_text(actor.uid) == t(actor, REFER_NOTE_PROMPT, org=org)
        said = await send_text(h, actor.uid, "Arrives Friday 14:05 on QR 652, needs a pickup")
        expect_text(said, t(actor, REFERRED, code=w.code, org=org))
        assert (await load_case(h, w.case_id)).status == "referred"
    else:
        expect_text(said, t(actor, "Usage: /refer CODE (a case you own)"))
        expect_stale(await press_forged(h, actor.uid, data), actor.lang)


async def act_override(env: Env, w: World, actor: Actor, allow: bool) -> None:
    h = env.h
    said = await send_text(h, actor.uid, f"/override {w.code} {NP_ORG} threatened with a knife")
    if allow:
        expect_text(said, t(actor, REFERRED, code=w.code, org=ORG_NAMES[NP_ORG]))
        assert (await load_case(h, w.case_id)).status == "referred"
        assert await event_count(h, w.case_id, "consent_override") == 0  # consent was given
    else:
        expect_text(
            said,
            t(
                actor,
                "Usage: /override CODE ORGANISATION_ID reason (coordinators, danger to life only)",
            ),
        )


async def act_followup(env: Env, w: World, actor: Actor, allow: bool) -> None:
    h = env.h
    day = (h.clock.now() + dt.timedelta(days=10)).date()
    before = await event_count(h, w.case_id, "snoozed")
    said = await send_text(h, actor.uid, f"/followup {w.code} {day.isoformat()}")
    if allow:
        when = labels.date(day, actor.lang)
        expect_text(said, t(actor, "Next follow-up for {code}: {when}.", code=w.code, when=when))
        assert await event_count(h, w.case_id, "snoozed") == before + 1
    else:
        expect_text(said, t(actor, "Usage: /followup CODE YYYY-MM-DD"))


async def act_snooze(env: Env, w: World, actor: Actor, allow: bool) -> None:
    h = env.h
    data = f"snz:{w.case_id}:24"
    before = await event_count(h, w.case_id, "snoozed")
    if allow:
        answer = await press_real(h, actor.uid, data)
        until = h.clock.now() + dt.timedelta(hours=24)
        when = labels.moment(until, actor.lang) + " UTC"
        assert answer.get("text") == t(actor, "Snoozed until {when}.", when=when), answer
        assert await event_count(h, w.case_id, "snoozed") == before + 1
    else:
        expect_stale(await press_forged(h, actor.uid, data), actor.lang)


async def act_digest(env: Env, w: World, actor: Actor, allow: bool) -> None:
    h = env.h
    said = await send_text(h, actor.uid, "/digest")
    if actor.role in ("coordinator", "other_coordinator"):
        expect_text(said, t(actor, "Your digest is on its way."))
        charts = [shown(m) for m in said if m.get("media_kind") or m.get("caption")]
        assert charts, texts(said)
        assert ("NP-QA" in charts[-1]) is allow, charts
    else:
        expect_text(said, html.escape(t(actor, NOT_COORDINATOR)))


async def act_stats(env: Env, w: World, actor: Actor, allow: bool) -> None:
    h = env.h
    said = await send_text(h, actor.uid, "/stats NP-QA")
    if allow:
        head = t(actor, "📊 Last {n} days", n=30)
        assert any(x.startswith(head) and "NP-QA" in x.split("\n")[0] for x in texts(said))
    elif actor.role == "other_coordinator":
        expect_text(said, t(actor, "Usage: /stats [days, e.g. 30d] [corridor, e.g. NP-QA]"))
    else:
        expect_text(said, html.escape(t(actor, NOT_COORDINATOR)))


async def act_invite(env: Env, w: World, actor: Actor, allow: bool) -> None:
    h = env.h
    said = await send_text(h, actor.uid, "/invite")
    data = f"inv:{QA_ORG}"
    if allow:
        expect_text(said, t(actor, "Invite a responder to which organisation?"))
        async with h.app.domain.sessions() as session:
            before = await session.scalar(select(func.count()).select_from(Invite))
        expect_ok(await press_real(h, actor.uid, data))
        link = t(
            actor, "Send this one-time link to the new responder (valid 7 days):\n{link}", link=""
        )
        assert (await h.last_bot_text(actor.uid)).startswith(link)
        async with h.app.domain.sessions() as session:
            invite = await session.scalar(select(Invite).order_by(Invite.id.desc()).limit(1))
            after = await session.scalar(select(func.count()).select_from(Invite))
        assert after == before + 1 and invite is not None and invite.organisation_id == QA_ORG
        return
    if actor.role == "other_coordinator":
        expect_text(said, t(actor, "Invite a responder to which organisation?"))
    else:
        expect_text(said, t(actor, NOT_COORDINATOR))
    assert not any(data in buttons(m) for m in said)
    expect_stale(await press_forged(h, actor.uid, data), actor.lang)


async def act_team(env: Env, w: World, actor: Actor, allow: bool) -> None:
    h = env.h
    said = await send_text(h, actor.uid, "/team")
    if actor.role in ("coordinator", "other_coordinator"):
        listing = "\n".join(texts(said))
        assert (ORG_NAMES[QA_ORG] in listing) is allow, listing
        role = labels.role("responder", actor.lang)
        assert (f"Ramesh — ramesh ({role})" in listing) is allow, listing
    else:
        expect_text(said, t(actor, NOT_COORDINATOR))


async def set_active(h: Harness, person_id: str, active: bool) -> None:
    async with h.app.domain.sessions() as session, session.begin():
        await session.execute(update(Person).where(Person.id == person_id).values(active=active))


async def act_remove(env: Env, w: World, actor: Actor, allow: bool) -> None:
    h = env.h
    said = await send_text(h, actor.uid, "/remove tara")
    if allow:
        expect_text(
            said,
            t(
                actor,
                "{person} no longer has access. Their open cases are back in the queue.",
                person="tara",
            ),
        )
        async with h.app.domain.sessions() as session:
            assert (await session.get(Person, "tara")).active is False  # type: ignore[union-attr]
    elif actor.role == "other_coordinator":
        expect_text(said, t(actor, "You cannot remove this person."))
    else:
        expect_text(said, t(actor, NOT_COORDINATOR))


async def restore_tara(env: Env, w: World) -> None:
    await set_active(env.h, "tara", True)


async def act_block(env: Env, w: World, actor: Actor, allow: bool) -> None:
    h = env.h
    said = await send_text(h, actor.uid, f"/block {w.code}")
    if allow:
        expect_text(said, t(actor, "The account behind {code} is blocked.", code=w.code))
        async with h.app.domain.sessions() as session:
            reporter = await cases.find_reporter(session, h.app.domain, w.a)
            assert reporter is not None and reporter.banned
    elif actor.role == "other_coordinator":
        expect_text(said, t(actor, "Usage: /block CODE (a case of your corridors)"))
    else:
        expect_text(said, t(actor, NOT_COORDINATOR))


LINKED = "This group now receives the case cards of {org}."
LINK_USAGE = "Usage: /linkgroup ORGANISATION_ID (an organisation of your corridors)"


async def link_verdict(
    h: Harness, actor: Actor, group: int, org: str, allow: bool
) -> list[dict[str, Any]]:
    said = await send_text(h, actor.uid, f"/linkgroup {org}", chat_id=group)
    if allow:
        expect_text(said, t(actor, LINKED, org=org))
    elif actor.role == "other_coordinator":
        expect_text(said, t(actor, LINK_USAGE))
    else:
        expect_text(said, t(actor, NOT_COORDINATOR))
    return said


async def act_linkgroup_new(env: Env, w: World, actor: Actor, allow: bool) -> None:
    h = env.h
    group = (await h.tg.create_group("Side chat", [actor.uid], supergroup=True))["id"]
    await link_verdict(h, actor, group, QA_ORG, allow)
    if allow:
        async with h.app.domain.sessions() as session:
            row = await session.scalar(
                select(ResponderGroup).where(ResponderGroup.chat_id == group)
            )
        assert row is not None and row.active and row.organisation_id == QA_ORG


async def join_qa_group(env: Env, uid: int) -> None:
    if uid not in env.joined:
        await env.h.tg.add_member(env.qa_group, uid)
        env.joined.add(uid)
        await env.h.settle()


async def act_linkgroup_repoint(env: Env, w: World, actor: Actor, allow: bool) -> None:
    h = env.h
    await join_qa_group(env, actor.uid)
    # An organisation the caller coordinates (anything for those who coordinate none).
    org = "id-migrant-union" if actor.role == "other_coordinator" else NP_ORG
    await link_verdict(h, actor, env.qa_group, org, allow)
    if allow:
        async with h.app.domain.sessions() as session:
            row = await session.scalar(
                select(ResponderGroup).where(ResponderGroup.chat_id == env.qa_group)
            )
        assert row is not None and row.organisation_id == org


async def restore_groups(env: Env, w: World) -> None:
    """Undoes what a /linkgroup cell may have done: the Doha group serves Doha again and no
    other group serves it."""
    async with env.h.app.domain.sessions() as session, session.begin():
        await session.execute(
            update(ResponderGroup)
            .where(ResponderGroup.chat_id == env.qa_group)
            .values(organisation_id=QA_ORG, active=True)
        )
        await session.execute(
            update(ResponderGroup)
            .where(ResponderGroup.chat_id.not_in(list(env.h.groups.values())))
            .values(active=False)
        )


IN_QA_GROUP = ("org_responder", "owner", "removed")


async def act_claim(env: Env, w: World, actor: Actor, allow: bool) -> None:
    h = env.h
    data = f"claim:{w.case_id}"
    if actor.role not in IN_QA_GROUP:
        expect_stale(await press_forged(h, actor.uid, data), actor.lang)
        await join_qa_group(env, actor.uid)
    answer = await press_real(h, actor.uid, data, chat_id=env.qa_group)
    case = await load_case(h, w.case_id)
    if allow:
        assert answer.get("text") == t(
            actor, "You own case {code} now. Details are in your private chat with me.", code=w.code
        ), answer
        assert (case.status, case.owner_person_id) == ("claimed", actor.person)
    else:
        assert answer.get("text") == t(actor, NOT_MEMBER) and answer.get("show_alert"), answer


async def act_pass(env: Env, w: World, actor: Actor, allow: bool) -> None:
    h = env.h
    data, reason = f"pass:{w.case_id}", f"passr:{w.case_id}:busy"
    if actor.role not in IN_QA_GROUP:
        expect_stale(await press_forged(h, actor.uid, data), actor.lang)
        expect_stale(await press_forged(h, actor.uid, reason), actor.lang)
        await join_qa_group(env, actor.uid)
    before = await event_count(h, w.case_id, "passed")
    answer = await press_real(h, actor.uid, data, chat_id=env.qa_group)
    if allow:
        expect_ok(answer)
        assert await h.last_bot_text(env.qa_group) == t(actor, "Why are you passing?")
        answer = await press_real(h, actor.uid, reason, chat_id=env.qa_group)
        assert answer.get("text") == t(actor, "Noted. The case stays open for others."), answer
        assert await event_count(h, w.case_id, "passed") == before + 1
    else:
        assert answer.get("text") == t(actor, NOT_MEMBER) and answer.get("show_alert"), answer
        card = next(m for m in reversed(await h.tg.transcript(env.qa_group)) if data in buttons(m))
        query = await h.tg.press_button(
            actor.uid, env.qa_group, card["message_id"], data=reason, strict=False
        )
        expect_stale(await answer_of(h, query), actor.lang)


def reporter_callback(
    data_of: Callable[[World], str], granted: Callable[..., Awaitable[None]]
) -> Run:
    """A reporter's button: the reporter presses the real one, everyone else forges it."""

    async def run(env: Env, w: World, actor: Actor, allow: bool) -> None:
        data = data_of(w)
        if allow:
            await granted(env, w, actor, await press_real(env.h, actor.uid, data))
        else:
            expect_stale(await press_forged(env.h, actor.uid, data), actor.lang)

    return run


async def checked_in(env: Env, w: World, actor: Actor, answer: dict[str, Any]) -> None:
    expect_ok(answer)
    assert await env.h.last_bot_text(actor.uid) == t(
        actor,
        "Your helper and the coordinator have been alerted now. If you can, share your location or write what is happening. If you can call, /help lists emergency contacts.",
    )
    assert await event_count(env.h, w.case_id, "checkin_answer") == 1


async def gave_feedback(env: Env, w: World, actor: Actor, answer: dict[str, Any]) -> None:
    assert answer.get("text") == t(actor, "Thank you for your feedback."), answer
    assert (await load_case(env.h, w.case_id)).feedback_score == 5


async def consented(env: Env, w: World, actor: Actor, answer: dict[str, Any]) -> None:
    expect_ok(answer)
    assert t(actor, "Thank you. Your answer was recorded.") in await env.h.bot_texts(actor.uid)
    # The parked referral went ahead with the reporter's yes.
    assert (await load_case(env.h, w.case_id)).status == "referred"


async def act_withdraw(env: Env, w: World, actor: Actor, allow: bool) -> None:
    h = env.h
    if allow:
        await send_text(h, actor.uid, "/status")
        expect_ok(await press_real(h, actor.uid, f"wd:{w.case_id}:0"))
        expect_ok(await press_real(h, actor.uid, f"wd:{w.case_id}:1"))
        assert await h.last_bot_text(actor.uid) == t(
            actor, "Case {code} was withdrawn. You can report again at any time.", code=w.code
        )
        assert (await load_case(h, w.case_id)).status == "closed"
    else:
        for confirm in (0, 1):
            expect_stale(await press_forged(h, actor.uid, f"wd:{w.case_id}:{confirm}"), actor.lang)


async def act_consent_withdraw(env: Env, w: World, actor: Actor, allow: bool) -> None:
    h = env.h
    data = f"cwd:{w.case_id}:destination_help"
    if allow:
        said = await send_text(h, actor.uid, "/consent")
        assert any(data in buttons(m) for m in said)
        expect_ok(await press_real(h, actor.uid, data))
        assert await h.last_bot_text(actor.uid) == t(
            actor, "Withdrawn. We stopped sharing case {code} for this purpose.", code=w.code
        )
        async with h.app.domain.sessions() as session:
            withdrawn = await session.scalar(
                select(func.count())
                .select_from(Consent)
                .where(Consent.case_id == w.case_id, Consent.withdrawn_at.is_not(None))
            )
        assert withdrawn == 1
    else:
        expect_stale(await press_forged(h, actor.uid, data), actor.lang)


async def act_status(env: Env, w: World, actor: Actor, allow: bool) -> None:
    said = texts(await send_text(env.h, actor.uid, "/status"))
    assert any(w.code in x for x in said) is allow, said
    if actor.role == "other_reporter":
        assert any(w.d_code in x for x in said), said
    elif not allow:
        assert t(actor, NO_CASES) in said, said


async def act_consent(env: Env, w: World, actor: Actor, allow: bool) -> None:
    said = texts(await send_text(env.h, actor.uid, "/consent"))
    assert any(w.code in x for x in said) is allow, said
    if actor.role == "other_reporter":
        assert any(w.d_code in x for x in said), said
    elif not allow:
        assert t(actor, NO_REPORTS) in said, said


async def act_forget(env: Env, w: World, actor: Actor, allow: bool) -> None:
    h = env.h
    said = await send_text(h, actor.uid, "/forget")
    if actor.role in REPORTERS:
        expect_text(
            said,
            t(
                actor,
                "Erase everything you told us? Your open cases will be closed and helpers told. This cannot be undone.",
            ),
        )
        expect_ok(await press_real(h, actor.uid, "fgt:1"))
        done = ntr(
            actor.lang,
            "Your data has been erased ({n} case). You can use /clear to delete this chat too.",
            "Your data has been erased ({n} cases). You can use /clear to delete this chat too.",
            1,
        )
        assert await h.last_bot_text(actor.uid) == done
        mine = await load_case(h, w.case_id if allow else w.d_id)
        assert mine.erased and mine.reporter_id is None
        return
    expect_text(said, t(actor, NO_REPORTS))
    expect_stale(await press_forged(h, actor.uid, "fgt:1"), actor.lang)


async def act_clear(env: Env, w: World, actor: Actor, allow: bool) -> None:
    h = env.h
    said = await send_text(h, actor.uid, "/clear")
    assert any("clr:1" in buttons(m) for m in said), texts(said)
    expect_ok(await press_real(h, actor.uid, "clr:1"))
    left = [shown(m) for m in await h.tg.transcript(actor.uid)]
    assert left[-1] == t(actor, "Done. This chat was cleared."), left
    if actor.person is None and actor.role != "removed":
        # A reporter's (or a stranger's) chat is empty but for the note.
        assert left == [t(actor, "Done. This chat was cleared.")], left


@dataclass(frozen=True)
class Action:
    run: Run
    world: WorldSpec = WorldSpec()
    mutating: bool = False  # an allowed cell changes the case: it gets its own world
    fresh_for: tuple[str, ...] = ()  # roles whose denied cell changes their own data
    cleanup: Callable[[Env, World], Awaitable[None]] | None = None


ACTIONS: dict[str, Action] = {
    "reply": Action(act_reply),
    "relayed": Action(act_relayed, WorldSpec(relay=True)),
    "case": Action(act_case),
    "resolve": Action(act_resolve, mutating=True),
    "reopen": Action(act_reopen, WorldSpec(state="resolved"), mutating=True),
    "refer": Action(act_refer, mutating=True),
    "override": Action(act_override, mutating=True),
    "followup": Action(act_followup),
    "snooze": Action(act_snooze, WorldSpec(extra="snooze")),
    "digest": Action(act_digest),
    "stats": Action(act_stats),
    "invite": Action(act_invite),
    "team": Action(act_team),
    "remove": Action(act_remove, cleanup=restore_tara),
    "block": Action(act_block, mutating=True),
    "linkgroup_new": Action(act_linkgroup_new, cleanup=restore_groups),
    "linkgroup_repoint": Action(act_linkgroup_repoint, cleanup=restore_groups),
    "claim": Action(act_claim, WorldSpec(state="routed"), mutating=True),
    "pass": Action(act_pass, WorldSpec(state="routed")),
    "checkin": Action(
        reporter_callback(lambda w: f"chk:{w.case_id}:unsafe", checked_in),
        WorldSpec(extra="checkin"),
        mutating=True,
    ),
    "feedback": Action(
        reporter_callback(lambda w: f"fb:{w.case_id}:5", gave_feedback),
        WorldSpec(state="resolved"),
        mutating=True,
    ),
    "consent_answer": Action(
        reporter_callback(lambda w: f"cns:{w.case_id}:origin_help:1", consented),
        WorldSpec(origin_help=False, extra="consent_request"),
        mutating=True,
    ),
    "withdraw": Action(act_withdraw, mutating=True),
    "consent_withdraw": Action(act_consent_withdraw, mutating=True),
    "status": Action(act_status),
    "consent": Action(act_consent),
    "forget": Action(act_forget, mutating=True, fresh_for=("other_reporter",)),
    "clear": Action(act_clear, mutating=True),
}
assert ACTIONS.keys() == MATRIX.keys() == ACTION_LABELS.keys()

# What a denied cell may change because the caller owns it: the reporter's reply goes into
# their own case as a reporter's message (and the reporter's own chat is never compared
# when the reporter is the caller).
MAY_CHANGE: dict[tuple[str, str], set[str]] = {
    ("relayed", "reporter"): {"events", "attachments"},
}

# -- the fixture and the cells ---------------------------------------------------------------


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def env(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Env]:
    errors: list[logging.LogRecord] = []
    collector = Collect(errors)
    logging.getLogger("handlers.errors").addHandler(collector)
    try:
        async with database(tmp_path_factory.mktemp("access-matrix")) as url:
            h = await Harness.start(url, network=network())
            try:
                yield await prepare(h, errors)
            finally:
                await h.stop()
    finally:
        logging.getLogger("handlers.errors").removeHandler(collector)


async def prepare(h: Harness, errors: list[logging.LogRecord]) -> Env:
    """Kiran owns a case and gets a message relayed from its reporter; then Sita removes
    him with /remove, through the bot."""
    domain = h.app.domain
    eve = await new_user(h, "Eve")
    async with domain.sessions() as session, session.begin():
        case = await file_case(session, h, eve)
        kiran = await session.get(Person, "kiran")
        won = await claims.claim(session, domain, case.id, kiran, h.groups[QA_ORG])
        assert won.outcome == "won"
        code = case.code
    await h.settle()
    await send_text(h, eve, "Eve writes: my employer locked the door")
    relayed = next(
        m["message_id"]
        for m in reversed(await h.tg.transcript(h.staff["kiran"]))
        if f"[{code}]" in shown(m)
    )
    said = await send_text(h, h.staff["sita"], "/remove kiran")
    expect_text(
        said,
        tr(
            "en",
            "{person} no longer has access. Their open cases are back in the queue.",
            person="kiran",
        ),
    )
    async with domain.sessions() as session:
        assert (await session.get(Person, "kiran")).active is False  # type: ignore[union-attr]
        released = await session.scalar(select(Case).where(Case.code == code))
        assert released is not None and released.owner_person_id is None
    return Env(h, errors, kiran_relayed=relayed, eve=eve)


async def world_for(env: Env, action: str, fresh: bool) -> World:
    spec = ACTIONS[action].world
    if fresh:
        return await build_world(env, spec)
    world = env.worlds.get(action)
    if world is None or world.dirty:
        world = env.worlds[action] = await build_world(env, spec)
    return world


async def last_id(h: Harness, chat_id: int) -> int:
    if not any(chat["id"] == chat_id for chat in await h.tg.chats()):
        return 0
    messages = await h.tg.transcript(chat_id, include_deleted=True)
    return messages[-1]["message_id"] if messages else 0


# End to end, each action runs its allowed cells and the denial nearest to them (the
# colleague, the other corridor's coordinator, the other reporter, the removed responder):
# enough to show its handler asks the policy. Every other cell of MATRIX is decided by the
# same two functions, access.decide and access.reaches, and checked there as a unit table
# (tests/unit/test_access.py, test_the_readme_matrix_from_the_policy).
NEAREST_DENIALS: dict[str, tuple[str, ...]] = {
    "reply": ("org_responder", "coordinator", "removed"),
    "relayed": ("removed", "reporter"),
    "case": ("org_responder", "other_coordinator"),
    "resolve": ("org_responder", "other_coordinator"),
    "reopen": ("other_coordinator",),
    "refer": ("org_responder",),
    "override": ("owner", "other_coordinator"),
    "followup": ("other_org_responder",),
    "snooze": ("coordinator",),
    "digest": ("other_coordinator", "owner"),
    "stats": ("other_coordinator",),
    "invite": ("other_coordinator",),
    "team": ("other_coordinator",),
    "remove": ("other_coordinator", "owner"),
    "block": ("owner", "other_coordinator"),
    "linkgroup_new": ("owner",),
    "linkgroup_repoint": ("other_coordinator",),
    "claim": ("other_org_responder", "removed", "coordinator"),
    "pass": ("other_org_responder",),
    "checkin": ("other_reporter", "owner"),
    "feedback": ("other_reporter",),
    "consent_answer": ("other_reporter", "owner"),
    "withdraw": ("other_reporter",),
    "consent_withdraw": ("other_reporter",),
    "status": ("other_reporter",),
    "consent": ("other_reporter",),
    "forget": ("other_reporter",),
    "clear": ("other_reporter",),
}
assert NEAREST_DENIALS.keys() == MATRIX.keys()
assert all(
    MATRIX[action][role] != "allow" for action, roles in NEAREST_DENIALS.items() for role in roles
)

CELLS = [
    (action, role)
    for action in MATRIX
    for role in ROLES
    if MATRIX[action][role] == "allow" or role in NEAREST_DENIALS[action]
]


@pytest.mark.parametrize(("action", "role"), CELLS, ids=[f"{a}-{r}" for a, r in CELLS])
async def test_access_cell(env: Env, action: str, role: str) -> None:
    spec = ACTIONS[action]
    verdict = MATRIX[action][role]
    allow = verdict == "allow"
    fresh = (allow and spec.mutating) or role in spec.fresh_for
    world = await world_for(env, action, fresh)
    actor = await actor_for(env, world, role)
    before = await snapshot(env, world)
    errors = len(env.errors)
    mark = await last_id(env.h, actor.uid)
    passed = False
    try:
        await spec.run(env, world, actor, allow)
        later = [shown(m) for m in await env.h.tg.transcript(actor.uid) if m["message_id"] > mark]
        assert t(actor, APOLOGY) not in later, "the bot failed on this update"
        assert env.errors[errors:] == [], [r.getMessage() for r in env.errors[errors:]]
        if not allow:
            after = await snapshot(env, world)
            ignore = set(MAY_CHANGE.get((action, role), set()))
            if actor.uid == world.a:
                ignore.add("reporter_chat")
            changed = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
            changed = {k: v for k, v in changed.items() if k not in ignore}
            assert not changed, f"{role} was denied {action} but the state changed: {changed}"
        passed = True
    finally:
        if spec.cleanup is not None:
            await spec.cleanup(env, world)
        if not passed:
            world.dirty = True
            await send_text(env.h, actor.uid, "/cancel")


async def test_docstring_table_is_the_matrix() -> None:
    """The table in this module's docstring is MATRIX; after changing one, paste
    ``render_table()`` into the other."""
    assert render_table() in (__doc__ or ""), render_table()
    for action, row in MATRIX.items():
        assert set(row) == set(ROLES), action
        assert set(row.values()) <= {"allow", "deny", "deny (own)"}, action


# -- access is checked again when a multi-step action completes --------------------------


async def start_resolving(env: Env, person: str) -> World:
    """A fresh case owned by ``person``, who has chosen an outcome and is asked for a note."""
    h, domain = env.h, env.h.app.domain
    world = await build_world(env, WorldSpec(state="routed"))
    async with domain.sessions() as session, session.begin():
        owner = await session.get(Person, person)
        won = await claims.claim(session, domain, world.case_id, owner, env.qa_group)
        assert won.outcome == "won"
    await h.settle()
    uid = h.staff[person]
    await send_text(h, uid, f"/resolve {world.code}")
    expect_ok(await press_real(h, uid, f"out:{world.case_id}:OTHER"))
    assert await h.last_bot_text(uid) == tr("en", NOTE_PROMPT)
    return world


async def test_an_owner_released_while_resolving_cannot_finish(env: Env) -> None:
    """Ramesh picks an outcome; before he writes the note the reporter withdraws consent for
    his side of the corridor, which takes the case from him. His note must not resolve a
    case that is no longer his (and now waits on the other side)."""
    h = env.h
    ramesh = h.staff["ramesh"]
    world = await start_resolving(env, "ramesh")
    await send_text(h, world.a, "/consent")
    expect_ok(await press_real(h, world.a, f"cwd:{world.case_id}:destination_help"))
    released = await load_case(h, world.case_id)
    assert (released.status, released.owner_person_id) == ("routed", None)
    errors = len(env.errors)
    said = await send_text(h, ramesh, "-")
    case = await load_case(h, world.case_id)
    assert tr("en", "Case {code} resolved. Thank you.", code=world.code) not in texts(said), (
        "a responder whose access was withdrawn resolved the case"
    )
    assert (case.status, case.outcome) == ("routed", None)
    assert env.errors[errors:] == []


async def test_a_responder_removed_while_resolving_is_refused_politely(env: Env) -> None:
    """Mina picks an outcome; Sita removes her; her note must be refused without an error
    (and without resolving anything)."""
    h = env.h
    mina = h.staff["mina"]
    try:
        world = await start_resolving(env, "mina")
        said = await send_text(h, h.staff["sita"], "/remove mina")
        expect_text(
            said,
            tr(
                "en",
                "{person} no longer has access. Their open cases are back in the queue.",
                person="mina",
            ),
        )
        errors = len(env.errors)
        said = await send_text(h, mina, "-")
        case = await load_case(h, world.case_id)
        assert (case.status, case.outcome) == ("routed", None)
        assert tr("en", APOLOGY) not in texts(said), texts(said)
        assert env.errors[errors:] == [], [r.getMessage() for r in env.errors[errors:]]
    finally:
        await set_active(h, "mina", True)
        await send_text(h, mina, "/cancel")


# -- referral targets come from the case's corridor ------------------------------------------


async def test_a_forged_referral_to_an_organisation_off_the_corridor_is_refused(env: Env) -> None:
    """/refer offers only organisations serving the case's corridor; a forged ``ref:`` for
    another corridor's organisation must not hand the case (and its details) over."""
    h = env.h
    ramesh = h.staff["ramesh"]
    world = await build_world(env, WorldSpec())
    said = await send_text(h, ramesh, f"/refer {world.code}")
    offered = {d.rsplit(":", 1)[1] for m in said for d in buttons(m) if d.startswith("ref:")}
    assert offered == {NP_ORG}, offered
    menu = said[-1]["message_id"]
    errors = len(env.errors)
    query = await h.tg.press_button(
        ramesh, ramesh, menu, data=f"ref:{world.case_id}:id-migrant-union", strict=False
    )
    answer = await answer_of(h, query)
    if not answer.get("show_alert"):
        # Accepted: finish the referral to see where the case goes.
        await send_text(h, ramesh, "Please take this one")
    case = await load_case(h, world.case_id)
    jmwu = h.groups["id-migrant-union"]
    posted = [m for m in await h.tg.transcript(jmwu) if world.code in shown(m)]
    assert (case.status, case.owner_person_id) == ("claimed", "ramesh"), case.status
    assert posted == [], "the case was posted to an organisation outside its corridor"
    expect_stale(answer, "en")
    assert env.errors[errors:] == []


async def test_an_override_to_an_organisation_off_the_corridor_is_refused(env: Env) -> None:
    """Sita coordinates NP-QA; /override may skip the reporter's consent, but not send the
    case to an organisation that does not serve its corridor (Dewi's union in Jakarta)."""
    h = env.h
    sita = h.staff["sita"]
    world = await build_world(env, WorldSpec())
    said = await send_text(h, sita, f"/override {world.code} id-migrant-union life at risk")
    case = await load_case(h, world.case_id)
    jmwu = h.groups["id-migrant-union"]
    posted = [m for m in await h.tg.transcript(jmwu) if world.code in shown(m)]
    assert (case.status, case.owner_person_id) == ("claimed", "ramesh"), texts(said)
    assert posted == [], "the case was posted to an organisation outside its corridor"
    assert tr("en", REFERRED, code=world.code, org=ORG_NAMES["id-migrant-union"]) not in texts(said)


async def test_no_reporter_text_reached_a_group(env: Env) -> None:
    assert await env.h.leaks_into_groups() == []
