"""Which responder groups see a case, the cards they get, and the escalation ladder."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import events, timers
from bot.domain.context import Domain
from bot.domain.directory import OrganisationRow
from bot.domain.notices import (
    BackupPing,
    Card,
    CoordinatorAlert,
    NewCasePing,
    Notice,
    NudgePing,
    UnclaimedAlert,
    UnroutedAlert,
)
from bot.domain.outbox import queue_notice
from bot.domain.people import coordinators_of, on_call
from bot.i18n import N_
from bot.taxonomy import CaseStatus, ConsentPurpose, Urgency
from models import (
    Case,
    CaseCard,
    Consent,
    Organisation,
    OrganisationCorridor,
    Person,
    ResponderGroup,
)

# A row of the directory in memory, or the model where a caller has one in hand.
AnyOrganisation = Organisation | OrganisationRow

SIDE_CONSENT = {
    "destination": ConsentPurpose.DESTINATION_HELP.value,
    "origin": ConsentPurpose.ORIGIN_HELP.value,
}
OTHER_SIDE = {"destination": "origin", "origin": "destination"}


def escalation_delay(domain: Domain, urgency: str) -> dt.timedelta:
    minutes = {
        Urgency.SOS: domain.config.escalation.sos_minutes,
        Urgency.HIGH: domain.config.escalation.high_minutes,
        Urgency.NORMAL: domain.config.escalation.normal_minutes,
    }[Urgency(urgency)]
    return dt.timedelta(minutes=minutes)


def acting_side(case: Case) -> str:
    """The side where the worker is decides: still abroad → destination, back home → origin.
    A missing worker is searched for where they went missing, the destination."""
    if "MISS" in case.categories:
        return "destination"
    return "origin" if case.worker_location == "origin" else "destination"


def preferred_sides(case: Case) -> list[str]:
    """The README's routing rules, in order: the acting side first; a relative reporting
    from home about a worker abroad also informs the origin side, so someone near the family
    can stay in touch (used only if the reporter agreed to the origin side)."""
    sides = [acting_side(case)]
    if (
        case.reporter_role == "family"
        and "MISS" not in case.categories
        and sides[0] == "destination"
    ):
        sides.append("origin")
    return sides


async def granted(session: AsyncSession, case: Case) -> dict[str, bool]:
    """The latest answer per purpose for this case; withdrawn means not granted."""
    rows = await session.scalars(
        select(Consent).where(Consent.case_id == case.id).order_by(Consent.id)
    )
    current: dict[str, bool] = {}
    for row in rows:
        current[row.purpose] = row.granted and row.withdrawn_at is None
    return current


async def organisations_for(
    session: AsyncSession, domain: Domain, case: Case, side: str
) -> list[OrganisationRow]:
    """The active organisations of ``side`` in the case's corridor that take its kind of
    case, those speaking the reporter's language first (kept in memory)."""
    known = await domain.organisations.get(session)
    in_corridor = (known.by_id[org_id] for org_id in known.in_corridor.get(case.corridor_code, ()))
    orgs = [o for o in in_corridor if o.side == side and o.active]
    handles = [o for o in orgs if not o.categories or set(o.categories) & set(case.categories)]
    speaks = [o for o in handles if case.language in o.languages]
    # Language is a preference, not a filter: a case nobody speaks still needs an owner.
    return speaks or handles


def group_language(org: AnyOrganisation) -> str:
    from bot.i18n import LANGUAGE_NAMES

    return next((lang for lang in org.languages if lang in LANGUAGE_NAMES), "en")


async def post_cards(
    session: AsyncSession,
    domain: Domain,
    case: Case,
    orgs: Sequence[AnyOrganisation],
    note: str | None = None,
    note_values: dict[str, Any] | None = None,
    only_chat: int | None = None,
) -> int:
    posted = 0
    known = await domain.organisations.get(session)
    for org in orgs:
        chats = [
            chat
            for chat in known.group_chats.get(org.id, ())
            if only_chat is None or chat == only_chat
        ]
        language = group_language(org)
        for chat in chats:
            message = queue_notice(
                session,
                domain,
                Card(case, domain.now(), note=note, note_values=note_values),
                language=language,
                purpose="card",
                chat_id=chat,
                case_id=case.id,
            )
            await session.flush()
            session.add(
                CaseCard(
                    case_id=case.id,
                    chat_id=chat,
                    organisation_id=org.id,
                    outbox_id=message.id,
                )
            )
            posted += 1
    return posted


async def ping_people(
    session: AsyncSession, domain: Domain, case: Case, people: list[Person], ping: Notice
) -> None:
    for person in people:
        if person.unreachable:
            continue
        queue_notice(
            session,
            domain,
            ping,
            language=person.language,
            purpose="ping",
            chat_id=person.telegram_user_id,
            case_id=case.id,
        )


async def alert_coordinators(
    session: AsyncSession, domain: Domain, case: Case, alert: CoordinatorAlert
) -> int:
    people = await coordinators_of(session, case.corridor_code)
    for person in people:
        queue_notice(
            session,
            domain,
            alert,
            language=person.language,
            purpose="alert",
            chat_id=person.telegram_user_id,
            case_id=case.id,
        )
    return len(people)


