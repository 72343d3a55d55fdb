"""The guided report: buttons first, every step with Back and Cancel, optional steps with
Skip, a summary before anything is sent. The draft lives in FSM storage (database or
Redis), so a restart or a weak connection loses nothing already answered."""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiogram import F
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import labels
from bot.domain import cases as case_domain
from bot.domain.context import Domain
from bot.domain.followups import reporter_country
from bot.domain.people import Role
from bot.domain.places import (
    AREAS,
    MoneyError,
    country_name,
    currency_of,
    parse_money,
    parse_phone,
    timezone_of,
)
from bot.i18n import N_, _, current_language
from bot.taxonomy import (
    CATEGORIES,
    CONSENT_TEXTS,
    CONTACT_LABELS,
    LAST_CONTACT_LABELS,
    REPORTER_ROLES,
    SINCE_LABELS,
    ConsentPurpose,
)
from bot.views.buttons import Menu, Nav, Step
from handlers.blueprint import Blueprint
from handlers.common import media_content, menu_keyboard
from models import Corridor

router = Blueprint("intake")
router.message.filter(F.chat.type == "private")
router.callback_query.filter(F.message.chat.type == "private")

MAX_DESCRIPTION = 20_000
MAX_ATTACHMENTS = 30


class Report(StatesGroup):
    filling = State()


async def broken_draft_guard(handler, event, data):  # type: ignore[no-untyped-def]
    """A draft without its step (cleared half-way by another command, or from an older
    version) is not guessed at: the reporter is told and starts again."""
    if data.get("raw_state") == Report.filling.state:
        draft = await data["state"].get_data()
        if "step" not in draft or "answers" not in draft:
            await data["state"].clear()
            text = _("Your unfinished report could not be restored. Please start again.")
            message = event.message if isinstance(event, CallbackQuery) else event
            if isinstance(event, CallbackQuery):
                await event.answer()
            await message.answer(text, reply_markup=menu_keyboard(data.get("language", "en")))
            return None
    return await handler(event, data)


router.message.middleware(broken_draft_guard)
router.callback_query.middleware(broken_draft_guard)


Options = Callable[[dict[str, Any], list[Corridor]], list[tuple[str, str]]]


@dataclass(frozen=True)
class StepSpec:
    name: str
    kind: str  # choice | multi | text | media | summary
    question: str
    optional: bool = False
    options: Options | None = None
    when: Callable[[dict[str, Any]], bool] = lambda answers: True


def _static(pairs: list[tuple[str, str]]) -> Options:
    return lambda answers, corridors: pairs


def _destinations(answers: dict[str, Any], corridors: list[Corridor]) -> list[tuple[str, str]]:
    codes = sorted({c.destination for c in corridors})
    return [(code, country_name(code)) for code in codes]


def _origins(answers: dict[str, Any], corridors: list[Corridor]) -> list[tuple[str, str]]:
    codes = sorted({c.origin for c in corridors if c.destination == answers.get("destination")})
    return [(code, country_name(code)) for code in codes]


def _areas(answers: dict[str, Any], corridors: list[Corridor]) -> list[tuple[str, str]]:
    options = [(area, area) for area in AREAS.get(answers.get("destination", ""), ())]
    return [*options, ("home", N_("Back in my home country"))]


def _last_place(answers: dict[str, Any], corridors: list[Corridor]) -> list[tuple[str, str]]:
    return [(area, area) for area in AREAS.get(answers.get("destination", ""), ())]


YES_NO = [("yes", N_("Yes")), ("no", N_("No"))]
RELATIONSHIPS = [
    ("spouse", N_("Husband or wife")),
    ("parent", N_("Parent")),
    ("child", N_("Son or daughter")),
    ("sibling", N_("Brother or sister")),
    ("other", N_("Other relative or friend")),
]
SINCE = list(SINCE_LABELS.items())
WORKERS = [("1", N_("Only one")), ("2-5", "2–5"), ("6-20", "6–20"), ("21+", N_("More than 20"))]
CONTACT = list(CONTACT_LABELS.items())
SAFE_HOURS = [
    ("any", N_("Any time")),
    ("6-12", N_("Morning (6–12)")),
    ("12-18", N_("Afternoon (12–18)")),
    ("18-22", N_("Evening (18–22)")),
    ("22-6", N_("Night (22–6)")),
]
LAST_CONTACT = list(LAST_CONTACT_LABELS.items())
WORKER_COUNTS = {"1": 1, "2-5": 3, "6-20": 10, "21+": 21}


