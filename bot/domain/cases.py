"""Reporters and the creation of cases from a finished report."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, event, func, inspect, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from bot.domain import events, routing
from bot.domain.context import Domain
from bot.domain.directory import CorridorRow
from bot.domain.notices import WorkerJoined
from bot.domain.triage import triage
from bot.i18n import tr
from bot.taxonomy import (
    CONSENT_TEXTS,
    CONSENT_VERSION,
    GENDERS,
    OPEN_STATUSES,
    SECTORS,
    CaseStatus,
    ConsentPurpose,
)
from models import Attachment, Case, Consent, Reporter
from models.db import as_loaded, as_loaded_row, dialect_insert
from models.prepared import Prepared

CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # nothing to confuse on a small screen


class IntakeError(Exception):
    """A report that cannot become a case; ``reason`` is a stable code for the handler."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Report:
    reporter_role: str
    destination_country: str
    origin_country: str
    categories: list[str]
    language: str
    consents: dict[str, bool]
    relationship: str | None = None
    area: str | None = None
    worker_location: str = "destination"
    since: str | None = None
    in_danger: bool = False
    workers_affected: int = 1
    employer: str | None = None
    agency: str | None = None
    wage_owed_minor: int | None = None
    wage_currency: str | None = None
    description: str | None = None
    worker_name: str | None = None
    contact_method: str = "chat"
    contact_phone: str | None = None
    precise_location: str | None = None
    details: dict[str, str] = field(default_factory=dict)
    attachments: list[tuple[str, str | None, str | None]] = field(default_factory=list)
    sos: bool = False
    # The exact sentence shown when consent was given, if not the standard per-purpose text.
    consent_text: str | None = None
    # Optional, skippable: a bot.taxonomy SECTORS / GENDERS code, or None.
    sector: str | None = None
    gender: str | None = None


async def reporter_for(
    session: AsyncSession, domain: Domain, user_id: int, chat_id: int, language: str
) -> Reporter:
    key = domain.keys.pseudonym("user", user_id)
    reporter = await _reporter_by_key(session, key)
    if reporter is None:
        # Two updates of a new user (a double tap) may race to create them: insert or
        # ignore, then read, so neither fails.
        fields: dict[str, Any] = {
            "user_key": key,
            "chat_id": str(chat_id),
            "language": language,
            "created_at": domain.now(),
            "safe_hours_start": None,
            "safe_hours_end": None,
            "timezone": "UTC",
            "blocked_bot": False,
            "banned": False,
            "ban_notified": False,
        }
        new_id = (await _NEW_REPORTER(session, fields)).scalar()
        if new_id is not None:
            # The ORM's INSERT … RETURNING cost more than the rest of a /start.
            reporter = as_loaded(session, Reporter(id=new_id, **fields))
        else:
            reporter = await _read_reporter(session, key)
        session.info.setdefault(_SEEN, {})[key] = reporter
    return reporter


_NEW_REPORTER = Prepared(
    lambda dialect: (
        dialect_insert(dialect)(Reporter.__table__)
        .values({c.name: bindparam(c.name) for c in Reporter.__table__.c if c.name != "id"})
        .on_conflict_do_nothing(index_elements=["user_key"])
        .returning(Reporter.__table__.c.id)
    )
)


async def find_reporter(session: AsyncSession, domain: Domain, user_id: int) -> Reporter | None:
    return await _reporter_by_key(session, domain.keys.pseudonym("user", user_id))


_SEEN = "reporters_seen"
# Asked on every update of a reporter.
_REPORTER_COLUMNS = tuple(column.key for column in Reporter.__table__.c)
_REPORTER_BY_KEY = Prepared(
    lambda _: select(*Reporter.__table__.c).where(Reporter.__table__.c.user_key == bindparam("key"))
)


