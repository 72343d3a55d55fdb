"""Drills: practice cases in the real responder groups.

A coordinator starts one (`/drill`); the bot posts a case that looks and works like a real
one (card, claim, details, relay, referral, resolution), but it has no reporter: the bot
plays the reporter from a script, in the case's language. A drill case has the `drill`
flag, so no statistic counts it (bot.domain.counted), and every message about it is
marked (bot.domain.outbox). When it is resolved, the coordinator gets a short report."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import events, routing, timers
from bot.domain.cases import new_code
from bot.domain.context import Domain
from bot.domain.notices import DrillMiss, DrillReport, DrillReporterReply
from bot.domain.outbox import queue_notice
from bot.domain.people import coordinator_corridors
from bot.domain.triage import triage
from bot.i18n import N_, tr
from bot.taxonomy import CaseStatus
from models import (
    Case,
    CaseEvent,
    Corridor,
    Organisation,
    OrganisationCorridor,
    Person,
    RelayLink,
    ResponderGroup,
)


class DrillError(Exception):
    """Why a drill cannot start; ``reason`` is a message id for the coordinator."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class DrillScript:
    """One practice case: what the reporter says first, and their answers in order."""

    key: str
    categories: tuple[str, ...]
    in_danger: bool
    opening: str
    replies: tuple[str, ...]
    needs_referral: bool = False  # the case is only finished once the other side has it


SCRIPTS: tuple[DrillScript, ...] = (
    DrillScript(
        "unpaid-wages",
        ("WAGE", "DOCS"),
        in_danger=False,
        opening=N_(
            "We have not been paid for three months and the company keeps our passports. There are eight of us in the camp."
        ),
        replies=(
            N_("The supervisor says we will be sent home without pay if we complain."),
            N_("I can send photos of our payslips tonight. Please do not call during the day."),
        ),
    ),
    DrillScript(
        "locked-in",
        ("MOVE", "PHYS"),
        in_danger=True,
        opening=N_(
            "My employer locks me in the house and took my phone. I am writing from a neighbour's phone."
        ),
        replies=(
            N_("I can only write at night, when the family is asleep."),
            N_("She says she will send me back to the agency if I ask for my salary."),
        ),
    ),
    DrillScript(
        "going-home",
        ("CONS", "WAGE"),
        in_danger=False,
        opening=N_(
            "My contract ended and the company will not buy my ticket home. I fly on Friday if someone can meet me at the airport."
        ),
        replies=(
            N_("My flight lands in the afternoon. I have no money for the bus to my village."),
            N_("My brother can meet me in the city, but not at the airport."),
        ),
        needs_referral=True,
    ),
)
LAST_WORD = N_("Thank you. I will wait for your message.")


async def _organisation_to_drill(
    session: AsyncSession, person: Person, organisation_id: str | None, chat_id: int | None
) -> tuple[Organisation, str]:
    """The organisation (named, or the one whose group this is) and a corridor of it that
    the coordinator coordinates."""
    if not organisation_id and chat_id is not None:
        organisation_id = await session.scalar(
            select(ResponderGroup.organisation_id).where(
                ResponderGroup.chat_id == chat_id, ResponderGroup.active.is_(True)
            )
        )
    if not organisation_id:
        raise DrillError(N_("Usage: /drill in a responder group, or /drill ORGANISATION_ID"))
    org = await session.get(Organisation, organisation_id)
    if org is None or not org.active:
        raise DrillError(N_("There is no active organisation with that id."))
    theirs = set(
        await session.scalars(
            select(OrganisationCorridor.corridor_code).where(
                OrganisationCorridor.organisation_id == org.id
            )
        )
    )
    mine = [c for c in await coordinator_corridors(session, person) if c in theirs]
    if not mine:
        raise DrillError(N_("You can start drills only for organisations of your corridors."))
    has_group = await session.scalar(
        select(ResponderGroup.id).where(
            ResponderGroup.organisation_id == org.id, ResponderGroup.active.is_(True)
        )
    )
    if has_group is None:
        raise DrillError(N_("That organisation has no responder group for the drill."))
    return org, mine[0]


