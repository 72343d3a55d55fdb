"""What staff read while working a case in their private chat or its group card: claiming
and passing, referring, resolving and reopening, follow-up dates, replies to a reporter and
who is on call."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from bot import labels
from bot.i18n import _, current_language
from bot.views import common
from bot.views.intake import PROBLEMS
from models import Person

# Claiming and passing on a group's case card.


def claimed(code: str) -> str:
    return _("You own case {code} now. Details are in your private chat with me.", code=code)


def already_claimed(name: str | None) -> str:
    return _("Already claimed by {name}.", name=name or "—")


def not_member() -> str:
    return _("Only responders of this group's organisation can claim this case.")


def no_longer_open() -> str:
    return _("This case is no longer open.")


def why_passing() -> str:
    return _("Why are you passing?")


def passed() -> str:
    return _("Noted. The case stays open for others.")


# Referring.


def refer_usage() -> str:
    return _("Usage: /refer CODE (a case you own)")


def no_other_organisation() -> str:
    return _("No other organisation serves this corridor.")


def refer_to(code: str) -> str:
    return _("Refer case {code} to:", code=code)


def referral_note_prompt(org: str) -> str:
    return _(
        "A note for {org} (what they need to know, e.g. flight and arrival time):",
        org=org,
    )


def referred(code: str, org: str) -> str:
    return _(
        "Case {code} referred to {org}. You will be told when they claim it.",
        code=code,
        org=org,
    )


def referral_result(result: str, code: str, org: str, org_id: str, coordinator: bool) -> str:
    """The outcome of ``referral.refer``; a coordinator refused for want of consent is
    shown the override."""
    if result == "referred":
        return referred(code, org)
    if result == "consent_asked":
        return _(
            "The reporter has not agreed to share with that side yet; I asked them. You will hear back."
        )
    if result == "consent_pending":
        return _(
            "The reporter has already been asked about sharing with that side and has not answered yet."
        )
    if result == "refused":
        return _(
            "Referral refused: the reporter has not agreed to share with that side and cannot be asked through the bot."
        ) + (
            "\n" + _("If a life is at risk: /override {code} {org} reason", code=code, org=org_id)
            if coordinator
            else ""
        )
    if result == "not_owner":
        return common.not_yours(code)
    raise KeyError(result)


def override_usage() -> str:
    return _("Usage: /override CODE ORGANISATION_ID reason (coordinators, danger to life only)")


# Resolving and reopening.


def resolve_usage() -> str:
    return _("Usage: /resolve CODE (a case you own)")


def outcome_question(code: str) -> str:
    return _("Outcome of case {code}?", code=code)


def amount_question() -> str:
    return _("How much was recovered? For example 1200 QAR.")


def note_question() -> str:
    return _("A short note for the record (or send - for none).")


def amount_invalid() -> str:
    # The same words as the report's question about unpaid wages.
    return _(PROBLEMS["bad_amount"])


def could_not_resolve(reason: str) -> str:
    return _("Could not resolve: {reason}", reason=reason)


def resolved(code: str) -> str:
    return _("Case {code} resolved. Thank you.", code=code)


def reopen_usage() -> str:
    return _("Usage: /reopen CODE")


def not_resolved(code: str) -> str:
    return _("Case {code} is not resolved.", code=code)


def reopened(code: str) -> str:
    return _("Case {code} is open again.", code=code)


# Writing to a reporter.


def reply_usage() -> str:
    return _("Usage: /reply CODE your message")


def reply_not_linked() -> str:
    return _("That message is not linked to a case. Use /reply CODE text.")


# When a case is next looked at, and who is on call.


def snoozed(until: dt.datetime) -> str:
    when = labels.moment(until, current_language.get()) + " UTC"
    return _("Snoozed until {when}.", when=when)


def followup_usage() -> str:
    return _("Usage: /followup CODE YYYY-MM-DD")


def future_date() -> str:
    return _("Please give a date in the future.")


def next_followup(code: str, day: dt.date) -> str:
    return _(
        "Next follow-up for {code}: {when}.",
        code=code,
        when=labels.date(day, current_language.get()),
    )


def on_call(rota: Iterable[tuple[str, Sequence[Person]]]) -> str:
    lines = [
        f"{organisation}: {', '.join(p.name for p in people) or _('nobody')}"
        for organisation, people in rota
    ]
    return _("On call now:") + "\n" + "\n".join(lines)
