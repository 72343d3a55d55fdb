"""Check-ins with the reporter and reminders to the owner, until the case is resolved."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import events, routing, timers
from bot.domain.context import Domain
from bot.domain.notices import (
    Notice,
    QuietCase,
    ReporterChanged,
    ReporterNotSafe,
    ReporterNotSafeAlert,
    ReporterSilent,
    ReporterSilentAlert,
    SafetyCheck,
)
from bot.domain.outbox import queue_notice
from bot.taxonomy import OPEN_STATUSES, URGENCY_RANK, CaseStatus, Urgency
from models import Case, Person, Reporter

FOLLOWUP_KINDS = ("checkin", "owner_reminder", "sos_silence")


def checkin_interval(domain: Domain, urgency: str) -> dt.timedelta:
    section = domain.config.followups
    hours = {
        Urgency.SOS: section.checkin_hours_sos,
        Urgency.HIGH: section.checkin_hours_high,
        Urgency.NORMAL: section.checkin_hours_normal,
    }[Urgency(urgency)]
    return dt.timedelta(hours=hours)


def schedule_after_claim(session: AsyncSession, domain: Domain, case: Case) -> None:
    now = domain.now()
    timers.schedule(
        session, domain, "checkin", now + checkin_interval(domain, case.urgency), case_id=case.id
    )
    timers.schedule(
        session,
        domain,
        "owner_reminder",
        now + dt.timedelta(hours=domain.config.followups.owner_quiet_hours),
        case_id=case.id,
    )


def reporter_country(report_role: str, worker_location: str, origin: str, destination: str) -> str:
    """Where the reporter is, for their safe hours: a relative reports from home; a worker
    (or an advocate at their side) is where the worker is. Never the worker's country for a
    relative: a mother in Nepal keeps Nepal's evening, not Qatar's."""
    if report_role == "family" or worker_location == "origin":
        return origin
    return destination


def next_safe_moment(reporter: Reporter, moment: dt.datetime) -> dt.datetime:
    """The first moment at or after ``moment`` inside the reporter's safe hours."""
    if reporter.safe_hours_start is None or reporter.safe_hours_end is None:
        return moment
    zone = ZoneInfo(reporter.timezone)
    local = moment.astimezone(zone)
    start, end = reporter.safe_hours_start, reporter.safe_hours_end
    hour = local.hour
    inside = start <= hour < end if start < end else (hour >= start or hour < end)
    if inside:
        return moment
    candidate = local.replace(hour=start, minute=0, second=0, microsecond=0)
    if candidate <= local:
        candidate += dt.timedelta(days=1)
    return candidate.astimezone(dt.UTC)


async def fire_checkin(session: AsyncSession, domain: Domain, case: Case) -> None:
    if (
        case.status not in [s.value for s in OPEN_STATUSES]
        or case.reporter_id is None
        or case.erased
    ):
        return
    reporter = await session.get(Reporter, case.reporter_id)
    if reporter is None or reporter.blocked_bot:
        return
    now = domain.now()
    safe = next_safe_moment(reporter, now)
    if safe > now:
        timers.schedule(session, domain, "checkin", safe, case_id=case.id)
        await events.record(
            session, domain, "checkin_deferred", case_id=case.id, data={"until": safe.isoformat()}
        )
        return
    queue_notice(
        session,
        domain,
        SafetyCheck(case),
        language=case.language,
        purpose="checkin",
        reporter_id=reporter.id,
        case_id=case.id,
        extra={"protect_content": True},
    )
    await events.record(session, domain, "checkin_sent", case_id=case.id)
    timers.schedule(
        session, domain, "checkin", now + checkin_interval(domain, case.urgency), case_id=case.id
    )
    if case.urgency == Urgency.SOS:
        timers.schedule(
            session,
            domain,
            "sos_silence",
            now + dt.timedelta(hours=domain.config.followups.sos_silence_hours),
            case_id=case.id,
            payload={"since": now.isoformat()},
        )


async def fire_sos_silence(
    session: AsyncSession, domain: Domain, case: Case, since: dt.datetime
) -> None:
    if case.status not in [s.value for s in OPEN_STATUSES]:
        return
    if case.reporter_seen_at is not None and case.reporter_seen_at >= since:
        return
    await events.record(session, domain, "sos_silence", case_id=case.id)
    await notify_owner(session, domain, case, ReporterSilent(case))
    await routing.alert_coordinators(session, domain, case, ReporterSilentAlert(case))


async def fire_owner_reminder(session: AsyncSession, domain: Domain, case: Case) -> None:
    if case.status != CaseStatus.CLAIMED.value:
        return
    quiet = dt.timedelta(hours=domain.config.followups.owner_quiet_hours)
    now = domain.now()
    if now - case.last_activity_at >= quiet:
        await notify_owner(session, domain, case, QuietCase(case))
        await events.record(session, domain, "owner_reminded", case_id=case.id)
        timers.schedule(session, domain, "owner_reminder", now + quiet, case_id=case.id)
    else:
        timers.schedule(
            session, domain, "owner_reminder", case.last_activity_at + quiet, case_id=case.id
        )


async def notify_owner(
    session: AsyncSession,
    domain: Domain,
    case: Case,
    notice: Notice,
) -> bool:
    """Whether the owner of ``case`` will be told ``notice`` (not when nobody owns it, or
    the owner cannot be reached)."""
    if not case.owner_person_id:
        return False
    owner = await session.get(Person, case.owner_person_id)
    if owner is None or owner.unreachable:
        return False
    queue_notice(
        session,
        domain,
        notice,
        language=owner.language,
        purpose="owner",
        chat_id=owner.telegram_user_id,
        case_id=case.id,
    )
    return True


async def answer_checkin(session: AsyncSession, domain: Domain, case: Case, answer: str) -> str:
    """Returns the reply key for the reporter."""
    now = domain.now()
    case.reporter_seen_at = now
    case.last_activity_at = now
    await events.record(
        session,
        domain,
        "checkin_answer",
        case_id=case.id,
        actor=f"reporter:{case.reporter_id}",
        data={"answer": answer},
    )
    if answer == "unsafe":
        if URGENCY_RANK[Urgency(case.urgency)] < URGENCY_RANK[Urgency.SOS]:
            old = case.urgency
            case.urgency = Urgency.SOS.value if case.urgency == Urgency.HIGH else Urgency.HIGH.value
            await events.record(
                session,
                domain,
                "urgency_raised",
                case_id=case.id,
                data={"from": old, "to": case.urgency, "reason": "reporter_unsafe"},
            )
        await notify_owner(session, domain, case, ReporterNotSafe(case))
        await routing.alert_coordinators(session, domain, case, ReporterNotSafeAlert(case))
        await routing.rerender_cards(session, domain, case)
        return "unsafe"
    if answer == "changed":
        await notify_owner(session, domain, case, ReporterChanged(case))
        return "changed"
    return "safe"


async def snooze(session: AsyncSession, domain: Domain, case: Case, until: dt.datetime) -> None:
    await timers.cancel(session, case.id, ("owner_reminder", "checkin"))
    timers.schedule(session, domain, "owner_reminder", until, case_id=case.id)
    timers.schedule(session, domain, "checkin", until, case_id=case.id)
    await events.record(
        session, domain, "snoozed", case_id=case.id, data={"until": until.isoformat()}
    )