def _is_proxy(answers: dict[str, Any]) -> bool:
    return answers.get("role") in ("family", "advocate")


def _needs_phone(answers: dict[str, Any]) -> bool:
    return answers.get("contact") in ("phone", "family")


# Every flow ends the same way: when to call, the three consents, the summary.
CLOSING_STEPS = [
    StepSpec(
        "safe_hours", "choice", N_("When is it safe to contact you?"), options=_static(SAFE_HOURS)
    ),
    StepSpec(
        "consent_destination_help",
        "choice",
        CONSENT_TEXTS[ConsentPurpose.DESTINATION_HELP],
        options=_static(YES_NO),
    ),
    StepSpec(
        "consent_origin_help",
        "choice",
        CONSENT_TEXTS[ConsentPurpose.ORIGIN_HELP],
        options=_static(YES_NO),
    ),
    StepSpec(
        "consent_statistics",
        "choice",
        CONSENT_TEXTS[ConsentPurpose.STATISTICS],
        options=_static(YES_NO),
    ),
    StepSpec("summary", "summary", N_("Please check your report:")),
]

REPORT_STEPS = [
    StepSpec(
        "role", "choice", N_("Who is reporting?"), options=_static(list(REPORTER_ROLES.items()))
    ),
    StepSpec(
        "relationship",
        "choice",
        N_("How are you related to the worker?"),
        options=_static(RELATIONSHIPS),
        when=lambda a: a.get("role") == "family",
    ),
    StepSpec(
        "destination",
        "choice",
        N_("In which country is the worker working?"),
        options=_destinations,
    ),
    StepSpec("origin", "choice", N_("Which country is the worker from?"), options=_origins),
    StepSpec(
        "area",
        "choice",
        N_("Where is the worker now? (a rough area is enough)"),
        optional=True,
        options=_areas,
    ),
    StepSpec(
        "categories",
        "multi",
        N_("What happened? Choose all that apply, then press Done."),
        options=_static([(code, label) for code, label in CATEGORIES.items() if code != "MISS"]),
    ),
    StepSpec("since", "choice", N_("Since when?"), optional=True, options=_static(SINCE)),
    StepSpec("danger", "choice", N_("Is anyone in danger right now?"), options=_static(YES_NO)),
    StepSpec(
        "workers",
        "choice",
        N_("How many workers are affected? (or type a number)"),
        optional=True,
        options=_static(WORKERS),
    ),
    StepSpec("employer", "text", N_("Name of the employer or company? (optional)"), optional=True),
    StepSpec("agency", "text", N_("Name of the recruitment agency? (optional)"), optional=True),
    StepSpec(
        "wages",
        "text",
        N_("How much pay is owed? Write the amount, for example 1200 or 1200 QAR."),
        optional=True,
        when=lambda a: "WAGE" in a.get("categories", []),
    ),
    StepSpec(
        "worker_name", "text", N_("What is the worker's name?"), optional=True, when=_is_proxy
    ),
    StepSpec(
        "description",
        "media",
        N_(
            "Tell us what happened in your own words. You can also send photos, voice notes, documents or your location. Press Done when finished."
        ),
        optional=True,
    ),
    StepSpec(
        "contact", "choice", N_("How can a helper safely contact you?"), options=_static(CONTACT)
    ),
    StepSpec(
        "phone",
        "text",
        N_("Which phone number? Include the country code, for example +974 3312 3456."),
        when=_needs_phone,
    ),
    *CLOSING_STEPS,
]

