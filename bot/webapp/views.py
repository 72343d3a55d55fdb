"""Domain results as the JSON the page draws: codes stay codes (the page looks their
labels up), times are ISO strings, money is formatted for the viewer."""

from __future__ import annotations

import datetime as dt
import html
import re
from typing import Any

from bot import labels
from bot.domain.dashboard import Board, CaseLine
from bot.domain.places import country_name, format_money
from bot.domain.trends import Trends
from models import Case, CaseEvent, Organisation, Person, RotaOverride, RotaShift


def age(since: dt.datetime, now: dt.datetime, language: str) -> str:
    """How long something has waited, in the viewer's words ("3 hours", "२ दिन")."""
    return labels.duration(now - since, language)


def case_line(line: CaseLine, language: str, now: dt.datetime) -> dict[str, Any]:
    return {
        "code": line.code,
        "urgency": line.urgency,
        "status": line.status,
        "age": age(line.created_at, now, language),
        "escalation": line.escalation_level,
        "detail": line.detail,
    }


def board_json(board: Board, language: str, now: dt.datetime) -> dict[str, Any]:
    def lines(items: list[CaseLine]) -> list[dict[str, Any]]:
        return [case_line(item, language, now) for item in items]

    unclaimed_total = sum(sum(b.values()) for b in board.unclaimed_counts.values())
    return {
        "corridors": board.corridors,
        "unclaimed": {
            "counts": board.unclaimed_counts,
            "total": unclaimed_total,
            "cases": lines(board.unclaimed),
        },
        "by_status": board.by_status,
        "overdue": {"total": board.overdue_total, "cases": lines(board.overdue_followups)},
        "referrals": {"total": board.referrals_total, "cases": lines(board.referrals_waiting)},
        "undelivered": {"cases": lines(board.undelivered_cards)},
    }


def case_json(
    case: Case,
    events: list[CaseEvent],
    owner: Person | None,
    owner_org: Organisation | None,
    card_orgs: list[Organisation],
    language: str,
    now: dt.datetime,
) -> dict[str, Any]:
    names = {owner.id: owner.name} if owner else {}
    place = country_name(
        case.destination_country if case.worker_location == "destination" else case.origin_country,
        language,
    )
    return {
        "code": case.code,
        "corridor": case.corridor_code,
        "urgency": case.urgency,
        "status": case.status,
        "categories": case.categories,
        "place": f"{case.area}, {place}" if case.area else place,
        "language": case.language,
        "workers_affected": case.workers_affected,
        "age": age(case.created_at, now, language),
        "escalation": case.escalation_level,
        "owner": {"id": owner.id, "name": owner.name} if owner else None,
        "owner_org": owner_org.name if owner_org else None,
        "outcome": case.outcome,
        "card_organisations": [{"id": o.id, "name": o.name} for o in card_orgs],
        # In words, as /case says it; the stored kind stays for the page's own logic.
        "timeline": [
            {
                "at": labels.moment(e.at, language),
                "kind": e.kind,
                "what": labels.event(e.kind, language),
                "who": labels.actor(e.actor, language, names),
            }
            for e in events
        ],
    }


def plain_text(markup: str) -> str:
    """Bot messages are Telegram HTML; the page shows text only (no markup from data)."""
    return html.unescape(re.sub(r"<[^>]+>", "", markup))


def oncall_json(
    organisations: list[Organisation],
    people: list[Person],
    shifts: list[RotaShift],
    overrides: list[RotaOverride],
    on_call_now: set[str],
) -> list[dict[str, Any]]:
    result = []
    for org in organisations:
        members = [p for p in people if p.organisation_id == org.id]
        result.append(
            {
                "id": org.id,
                "name": org.name,
                "timezone": org.timezone,
                "now": [p.name for p in members if p.id in on_call_now],
                "people": [
                    {
                        "id": p.id,
                        "name": p.name,
                        "shifts": [
                            {"weekday": s.weekday, "start": s.start, "end": s.end}
                            for s in shifts
                            if s.person_id == p.id
                        ],
                    }
                    for p in members
                ],
                "overrides": [
                    {
                        "person": o.person_id,
                        "from": o.starts_at.isoformat(),
                        "to": o.ends_at.isoformat(),
                        "on_call": o.on_call,
                    }
                    for o in overrides
                    if any(p.id == o.person_id for p in members)
                ],
            }
        )
    return result


def amounts(values: dict[str, int]) -> list[dict[str, Any]]:
    return [
        {"currency": currency, "minor": minor, "text": format_money(minor, currency)}
        for currency, minor in sorted(values.items())
    ]


def trends_json(result: Trends, language: str) -> dict[str, Any]:
    figures = result.figures
    assert figures is not None
    return {
        "days": result.days,
        "start": result.start.isoformat(),
        "new_per_day": result.new_per_day,
        "resolved_per_day": result.resolved_per_day,
        "categories": dict(result.categories.most_common()),
        "outcomes": dict(figures.resolved.most_common()),
        "new_total": figures.new,
        "resolved_total": sum(figures.resolved.values()),
        "wages_owed": amounts(figures.wages_owed),
        "wages_recovered": amounts(figures.wages_recovered),
        "median_claim": None
        if figures.median_claim_minutes is None
        else labels.duration(dt.timedelta(minutes=figures.median_claim_minutes), language),
        "median_resolution": None
        if figures.median_resolution_hours is None
        else labels.duration(dt.timedelta(hours=figures.median_resolution_hours), language),
    }
