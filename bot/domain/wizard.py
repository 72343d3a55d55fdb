"""The guided report as rules, without Telegram: which question comes next, what an answer
means, what is refused and why, and the report it all becomes.

A draft is plain data (kept in FSM storage, the database or Redis, so a restart or a weak
connection loses nothing already answered). Every function here takes a draft and an
input and returns an ``Outcome`` that says what happened; the handlers hand that to the
view (``bot.views.intake``), which knows the words and the buttons."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import cases as case_domain
from bot.domain.context import Domain
from bot.domain.directory import CorridorRow
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
    GENDERS,
    LAST_CONTACT_LABELS,
    REPORTER_ROLES,
    SECTORS,
    SINCE_LABELS,
    ConsentPurpose,
)
from models import Case, Reporter, SentMessage
from models.prepared import Prepared

MAX_DESCRIPTION = 20_000
MAX_ATTACHMENTS = 30
MAX_SHORT_ANSWER = 500
MAX_WORKERS = 100_000

Choices = list[tuple[str, str]]  # (value, label msgid or a place name)
# The active corridors, as bot.domain.directory keeps them.
Corridors = Sequence[CorridorRow]
Options = Callable[[dict[str, Any], Corridors], Choices]
Kind = Literal["choice", "multi", "text", "media", "summary"]


@dataclass(frozen=True)
class StepSpec:
    name: str
    kind: Kind
    question: str
    optional: bool = False
    options: Options | None = None
    when: Callable[[dict[str, Any]], bool] = lambda answers: True
    # Asked only after "Add details" on the summary: nothing responders must have.
    detail: bool = False
    # Answered without asking when there is only one possible answer (one origin for the
    # chosen destination, one destination in the network).
    inferred: bool = False


def _static(pairs: Choices) -> Options:
    return lambda answers, corridors: pairs


def _destinations(answers: dict[str, Any], corridors: Corridors) -> Choices:
    return [(code, country_name(code)) for code in sorted({c.destination for c in corridors})]


def _worker_countries(answers: dict[str, Any], corridors: Corridors) -> Choices:
    return [*_destinations(answers, corridors), (HOME, N_("Back in my home country"))]


def _origins(answers: dict[str, Any], corridors: Corridors) -> Choices:
    destination = answers.get("destination")
    codes = sorted({c.origin for c in corridors if c.destination == destination})
    return [(code, country_name(code)) for code in codes]


def _areas(answers: dict[str, Any], corridors: Corridors) -> Choices:
    return [(area, area) for area in AREAS.get(answers.get("destination", ""), ())]


HOME = "home"
YES_NO = [("yes", N_("Yes")), ("no", N_("No"))]
RELATIONSHIPS = [
    ("spouse", N_("Husband or wife")),
    ("parent", N_("Parent")),
    ("child", N_("Son or daughter")),
    ("sibling", N_("Brother or sister")),
    ("other", N_("Other relative or friend")),
]
RELATIONSHIP_CODES = {code for code, _label in RELATIONSHIPS}
# One question says both who reports and, for family, how they are related.
REPORTERS = [
    ("self", REPORTER_ROLES["self"]),
    *RELATIONSHIPS,
    ("advocate", REPORTER_ROLES["advocate"]),
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
CONSENT_CHOICES = [("all", N_("Yes to all three")), ("choose", N_("Let me choose one by one"))]
SECTOR_CHOICES = list(SECTORS.items())
GENDER_CHOICES = list(GENDERS.items())
# A range answered with a button counts as a typical number inside it.
WORKER_COUNTS = {"1": 1, "2-5": 3, "6-20": 10, "21+": 21}
SAFE_HOUR_RANGES = {"6-12": (6, 12), "12-18": (12, 18), "18-22": (18, 22), "22-6": (22, 6)}


def _is_proxy(answers: dict[str, Any]) -> bool:
    return answers.get("role") in ("family", "advocate")


def _needs_phone(answers: dict[str, Any]) -> bool:
    return answers.get("contact") in ("phone", "family")


def _reached_in_chat(answers: dict[str, Any]) -> bool:
    return answers.get("contact", "chat") == "chat"


def _worker_home(answers: dict[str, Any]) -> bool:
    return answers.get("location") == "origin"


def _counted(answers: dict[str, Any]) -> bool:
    """Sector and gender serve only the anonymous statistics: not asked without that consent."""
    return answers.get("consent_statistics") == "yes"


def _choosing_consents(answers: dict[str, Any]) -> bool:
    return answers.get("consent") == "choose"


def _consent_step(purpose: ConsentPurpose) -> StepSpec:
    return StepSpec(
        f"consent_{purpose.value}",
        "choice",
        CONSENT_TEXTS[purpose],
        options=_static(YES_NO),
        when=_choosing_consents,
    )


def _reach_steps(phone_question: str) -> list[StepSpec]:
    """How to reach the reporter, then consent: shared by both flows. Safe hours are asked
    at once only when the helper will not write in this chat; for this chat they are a
    detail."""
    return [
        StepSpec("phone", "text", phone_question, when=_needs_phone),
        StepSpec(
            "safe_hours",
            "choice",
            N_("When is it safe to contact you?"),
            options=_static(SAFE_HOURS),
            when=lambda a: not _reached_in_chat(a),
        ),
        StepSpec(
            "consent",
            "choice",
            N_("May we do this?"),
            options=_static(CONSENT_CHOICES),
        ),
        _consent_step(ConsentPurpose.DESTINATION_HELP),
        _consent_step(ConsentPurpose.ORIGIN_HELP),
        _consent_step(ConsentPurpose.STATISTICS),
    ]


# Details any flow may add at the end, for the anonymous statistics and the reporter's hours.
CLOSING_DETAILS = [
    StepSpec(
        "chat_hours",
        "choice",
        N_("When is it safe to contact you?"),
        optional=True,
        options=_static(SAFE_HOURS),
        when=_reached_in_chat,
        detail=True,
    ),
    StepSpec(
        "sector",
        "choice",
        N_(
            "What kind of work does the worker do? (optional: only counted in anonymous statistics)"
        ),
        optional=True,
        options=_static(SECTOR_CHOICES),
        when=_counted,
        detail=True,
    ),
    StepSpec(
        "gender",
        "choice",
        N_("The worker's gender? (optional: only counted in anonymous statistics)"),
        optional=True,
        options=_static(GENDER_CHOICES),
        when=_counted,
        detail=True,
    ),
    StepSpec("summary", "summary", N_("Please check your report:")),
]

# Asked in a report and in a missing-person report alike.
EMPLOYER_STEP = StepSpec(
    "employer",
    "text",
    N_("Name of the employer or company? (optional)"),
    optional=True,
    detail=True,
)
AGENCY_STEP = StepSpec(
    "agency",
    "text",
    N_("Name of the recruitment agency? (optional)"),
    optional=True,
    detail=True,
)

REPORT_STEPS = [
    StepSpec(
        "role",
        "choice",
        N_("Who is reporting? If you are family, tap what you are to the worker."),
        options=_static(REPORTERS),
    ),
    StepSpec(
        "destination",
        "choice",
        N_("In which country is the worker now?"),
        options=_worker_countries,
    ),
    StepSpec(
        "worked_in",
        "choice",
        N_("In which country was the worker working?"),
        options=_destinations,
        when=_worker_home,
        inferred=True,
    ),
    StepSpec(
        "origin",
        "choice",
        N_("Which country is the worker from?"),
        options=_origins,
        inferred=True,
    ),
    StepSpec(
        "categories",
        "multi",
        N_("What happened? Choose all that apply, then press Done."),
        options=_static([(code, label) for code, label in CATEGORIES.items() if code != "MISS"]),
    ),
    StepSpec("danger", "choice", N_("Is anyone in danger right now?"), options=_static(YES_NO)),
    StepSpec(
        "contact", "choice", N_("How can a helper safely contact you?"), options=_static(CONTACT)
    ),
    *_reach_steps(N_("Which phone number? Include the country code, for example +974 3312 3456.")),
    StepSpec(
        "area",
        "choice",
        N_("Where is the worker now? (a rough area is enough)"),
        optional=True,
        options=_areas,
        when=lambda a: not _worker_home(a),
        detail=True,
    ),
    StepSpec(
        "since", "choice", N_("Since when?"), optional=True, options=_static(SINCE), detail=True
    ),
    StepSpec(
        "workers",
        "choice",
        N_("How many workers are affected? (or type a number)"),
        optional=True,
        options=_static(WORKERS),
        detail=True,
    ),
    EMPLOYER_STEP,
    AGENCY_STEP,
    StepSpec(
        "wages",
        "text",
        N_("How much pay is owed? Write the amount, for example 1200 or 1200 QAR."),
        optional=True,
        when=lambda a: "WAGE" in a.get("categories", []),
        detail=True,
    ),
    StepSpec(
        "worker_name",
        "text",
        N_("What is the worker's name?"),
        optional=True,
        when=_is_proxy,
        detail=True,
    ),
    StepSpec(
        "description",
        "media",
        N_(
            "Tell us what happened in your own words. You can also send photos, voice notes, documents or your location. Press Done when finished."
        ),
        optional=True,
        detail=True,
    ),
    *CLOSING_DETAILS,
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
        inferred=True,
    ),
    StepSpec(
        "origin",
        "choice",
        N_("Which country is the worker from?"),
        options=_origins,
        inferred=True,
    ),
    StepSpec("worker_name", "text", N_("What is the missing worker's full name?")),
    StepSpec(
        "last_contact",
        "choice",
        N_("When did you last hear from them?"),
        options=_static(LAST_CONTACT),
    ),
    StepSpec(
        "contact",
        "choice",
        N_("How can a helper safely contact you?"),
        options=_static(CONTACT[:2]),
    ),
    *_reach_steps(
        N_("Which phone number? Include the country code, for example +977 984 123 4567.")
    ),
    StepSpec(
        "area",
        "choice",
        N_("Where were they when you last heard from them?"),
        optional=True,
        options=_areas,
        detail=True,
    ),
    EMPLOYER_STEP,
    AGENCY_STEP,
    StepSpec(
        "phones_tried",
        "text",
        N_("Which phone numbers have you tried? (optional)"),
        optional=True,
        detail=True,
    ),
    StepSpec(
        "description",
        "media",
        N_(
            "Send a photo of the worker if you have one, and anything else that may help. Press Done when finished."
        ),
        optional=True,
        detail=True,
    ),
    *CLOSING_DETAILS,
]
FLOWS = {"report": REPORT_STEPS, "missing": MISSING_STEPS}


# Raised whenever the questions or their order change in a way an unfinished draft of the
# older wizard cannot follow.
DRAFT_VERSION = 2


@dataclass
class Draft:
    """One unfinished report. ``history`` is the questions already shown, for Back;
    ``details`` is whether the reporter asked to add the optional details."""

    flow: str
    step: str
    answers: dict[str, Any] = field(default_factory=dict)
    history: list[str] = field(default_factory=list)
    attachments: list[list[Any]] = field(default_factory=list)
    language: str = "en"
    details: bool = False

    @classmethod
    def restore(cls, data: dict[str, Any]) -> Draft | None:
        """None for a draft that cannot be continued: cleared half-way by another command,
        written by an older version, or naming a question its flow does not have."""
        if data.get("version") != DRAFT_VERSION:
            # Saved by the wizard before a change of its questions: continued here it would
            # skip questions the older order had not reached yet.
            return None
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
            details=bool(data.get("details", False)),
        )

    def stored(self) -> dict[str, Any]:
        return {
            "version": DRAFT_VERSION,
            "flow": self.flow,
            "step": self.step,
            "answers": self.answers,
            "history": self.history,
            "attachments": self.attachments,
            "language": self.language,
            "details": self.details,
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

    @property
    def can_add_details(self) -> bool:
        return not self.details and any(s.detail and s.when(self.answers) for s in self.steps)


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


async def asks_in_place(
    session: AsyncSession, domain: Domain, chat_id: int, tapped_message_id: int
) -> bool:
    """Whether the next question may take the place of the tapped one: only while nothing
    came after it in the chat (the reporter's messages and the bot's, as kept for /clear).
    Otherwise the next question would appear above what the reporter is looking at."""
    newest = (
        await _NEWEST_IN_CHAT(session, {"chat_key": domain.keys.pseudonym("chat", chat_id)})
    ).scalar()
    return newest is None or newest <= tapped_message_id


# Asked at every tapped answer: built once.
_NEWEST_IN_CHAT = Prepared(
    lambda _: select(func.max(SentMessage.message_id)).where(
        SentMessage.chat_key == bindparam("chat_key")
    )
)


def _applies(draft: Draft, spec: StepSpec) -> bool:
    return spec.when(draft.answers) and (draft.details or not spec.detail)


def next_step(draft: Draft, after: str | None, corridors: Corridors) -> StepSpec:
    """The next question to show. A question with one possible answer is answered on the
    reporter's behalf and not shown (it is not in ``history``, so Back skips it too)."""
    steps = draft.steps
    index = 0 if after is None else [s.name for s in steps].index(after) + 1
    for spec in steps[index:]:
        if not _applies(draft, spec):
            continue
        if spec.inferred and spec.options:
            only = spec.options(draft.answers, corridors)
            if len(only) == 1:
                _record(draft, spec, only[0][0])
                continue
        return spec
    return steps[-1]