MISSING_STEPS = [
    StepSpec(
        "relationship",
        "choice",
        N_("How are you related to the missing worker?"),
        options=_static(RELATIONSHIPS),
    ),
    StepSpec(
        "destination",
        "choice",
        N_("In which country was the worker working?"),
        options=_destinations,
    ),
    StepSpec("origin", "choice", N_("Which country is the worker from?"), options=_origins),
    StepSpec("worker_name", "text", N_("What is the missing worker's full name?")),
    StepSpec(
        "last_contact",
        "choice",
        N_("When did you last hear from them?"),
        options=_static(LAST_CONTACT),
    ),
    StepSpec(
        "area",
        "choice",
        N_("Where were they when you last heard from them?"),
        optional=True,
        options=_last_place,
    ),
    StepSpec("employer", "text", N_("Name of the employer or company? (optional)"), optional=True),
    StepSpec("agency", "text", N_("Name of the recruitment agency? (optional)"), optional=True),
    StepSpec(
        "phones_tried", "text", N_("Which phone numbers have you tried? (optional)"), optional=True
    ),
    StepSpec(
        "description",
        "media",
        N_(
            "Send a photo of the worker if you have one, and anything else that may help. Press Done when finished."
        ),
        optional=True,
    ),
    StepSpec(
        "contact",
        "choice",
        N_("How can a helper safely contact you?"),
        options=_static(CONTACT[:2]),
    ),
    StepSpec(
        "phone",
        "text",
        N_("Which phone number? Include the country code, for example +977 984 123 4567."),
        when=_needs_phone,
    ),
    *CLOSING_STEPS,
]
FLOWS = {"report": REPORT_STEPS, "missing": MISSING_STEPS}


def _steps(data: dict[str, Any]) -> list[StepSpec]:
    return FLOWS[data.get("flow", "report")]


def _spec(data: dict[str, Any], name: str) -> StepSpec:
    return next(s for s in _steps(data) if s.name == name)


def _next_step(data: dict[str, Any], after: str | None) -> StepSpec:
    steps = _steps(data)
    index = 0 if after is None else [s.name for s in steps].index(after) + 1
    for spec in steps[index:]:
        if spec.when(data["answers"]):
            return spec
    return steps[-1]


async def _corridors(session: AsyncSession) -> list[Corridor]:
    return list(
        await session.scalars(
            select(Corridor).where(Corridor.active.is_(True)).order_by(Corridor.code)
        )
    )


def _nav_row(spec: StepSpec, first: bool) -> list[InlineKeyboardButton]:
    row = []
    if not first:
        row.append(
            InlineKeyboardButton(
                text=_("⬅ Back"), callback_data=Nav(action="back", step=spec.name).pack()
            )
        )
    if spec.optional:
        row.append(
            InlineKeyboardButton(
                text=_("Skip"), callback_data=Nav(action="skip", step=spec.name).pack()
            )
        )
    row.append(
        InlineKeyboardButton(
            text=_("✖ Cancel"), callback_data=Nav(action="cancel", step=spec.name).pack()
        )
    )
    return row


def _label(text: str) -> str:
    return _(text) if text else text


async def ask(
    message: Message, session: AsyncSession, data: dict[str, Any], *, note: str | None = None
) -> None:
    spec = _spec(data, data["step"])
    answers = data["answers"]
    rows: list[list[InlineKeyboardButton]] = []
    text = _(spec.question)
    if spec.kind in ("choice", "multi"):
        chosen = set(answers.get(spec.name, [])) if spec.kind == "multi" else set()
        for value, label in spec.options(answers, await _corridors(session)):  # type: ignore[misc]
            mark = "✅ " if value in chosen else ""
            rows.append(
                [
                    InlineKeyboardButton(
                        text=mark + _label(label),
                        callback_data=Step(field=spec.name, value=value).pack(),
                    )
                ]
            )
        if spec.kind == "multi":
            rows.append(
                [
                    InlineKeyboardButton(
                        text=_("Done ✔"), callback_data=Nav(action="done", step=spec.name).pack()
                    )
                ]
            )
    elif spec.kind == "media":
        count = len(data.get("attachments", [])) + (1 if answers.get("description") else 0)
        if count:
            text += "\n" + _("Received so far: {n}", n=count)
        rows.append(
            [
                InlineKeyboardButton(
                    text=_("Done ✔"), callback_data=Nav(action="done", step=spec.name).pack()
                )
            ]
        )
    elif spec.kind == "summary":
        text += "\n\n" + summary_text(data)
        rows.append(
            [
                InlineKeyboardButton(
                    text=_("📨 Send report"),
                    callback_data=Nav(action="submit", step=spec.name).pack(),
                )
            ]
        )
    if spec.name.startswith("consent_"):
        text = _("May we do this?") + "\n\n" + text
    rows.append(_nav_row(spec, first=not data.get("history")))
    if note:
        text = note + "\n\n" + text
    await message.answer(
        text,
        reply_markup=InlineKeyboardMarkup(inline_keyboard=rows),
        parse_mode="HTML" if spec.kind == "summary" else None,
    )