async def route(
    session: AsyncSession, domain: Domain, case: Case, consent: dict[str, bool] | None = None
) -> None:
    """``consent``: what the reporter just answered, for a case that has no other answers
    yet (otherwise read from the case's consents)."""
    corridor = await domain.corridors.find(session, case.corridor_code)
    if consent is None:
        consent = await granted(session, case)
    sides = preferred_sides(case)
    if corridor is not None and corridor.notify_both_sides:
        sides = [sides[0], OTHER_SIDE[sides[0]]]
    # Never share with a side the reporter has not agreed to; fall back to the other one.
    sides = [s for s in sides if consent.get(SIDE_CONSENT[s])] or [
        s for s in ("destination", "origin") if consent.get(SIDE_CONSENT[s])
    ][:1]
    orgs: list[OrganisationRow] = []
    for side in sides:
        orgs += await organisations_for(session, domain, case, side)
    case.side = sides[0] if sides else "destination"
    case.status = CaseStatus.ROUTED.value
    case.routed_at = domain.now()
    posted = await post_cards(session, domain, case, orgs)
    if posted:
        on_duty = await on_call(session, domain, [o.id for o in orgs], domain.now())
        await ping_people(session, domain, case, on_duty, NewCasePing(case))
    else:
        await alert_coordinators(session, domain, case, UnroutedAlert(case))
    await events.record(
        session,
        domain,
        "routed",
        case_id=case.id,
        data={"sides": sides, "organisations": [o.id for o in orgs], "cards": posted},
    )
    timers.schedule(
        session,
        domain,
        "escalate",
        domain.now() + escalation_delay(domain, case.urgency),
        case_id=case.id,
        payload={"level": 1},
    )


async def inform_side(session: AsyncSession, domain: Domain, case: Case, side: str) -> int:
    """Posts the case to the organisations of ``side`` that have no card of it yet."""
    carded = {
        c.organisation_id
        for c in await session.scalars(
            select(CaseCard).where(CaseCard.case_id == case.id, CaseCard.active.is_(True))
        )
    }
    orgs = [o for o in await organisations_for(session, domain, case, side) if o.id not in carded]
    return await post_and_record(session, domain, case, side, orgs)


async def post_and_record(
    session: AsyncSession, domain: Domain, case: Case, side: str, orgs: list[OrganisationRow]
) -> int:
    """Cards to ``orgs`` after the first routing, kept in the timeline as a routing."""
    posted = await post_cards(session, domain, case, orgs)
    if posted:
        await events.record(
            session,
            domain,
            "routed",
            case_id=case.id,
            data={"sides": [side], "organisations": [o.id for o in orgs], "cards": posted},
        )
    return posted


async def reroute(session: AsyncSession, domain: Domain, case: Case) -> list[OrganisationRow]:
    """The groups showing a waiting case were lost: the next organisations with a group
    that can take it, on the case's side first, then the other side if the reporter agreed.
    Returns those that got a card (none: the caller tells the coordinators)."""
    consent = await granted(session, case)
    for side in (case.side, OTHER_SIDE[case.side]):
        if not consent.get(SIDE_CONSENT[side]):
            continue
        orgs = await with_active_group(
            session, domain, await organisations_for(session, domain, case, side)
        )
        if orgs and await post_and_record(session, domain, case, side, orgs):
            case.side = side
            return orgs
    return []


async def post_open_cases(
    session: AsyncSession, domain: Domain, org: Organisation, chat_id: int
) -> int:
    """A group just linked for ``org`` gets the cards of every case still waiting for an
    owner on the organisation's side (or that lost its card in a group of the organisation
    the bot could not reach) that it would be shown (its corridors and categories, the
    reporter's consent), and that no group of the organisation shows now."""
    corridors = list(
        await session.scalars(
            select(OrganisationCorridor.corridor_code).where(
                OrganisationCorridor.organisation_id == org.id
            )
        )
    )
    waiting = await session.scalars(
        select(Case)
        .where(
            Case.corridor_code.in_(corridors),
            Case.status.in_((CaseStatus.ROUTED.value, CaseStatus.REFERRED.value)),
            Case.erased.is_(False),
        )
        .order_by(Case.created_at)
    )
    posted = 0
    lost = set(
        await session.scalars(
            select(CaseCard.case_id)
            .join(ResponderGroup, ResponderGroup.chat_id == CaseCard.chat_id)
            .where(CaseCard.organisation_id == org.id, ResponderGroup.active.is_(False))
        )
    )
    for case in waiting:
        # On the organisation's side now, or moved away only because its group was lost
        # (not a case it referred elsewhere).
        if case.side != org.side and case.id not in lost:
            continue
        if org.categories and not set(org.categories) & set(case.categories):
            continue
        if not (await granted(session, case)).get(SIDE_CONSENT[org.side]):
            continue
        shown = await session.scalar(
            select(CaseCard.id)
            .where(
                CaseCard.case_id == case.id,
                CaseCard.organisation_id == org.id,
                CaseCard.active.is_(True),
                CaseCard.chat_id != chat_id,
            )
            .limit(1)
        )
        if shown is None:
            posted += await post_cards(session, domain, case, [org], only_chat=chat_id)
    return posted


