"""`corridor digest --now`: print every coordinator's digest, or queue it to them."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from bot.clock import SystemClock
from bot.config import Config
from bot.domain import digest, duties
from bot.domain.context import Domain
from bot.domain.people import coordinator_corridors
from models import Person


async def print_or_send(config: Config, *, send: bool, person_id: str | None) -> int:
    """Builds each digest in a read-only transaction (on SQLite a read-only connection, so a
    running bot is never kept waiting); with ``send``, queues each in a short transaction
    of its own for the running bot to deliver."""
    from bot.crypto import make_keyring
    from bot.errors import StartupError
    from models.db import make_engine, make_sessionmaker
    from models.migrate import pending_revisions

    keys = make_keyring(config)
    reader = make_engine(config.database.url, read_only=True)
    writer = make_engine(config.database.url) if send else None
    try:
        if await pending_revisions(reader):
            raise StartupError("the database schema is out of date: run `corridor db upgrade`")
        domain = Domain(
            config=config, clock=SystemClock(), sessions=make_sessionmaker(reader), keys=keys
        )
        async with domain.sessions() as session:
            query = select(Person).where(
                Person.role.in_(("coordinator", "admin")), Person.active.is_(True)
            )
            if person_id:
                query = query.where(Person.id == person_id)
            people = list(await session.scalars(query))
            if not people:
                print("no such coordinator")
                return 1
            built = []
            for person in people:
                corridors = await coordinator_corridors(session, person)
                text, chart = await digest.build(session, domain, corridors, person.language)
                built.append((person, corridors, text, chart))
        for person, corridors, text, chart in built:
            if writer is not None:
                sessions = make_sessionmaker(writer)
                async with sessions() as session, session.begin():
                    await duties.queue_built_digest(
                        session,
                        domain,
                        await session.get(Person, person.id),
                        corridors,
                        text,
                        chart,
                    )
                print(f"queued digest for {person.id}; the running bot delivers it")
                continue
            path = write_chart(person.id, chart)
            print(f"— {person.name} ({person.id}) —\n{text}\nchart: {path}\n")
        return 0
    finally:
        await reader.dispose()
        if writer is not None:
            await writer.dispose()


def write_chart(person_id: str, chart: bytes) -> Path:
    path = Path(f"digest-{person_id}.png")
    path.write_bytes(chart)
    return path
