"""The guided report as rules, without Telegram: which question comes next, what an answer
means, what is refused and why, and the report it all becomes.

A draft is plain data (kept in FSM storage, the database or Redis, so a restart or a weak
connection loses nothing already answered). Every function here takes a draft and an
input and returns an ``Outcome`` that says what happened; the handlers hand that to the
view (``bot.views.intake``), which knows the words and the buttons."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import cases as case_domain
from bot.domain.context import Domain
from bot.domain.followups import reporter_country
from bot.domain.places import (
    AREAS,
    MoneyError,
    country_name,
    currency_of,
    parse_money,
    parse_phone,
    timezone_of,
)
from bot.i18n import N_
from bot.taxonomy import (
    CATEGORIES,
    CONSENT_TEXTS,
    CONTACT_LABELS,
    LAST_CONTACT_LABELS,
    REPORTER_ROLES,
    SINCE_LABELS,
    ConsentPurpose,
)
from models import Case, Corridor, Reporter

MAX_DESCRIPTION = 20_000
MAX_ATTACHMENTS = 30
MAX_SHORT_ANSWER = 500
MAX_WORKERS = 100_000

Choices = list[tuple[str, str]]  # (value, label msgid or a place name)
Options = Callable[[dict[str, Any], list[Corridor]], Choices]
Kind = Literal["choice", "multi", "text", "media", "summary"]


@dataclass(frozen=True)
class StepSpec:
    name: str
    kind: Kind
    question: str
    optional: bool = False
    options: Options | None = None
    when: Callable[[dict[str, Any]], bool] = lambda answers: True


def _static(pairs: Choices) -> Options:
    return lambda answers, corridors: pairs


def _destinations(answers: dict[str, Any], corridors: list[Corridor]) -> Choices:
    return [(code, country_name(code)) for code in sorted({c.destination for c in corridors})]


def _origins(answers: dict[str, Any], corridors: list[Corridor]) -> Choices:
    destination = answers.get("destination")
    codes = sorted({c.origin for c in corridors if c.destination == destination})
    return [(code, country_name(code)) for code in codes]


def _areas(answers: dict[str, Any], corridors: list[Corridor]) -> Choices:
    options = [(area, area) for area in AREAS.get(answers.get("destination", ""), ())]
    return [*options, ("home", N_("Back in my home country"))]


def _last_place(answers: dict[str, Any], corridors: list[Corridor]) -> Choices:
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
# A range answered with a button counts as a typical number inside it.
WORKER_COUNTS = {"1": 1, "2-5": 3, "6-20": 10, "21+": 21}
SAFE_HOUR_RANGES = {"6-12": (6, 12), "12-18": (12, 18), "18-22": (18, 22), "22-6": (22, 6)}


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


@dataclass
class Draft:
    """One unfinished report. ``history`` is the questions already shown, for Back."""

    flow: str
    step: str
    answers: dict[str, Any] = field(default_factory=dict)
    history: list[str] = field(default_factory=list)
    attachments: list[list[Any]] = field(default_factory=list)
    language: str = "en"

    @classmethod
    def restore(cls, data: dict[str, Any]) -> Draft | None:
        """None for a draft that cannot be continued: cleared half-way by another command,
        written by an older version, or naming a question its flow does not have."""
        flow = data.get("flow", "report")
        if flow not in FLOWS or "step" not in data or not isinstance(data.get("answers"), dict):
            return None
        if data["step"] not in {spec.name for spec in FLOWS[flow]}:
            return None
        return cls(
            flow=flow,
            step=data["step"],
            answers=dict(data["answers"]),
            history=list(data.get("history", [])),
            attachments=[list(item) for item in data.get("attachments", [])],
            language=data.get("language", "en"),
        )

    def stored(self) -> dict[str, Any]:
        return {
            "flow": self.flow,
            "step": self.step,
            "answers": self.answers,
            "history": self.history,
            "attachments": self.attachments,
            "language": self.language,
        }

    @property
    def steps(self) -> list[StepSpec]:
        return FLOWS[self.flow]

    @property
    def spec(self) -> StepSpec:
        return next(s for s in self.steps if s.name == self.step)

    @property
    def is_first(self) -> bool:
        return not self.history

    @property
    def pieces(self) -> int:
        """Files plus the written description, as the reporter counts what they sent."""
        return len(self.attachments) + (1 if self.answers.get("description") else 0)


Result = Literal[
    "ask",  # show the current question (again), with ``problem`` as a note if set
    "next",  # the answer was taken: close the old question, ask the current one
    "toggled",  # a multiple choice changed: redraw its buttons in place
    "stale",  # a button of an earlier question: say so, ask the current one
    "unavailable",  # not a choice this question offers
    "need_one",  # Done on a multiple choice with nothing chosen
    "cancelled",
    "described",  # text added to the description; ``problem`` "truncated" if cut
    "file_added",  # a file kept; ``count`` files so far
    "too_many_files",
    "submit",  # the reporter pressed Send: build and submit the report
]


@dataclass(frozen=True)
class Outcome:
    result: Result
    problem: str | None = None  # a code the view turns into words
    count: int = 0


async def active_corridors(session: AsyncSession) -> list[Corridor]:
    return list(
        await session.scalars(
            select(Corridor).where(Corridor.active.is_(True)).order_by(Corridor.code)
        )
    )


def next_step(draft: Draft, after: str | None) -> StepSpec:
    steps = draft.steps
    index = 0 if after is None else [s.name for s in steps].index(after) + 1
    for spec in steps[index:]:
        if spec.when(draft.answers):
            return spec
    return steps[-1]


def start(flow: str, language: str) -> Draft:
    draft = Draft(flow=flow, step="", language=language)
    if flow == "missing":
        draft.answers.update(role="family", categories=["MISS"])
    draft.step = next_step(draft, None).name
    return draft


def choices(draft: Draft, corridors: list[Corridor]) -> Choices:
    spec = draft.spec
    return spec.options(draft.answers, corridors) if spec.options else []


def _advance(draft: Draft) -> Outcome:
    draft.history = [*draft.history, draft.step]
    draft.step = next_step(draft, draft.step).name
    return Outcome("next")


def choose(draft: Draft, question: str, value: str, corridors: list[Corridor]) -> Outcome:
    """A button of a choice or multiple-choice question was pressed."""
    spec = draft.spec
    if question != spec.name or spec.kind not in ("choice", "multi"):
        return Outcome("stale")
    if value not in {v for v, _label in choices(draft, corridors)}:
        return Outcome("unavailable")
    if spec.kind == "multi":
        chosen = list(draft.answers.get(spec.name, []))
        if value in chosen:
            chosen.remove(value)
        else:
            chosen.append(value)
        draft.answers[spec.name] = chosen
        return Outcome("toggled")
    draft.answers[spec.name] = value
    if spec.name == "destination":
        # A new destination invalidates the origin and area chosen for the old one.
        draft.answers.pop("origin", None)
        draft.answers.pop("area", None)
    return _advance(draft)


def navigate(draft: Draft, action: str, question: str) -> Outcome:
    """Back, Skip, Done, Send or Cancel; ``question`` is the one the button belongs to."""
    spec = draft.spec
    if action == "cancel":
        return Outcome("cancelled")
    if question != spec.name:
        # A Skip or Done from an earlier question must not act on the current one.
        return Outcome("stale")
    if action == "back":
        if draft.history:
            draft.step = draft.history[-1]
            draft.history = draft.history[:-1]
        return Outcome("ask")
    if action == "skip" and spec.optional:
        draft.answers.pop(spec.name, None)
        return _advance(draft)
    if action == "done" and spec.kind == "multi":
        if not draft.answers.get(spec.name):
            return Outcome("need_one")
        return _advance(draft)
    if action == "done" and spec.kind == "media":
        return _advance(draft)
    if action == "submit" and spec.kind == "summary":
        return Outcome("submit")
    return Outcome("stale")


def validate_text(spec: StepSpec, text: str, answers: dict[str, Any]) -> tuple[Any, str | None]:
    """(value, None) when valid, (None, problem code) otherwise; (None, None) for a blank
    answer to a question that may be left out."""
    text = text.strip()
    if spec.name == "phone":
        regions = tuple(r for r in (answers.get("destination"), answers.get("origin")) if r)
        phone = parse_phone(text, regions)
        return (phone, None) if phone else (None, "bad_phone")
    if spec.name == "wages":
        try:
            minor, currency = parse_money(text, currency_of(answers.get("destination", "")))
        except MoneyError:
            return None, "bad_amount"
        return {"minor": minor, "currency": currency}, None
    if not text:
        return None, None if spec.optional else "empty"
    if len(text) > MAX_SHORT_ANSWER:
        return None, "too_long"
    return text, None


def type_text(
    draft: Draft, text: str, corridors: list[Corridor], label: Callable[[str], str]
) -> Outcome:
    """Something typed. ``label`` translates a button label, so a choice can be typed in the
    reporter's own words."""
    spec = draft.spec
    answers = draft.answers
    if spec.kind == "media":
        current = answers.get("description", "")
        combined = (current + "\n" + text).strip() if current else text
        truncated = len(combined) > MAX_DESCRIPTION
        answers["description"] = combined[:MAX_DESCRIPTION]
        return Outcome("described", problem="truncated" if truncated else None)
    if spec.kind == "text":
        value, problem = validate_text(spec, text, answers)
        if problem:
            return Outcome("ask", problem=problem)
        if value is None:  # blank, on a question that may be left out
            answers.pop(spec.name, None)
        else:
            answers[spec.name] = value
        return _advance(draft)
    if spec.kind == "choice":
        typed = text.strip().casefold()
        if spec.name == "workers" and typed.isdigit() and 0 < int(typed) < MAX_WORKERS:
            answers["workers"] = typed
            return _advance(draft)
        match = next(
            (
                value
                for value, name in choices(draft, corridors)
                if typed in (value.casefold(), label(name).casefold())
            ),
            None,
        )
        if match is not None:
            return choose(draft, spec.name, match, corridors)
    return Outcome("ask", problem="use_buttons")