def summary_text(data: dict[str, Any]) -> str:
    """Short labels and ticks only: sensitive answers are never echoed back on screen."""
    a = data["answers"]
    given = _("given ✓")
    lines = []
    if data.get("flow") == "missing":
        lines.append(_("Report: missing person"))
    else:
        lines.append(_("Reported by: {who}", who=_(REPORTER_ROLES.get(a.get("role", "self"), ""))))
    lines.append(
        _(
            "Where: {place}",
            place=html.escape(
                f"{country_name(a.get('destination', ''))} ← {country_name(a.get('origin', ''))}"
            ),
        )
    )
    if a.get("categories"):
        lines.append(
            _(
                "What happened: {categories}",
                categories=html.escape(labels.categories(a["categories"], current_language.get())),
            )
        )
    if "danger" in a:
        lines.append(
            _("In danger now: {answer}", answer=_("Yes") if a["danger"] == "yes" else _("No"))
        )
    for key, label in (
        ("employer", N_("Employer")),
        ("agency", N_("Agency")),
        ("wages", N_("Wages owed")),
        ("worker_name", N_("Worker's name")),
        ("phones_tried", N_("Phones tried")),
        ("phone", N_("Phone")),
    ):
        if a.get(key):
            lines.append(f"{_(label)}: {given}")
    pieces = len(data.get("attachments", [])) + (1 if a.get("description") else 0)
    lines.append(_("Description and files: {n}", n=pieces))
    ticks = {"yes": "✓", "no": "✗"}
    lines.append(
        _(
            "Consent: destination {d} · home country {o} · statistics {s}",
            d=ticks.get(a.get("consent_destination_help"), "?"),
            o=ticks.get(a.get("consent_origin_help"), "?"),
            s=ticks.get(a.get("consent_statistics"), "?"),
        )
    )
    return "\n".join(lines)


async def begin(
    message: Message, state: FSMContext, session: AsyncSession, language: str, flow: str
) -> None:
    data: dict[str, Any] = {
        "flow": flow,
        "answers": {},
        "history": [],
        "attachments": [],
        "language": language,
    }
    if flow == "missing":
        data["answers"].update(role="family", categories=["MISS"])
    data["step"] = _next_step(data, None).name
    await state.set_state(Report.filling)
    await state.set_data(data)
    await ask(message, session, data)


@router.callback_query(Menu.filter(F.action.in_({"report", "missing"})))
async def start_from_menu(
    query: CallbackQuery,
    callback_data: Menu,
    state: FSMContext,
    session: AsyncSession,
    language: str,
) -> None:
    await query.answer()
    await begin(query.message, state, session, language, callback_data.action)


@router.callback_query(F.data == "nav:resume", StateFilter(Report.filling))
async def resume(query: CallbackQuery, state: FSMContext, session: AsyncSession) -> None:
    await query.answer()
    await ask(query.message, session, await state.get_data())


@router.callback_query(F.data == "nav:restart")
async def restart(
    query: CallbackQuery, state: FSMContext, session: AsyncSession, language: str
) -> None:
    await query.answer()
    flow = (await state.get_data()).get("flow", "report")
    await state.clear()
    await begin(query.message, state, session, language, flow)


async def advance(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    data: dict[str, Any],
    *,
    note: str | None = None,
) -> None:
    data["history"] = [*data.get("history", []), data["step"]]
    data["step"] = _next_step(data, data["step"]).name
    await state.set_data(data)
    await ask(message, session, data, note=note)


