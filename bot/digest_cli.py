"""`corridor digest --now`: print every coordinator's digest, or queue it to them.

Printing writes nothing to disk; ``--out DIR`` saves each digest's text and chart there."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import SystemClock
from bot.config import Config
from bot.domain import digest, duties
from bot.domain.context import Domain
from bot.domain.people import coordinator_corridors
from bot.errors import CommandError
from models import Person


async def print_or_send(
    config: Config,
    sessions: async_sessionmaker[AsyncSession],
    *,
    send: bool,
    person_id: str | None,
    out: Path | None = None,
    render: Callable[[str], str] = lambda text: text,
) -> int:
    """``render`` turns the digest's Telegram HTML into what is printed (plain text on a
    terminal); files in ``out`` are written as plain text and PNG."""
    from bot.cli import plain_text
    from bot.crypto import active

    domain = Domain(config=config, clock=SystemClock(), sessions=sessions, keys=active())
    async with domain.sessions() as session, session.begin():
        query = select(Person).where(
            Person.role.in_(("coordinator", "admin")), Person.active.is_(True)
        )
        if person_id:
            query = query.where(Person.id == person_id)
        people = list(await session.scalars(query.order_by(Person.id)))
        if not people:
            raise CommandError(
                f"--person {person_id}: no active coordinator or admin has that id"
                if person_id
                else "no active coordinator or admin in the database (is it the right one?)"
            )
        for person in people:
            if send:
                await duties.queue_digest(session, domain, person)
                print(f"queued digest for {person.id}; the running bot delivers it")
                continue
            text, chart = await digest.build(
                session, domain, await coordinator_corridors(session, person), person.language
            )
            print(f"— {person.name} ({person.id}) —\n{render(text)}")
            if out is not None:
                write(out / f"digest-{person.id}.txt", plain_text(text).encode() + b"\n")
                write(out / f"digest-{person.id}.png", chart)
                print(
                    f"saved: {out / f'digest-{person.id}.txt'}, {out / f'digest-{person.id}.png'}"
                )
            print()
    if not send and out is None:
        print("(charts are not saved: add --out DIR to keep them)")
    return 0


def write(path: Path, data: bytes) -> None:
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise CommandError(f"cannot write {path}: {exc.strerror or exc}") from None
