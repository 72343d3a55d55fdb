"""What a reporter reads and taps while filling in a report: each question with its buttons,
the summary, and the words for every outcome of ``bot.domain.wizard``. Texts are in the
reader's language (the middleware sets it for the update)."""

from __future__ import annotations

import functools
import html
from dataclasses import dataclass

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot import labels
from bot.domain.places import country_name
from bot.domain.wizard import MAX_DESCRIPTION, Choices, Draft
from bot.i18n import N_, _, current_language
from bot.taxonomy import CONSENT_TEXTS, REPORTER_ROLES, ConsentPurpose
from bot.views.buttons import Nav, Step


@dataclass(frozen=True)
class Rendered:
    text: str
    reply_markup: InlineKeyboardMarkup | None = None
    parse_mode: str | None = None


PROBLEMS = {
    "bad_phone": N_(
        "That does not look like a valid phone number. Please include the country code, for example +974 3312 3456."
    ),
    "bad_amount": N_("Please write only the amount, for example 1200 or 1200 QAR."),
    "too_long": N_(
        "Please keep this short (under 500 characters). You can add details in the description."
    ),
    "empty": N_("Please write an answer."),
    "use_buttons": N_("Please choose one of the buttons below."),
    "unsupported": N_("I can only use text, photos, voice notes, documents and locations here."),
    "file_kept": N_("Thank you, I added this to your report."),
}
INTAKE_ERRORS = {
    "no_consent": N_(
        "Without your agreement to share the report with helpers in at least one country, nobody can help. "
        "Press Back to change your answer, or /help for contacts you can call yourself."
    ),
    "too_many_cases": N_(
        "You have opened many cases today. Please write in your open case instead; /status shows them."
    ),
}
NOT_SERVED = N_("This corridor is not served yet. /help lists contacts you can call.")
STALE = N_("That button belongs to an earlier question.")
UNAVAILABLE = N_("That choice is not available.")
NEED_ONE = N_("Choose at least one, or pick “Something else”.")
CANCELLED = N_("Report cancelled. Nothing was sent.")
BROKEN = N_("Your unfinished report could not be restored. Please start again.")
TOO_MANY_FILES = N_(
    "That is the most files one report can hold. You can send more after it is submitted."
)


def broken() -> str:
    return _(BROKEN)


def stale() -> str:
    return _(STALE)


def unavailable() -> str:
    return _(UNAVAILABLE)


def need_one() -> str:
    return _(NEED_ONE)


def cancelled() -> str:
    return _(CANCELLED)


def too_many_files() -> str:
    return _(TOO_MANY_FILES)


def translated(label: str) -> str:
    """A button label in the reader's language; place names are shown as they are."""
    return _(label) if label else label


def done_button(step: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        text=_("Done ✔"), callback_data=Nav(action="done", step=step).pack()
    )


def done_keyboard(step: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[done_button(step)]])


def _nav_row(step: str, optional: bool, first: bool) -> list[InlineKeyboardButton]:
    actions = [("back", _("⬅ Back"))] if not first else []
    if optional:
        actions.append(("skip", _("Skip")))
    actions.append(("cancel", _("✖ Cancel")))
    return [
        InlineKeyboardButton(text=text, callback_data=Nav(action=action, step=step).pack())
        for action, text in actions
    ]


def keyboard(draft: Draft, options: Choices) -> InlineKeyboardMarkup:
    """The current question's buttons: its choices one per row, then Done or Send where the
    question has one, then Back, Skip and Cancel."""
    spec = draft.spec
    chosen = frozenset(draft.answers.get(spec.name, [])) if spec.kind == "multi" else frozenset()
    return _keyboard(
        spec.name,
        spec.kind,
        spec.optional,
        tuple(options),
        chosen,
        first=draft.is_first,
        details=spec.kind == "summary" and draft.can_add_details,
        language=current_language.get(),
    )