async def _read_reporter(session: AsyncSession, key: str) -> Reporter | None:
    rows = (await _REPORTER_BY_KEY(session, {"key": key})).rows
    if not rows:
        return None
    return as_loaded_row(session, Reporter, dict(zip(_REPORTER_COLUMNS, rows[0], strict=True)))


@event.listens_for(Session, "after_transaction_end")
def _forget_seen_reporters(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_SEEN, None)


async def _reporter_by_key(session: AsyncSession, key: str) -> Reporter | None:
    """The reporter, looked up once per transaction: the update's middleware and its
    handler both ask. One found missing stays missing until this transaction inserts it
    (reporter_for inserts or ignores, so a concurrent insert is no error)."""
    seen: dict[str, Reporter | None] = session.info.setdefault(_SEEN, {})
    if key in seen:
        known = seen[key]
        if known is None or not inspect(known).was_deleted:
            return known
    reporter = await _read_reporter(session, key)
    seen[key] = reporter
    return reporter


async def corridor_for(
    session: AsyncSession, domain: Domain, origin: str, destination: str
) -> CorridorRow | None:
    return await domain.corridors.find(session, f"{origin}-{destination}")


async def new_code(session: AsyncSession, destination: str) -> str:
    while True:
        code = destination + "-" + "".join(secrets.choice(CODE_ALPHABET) for _ in range(5))
        if await session.scalar(select(Case.id).where(Case.code == code)) is None:
            return code


async def record_consents(
    session: AsyncSession,
    domain: Domain,
    reporter: Reporter,
    case: Case | None,
    answers: dict[str, bool],
    language: str,
    text_shown: str | None = None,
) -> None:
    for purpose in ConsentPurpose:
        if purpose.value not in answers:
            continue
        session.add(
            Consent(
                reporter_id=reporter.id,
                case_id=case.id if case else None,
                purpose=purpose.value,
                granted=answers[purpose.value],
                version=CONSENT_VERSION,
                text_shown=tr(language, text_shown or CONSENT_TEXTS[purpose]),
                language=language,
                given_at=domain.now(),
            )
        )


async def consents_of(session: AsyncSession, case: Case) -> dict[str, bool]:
    return await routing.granted(session, case)


async def submit_report(
    session: AsyncSession, domain: Domain, reporter: Reporter, report: Report
) -> Case:
    """One transaction: the case, its consents, its first events, its cards in the outbox."""
    corridor = await corridor_for(
        session, domain, report.origin_country, report.destination_country
    )
    if corridor is None or not corridor.active:
        raise IntakeError("unknown_corridor")
    if not (
        report.consents.get(ConsentPurpose.DESTINATION_HELP)
        or report.consents.get(ConsentPurpose.ORIGIN_HELP)
    ):
        raise IntakeError("no_consent")
    since = domain.now() - dt.timedelta(days=1)
    recent = await session.scalar(
        select(func.count())
        .select_from(Case)
        .where(Case.reporter_id == reporter.id, Case.created_at >= since)
    )
    if recent >= domain.config.limits.cases_per_day:
        raise IntakeError("too_many_cases")
    verdict = triage(
        categories=report.categories,
        in_danger=report.in_danger,
        description=report.description,
        sos=report.sos,
    )
    now = domain.now()
    case = Case(
        code=await new_code(session, report.destination_country),
        corridor_code=corridor.code,
        reporter_id=reporter.id,
        reporter_role=report.reporter_role,
        relationship=report.relationship,
        categories=sorted(set(report.categories)) or ["OTHR"],
        urgency=verdict.urgency.value,
        urgency_reason=verdict.reason,
        status=CaseStatus.NEW.value,
        side="destination",
        language=report.language,
        destination_country=report.destination_country,
        origin_country=report.origin_country,
        area=report.area,
        worker_location=report.worker_location,
        in_danger=report.in_danger,
        workers_affected=max(1, report.workers_affected),
        since=report.since,
        sector=report.sector if report.sector in SECTORS else None,
        gender=report.gender if report.gender in GENDERS else None,
        employer=report.employer,
        agency=report.agency,
        wage_owed_minor=report.wage_owed_minor,
        wage_currency=report.wage_currency,
        description=report.description,
        worker_name=report.worker_name,
        details=json.dumps(report.details, ensure_ascii=False) if report.details else None,
        contact_method=report.contact_method,
        contact_phone=report.contact_phone,
        precise_location=report.precise_location,
        created_at=now,
        last_activity_at=now,
        reporter_seen_at=now,
    )
    session.add(case)
    await session.flush()
    await record_consents(
        session, domain, reporter, case, report.consents, report.language, report.consent_text
    )
    for kind, file_id, text in report.attachments:
        session.add(
            Attachment(case_id=case.id, kind=kind, file_id=file_id, text=text, created_at=now)
        )
    await events.record(
        session,
        domain,
        "created",
        case_id=case.id,
        actor=f"reporter:{reporter.id}",
        data={"urgency": case.urgency, "reason": verdict.reason, "categories": case.categories},
    )
    await session.flush()
    given = {
        purpose.value: bool(report.consents[purpose.value])
        for purpose in ConsentPurpose
        if purpose.value in report.consents
    }
    await routing.route(session, domain, case, consent=given)
    return case


