"""Codes as a reader reads them: every stored code (urgency, status, outcome, category,
triage reason, country, language) and every duration or date, in the reader's language.

Countries, languages, durations and dates come from CLDR through Babel; the project's own
labels from the gettext catalogues."""

from __future__ import annotations

import datetime as dt

import pycountry
from babel.dates import format_date, format_time, format_timedelta

from bot.i18n import DEFAULT_LANGUAGE, N_, _locale, language_name, tr
from bot.taxonomy import (
    CATEGORIES,
    OUTCOMES,
    RED_FLAG_LABELS,
    STATUS_LABELS,
    TRIAGE_REASONS,
    URGENCY_LABELS,
)


def _babel(language: str):  # type: ignore[no-untyped-def]
    return _locale(language) or _locale(DEFAULT_LANGUAGE)


def country(code: str, language: str) -> str:
    """The country's name in the reader's language (CLDR); the code when it is unknown."""
    name = _babel(language).territories.get(code.upper()) if code else None
    if name:
        return name
    known = pycountry.countries.get(alpha_2=code) if code else None
    return getattr(known, "common_name", None) or (known.name if known else code)


def language(code: str, reader: str) -> str:
    return language_name(code, reader)


def _label(labels: dict, code: str, language: str) -> str:
    label = labels.get(code)
    return tr(language, label) if label else code


def urgency(code: str, language: str) -> str:
    return _label(URGENCY_LABELS, code, language)


def status(code: str, language: str) -> str:
    return _label(STATUS_LABELS, code, language)


def outcome(code: str, language: str) -> str:
    return _label(OUTCOMES, code, language)


def categories(codes: list[str], language: str) -> str:
    return ", ".join(_label(CATEGORIES, code, language) for code in codes)


def reasons(reason: str | None, language: str) -> str:
    """A triage reason ("sos; categories:PHYS; flags:violence") in words; "" for none."""
    words: list[str] = []
    for part in (reason or "").split(";"):
        part = part.strip()
        kind, _, values = part.partition(":")
        if kind == "categories":
            words += [_label(CATEGORIES, c, language) for c in values.split(",") if c]
        elif kind == "flags":
            words += [_label(RED_FLAG_LABELS, f, language) for f in values.split(",") if f]
        elif part in TRIAGE_REASONS:
            words.append(tr(language, TRIAGE_REASONS[part]))
    return ", ".join(words)


def urgency_with_reasons(code: str, reason: str | None, language: str) -> str:
    why = reasons(reason, language)
    return f"{urgency(code, language)} ({why})" if why else urgency(code, language)


def duration(delta: dt.timedelta, language: str) -> str:
    """A humanised duration ("3 days", "४ घण्टा") rounded the way people round."""
    return format_timedelta(delta, threshold=1.5, locale=_babel(language))


def ago(delta: dt.timedelta, language: str) -> str:
    """How long ago, with the language's own wording ("3 days ago", "३ दिन पहिले")."""
    # Under a minute reads as "1 minute ago": CLDR has no "just now", and "in 0 seconds"
    # (what a zero delta gives) would be wrong.
    past = -max(abs(delta), dt.timedelta(minutes=1))
    return format_timedelta(
        past, threshold=1.5, granularity="minute", add_direction=True, locale=_babel(language)
    )


def date(day: dt.date, language: str) -> str:
    return format_date(day, "medium", locale=_babel(language))


def moment(at: dt.datetime, language: str) -> str:
    """A date and time of day in UTC, the way the reader's language writes them."""
    at = at if at.tzinfo else at.replace(tzinfo=dt.UTC)
    locale = _babel(language)
    return f"{format_date(at.astimezone(dt.UTC).date(), 'medium', locale=locale)} " + format_time(
        at, "short", tzinfo=dt.UTC, locale=locale
    )


# What happened to a case, as its timeline (`/case`) says it. Kinds without a case of
# their own (exports, network syncs) never reach a timeline and have no entry.
EVENT_KINDS: dict[str, str] = {
    "created": N_("Reported"),
    "routed": N_("Card posted to a group"),
    "escalated": N_("Escalated: nobody had claimed it"),
    "nudged": N_("A coordinator reminded the organisation"),
    "claimed": N_("Claimed"),
    "passed": N_("Passed on"),
    "released": N_("Released to the queue"),
    "reassigned": N_("Given to another responder"),
    "details_read": N_("Details read"),
    "timeline_read": N_("Timeline read"),
    "reporter_message": N_("Message from the reporter"),
    "owner_message": N_("Message to the reporter"),
    "checkin_sent": N_("Check-in sent to the reporter"),
    "checkin_answer": N_("The reporter answered the check-in"),
    "checkin_deferred": N_("Check-in waits for the reporter's safe hours"),
    "snoozed": N_("Follow-up date set"),
    "owner_reminded": N_("Owner reminded of the case"),
    "sos_silence": N_("No word from the reporter after the SOS"),
    "urgency_raised": N_("Urgency raised"),
    "consent_requested": N_("The reporter was asked for consent"),
    "consent_given": N_("The reporter gave consent"),
    "consent_refused": N_("The reporter refused consent"),
    "consent_withdrawn": N_("The reporter withdrew consent"),
    "consent_override": N_("Referred without consent: a life at risk"),
    "referred": N_("Referred to another organisation"),
    "referral_refused": N_("Referral not made: no consent"),
    "resolved": N_("Resolved"),
    "reopened": N_("Reopened"),
    "withdrawn": N_("The reporter withdrew the case"),
    "feedback": N_("The reporter gave feedback"),
    "worker_took_over": N_("The worker took over the case"),
    "erased": N_("Personal details erased"),
    "reporter_unreachable": N_("The reporter can no longer be reached"),
    "recipient_blocked": N_("Someone blocked the bot"),
    "delivery_failed": N_("A message could not be delivered"),
    "card_undeliverable": N_("The card could not be delivered"),
    "drill_started": N_("Drill started"),
    "drill_reported": N_("Drill report sent"),
}
OTHER_EVENT = N_("Other event")
ACTORS = {
    "system": N_("the bot"),
    "cli": N_("an operator"),
    "reporter": N_("the reporter"),
    "person": N_("a staff member"),
}


# Staff roles as stored in `people.role`.
ROLES = {
    "responder": N_("responder"),
    "coordinator": N_("coordinator"),
    "admin": N_("administrator"),
}


def role(code: str, language: str) -> str:
    return _label(ROLES, code, language)


def event(kind: str, language: str) -> str:
    """An event kind in words; never the stored code, even for a kind added later."""
    return tr(language, EVENT_KINDS.get(kind, OTHER_EVENT))


def actor(who: str, language: str, names: dict[str, str]) -> str:
    """Who did it: a staff member by name, anyone else by their part ("the reporter")."""
    kind, _, key = who.partition(":")
    if kind == "person" and key in names:
        return names[key]
    return tr(language, ACTORS.get(kind, ACTORS["system"]))
