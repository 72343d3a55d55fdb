"""The case card: what a responder group may see. Codes and coarse facts only, by design."""

from __future__ import annotations

import datetime as dt
import html
from typing import Any

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot import labels
from bot.i18n import bidi_lines, tr
from bot.taxonomy import CaseStatus, Urgency
from bot.views.buttons import Claim, Pass
from models import Case

URGENCY_MARK = {Urgency.SOS: "🔴", Urgency.HIGH: "🟠", Urgency.NORMAL: "🟢"}


def card_text(
    case: Case,
    language: str,
    now: dt.datetime,
    *,
    owner_name: str | None = None,
    owner_org: str | None = None,
    note: str | None = None,
    note_values: dict[str, Any] | None = None,
) -> str:
    """The card in the group's ``language``. ``note`` is a catalogue message (with
    ``note_values``), so every group reads it in its own language."""
    urgency = Urgency(case.urgency)
    place = labels.country(
        case.destination_country if case.worker_location == "destination" else case.origin_country,
        language,
    )
    if case.area:
        # The area is a coarse label chosen from buttons, never free text.
        place = f"{case.area}, {place}"
    lines = [
        f"{URGENCY_MARK[urgency]} <b>{html.escape(case.code)}</b> · {labels.urgency(urgency, language)}",
        tr(language, "Corridor: {corridor}", corridor=case.corridor_code),
        tr(
            language,
            "What happened: {categories}",
            categories=html.escape(labels.categories(case.categories, language)),
        ),
        tr(language, "Where: {place}", place=html.escape(place)),
        tr(language, "Language: {language}", language=labels.language(case.language, language)),
        tr(language, "Workers affected: {n}", n=case.workers_affected),
        tr(language, "Reported: {when}", when=labels.ago(now - case.created_at, language)),
        tr(language, "Status: {status}", status=labels.status(case.status, language)),
    ]
    if owner_name:
        lines.append(
            tr(
                language,
                "Owner: {name} ({org})",
                name=html.escape(owner_name),
                org=html.escape(owner_org or ""),
            )
        )
    if case.outcome:
        lines.append(
            tr(language, "Outcome: {outcome}", outcome=labels.outcome(case.outcome, language))
        )
    if note:
        lines.append(f"<i>{html.escape(tr(language, note, **(note_values or {})))}</i>")
    return bidi_lines("\n".join(lines), language)


def card_keyboard(case: Case, language: str) -> InlineKeyboardMarkup | None:
    """Claim and Pass, while the case waits for an owner."""
    if case.status not in (CaseStatus.ROUTED, CaseStatus.REFERRED):
        return None
    builder = InlineKeyboardBuilder()
    builder.button(text=tr(language, "✋ Claim"), callback_data=Claim(case_id=case.id).pack())
    builder.button(text=tr(language, "Pass"), callback_data=Pass(case_id=case.id).pack())
    return builder.adjust(2).as_markup()