async def with_active_group(
    session: AsyncSession, domain: Domain, orgs: list[OrganisationRow]
) -> list[OrganisationRow]:
    known = await domain.organisations.get(session)
    return [o for o in orgs if known.group_chats.get(o.id)]


async def rerender_cards(
    session: AsyncSession,
    domain: Domain,
    case: Case,
    note: str | None = None,
    note_values: dict[str, Any] | None = None,
) -> None:
    """Edits every card of the case to match its state; the outbox does the editing."""
    owner = await session.get(Person, case.owner_person_id) if case.owner_person_id else None
    owner_org = (
        await session.get(Organisation, case.owner_organisation_id)
        if case.owner_organisation_id
        else None
    )
    cards = await session.scalars(
        select(CaseCard).where(CaseCard.case_id == case.id, CaseCard.active.is_(True))
    )
    for card in cards:
        org = await session.get(Organisation, card.organisation_id)
        language = group_language(org) if org else "en"
        queue_notice(
            session,
            domain,
            Card(
                case,
                domain.now(),
                owner_name=owner.name if owner else None,
                owner_org=owner_org.name if owner_org else None,
                note=note,
                note_values=note_values,
            ),
            language=language,
            purpose="card_edit",
            chat_id=card.chat_id,
            case_id=case.id,
            replacing=card.outbox_id,
        )


async def escalate(session: AsyncSession, domain: Domain, case: Case, level: int) -> None:
    """One rung of the ladder: backups → the other side → the coordinator."""
    if (
        case.status not in (CaseStatus.ROUTED.value, CaseStatus.REFERRED.value)
        or case.owner_person_id
    ):
        return
    consent = await granted(session, case)
    step = "none"
    while level <= 3 and step == "none":
        if level == 1:
            orgs = [
                c.organisation_id
                for c in await session.scalars(
                    select(CaseCard).where(CaseCard.case_id == case.id, CaseCard.active.is_(True))
                )
            ]
            backups = list(
                await session.scalars(
                    select(Person).where(
                        Person.organisation_id.in_(orgs),
                        Person.backup.is_(True),
                        Person.active.is_(True),
                    )
                )
            )
            if backups:
                await ping_people(session, domain, case, backups, BackupPing(case))
                step = "backup"
        elif level == 2:
            other = OTHER_SIDE[case.side]
            if consent.get(SIDE_CONSENT[other]):
                already = {
                    c.organisation_id
                    for c in await session.scalars(
                        select(CaseCard).where(CaseCard.case_id == case.id)
                    )
                }
                orgs = [
                    o
                    for o in await organisations_for(session, domain, case, other)
                    if o.id not in already
                ]
                if await post_cards(
                    session,
                    domain,
                    case,
                    orgs,
                    note=N_("Escalated: unclaimed on the other side."),
                ):
                    step = "other_side"
        else:
            await alert_coordinators(session, domain, case, UnclaimedAlert(case))
            step = "coordinator"
        if step == "none":
            level += 1
    case.escalation_level = level
    await events.record(
        session, domain, "escalated", case_id=case.id, data={"level": level, "step": step}
    )
    await rerender_cards(session, domain, case)
    if level < 3:
        timers.schedule(
            session,
            domain,
            "escalate",
            domain.now() + escalation_delay(domain, case.urgency),
            case_id=case.id,
            payload={"level": level + 1},
        )


async def deactivate_cards(session: AsyncSession, case_id: int) -> None:
    await session.execute(update(CaseCard).where(CaseCard.case_id == case_id).values(active=False))


async def nudge(
    session: AsyncSession,
    domain: Domain,
    case: Case,
    coordinator: Person,
    organisation: Organisation,
) -> str:
    """A coordinator asks an organisation holding the card of an unclaimed case to look at
    it: whoever is on call there is pinged (everyone active, when nobody is)."""
    if case.status not in (CaseStatus.ROUTED.value, CaseStatus.REFERRED.value):
        return "not_open"
    has_card = await session.scalar(
        select(CaseCard.id).where(
            CaseCard.case_id == case.id,
            CaseCard.organisation_id == organisation.id,
            CaseCard.active.is_(True),
        )
    )
    if has_card is None:
        return "no_card"
    people = await on_call(session, domain, [organisation.id], domain.now()) or list(
        await session.scalars(
            select(Person).where(Person.organisation_id == organisation.id, Person.active.is_(True))
        )
    )
    await ping_people(session, domain, case, people, NudgePing(case))
    await events.record(
        session,
        domain,
        "nudged",
        case_id=case.id,
        actor=f"person:{coordinator.id}",
        data={"organisation": organisation.id, "people": [p.id for p in people]},
    )
    return "nudged"
