"""The case card: what a responder group may see. Codes and coarse facts only, by design."""

from __future__ import annotations

import datetime as dt
import html

import pycountry

from bot.i18n import tr
from bot.taxonomy import CATEGORIES, STATUS_LABELS, URGENCY_LABELS, CaseStatus, Urgency
from models import Case

URGENCY_MARK = {Urgency.SOS: "🔴", Urgency.HIGH: "🟠", Urgency.NORMAL: "🟢"}


def country_name(code: str) -> str:
    country = pycountry.countries.get(alpha_2=code)
    return country.name if country else code


def age_text(language: str, since: dt.datetime, now: dt.datetime) -> str:
    minutes = max(0, int((now - since).total_seconds() // 60))
    if minutes < 60:
        return tr(language, "{n} min", n=minutes)
    if minutes < 48 * 60:
        return tr(language, "{n} h", n=minutes // 60)
    return tr(language, "{n} days", n=minutes // 1440)


def render_card(
    case: Case,
    language: str,
    now: dt.datetime,
    *,
    owner_name: str | None = None,
    owner_org: str | None = None,
    note: str | None = None,
) -> str:
    urgency = Urgency(case.urgency)
    categories = ", ".join(f"{code} · {tr(language, CATEGORIES[code])}" for code in case.categories)
    place = country_name(
        case.destination_country if case.worker_location == "destination" else case.origin_country
    )
    if case.area:
        # The area is a coarse label chosen from buttons, never free text.
        place = f"{case.area}, {place}"
    lines = [
        f"{URGENCY_MARK[urgency]} <b>{html.escape(case.code)}</b> · {tr(language, URGENCY_LABELS[urgency])}",
        tr(language, "Corridor: {corridor}", corridor=case.corridor_code),
        tr(language, "What happened: {categories}", categories=html.escape(categories)),
        tr(language, "Where: {place}", place=html.escape(place)),
        tr(language, "Language: {language}", language=case.language),
        tr(language, "Workers affected: {n}", n=case.workers_affected),
        tr(language, "Reported: {age} ago", age=age_text(language, case.created_at, now)),
        tr(
            language,
            "Status: {status}",
            status=tr(language, STATUS_LABELS[CaseStatus(case.status)]),
        ),
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
        lines.append(tr(language, "Outcome: {outcome}", outcome=case.outcome))
    if note:
        lines.append(f"<i>{html.escape(note)}</i>")
    return "\n".join(lines)


def card_keyboard(case: Case, language: str) -> dict | None:
    if case.status not in (CaseStatus.ROUTED, CaseStatus.REFERRED):
        return None
    return {
        "inline_keyboard": [
            [
                {"text": tr(language, "✋ Claim"), "callback_data": f"claim:{case.id}"},
                {"text": tr(language, "Pass"), "callback_data": f"pass:{case.id}"},
            ]
        ]
    }