# Every reporter sees the same few keyboards (a question, in a language, with what they
# ticked): each is built once. Building one button by button cost a tenth of a report step.
# ``language`` is only part of the key: ``_`` reads it from the update's context.
@functools.lru_cache(maxsize=4096)
def _keyboard(
    step: str,
    kind: str,
    optional: bool,
    options: tuple[tuple[str, str], ...],
    chosen: frozenset[str],
    *,
    first: bool,
    details: bool,
    language: str,
) -> InlineKeyboardMarkup:
    rows = [
        [
            InlineKeyboardButton(
                text=("✅ " if value in chosen else "") + translated(label),
                callback_data=Step(field=step, value=value).pack(),
            )
        ]
        for value, label in options
    ]
    if kind in ("multi", "media"):
        rows.append([done_button(step)])
    if kind == "summary":
        rows.append(
            [
                InlineKeyboardButton(
                    text=_("📨 Send report"),
                    callback_data=Nav(action="submit", step=step).pack(),
                )
            ]
        )
        if details:
            rows.append(
                [
                    InlineKeyboardButton(
                        text=_("➕ Add details"),
                        callback_data=Nav(action="details", step=step).pack(),
                    )
                ]
            )
    rows.append(_nav_row(step, optional, first))
    return InlineKeyboardMarkup(inline_keyboard=rows)


def question(draft: Draft, options: Choices, note: str | None = None) -> Rendered:
    spec = draft.spec
    text = _(spec.question)
    if spec.kind == "media" and draft.pieces:
        text += "\n" + _("Received so far: {n}", n=draft.pieces)
    elif spec.kind == "summary":
        text += "\n\n" + summary_text(draft)
        if draft.can_add_details:
            text += "\n\n" + _(
                "You can send it now, or add details first: where exactly, since when, the employer, pay owed, your own words and photos."
            )
    if spec.name == "consent":
        text += "\n\n" + "\n\n".join(f"• {_(CONSENT_TEXTS[p])}" for p in ConsentPurpose)
    elif spec.name.startswith("consent_"):
        text = _("May we do this?") + "\n\n" + text
    if note:
        text = note + "\n\n" + text
    return Rendered(
        text,
        keyboard(draft, options),
        parse_mode="HTML" if spec.kind == "summary" else None,
    )


def problem(code: str | None) -> str | None:
    return _(PROBLEMS[code]) if code else None


def summary_text(draft: Draft) -> str:
    """Short labels and ticks only: sensitive answers are never echoed back on screen."""
    a = draft.answers
    given = _("given ✓")
    lines = []
    if draft.flow == "missing":
        lines.append(_("Report: missing person"))
    else:
        lines.append(_("Reported by: {who}", who=_(REPORTER_ROLES.get(a.get("role", "self"), ""))))
    place = f"{country_name(a.get('destination', ''))} ← {country_name(a.get('origin', ''))}"
    lines.append(_("Where: {place}", place=html.escape(place)))
    if a.get("categories"):
        categories = labels.categories(a["categories"], current_language.get())
        lines.append(_("What happened: {categories}", categories=html.escape(categories)))
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
    if a.get("sector") or a.get("gender"):
        # Never the answers themselves: someone may be reading over the reporter's shoulder.
        counted = _("For anonymous statistics")
        lines.append(f"{counted}: {given}")
    lines.append(_("Description and files: {n}", n=draft.pieces))
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


def described(truncated: bool, step: str) -> list[Rendered]:
    said = []
    if truncated:
        said.append(
            Rendered(
                _(
                    "Your description is very long; I kept the first {n} characters. Press Done to continue.",
                    n=MAX_DESCRIPTION,
                )
            )
        )
    said.append(Rendered(_("Added. Send more, or press Done."), done_keyboard(step)))
    return said


def file_received(count: int, step: str) -> Rendered:
    # Albums arrive as several messages; one short acknowledgement per file is enough.
    return Rendered(_("Received ({n}). Send more, or press Done.", n=count), done_keyboard(step))


def intake_error(reason: str) -> str:
    return _(INTAKE_ERRORS.get(reason, NOT_SERVED))


def registered(code: str, handover_token: str | None) -> str:
    text = _(
        "✅ Your report is registered. Your case code is {code}.\n\n"
        "Trusted helpers are being told now. When one of them takes your case, you will get a message here. "
        "You can write here at any time: your messages are added to your case.\n\n/status shows your cases.",
        code=code,
    )
    if handover_token:
        text += "\n\n" + _(
            "If the worker can use Telegram, give them this code. They send /join {token} to this bot to follow the case themselves.",
            token=handover_token,
        )
    return text