@router.callback_query(StateFilter(Report.filling), Step.filter())
async def on_choice(
    query: CallbackQuery, callback_data: Step, state: FSMContext, session: AsyncSession
) -> None:
    data = await state.get_data()
    spec = _spec(data, data["step"])
    if callback_data.field != spec.name or spec.kind not in ("choice", "multi"):
        await query.answer(_("That button belongs to an earlier question."))
        await ask(query.message, session, data)
        return
    valid = {value for value, _label in spec.options(data["answers"], await _corridors(session))}  # type: ignore[misc]
    if callback_data.value not in valid:
        await query.answer(_("That choice is not available."), show_alert=True)
        return
    await query.answer()
    if spec.kind == "multi":
        chosen = list(data["answers"].get(spec.name, []))
        if callback_data.value in chosen:
            chosen.remove(callback_data.value)
        else:
            chosen.append(callback_data.value)
        data["answers"][spec.name] = chosen
        await state.set_data(data)
        await query.message.edit_reply_markup(reply_markup=await _multi_markup(session, data, spec))
        return
    data["answers"][spec.name] = callback_data.value
    if spec.name == "destination":
        # A new destination invalidates the origin and area chosen for the old one.
        data["answers"].pop("origin", None)
        data["answers"].pop("area", None)
    await query.message.edit_reply_markup(reply_markup=None)
    await advance(query.message, state, session, data)


async def _multi_markup(
    session: AsyncSession, data: dict[str, Any], spec: StepSpec
) -> InlineKeyboardMarkup:
    chosen = set(data["answers"].get(spec.name, []))
    rows = [
        [
            InlineKeyboardButton(
                text=("✅ " if value in chosen else "") + _label(label),
                callback_data=Step(field=spec.name, value=value).pack(),
            )
        ]
        for value, label in spec.options(data["answers"], await _corridors(session))  # type: ignore[misc]
    ]
    rows.append(
        [
            InlineKeyboardButton(
                text=_("Done ✔"), callback_data=Nav(action="done", step=spec.name).pack()
            )
        ]
    )
    rows.append(_nav_row(spec, first=not data.get("history")))
    return InlineKeyboardMarkup(inline_keyboard=rows)


@router.callback_query(StateFilter(Report.filling), Nav.filter())
async def on_nav(
    query: CallbackQuery,
    callback_data: Nav,
    state: FSMContext,
    session: AsyncSession,
    domain: Domain,
    role: Role,
    language: str,
) -> None:
    data = await state.get_data()
    spec = _spec(data, data["step"])
    action = callback_data.action
    if action != "cancel" and callback_data.step != spec.name:
        # A Skip or Done from an earlier question must not act on the current one.
        await query.answer(_("That button belongs to an earlier question."))
        await ask(query.message, session, data)
        return
    if action == "cancel":
        await query.answer()
        await state.clear()
        await query.message.edit_reply_markup(reply_markup=None)
        await query.message.answer(
            _("Report cancelled. Nothing was sent."), reply_markup=menu_keyboard(language)
        )
        return
    if action == "back":
        await query.answer()
        history = list(data.get("history", []))
        if history:
            data["step"] = history.pop()
            data["history"] = history
            await state.set_data(data)
        await ask(query.message, session, data)
        return
    if action == "skip" and spec.optional:
        await query.answer()
        data["answers"].pop(spec.name, None)
        await advance(query.message, state, session, data)
        return
    if action == "done" and spec.kind == "multi":
        if not data["answers"].get(spec.name):
            await query.answer(_("Choose at least one, or pick “Something else”."), show_alert=True)
            return
        await query.answer()
        await advance(query.message, state, session, data)
        return
    if action == "done" and spec.kind == "media":
        await query.answer()
        await advance(query.message, state, session, data)
        return
    if action == "submit" and spec.kind == "summary":
        await query.answer()
        await submit(query, state, session, domain, role, data, language)
        return
    await query.answer(_("That button belongs to an earlier question."))
    await ask(query.message, session, data)


