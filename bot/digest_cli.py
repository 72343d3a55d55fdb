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
    from bot.crypto import make_keyring
    from models.db import make_engine, make_sessionmaker
    from models.migrate import upgrade

    keys = make_keyring(config)
    engine = make_engine(config.database.url)
    try:
        await upgrade(engine)
        domain = Domain(
            config=config, clock=SystemClock(), sessions=make_sessionmaker(engine), keys=keys
        )
        async with domain.sessions() as session, session.begin():
            query = select(Person).where(
                Person.role.in_(("coordinator", "admin")), Person.active.is_(True)
            )
            if person_id:
                query = query.where(Person.id == person_id)
            people = list(await session.scalars(query))
            if not people:
                print("no such coordinator")
                return 1
            for person in people:
                if send:
                    await duties.queue_digest(session, domain, person)
                    print(f"queued digest for {person.id}; the running bot delivers it")
                    continue
                text, chart = await digest.build(
                    session, domain, await coordinator_corridors(session, person), person.language
                )
                path = write_chart(person.id, chart)
                print(f"— {person.name} ({person.id}) —\n{text}\nchart: {path}\n")
        return 0
    finally:
        await engine.dispose()


def write_chart(person_id: str, chart: bytes) -> Path:
    path = Path(f"digest-{person_id}.png")
    path.write_bytes(chart)
    return path
