"""Loading the network described in TOML into the database, idempotently, with a diff."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import WEEKDAYS, Config
from models import (
    Corridor,
    CorridorCoordinator,
    HelpContact,
    Organisation,
    OrganisationCorridor,
    Person,
    ResponderGroup,
    RotaShift,
    SavedReplyText,
)


@dataclass
class SyncReport:
    changes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.changes)


def _update(report: SyncReport, label: str, row: Any, values: dict[str, Any]) -> None:
    for name, value in values.items():
        if getattr(row, name) != value:
            report.changes.append(f"~ {label}: {name} {getattr(row, name)!r} → {value!r}")
            setattr(row, name, value)


async def _upsert(
    session: AsyncSession,
    report: SyncReport,
    model: type,
    key: Any,
    label: str,
    values: dict[str, Any],
) -> Any:
    row = await session.get(model, key)
    if row is None:
        row = model(**values)
        session.add(row)
        report.changes.append(f"+ {label}")
    else:
        _update(report, label, row, values)
    return row


async def _sync_links(
    session: AsyncSession,
    report: SyncReport,
    model: type,
    wanted: set[tuple[Any, Any]],
    cols: tuple[str, str],
    label: str,
) -> None:
    rows = (await session.scalars(select(model))).all()
    existing = {(getattr(r, cols[0]), getattr(r, cols[1])): r for r in rows}
    for key in sorted(wanted - existing.keys()):
        session.add(model(**dict(zip(cols, key, strict=True))))
        report.changes.append(f"+ {label} {key[0]} ↔ {key[1]}")
    for key in sorted(existing.keys() - wanted):
        await session.delete(existing[key])
        report.changes.append(f"- {label} {key[0]} ↔ {key[1]}")


async def sync_network(session: AsyncSession, config: Config) -> SyncReport:
    """Makes the database match the file. Removed entries are deactivated, never deleted,
    because cases and audit events still point at them."""
    report = SyncReport()
    for c in config.corridors:
        await _upsert(
            session,
            report,
            Corridor,
            c.code,
            f"corridor {c.code}",
            {
                "code": c.code,
                "origin": c.origin,
                "destination": c.destination,
                "notify_both_sides": c.notify_both_sides,
                "active": True,
            },
        )
    for o in config.organisations:
        await _upsert(
            session,
            report,
            Organisation,
            o.id,
            f"organisation {o.id}",
            {
                "id": o.id,
                "name": o.name,
                "side": o.side,
                "kind": o.kind,
                "country": o.country,
                "languages": list(o.languages),
                "categories": list(o.categories),
                "timezone": o.timezone,
                "active": True,
            },
        )
    for p in config.people:
        values = {
            "id": p.id,
            "name": p.name,
            "telegram_user_id": p.telegram_user_id,
            "role": p.role,
            "organisation_id": p.organisation,
            "timezone": p.timezone,
            "backup": p.backup,
            "digest_time": p.digest_time,
            "active": True,
        }
        # The file's language is where a person starts; after that their own /language choice
        # stands, so a restart or a sync never switches someone back to a language they left.
        if await session.get(Person, p.id) is None:
            values["language"] = p.language
        await _upsert(session, report, Person, p.id, f"person {p.id}", values)
    await session.flush()
    groups = {g.chat_id: g for g in (await session.scalars(select(ResponderGroup))).all()}
    for g in config.groups:
        row = groups.get(g.chat_id)
        values = {
            "organisation_id": g.organisation,
            "chat_id": g.chat_id,
            "title": g.title,
            "active": True,
        }
        if row is None:
            session.add(ResponderGroup(**values))
            report.changes.append(f"+ group {g.chat_id}")
        else:
            _update(report, f"group {g.chat_id}", row, values)

    wanted_codes = {c.code for c in config.corridors}
    wanted_orgs = {o.id for o in config.organisations}
    wanted_people = {p.id for p in config.people}
    wanted_groups = {g.chat_id for g in config.groups}
    for model, key, wanted, label in (
        (Corridor, "code", wanted_codes, "corridor"),
        (Organisation, "id", wanted_orgs, "organisation"),
        (Person, "id", wanted_people, "person"),
        (ResponderGroup, "chat_id", wanted_groups, "group"),
    ):
        managed = select(model).where(model.active.is_(True))
        if hasattr(model, "managed_by"):
            managed = managed.where(model.managed_by == "config")
        for row in (await session.scalars(managed)).all():
            if getattr(row, key) not in wanted:
                row.active = False
                report.changes.append(f"- {label} {getattr(row, key)} (deactivated)")

    await session.flush()
    await _sync_links(
        session,
        report,
        OrganisationCorridor,
        {(o.id, c) for o in config.organisations for c in o.corridors},
        ("organisation_id", "corridor_code"),
        "organisation-corridor",
    )
    await _sync_links(
        session,
        report,
        CorridorCoordinator,
        {(c.code, p) for c in config.corridors for p in c.coordinators},
        ("corridor_code", "person_id"),
        "coordinator",
    )
    await _sync_shifts(session, report, config)
    await _sync_help(session, report, config)
    await _sync_saved_replies(session, report, config)
    await session.flush()
    return report


async def _sync_shifts(session: AsyncSession, report: SyncReport, config: Config) -> None:
    wanted = {
        (r.person, WEEKDAYS.index(day), r.start, r.end) for r in config.rota for day in r.days
    }
    rows = (await session.scalars(select(RotaShift))).all()
    existing = {(r.person_id, r.weekday, r.start, r.end): r for r in rows}
    for key in sorted(wanted - existing.keys()):
        session.add(RotaShift(person_id=key[0], weekday=key[1], start=key[2], end=key[3]))
        report.changes.append(f"+ shift {key[0]} {WEEKDAYS[key[1]]} {key[2]}-{key[3]}")
    for key in sorted(existing.keys() - wanted):
        await session.delete(existing[key])
        report.changes.append(f"- shift {key[0]} {WEEKDAYS[key[1]]} {key[2]}-{key[3]}")


async def _sync_help(session: AsyncSession, report: SyncReport, config: Config) -> None:
    rows = {
        (h.corridor_code, h.name): h for h in (await session.scalars(select(HelpContact))).all()
    }
    wanted = set()
    for h in config.help:
        key = (h.corridor, h.name)
        wanted.add(key)
        values = {
            "corridor_code": h.corridor,
            "kind": h.kind,
            "name": h.name,
            "phone": h.phone,
            "url": h.url,
            "source": h.source,
            "verified_on": h.verified,
        }
        if key in rows:
            _update(report, f"help {h.name!r}", rows[key], values)
        else:
            session.add(HelpContact(**values))
            report.changes.append(f"+ help {h.name!r} ({h.corridor})")
    for key in set(rows) - wanted:
        await session.execute(delete(HelpContact).where(HelpContact.id == rows[key].id))
        report.changes.append(f"- help {key[1]!r} ({key[0]})")


async def _sync_saved_replies(session: AsyncSession, report: SyncReport, config: Config) -> None:
    """Organisations' own saved replies: nothing points at them, so a removed one is deleted."""
    rows = {r.code: r for r in (await session.scalars(select(SavedReplyText))).all()}
    for entry in config.saved_replies:
        values = {
            "code": entry.code,
            "organisation_id": entry.organisation,
            "fields": list(entry.fields),
            "titles": dict(entry.title),
            "texts": dict(entry.text),
        }
        row = rows.get(entry.code)
        if row is None:
            session.add(SavedReplyText(**values))
            report.changes.append(f"+ saved reply {entry.code}")
        else:
            _update(report, f"saved reply {entry.code}", row, values)
    for code in sorted(set(rows) - {entry.code for entry in config.saved_replies}):
        await session.delete(rows[code])
        report.changes.append(f"- saved reply {code}")