def _validate_text(spec: StepSpec, text: str, answers: dict[str, Any]) -> tuple[Any, str | None]:
    """(value, None) when valid, (None, problem) otherwise."""
    text = text.strip()
    if spec.name == "phone":
        regions = tuple(r for r in (answers.get("destination"), answers.get("origin")) if r)
        phone = parse_phone(text, regions)
        return (
            (phone, None)
            if phone
            else (
                None,
                _(
                    "That does not look like a valid phone number. Please include the country code, for example +974 3312 3456."
                ),
            )
        )
    if spec.name == "wages":
        try:
            minor, currency = parse_money(text, currency_of(answers.get("destination", "")))
        except MoneyError:
            return None, _("Please write only the amount, for example 1200 or 1200 QAR.")
        return {"minor": minor, "currency": currency}, None
    if len(text) > 500:
        return None, _(
            "Please keep this short (under 500 characters). You can add details in the description."
        )
    return text, None


@router.message(StateFilter(Report.filling), F.text & ~F.text.startswith("/"))
async def on_text(message: Message, state: FSMContext, session: AsyncSession) -> None:
    data = await state.get_data()
    spec = _spec(data, data["step"])
    answers = data["answers"]
    if spec.kind == "media":
        current = answers.get("description", "")
        combined = (current + "\n" + message.text).strip() if current else message.text
        if len(combined) > MAX_DESCRIPTION:
            await message.answer(
                _(
                    "Your description is very long; I kept the first {n} characters. Press Done to continue.",
                    n=MAX_DESCRIPTION,
                )
            )
            combined = combined[:MAX_DESCRIPTION]
        answers["description"] = combined
        await state.set_data(data)
        await message.answer(
            _("Added. Send more, or press Done."),
            reply_markup=InlineKeyboardMarkup(
                inline_keyboard=[
                    [
                        InlineKeyboardButton(
                            text=_("Done ✔"),
                            callback_data=Nav(action="done", step=spec.name).pack(),
                        )
                    ]
                ]
            ),
        )
        return
    if spec.kind == "text":
        value, problem = _validate_text(spec, message.text, answers)
        if problem:
            await ask(message, session, data, note=problem)
            return
        answers[spec.name] = value
        await advance(message, state, session, data)
        return
    if spec.kind == "choice":
        options = spec.options(answers, await _corridors(session))  # type: ignore[misc]
        typed = message.text.strip().casefold()
        match = next(
            (v for v, label in options if typed in (v.casefold(), _label(label).casefold())), None
        )
        if spec.name == "workers" and typed.isdigit() and 0 < int(typed) < 100_000:
            answers["workers"] = typed
            await advance(message, state, session, data)
            return
        if match is not None:
            answers[spec.name] = match
            await advance(message, state, session, data)
            return
    await ask(message, session, data, note=_("Please choose one of the buttons below."))


# Telegram sends a GIF as both `animation` and `document`; it is not evidence we can use.
@router.message(
    StateFilter(Report.filling), ~F.animation, F.photo | F.voice | F.document | F.video | F.location
)
async def on_media(message: Message, state: FSMContext, session: AsyncSession) -> None:
    """Files are kept whatever the step: a frightened reporter may send a photo at any time."""
    data = await state.get_data()
    attachments = list(data.get("attachments", []))
    item = media_content(message)
    if len(attachments) >= MAX_ATTACHMENTS:
        await message.answer(
            _(
                "That is the most files one report can hold. You can send more after it is submitted."
            )
        )
        return
    attachments.append(list(item))  # type: ignore[arg-type]
    data["attachments"] = attachments
    await state.set_data(data)
    spec = _spec(data, data["step"])
    if spec.kind == "media":
        # Albums arrive as several messages; one short acknowledgement per file is enough.
        await message.answer(
            _("Received ({n}). Send more, or press Done.", n=len(attachments)),
            reply_markup=InlineKeyboardMarkup(
                inline_keyboard=[
                    [
                        InlineKeyboardButton(
                            text=_("Done ✔"),
                            callback_data=Nav(action="done", step=spec.name).pack(),
                        )
                    ]
                ]
            ),
        )
    else:
        await ask(message, session, data, note=_("Thank you, I added this to your report."))


