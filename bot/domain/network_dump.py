"""The network as it stands in the database, written back as TOML for ``network sync``.

Useful after invites and deactivations have moved the database away from the file: the
dump is a file that ``bot.config.parse_config`` accepts and that ``sync_network`` applies
to the same database without a change. It holds the network sections only
(``[[corridors]]``, ``[[organisations]]``, ``[[groups]]``, ``[[people]]``, ``[[rota]]``,
``[[help]]``, ``[[saved_replies]]``), never the settings: no token, no encryption or hash key, no database URL.

Only active rows are written. A reference to an inactive row is dropped (a coordinator
who left, a corridor an organisation no longer serves), and what cannot stand without it
is left out (a group or responder of an inactive organisation, the rota of an inactive
person, help contacts of an inactive corridor); each omission is noted in a comment at the
top, since applying the file would remove those links. People and groups added through
Telegram (invites) are included: they are part of the network.

TOML is written by hand (``tomllib`` only reads): strings are basic strings with every
control character escaped, dates are TOML local dates.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import WEEKDAYS
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

_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}


def toml_string(value: str) -> str:
    out = []
    for ch in value:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, dt.datetime):
        raise TypeError("datetimes are not part of the network file")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        # An inline table; keys quoted, so any key (a language tag with "-") stays valid.
        return (
            "{ " + ", ".join(f"{toml_string(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
        )
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def _table(name: str, values: dict[str, Any]) -> str:
    lines = [f"[[{name}]]"]
    # TOML has no null: an absent optional key is simply left out.
    lines += [f"{key} = {toml_value(value)}" for key, value in values.items() if value is not None]
    return "\n".join(lines)


async def dump_network(session: AsyncSession) -> str:
    """The active network as TOML text (UTF-8), ready for ``corridor network sync``."""
    corridors = list(
        await session.scalars(
            select(Corridor).where(Corridor.active.is_(True)).order_by(Corridor.code)
        )
    )
    organisations = list(
        await session.scalars(
            select(Organisation).where(Organisation.active.is_(True)).order_by(Organisation.id)
        )
    )
    people = list(
        await session.scalars(select(Person).where(Person.active.is_(True)).order_by(Person.id))
    )
    corridor_codes = {c.code for c in corridors}
    org_ids = {o.id for o in organisations}
    notes: list[str] = []

    kept_people: list[Person] = []
    for person in people:
        if person.organisation_id is not None and person.organisation_id not in org_ids:
            if person.role == "responder":
                notes.append(
                    f"person {person.id} left out: organisation {person.organisation_id} "
                    "is inactive"
                )
                continue
            notes.append(
                f"person {person.id}: inactive organisation {person.organisation_id} dropped"
            )
        kept_people.append(person)
    person_ids = {p.id for p in kept_people}

    coordinators: dict[str, list[str]] = defaultdict(list)
    for link in await session.scalars(
        select(CorridorCoordinator).order_by(
            CorridorCoordinator.corridor_code, CorridorCoordinator.person_id
        )
    ):
        if link.corridor_code not in corridor_codes:
            notes.append(
                f"corridor {link.corridor_code} (inactive): coordinator {link.person_id} dropped"
            )
            continue
        if link.person_id in person_ids:
            coordinators[link.corridor_code].append(link.person_id)
        else:
            notes.append(
                f"corridor {link.corridor_code}: coordinator {link.person_id} (inactive) dropped"
            )

    served: dict[str, list[str]] = defaultdict(list)
    for link in await session.scalars(
        select(OrganisationCorridor).order_by(
            OrganisationCorridor.organisation_id, OrganisationCorridor.corridor_code
        )
    ):
        if link.organisation_id not in org_ids:
            continue
        if link.corridor_code in corridor_codes:
            served[link.organisation_id].append(link.corridor_code)
        else:
            notes.append(
                f"organisation {link.organisation_id}: corridor {link.corridor_code} "
                "(inactive) dropped"
            )

    groups = []
    for group in await session.scalars(
        select(ResponderGroup)
        .where(ResponderGroup.active.is_(True))
        .order_by(ResponderGroup.organisation_id, ResponderGroup.chat_id)
    ):
        if group.organisation_id in org_ids:
            groups.append(group)
        else:
            notes.append(
                f"group {group.chat_id} left out: organisation {group.organisation_id} is inactive"
            )

    # Shifts are stored one per weekday; the file lists the days of one time range.
    rota: dict[tuple[str, str, str], set[int]] = defaultdict(set)
    for shift in await session.scalars(select(RotaShift)):
        if shift.person_id in person_ids:
            rota[(shift.person_id, shift.start, shift.end)].add(shift.weekday)
        else:
            notes.append(f"shift of {shift.person_id} left out: person inactive or left out")

    help_contacts = []
    for contact in await session.scalars(
        select(HelpContact).order_by(HelpContact.corridor_code, HelpContact.id)
    ):
        if contact.corridor_code in corridor_codes:
            help_contacts.append(contact)
        else:
            notes.append(
                f"help {contact.name!r} left out: corridor {contact.corridor_code} is inactive"
            )

    saved = []
    for reply in await session.scalars(select(SavedReplyText).order_by(SavedReplyText.code)):
        if reply.organisation_id is None or reply.organisation_id in org_ids:
            saved.append(reply)
        else:
            notes.append(
                f"saved reply {reply.code} left out: organisation {reply.organisation_id} "
                "is inactive"
            )

    blocks = [
        "# The responder network, as it stands in the database (`corridor network sync FILE`\n"
        "# applies it). Settings and secrets are not part of it: keep them in your own\n"
        "# config.toml and the environment."
    ]
    if notes:
        blocks.append(
            "# Not written, because what they refer to is inactive:\n"
            + "\n".join(f"#   {' '.join(note.split())}" for note in sorted(set(notes)))
        )
    for c in corridors:
        blocks.append(
            _table(
                "corridors",
                {
                    "code": c.code,
                    "origin": c.origin,
                    "destination": c.destination,
                    "notify_both_sides": c.notify_both_sides,
                    "coordinators": coordinators.get(c.code, []),
                },
            )
        )
    for o in organisations:
        blocks.append(
            _table(
                "organisations",
                {
                    "id": o.id,
                    "name": o.name,
                    "side": o.side,
                    "kind": o.kind,
                    "country": o.country,
                    "corridors": served.get(o.id, []),
                    "languages": list(o.languages or []),
                    "categories": list(o.categories or []),
                    "timezone": o.timezone,
                },
            )
        )
    for g in groups:
        blocks.append(
            _table(
                "groups",
                {"organisation": g.organisation_id, "chat_id": g.chat_id, "title": g.title},
            )
        )
    for p in kept_people:
        blocks.append(
            _table(
                "people",
                {
                    "id": p.id,
                    "name": p.name,
                    "telegram_user_id": p.telegram_user_id,
                    "role": p.role,
                    "organisation": p.organisation_id if p.organisation_id in org_ids else None,
                    "language": p.language,
                    "timezone": p.timezone,
                    "backup": p.backup,
                    "digest_time": p.digest_time,
                },
            )
        )
    for (person_id, start, end), weekdays in sorted(rota.items()):
        blocks.append(
            _table(
                "rota",
                {
                    "person": person_id,
                    "days": [WEEKDAYS[d] for d in sorted(weekdays)],
                    "start": start,
                    "end": end,
                },
            )
        )
    for h in help_contacts:
        blocks.append(
            _table(
                "help",
                {
                    "corridor": h.corridor_code,
                    "kind": h.kind,
                    "name": h.name,
                    "phone": h.phone,
                    "url": h.url,
                    "source": h.source,
                    "verified": h.verified_on,
                },
            )
        )
    for r in saved:
        blocks.append(
            _table(
                "saved_replies",
                {
                    "code": r.code,
                    "organisation": r.organisation_id,
                    "fields": list(r.fields or []),
                    "title": dict(r.titles),
                    "text": dict(r.texts),
                },
            )
        )
    return "\n\n".join(blocks) + "\n"