async def start(
    session: AsyncSession,
    domain: Domain,
    person: Person,
    organisation_id: str | None = None,
    chat_id: int | None = None,
) -> Case:
    """Posts a practice case to the organisation's groups; raises DrillError."""
    org, corridor_code = await _organisation_to_drill(session, person, organisation_id, chat_id)
    corridor = await session.get(Corridor, corridor_code)
    assert corridor is not None
    done = await session.scalar(select(func.count()).select_from(Case).where(Case.drill))
    script = SCRIPTS[(done or 0) % len(SCRIPTS)]
    language = routing.group_language(org)
    opening = tr(language, script.opening)
    verdict = triage(
        categories=list(script.categories), in_danger=script.in_danger, description=opening
    )
    now = domain.now()
    case = Case(
        code=await new_code(session, corridor.destination),
        corridor_code=corridor.code,
        reporter_id=None,  # nobody to write to: the bot plays the reporter
        reporter_role="self",
        categories=sorted(script.categories),
        urgency=verdict.urgency.value,
        urgency_reason=verdict.reason,
        status=CaseStatus.ROUTED.value,
        side=org.side,
        language=language,
        destination_country=corridor.destination,
        origin_country=corridor.origin,
        in_danger=script.in_danger,
        description=opening,
        contact_method="chat",
        created_at=now,
        routed_at=now,
        last_activity_at=now,
        drill=True,
    )
    session.add(case)
    await session.flush()
    await events.record(
        session,
        domain,
        "drill_started",
        case_id=case.id,
        actor=f"person:{person.id}",
        data={"by": person.id, "organisation": org.id, "script": script.key},
    )
    await routing.post_cards(session, domain, case, [org])
    timers.schedule(
        session,
        domain,
        "escalate",
        now + routing.escalation_delay(domain, case.urgency),
        case_id=case.id,
        payload={"level": 1},
    )
    return case


async def _started(session: AsyncSession, case: Case) -> CaseEvent | None:
    return await session.scalar(
        select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.kind == "drill_started")
    )


def script_of(started: CaseEvent | None) -> DrillScript:
    key = (started.data or {}).get("script") if started else None
    return next((s for s in SCRIPTS if s.key == key), SCRIPTS[0])


async def reporter_answers(session: AsyncSession, domain: Domain, case: Case, owner: Person) -> str:
    """The owner wrote to the (scripted) reporter: the script answers, as a relayed message."""
    earlier = await session.scalar(
        select(func.count())
        .select_from(CaseEvent)
        .where(CaseEvent.case_id == case.id, CaseEvent.kind == "owner_message")
    )
    await events.record(
        session, domain, "owner_message", case_id=case.id, actor=f"person:{owner.id}"
    )
    script = script_of(await _started(session, case))
    line = script.replies[earlier] if earlier < len(script.replies) else LAST_WORD
    case.last_activity_at = domain.now()
    message = queue_notice(
        session,
        domain,
        DrillReporterReply(case, line),
        language=owner.language,
        purpose="relay",
        chat_id=owner.telegram_user_id,
        case_id=case.id,
    )
    await session.flush()
    session.add(RelayLink(case_id=case.id, outbox_id=message.id, chat_id=owner.telegram_user_id))
    return "sent"


async def report(session: AsyncSession, domain: Domain, case: Case) -> None:
    """The drill is over: what went well and what was missed, to the coordinator who started it."""
    started = await _started(session, case)
    coordinator = (
        await session.get(Person, (started.data or {}).get("by")) if started is not None else None
    )
    if coordinator is None:
        return
    script = script_of(started)
    kinds = [
        (kind, at)
        for kind, at in await session.execute(
            select(CaseEvent.kind, CaseEvent.at)
            .where(CaseEvent.case_id == case.id)
            .order_by(CaseEvent.id)
        )
    ]
    first_claim = next((at for kind, at in kinds if kind == "claimed"), None)
    messages = sum(1 for kind, _ in kinds if kind == "owner_message")
    referred = any(kind == "referred" for kind, _ in kinds)
    missed: list[DrillMiss] = []
    if not messages:
        missed.append("never_wrote")
    if script.needs_referral and not referred:
        missed.append("not_referred")
    deadline = routing.escalation_delay(domain, case.urgency)
    if first_claim is not None and first_claim - case.created_at > deadline:
        missed.append("late_claim")
    queue_notice(
        session,
        domain,
        DrillReport(
            case,
            time_to_claim=first_claim - case.created_at if first_claim else None,
            messages=messages,
            referred=referred,
            missed=tuple(missed),
        ),
        language=coordinator.language,
        purpose="drill_report",
        chat_id=coordinator.telegram_user_id,
        case_id=case.id,
    )
    await events.record(
        session, domain, "drill_reported", case_id=case.id, data={"missed": len(missed)}
    )
