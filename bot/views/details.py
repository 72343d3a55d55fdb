"""The details of a case its owner reads: in a private message from the bot, and (without
the bot commands) on the dashboard."""

from __future__ import annotations

import html
import json
from collections.abc import Sequence

from bot import labels
from bot.domain.places import format_money
from bot.i18n import bidi_lines, tr
from bot.taxonomy import (
    CONTACT_LABELS,
    DETAIL_LABELS,
    LAST_CONTACT_LABELS,
    REPORTER_ROLES,
    SINCE_LABELS,
)
from models import Attachment, Case


def details_text(
    case: Case, language: str, attachments: Sequence[Attachment], commands: bool = True
) -> str:
    """Everything the owner needs, for a private chat only (``commands``: with the bot
    commands that act on the case, which the dashboard has as buttons instead)."""
    e = html.escape
    lines = [
        tr(
            language,
            "📁 <b>Case {code}</b> — full details (private, do not forward)",
            code=e(case.code),
        ),
        tr(
            language,
            "Reported by: {role}",
            role=e(
                tr(language, REPORTER_ROLES.get(case.reporter_role, case.reporter_role))
                + (f" ({case.relationship})" if case.relationship else "")
            ),
        ),
        tr(language, "Worker: {name}", name=e(case.worker_name or "—")),
        tr(
            language,
            "From {origin} to {destination}, area: {area}",
            origin=labels.country(case.origin_country, language),
            destination=labels.country(case.destination_country, language),
            area=e(case.area or "—"),
        ),
        tr(
            language,
            "What happened: {categories}",
            categories=e(labels.categories(case.categories, language)),
        ),
        tr(
            language,
            "Urgency: {urgency}",
            urgency=e(labels.urgency_with_reasons(case.urgency, case.urgency_reason, language)),
        ),
        tr(
            language,
            "Since: {since}",
            since=e(tr(language, SINCE_LABELS[case.since]) if case.since in SINCE_LABELS else "—"),
        ),
        tr(
            language,
            "In danger now: {answer}",
            answer=tr(language, "yes") if case.in_danger else tr(language, "no"),
        ),
        tr(language, "Workers affected: {n}", n=case.workers_affected),
        tr(language, "Employer: {employer}", employer=e(case.employer or "—")),
        tr(language, "Agency: {agency}", agency=e(case.agency or "—")),
    ]
    if case.wage_owed_minor is not None:
        lines.append(
            tr(
                language,
                "Wages owed: {amount} {currency}",
                amount=format_money(case.wage_owed_minor, case.wage_currency)
                .removesuffix(case.wage_currency or "")
                .strip(),
                currency=case.wage_currency or "",
            )
        )
    if case.details:
        for key, value in json.loads(case.details).items():
            shown = LAST_CONTACT_LABELS.get(value) if key == "last_contact" else None
            lines.append(
                f"{e(tr(language, DETAIL_LABELS.get(key, key)))}: "
                + e(tr(language, shown) if shown else str(value))
            )
    lines.append(
        tr(
            language,
            "Contact: {method} {phone}",
            method=tr(language, CONTACT_LABELS.get(case.contact_method, case.contact_method)),
            phone=e(case.contact_phone or ""),
        )
    )
    if case.precise_location:
        lines.append(tr(language, "Location: {location}", location=e(case.precise_location)))
    if not case.description:
        lines.append(tr(language, "Description: {text}", text="—"))
    if attachments:
        lines.append(tr(language, "Attachments: {n}", n=len(attachments)))
    if commands:
        lines.append(
            tr(
                language,
                "Reply to any relayed message, or /reply {code} your text. Timeline: /case {code}. Resolve: /resolve {code}",
                code=e(case.code),
            )
        )
    return bidi_lines("\n".join(lines), language)