@router.message(StateFilter(Report.filling), ~F.text)
async def on_unsupported(message: Message, state: FSMContext, session: AsyncSession) -> None:
    await ask(
        message,
        session,
        await state.get_data(),
        note=_("I can only use text, photos, voice notes, documents and locations here."),
    )


def build_report(data: dict[str, Any], language: str) -> case_domain.Report:
    a = data["answers"]
    details: dict[str, str] = {}
    if data.get("flow") == "missing":
        details["last_contact"] = a.get("last_contact", "")
        if a.get("phones_tried"):
            details["phones_tried"] = a["phones_tried"]
    wages = a.get("wages") or {}
    attachments = [
        (kind, file_id, text)
        for kind, file_id, text in data.get("attachments", [])
        if kind != "location"
    ]
    locations = [text for kind, _file, text in data.get("attachments", []) if kind == "location"]
    area = a.get("area")
    workers = a.get("workers", "1")
    return case_domain.Report(
        reporter_role=a.get("role", "self"),
        relationship=a.get("relationship"),
        destination_country=a["destination"],
        origin_country=a["origin"],
        area=None if area == "home" else area,
        worker_location="origin" if area == "home" else "destination",
        categories=a.get("categories", ["OTHR"]),
        since=a.get("since"),
        in_danger=a.get("danger") == "yes",
        workers_affected=WORKER_COUNTS.get(workers, int(workers) if str(workers).isdigit() else 1),
        employer=a.get("employer"),
        agency=a.get("agency"),
        wage_owed_minor=wages.get("minor"),
        wage_currency=wages.get("currency"),
        description=a.get("description"),
        worker_name=a.get("worker_name"),
        contact_method=a.get("contact", "chat"),
        contact_phone=a.get("phone"),
        precise_location=locations[-1] if locations else None,
        details=details,
        attachments=attachments,
        language=language,
        consents={p.value: a.get(f"consent_{p.value}") == "yes" for p in ConsentPurpose},
    )


SAFE_HOUR_RANGES = {"6-12": (6, 12), "12-18": (12, 18), "18-22": (18, 22), "22-6": (22, 6)}


async def submit(
    query: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    domain: Domain,
    role: Role,
    data: dict[str, Any],
    language: str,
) -> None:
    report = build_report(data, language)
    reporter = role.reporter or await case_domain.reporter_for(
        session, domain, query.from_user.id, query.message.chat.id, language
    )
    hours = SAFE_HOUR_RANGES.get(data["answers"].get("safe_hours", "any"))
    reporter.safe_hours_start, reporter.safe_hours_end = hours if hours else (None, None)
    reporter.timezone = timezone_of(
        reporter_country(
            report.reporter_role,
            report.worker_location,
            report.origin_country,
            report.destination_country,
        )
    )
    try:
        case = await case_domain.submit_report(session, domain, reporter, report)
    except case_domain.IntakeError as error:
        if error.reason == "no_consent":
            await query.message.answer(
                _(
                    "Without your agreement to share the report with helpers in at least one country, nobody can help. "
                    "Press Back to change your answer, or /help for contacts you can call yourself."
                )
            )
        elif error.reason == "too_many_cases":
            await query.message.answer(
                _(
                    "You have opened many cases today. Please write in your open case instead; /status shows them."
                )
            )
        else:
            await query.message.answer(
                _("This corridor is not served yet. /help lists contacts you can call.")
            )
        return
    await state.clear()
    await query.message.edit_reply_markup(reply_markup=None)
    handover = ""
    if report.reporter_role in ("family", "advocate"):
        token = await case_domain.issue_handover_code(session, domain, case)
        handover = "\n\n" + _(
            "If the worker can use Telegram, give them this code. They send /join {token} to this bot to follow the case themselves.",
            token=token,
        )
    await query.message.answer(
        _(
            "✅ Your report is registered. Your case code is {code}.\n\n"
            "Trusted helpers are being told now. When one of them takes your case, you will get a message here. "
            "You can write here at any time: your messages are added to your case.\n\n/status shows your cases.",
            code=case.code,
        )
        + handover,
        protect_content=True,
    )
