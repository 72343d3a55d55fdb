"""`corridor digest --now`: print every coordinator's digest, or queue it to them.

Printing writes nothing to disk; ``--out DIR`` saves each digest's text and chart there."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import make_domain
from bot.config import Config
from bot.domain import duties
from bot.errors import CommandError
from bot.views.digest import digest_chart, digest_text
from models import Person


async def print_or_send(
    config: Config,
    sessions: async_sessionmaker[AsyncSession],
    *,
    send: bool,
    person_id: str | None,
    out: Path | None = None,
    render: Callable[[str], str] = lambda text: text,
    writer: async_sessionmaker[AsyncSession] | None = None,
) -> int:
    """Builds each digest reading through ``sessions`` (the operator's command opens them
    read-only, so a running bot is never kept waiting); with ``send``, queues each in a
    short transaction of its own in ``writer`` for the running bot to deliver.
    ``render`` turns the digest's Telegram HTML into what is printed (plain text on a
    terminal); files in ``out`` are written as plain text and PNG."""
    from bot.cli import plain_text

    if send and writer is None:
        raise ValueError("send needs a writer")
    domain = make_domain(config, sessions)
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
        built = []
        for person in people:
            built.append((person, await duties.build_digest(session, domain, person)))
    if send:
        assert writer is not None
        queuing = make_domain(config, writer)
        for person, notice in built:
            async with queuing.transaction() as session:
                current = await session.get(Person, person.id)
                if current is None or not current.active:
                    print(f"{person.id} is no longer an active coordinator: not queued")
                    continue
                await duties.queue_built_digest(session, queuing, current, notice)
            print(f"queued digest for {person.id}; the running bot delivers it")
        return 0
    for person, notice in built:
        text = digest_text(notice, person.language)
        print(f"— {person.name} ({person.id}) —\n{render(text)}")
        if out is not None:
            write(out / f"digest-{person.id}.txt", plain_text(text).encode() + b"\n")
            write(out / f"digest-{person.id}.png", digest_chart(notice))
            print(f"saved: {out / f'digest-{person.id}.txt'}, {out / f'digest-{person.id}.png'}")
        print()
    if out is None:
        print("(charts are not saved: add --out DIR to keep them)")
    return 0


def write(path: Path, data: bytes) -> None:
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise CommandError(f"cannot write {path}: {exc.strerror or exc}") from None
