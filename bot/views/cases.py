"""What staff and reporters read and tap about a case: the responder's choices (pass
reasons, outcomes, referral targets), the timeline, the result of a relayed message, and
the reporter's list of cases."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot import labels
from bot.domain import recipients
from bot.i18n import N_, _, bidi_lines, current_language
from bot.taxonomy import OUTCOMES, STATUS_LABELS, CaseStatus
from bot.views import common
from bot.views.buttons import Outcome, PassReason, PickCase, Refer, Withdraw
from bot.views.notices import unreachable_text
from models import Case, CaseEvent, Organisation

PASS_REASONS = {
    "busy": N_("Too busy"),
    "language": N_("Language"),
    "scope": N_("Not our kind of case"),
    "conflict": N_("Conflict of interest"),
}
WITHDRAWABLE = (CaseStatus.ROUTED, CaseStatus.CLAIMED, CaseStatus.REFERRED)


def _one_per_row(builder: InlineKeyboardBuilder) -> InlineKeyboardMarkup:
    return builder.adjust(1).as_markup()


def pass_reasons_keyboard(case_id: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for key, label in PASS_REASONS.items():
        builder.button(text=_(label), callback_data=PassReason(case_id=case_id, reason=key))
    return _one_per_row(builder)


def outcomes_keyboard(case: Case) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for key, label in OUTCOMES.items():
        builder.button(text=_(label), callback_data=Outcome(case_id=case.id, code=key))
    return _one_per_row(builder)


def referral_keyboard(
    case: Case, targets: Iterable[Organisation], language: str
) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for org in targets:
        builder.button(
            text=f"{org.name} ({labels.country(org.country, language)})",
            callback_data=Refer(case_id=case.id, org=org.id),
        )
    return _one_per_row(builder)


def relay_result_text(result: str, case: Case) -> str:
    """What the sender of a message to a reporter is told (``relay.from_owner``'s result),
    as HTML."""
    code = html.escape(case.code)
    if result == "unreachable":
        # Only the owner sends to a reporter: the other ways to reach them are theirs to see.
        return _("Not sent.") + " " + unreachable_text(case, current_language.get())
    return {
        "sent": _("Sent to the reporter of {code}.", code=code),
        "not_owner": common.not_yours(code),
        "closed": common.not_open_nothing_sent(code),
        "no_reporter": _("The reporter of {code} can no longer be reached here.", code=code),
    }[result]


def timeline_text(
    case: Case, events: Sequence[CaseEvent], names: dict[str, str], language: str
) -> str:
    """The case's heading and one line per event, as HTML."""
    status = labels.status(case.status, language)
    lines = [
        f"🗂 <b>{html.escape(case.code)}</b> · {status} · {labels.urgency(case.urgency, language)}"
    ]
    lines.extend(timeline_line(event, language, names) for event in events)
    return bidi_lines("\n".join(lines), language)


def timeline_line(event: CaseEvent, language: str, names: dict[str, str]) -> str:
    """One event in the reader's words: when (UTC), what, who."""
    who = labels.actor(event.actor, language, names)
    line = (
        f"{labels.moment(event.at, language)} UTC · {labels.event(event.kind, language)}"
        f" · {html.escape(who)}"
    )
    if event.kind == "card_undeliverable":
        # Which chat failed, so the coordinator knows which group id to fix.
        data = event.data or {}
        line += " — " + _(
            "the card could not reach chat {chat} ({title}, {org}): {reason}",
            chat=data.get("chat_id"),
            title=html.escape(data.get("title") or "—"),
            org=html.escape(data.get("organisation") or "?"),
            reason=_(recipients.REASONS.get(data.get("reason", ""), data.get("reason", "?"))),
        )
    return line


def status_text(cases: Sequence[Case]) -> tuple[str, InlineKeyboardMarkup | None]:
    """The reporter's last ten cases, with a Withdraw button for each one still in work."""
    if not cases:
        return _("You have no cases yet."), None
    lines = [_("Your cases:")]
    builder = InlineKeyboardBuilder()
    for case in cases[-10:]:
        lines.append(f"• {case.code}: {_(STATUS_LABELS[CaseStatus(case.status)])}")
        if case.status in WITHDRAWABLE:
            builder.button(
                text=_("Withdraw {code}", code=case.code),
                callback_data=Withdraw(case_id=case.id, confirm=0),
            )
    keyboard = _one_per_row(builder)
    return "\n".join(lines), keyboard if keyboard.inline_keyboard else None


def withdraw_confirm_keyboard(case: Case) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("Yes, withdraw"), callback_data=Withdraw(case_id=case.id, confirm=1))
    return builder.as_markup()


def pick_case_keyboard(cases: Iterable[Case]) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for case in cases:
        builder.button(text=case.code, callback_data=PickCase(case_id=case.id))
    return _one_per_row(builder)