def add_file(draft: Draft, item: tuple[str, str | None, str | None]) -> Outcome:
    """Files are kept whatever the question: a frightened reporter may send a photo at any
    time."""
    if len(draft.attachments) >= MAX_ATTACHMENTS:
        return Outcome("too_many_files")
    draft.attachments = [*draft.attachments, list(item)]
    return Outcome("file_added", count=len(draft.attachments))


def workers_affected(answer: str) -> int:
    if answer in WORKER_COUNTS:
        return WORKER_COUNTS[answer]
    return int(answer) if answer.isdigit() and 0 < int(answer) < MAX_WORKERS else 1


def build_report(draft: Draft) -> case_domain.Report:
    a = draft.answers
    details: dict[str, str] = {}
    if draft.flow == "missing":
        details["last_contact"] = a.get("last_contact", "")
        if a.get("phones_tried"):
            details["phones_tried"] = a["phones_tried"]
    wages = a.get("wages") or {}
    attachments = [
        (kind, file_id, text) for kind, file_id, text in draft.attachments if kind != "location"
    ]
    locations = [text for kind, _file, text in draft.attachments if kind == "location"]
    area = a.get("area")
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
        workers_affected=workers_affected(str(a.get("workers", "1"))),
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
        language=draft.language,
        consents={p.value: a.get(f"consent_{p.value}") == "yes" for p in ConsentPurpose},
    )


def safe_hours(draft: Draft) -> tuple[int, int] | tuple[None, None]:
    return SAFE_HOUR_RANGES.get(draft.answers.get("safe_hours", "any"), (None, None))


async def submit(session: AsyncSession, domain: Domain, reporter: Reporter, draft: Draft) -> Case:
    """Makes the case. The reporter's safe hours are kept in the reporter's own time zone:
    a relative at home keeps home's evening, whatever the worker's country.

    Raises ``case_domain.IntakeError`` when the report cannot become a case."""
    report = build_report(draft)
    reporter.safe_hours_start, reporter.safe_hours_end = safe_hours(draft)
    reporter.timezone = timezone_of(
        reporter_country(
            report.reporter_role,
            report.worker_location,
            report.origin_country,
            report.destination_country,
        )
    )
    return await case_domain.submit_report(session, domain, reporter, report)