def start(flow: str, language: str, corridors: Corridors) -> Draft:
    draft = Draft(flow=flow, step="", language=language)
    if flow == "missing":
        draft.answers.update(role="family", categories=["MISS"])
    draft.step = next_step(draft, None, corridors).name
    return draft


def choices(draft: Draft, corridors: Corridors) -> Choices:
    spec = draft.spec
    return spec.options(draft.answers, corridors) if spec.options else []


def _advance(draft: Draft, corridors: Corridors) -> Outcome:
    draft.history = [*draft.history, draft.step]
    draft.step = next_step(draft, draft.step, corridors).name
    return Outcome("next")


def _set_destination(answers: dict[str, Any], destination: str) -> None:
    if answers.get("destination") != destination:
        # The origin and area chosen for another destination do not hold for this one.
        answers.pop("origin", None)
        answers.pop("area", None)
    answers["destination"] = destination


def _record(draft: Draft, spec: StepSpec, value: str) -> None:
    """Keeps a single-choice answer, with what it implies for the other answers."""
    answers = draft.answers
    if spec.name not in ("destination", "worked_in"):
        answers[spec.name] = value
    if spec.name == "role":
        family = value in RELATIONSHIP_CODES
        answers["role"] = "family" if family else value
        if family:
            answers["relationship"] = value
        else:
            answers.pop("relationship", None)
    elif spec.name == "destination" and value == HOME:
        answers["location"] = "origin"
        answers.pop("destination", None)
        answers.pop("origin", None)
        answers.pop("area", None)
    elif spec.name in ("destination", "worked_in"):
        if spec.name == "destination" and draft.flow == "report":
            answers["location"] = "destination"
        _set_destination(answers, value)
    elif spec.name == "consent":
        for purpose in ConsentPurpose:
            if value == "all":
                answers[f"consent_{purpose.value}"] = "yes"
            else:
                answers.pop(f"consent_{purpose.value}", None)