async def open_cases_of(session: AsyncSession, reporter: Reporter) -> list[Case]:
    return list(
        await session.scalars(
            select(Case)
            .where(
                Case.reporter_id == reporter.id, Case.status.in_([s.value for s in OPEN_STATUSES])
            )
            .order_by(Case.created_at)
        )
    )


async def owned_open_cases(session: AsyncSession, person_id: str) -> list[Case]:
    """The cases a person has claimed and not yet resolved, oldest first."""
    return list(
        await session.scalars(
            select(Case)
            .where(Case.owner_person_id == person_id, Case.status == CaseStatus.CLAIMED.value)
            .order_by(Case.created_at)
        )
    )


async def cases_of(session: AsyncSession, reporter: Reporter) -> list[Case]:
    return list(
        await session.scalars(
            select(Case).where(Case.reporter_id == reporter.id).order_by(Case.created_at)
        )
    )


async def case_by_code(session: AsyncSession, code: str) -> Case | None:
    return await session.scalar(select(Case).where(Case.code == code.strip().upper()))


def touch(case: Case, now: dt.datetime) -> None:
    case.last_activity_at = now


async def issue_handover_code(session: AsyncSession, domain: Domain, case: Case) -> str:
    """A one-time code a family member or advocate passes to the worker."""
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))
    case.handover_key = domain.keys.pseudonym("handover", code)
    return code


async def take_over(
    session: AsyncSession, domain: Domain, code: str, worker: Reporter
) -> Case | None:
    """The worker joins their own case: from now on the bot talks to them, and the person
    who reported on their behalf is told."""
    key = domain.keys.pseudonym("handover", code.strip().upper())
    case = await session.scalar(select(Case).where(Case.handover_key == key))
    if (
        case is None
        or case.status not in [s.value for s in OPEN_STATUSES]
        or case.reporter_id == worker.id
    ):
        return None
    previous = case.reporter_id
    case.handover_key = None
    case.reporter_id = worker.id
    case.language = worker.language
    case.last_activity_at = domain.now()
    await events.record(
        session,
        domain,
        "worker_took_over",
        case_id=case.id,
        actor=f"reporter:{worker.id}",
        data={"previous_reporter": previous},
    )
    if previous is not None:
        from bot.domain.outbox import queue_notice

        proxy = await session.get(Reporter, previous)
        queue_notice(
            session,
            domain,
            WorkerJoined(case),
            language=proxy.language if proxy else "en",
            purpose="reporter_update",
            reporter_id=previous,
            case_id=case.id,
            extra={"protect_content": True},
        )
    return case
