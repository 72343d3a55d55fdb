"""Growing the network from Telegram: invite links, linking groups, removing people."""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import claims, events, routing
from bot.domain.context import Domain
from bot.domain.people import coordinator_corridors
from models import Case, Invite, Organisation, OrganisationCorridor, Person, ResponderGroup

INVITE_LIFETIME = dt.timedelta(days=7)


async def manageable_organisations(
    session: AsyncSession, coordinator: Person
) -> list[Organisation]:
    """Organisations serving at least one of the coordinator's corridors."""
    corridors = await coordinator_corridors(session, coordinator)
    # DISTINCT on ids only: PostgreSQL cannot compare the rows' json columns.
    ids = (
        select(OrganisationCorridor.organisation_id)
        .where(OrganisationCorridor.corridor_code.in_(corridors))
        .distinct()
    )
    return list(
        await session.scalars(
            select(Organisation)
            .where(Organisation.id.in_(ids), Organisation.active.is_(True))
            .order_by(Organisation.id)
        )
    )


async def teams(
    session: AsyncSession, coordinator: Person
) -> list[tuple[Organisation, list[Person]]]:
    """The active people of each organisation the coordinator manages (`/team`)."""
    result = []
    for org in await manageable_organisations(session, coordinator):
        people = await session.scalars(
            select(Person)
            .where(Person.organisation_id == org.id, Person.active.is_(True))
            .order_by(Person.id)
        )
        result.append((org, list(people)))
    return result


async def may_manage(session: AsyncSession, coordinator: Person, organisation_id: str) -> bool:
    return any(
        o.id == organisation_id for o in await manageable_organisations(session, coordinator)
    )


async def create_invite(
    session: AsyncSession, domain: Domain, coordinator: Person, organisation_id: str
) -> str:
    token = secrets.token_urlsafe(12)
    session.add(
        Invite(
            token_key=domain.keys.pseudonym("invite", token),
            organisation_id=organisation_id,
            created_by=coordinator.id,
            created_at=domain.now(),
            expires_at=domain.now() + INVITE_LIFETIME,
        )
    )
    await events.record(
        session,
        domain,
        "invite_created",
        actor=f"person:{coordinator.id}",
        data={"organisation": organisation_id},
    )
    return token


async def redeem_invite(
    session: AsyncSession, domain: Domain, token: str, user_id: int, name: str, language: str
) -> Person | None:
    invite = await session.scalar(
        select(Invite).where(Invite.token_key == domain.keys.pseudonym("invite", token))
    )
    if invite is None or invite.used_at is not None or invite.expires_at < domain.now():
        return None
    existing = await session.scalar(select(Person).where(Person.telegram_user_id == user_id))
    if existing is not None and existing.active:
        return None
    invite.used_at = domain.now()
    person = existing or Person(id=f"tg{user_id}", telegram_user_id=user_id, managed_by="telegram")
    person.name = name[:100] or "Responder"
    person.role = invite.role
    person.organisation_id = invite.organisation_id
    person.language = language
    person.active = True
    person.unreachable = False
    session.add(person)
    invite.used_by = person.id
    await events.record(
        session,
        domain,
        "role_granted",
        actor=f"person:{invite.created_by}",
        data={"person": person.id, "role": invite.role, "organisation": invite.organisation_id},
    )
    return person


async def link_group(
    session: AsyncSession,
    domain: Domain,
    coordinator: Person,
    organisation_id: str,
    chat_id: int,
    title: str,
) -> int | None:
    """Links the group; returns how many waiting cases were posted there, or None when the
    coordinator may not manage that organisation (or that group)."""
    if not await may_manage(session, coordinator, organisation_id):
        return None
    group = await session.scalar(select(ResponderGroup).where(ResponderGroup.chat_id == chat_id))
    if (
        group is not None
        and group.active
        and not await may_manage(session, coordinator, group.organisation_id)
    ):
        # Re-pointing another network's group would show them cards that are not theirs.
        return None
    if group is None:
        session.add(
            ResponderGroup(
                organisation_id=organisation_id,
                chat_id=chat_id,
                title=title[:255],
                managed_by="telegram",
            )
        )
    else:
        group.organisation_id, group.active, group.title = organisation_id, True, title[:255]
    await session.flush()
    org = await session.get(Organisation, organisation_id)
    # Cases that waited while the organisation had no working group are shown here now.
    posted = await routing.post_open_cases(session, domain, org, chat_id) if org else 0
    await events.record(
        session,
        domain,
        "group_linked",
        actor=f"person:{coordinator.id}",
        chat_id=chat_id,
        data={"organisation": organisation_id, "open_cards": posted},
    )
    return posted


async def remove_person(
    session: AsyncSession, domain: Domain, coordinator: Person, person_id: str
) -> str:
    """Access ends at once: the person's role is gone and their open cases go back to the queue."""
    person = await session.get(Person, person_id)
    if person is None or not person.active or person.organisation_id is None:
        return "unknown"
    if person.id == coordinator.id or not await may_manage(
        session, coordinator, person.organisation_id
    ):
        return "not_allowed"
    person.active = False
    await events.record(
        session,
        domain,
        "role_revoked",
        actor=f"person:{coordinator.id}",
        data={"person": person.id},
    )
    owned = await session.scalars(
        select(Case).where(Case.owner_person_id == person.id, Case.status == "claimed")
    )
    for case in owned:
        await claims.release(session, domain, case, "owner_removed")
    return "removed"


async def set_override(
    session: AsyncSession,
    domain: Domain,
    coordinator: Person,
    person_id: str,
    start: dt.date,
    end: dt.date,
    on_call: bool,
) -> str:
    """A holiday (off call) or cover (on call) for whole local days, start..end inclusive."""
    from zoneinfo import ZoneInfo

    from models import RotaOverride

    person = await session.get(Person, person_id)
    if person is None or not person.active or person.organisation_id is None:
        return "unknown"
    if not await may_manage(session, coordinator, person.organisation_id) or end < start:
        return "not_allowed"
    org = await session.get(Organisation, person.organisation_id)
    zone = ZoneInfo(org.timezone if org else "UTC")
    starts = dt.datetime.combine(start, dt.time(0, 0), tzinfo=zone).astimezone(dt.UTC)
    ends = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(0, 0), tzinfo=zone).astimezone(
        dt.UTC
    )
    session.add(
        RotaOverride(
            person_id=person.id,
            starts_at=starts,
            ends_at=ends,
            on_call=on_call,
            note=f"set by {coordinator.id}",
        )
    )
    await events.record(
        session,
        domain,
        "rota_override",
        actor=f"person:{coordinator.id}",
        data={
            "person": person.id,
            "from": start.isoformat(),
            "to": end.isoformat(),
            "on_call": on_call,
        },
    )
    return "set"
