"""Runs due timers. Each timer is leased in one transaction and handled in its own, so a
failure in one never blocks the others and a crash mid-way only delays (never loses) it."""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import delete, select

from bot.domain import digest, events, followups, routing, timers
from bot.domain.context import Domain
from bot.domain.notices import Digest, DigestChart, DraftReminder
from bot.domain.outbox import queue_notice, queue_parts
from bot.domain.people import coordinator_corridors
from models import Case, HandledUpdate, Person, Timer
from models.db import read_only

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5
WEEKDAY_INDEX = {
    name: i
    for i, name in enumerate(
        ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    )
}


async def take_back_orphans(domain: Domain) -> int:
    """Timers left running by a process that died, due again now (SQLite: see
    timers.take_back_orphans)."""
    async with domain.transaction() as session:
        taken = await timers.take_back_orphans(session, domain)
    if taken:
        log.info("took back %d timers left running by a process that died", taken)
    return taken


async def run_due(domain: Domain, limit: int = 100) -> int:
    async with domain.transaction() as session:
        leased = await timers.claim_due(session, domain, limit)
        due = [(t.id, t.kind) for t in leased]
    for timer_id, kind in due:
        try:
            built = await _digest_ahead(domain, timer_id) if kind == "digest" else None
            async with domain.transaction() as session:
                timer = await session.get(Timer, timer_id)
                if (
                    timer is None
                    or timer.status != "running"
                    or timer.lease_owner != domain.liveness.instance
                ):
                    continue  # fired, cancelled, or taken by another process meanwhile
                await _fire(session, domain, timer, built)
                timer.status = "done"
                timer.fired_at = domain.now()
        except Exception:
            log.exception("timer %s failed", timer_id)
            async with domain.transaction() as session:
                timer = await session.get(Timer, timer_id)
                if timer is not None:
                    timer.status = "failed" if timer.attempts >= MAX_ATTEMPTS else "pending"
                    timer.due_at = domain.now() + dt.timedelta(minutes=2**timer.attempts)
    return len(due)


async def _digest_ahead(domain: Domain, timer_id: int) -> Digest | None:
    """A digest timer's digest, built before its write transaction in a read-only one (as
    ``corridor digest --send`` does): a year of figures then holds up no other writer, and
    on SQLite its reads run off the event loop's thread."""
    async with domain.sessions() as session:
        await read_only(session)
        timer = await session.get(Timer, timer_id)
        if timer is None:
            return None
        person = await session.get(Person, timer.payload.get("person"))
        if person is None or not person.active:
            return None
        return await build_digest(session, domain, person, bool(timer.payload.get("weekly")))


async def _fire(session, domain: Domain, timer: Timer, built: Digest | None = None) -> None:  # type: ignore[no-untyped-def]
    if timer.kind == "digest":
        await fire_digest(session, domain, timer, built)
        return
    case = await session.get(Case, timer.case_id) if timer.case_id else None
    if case is None:
        return
    if timer.kind == "escalate":
        await routing.escalate(session, domain, case, int(timer.payload.get("level", 1)))
    elif timer.kind == "checkin":
        await followups.fire_checkin(session, domain, case)
    elif timer.kind == "owner_reminder":
        await followups.fire_owner_reminder(session, domain, case)
    elif timer.kind == "sos_silence":
        await followups.fire_sos_silence(
            session, domain, case, dt.datetime.fromisoformat(timer.payload["since"])
        )
    else:
        log.warning("unknown timer kind %s", timer.kind)


async def ensure_digest_timers(domain: Domain) -> int:
    """One pending daily and one weekly digest timer per coordinator; idempotent."""
    created = 0
    async with domain.transaction() as session:
        people = list(
            await session.scalars(
                select(Person).where(
                    Person.role.in_(("coordinator", "admin")), Person.active.is_(True)
                )
            )
        )
        pending = {
            (t.payload.get("person"), t.payload.get("weekly", False))
            for t in await session.scalars(
                select(Timer).where(
                    Timer.kind == "digest", Timer.status.in_(("pending", "running"))
                )
            )
        }
        for person in people:
            for weekly in (False, True):
                if (person.id, weekly) in pending:
                    continue
                schedule_digest(session, domain, person, weekly)
                created += 1
    return created