def choose(draft: Draft, question: str, value: str, corridors: Corridors) -> Outcome:
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
    _record(draft, spec, value)
    return _advance(draft, corridors)


def navigate(draft: Draft, action: str, question: str, corridors: Corridors) -> Outcome:
    """Back, Skip, Done, Add details, Send or Cancel; ``question`` is the one the button
    belongs to."""
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
        return _advance(draft, corridors)
    if action == "done" and spec.kind == "multi":
        if not draft.answers.get(spec.name):
            return Outcome("need_one")
        return _advance(draft, corridors)
    if action == "done" and spec.kind == "media":
        return _advance(draft, corridors)
    if action == "details" and spec.kind == "summary" and draft.can_add_details:
        draft.details = True
        draft.history = [*draft.history, draft.step]
        first = next(s for s in draft.steps if s.detail and s.when(draft.answers))
        draft.step = first.name
        return Outcome("next")
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
    draft: Draft, text: str, corridors: Corridors, label: Callable[[str], str]
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
        return _advance(draft, corridors)
    if spec.kind == "choice":
        typed = text.strip().casefold()
        if spec.name == "workers" and typed.isdigit() and 0 < int(typed) < MAX_WORKERS:
            answers["workers"] = typed
            return _advance(draft, corridors)
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
    """The report the answers make. An answer left over from a path the reporter went
    Back from (a phone number, then "here in this chat") is not part of it."""
    a = draft.answers
    details: dict[str, str] = {}
    if draft.flow == "missing":
        details["last_contact"] = a.get("last_contact", "")
        if a.get("phones_tried"):
            details["phones_tried"] = a["phones_tried"]
    wages = (a.get("wages") or {}) if "WAGE" in a.get("categories", []) else {}
    attachments = [
        (kind, file_id, text) for kind, file_id, text in draft.attachments if kind != "location"
    ]
    locations = [text for kind, _file, text in draft.attachments if kind == "location"]
    home = _worker_home(a)
    counted = _counted(a)
    return case_domain.Report(
        reporter_role=a.get("role", "self"),
        relationship=a.get("relationship") if a.get("role") == "family" else None,
        destination_country=a["destination"],
        origin_country=a["origin"],
        area=None if home else a.get("area"),
        worker_location="origin" if home else "destination",
        categories=a.get("categories", ["OTHR"]),
        since=a.get("since"),
        in_danger=a.get("danger") == "yes",
        workers_affected=workers_affected(str(a.get("workers", "1"))),
        employer=a.get("employer"),
        agency=a.get("agency"),
        wage_owed_minor=wages.get("minor"),
        wage_currency=wages.get("currency"),
        description=a.get("description"),
        worker_name=a.get("worker_name") if _is_proxy(a) else None,
        contact_method=a.get("contact", "chat"),
        contact_phone=a.get("phone") if _needs_phone(a) else None,
        precise_location=locations[-1] if locations else None,
        details=details,
        attachments=attachments,
        language=draft.language,
        consents={p.value: a.get(f"consent_{p.value}") == "yes" for p in ConsentPurpose},
        sector=a.get("sector") if counted else None,
        gender=a.get("gender") if counted else None,
    )


def safe_hours(draft: Draft) -> tuple[int, int] | tuple[None, None]:
    """The hours the reporter chose: asked at once when a helper will call, offered as a
    detail when the helper writes in this chat."""
    key = "chat_hours" if _reached_in_chat(draft.answers) else "safe_hours"
    return SAFE_HOUR_RANGES.get(draft.answers.get(key, "any"), (None, None))


def reporter_timezone(report: case_domain.Report) -> str:
    """Safe hours are kept in the reporter's own time zone: a relative at home keeps home's
    evening, whatever the worker's country."""
    return timezone_of(
        reporter_country(
            report.reporter_role,
            report.worker_location,
            report.origin_country,
            report.destination_country,
        )
    )


async def submit(session: AsyncSession, domain: Domain, reporter: Reporter, draft: Draft) -> Case:
    """Makes the case, and keeps the reporter's safe hours and time zone with the reporter.

    Raises ``case_domain.IntakeError`` when the report cannot become a case."""
    report = build_report(draft)
    reporter.safe_hours_start, reporter.safe_hours_end = safe_hours(draft)
    reporter.timezone = reporter_timezone(report)
    return await case_domain.submit_report(session, domain, reporter, report)