def schedule_digest(session, domain: Domain, person: Person, weekly: bool) -> None:  # type: ignore[no-untyped-def]
    weekday = WEEKDAY_INDEX[domain.config.digest.weekly_weekday] if weekly else None
    due = digest.next_digest_at(
        domain.now(),
        person.timezone,
        person.digest_time or domain.config.digest.default_time,
        weekday,
    )
    timers.schedule(session, domain, "digest", due, payload={"person": person.id, "weekly": weekly})


async def build_digest(session, domain: Domain, person: Person, weekly: bool = False) -> Digest:  # type: ignore[no-untyped-def]
    """The digest of the corridors ``person`` coordinates."""
    corridors = await coordinator_corridors(session, person)
    return await digest.build(session, domain, corridors, weekly)


async def queue_digest(session, domain: Domain, person: Person, weekly: bool = False) -> None:  # type: ignore[no-untyped-def]
    await queue_built_digest(
        session, domain, person, await build_digest(session, domain, person, weekly)
    )


async def queue_built_digest(  # type: ignore[no-untyped-def]
    session,
    domain: Domain,
    person: Person,
    built: Digest,
) -> None:
    """Queues a digest built beforehand (``corridor digest --send`` builds it in a
    read-only transaction and queues it in a short one)."""
    # Bounded by design (see digest.PATTERNS_SHOWN); the split is a guard: numbered parts,
    # no HTML tag or entity broken.
    text = domain.views.render(built, person.language)
    queue_parts(
        session,
        domain,
        purpose="digest",
        chat_id=person.telegram_user_id,
        body=text.text or "",
        extra={"parse_mode": "HTML"},
    )
    queue_notice(
        session,
        domain,
        DigestChart(built, domain.config.webapp.public_url or None),
        language=person.language,
        purpose="digest",
        chat_id=person.telegram_user_id,
    )
    await events.record(
        session,
        domain,
        "digest_sent",
        actor="system",
        data={"person": person.id, "weekly": built.weekly},
    )


async def fire_digest(session, domain: Domain, timer: Timer, built: Digest | None = None) -> None:  # type: ignore[no-untyped-def]
    person = await session.get(Person, timer.payload.get("person"))
    if person is None or not person.active:
        return
    weekly = bool(timer.payload.get("weekly"))
    if built is None:
        await queue_digest(session, domain, person, weekly)
    else:
        await queue_built_digest(session, domain, person, built)
    schedule_digest(session, domain, person, weekly)


async def sweep_drafts(domain: Domain) -> int:
    """Unfinished reports: one gentle reminder, then they expire. Returns rows touched."""
    from bot.domain.cases import reporter_for
    from models import ConversationState

    now = domain.now()
    remind_before = now - dt.timedelta(minutes=domain.config.bot.draft_reminder_minutes)
    expire_before = now - dt.timedelta(hours=domain.config.bot.draft_expiry_hours)
    touched = 0
    async with domain.transaction() as session:
        rows = await session.scalars(
            select(ConversationState)
            .where(
                ConversationState.state.like("Report%"),
                ConversationState.updated_at < remind_before,
            )
            .limit(200)
        )
        for row in rows:
            data = dict(row.data or {})
            chat_id = data.get("_chat_id")
            if row.updated_at < expire_before:
                await session.delete(row)
                touched += 1
                continue
            if data.get("_reminded") or not chat_id or chat_id < 0:
                continue
            language = data.get("language", "en")
            reporter = await reporter_for(session, domain, chat_id, chat_id, language)
            queue_notice(
                session,
                domain,
                DraftReminder(),
                language=language,
                purpose="draft_reminder",
                reporter_id=reporter.id,
                extra={"protect_content": True},
            )
            data["_reminded"] = True
            row.data = data
            touched += 1
    return touched


async def forget_handled_updates(domain: Domain, keep: dt.timedelta = dt.timedelta(days=2)) -> None:
    """Telegram redelivers an update within hours at most; older ids need not be kept."""
    async with domain.transaction() as session:
        await session.execute(
            delete(HandledUpdate).where(HandledUpdate.handled_at < domain.now() - keep)
        )
