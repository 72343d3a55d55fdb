"""The coordinator's morning digest: what is stuck, what was achieved, and a 30-day chart.
The figures are here; ``bot.views.digest`` writes them out and draws the chart."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Float,
    Integer,
    case,
    cast,
    extract,
    func,
    or_,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import rollups
from bot.domain.context import Domain
from bot.domain.counted import COUNTED
from bot.domain.notices import Digest
from bot.domain.patterns import find_patterns
from bot.taxonomy import UNCLAIMED_STATUSES
from models import Case, CaseEvent, StatsDay, Timer

# A digest is one Telegram message (4,096 characters at most) read on a phone: long lists
# are cut to their head and a count of the rest.
PATTERNS_SHOWN = 5
UNCLAIMED_SHOWN = 10
ATTENTION_SHOWN = 20


@dataclass
class DigestData:
    corridors: list[str]
    since: dt.datetime
    until: dt.datetime
    new: int = 0
    claimed: int = 0
    resolved: Counter[str] = field(default_factory=Counter)
    unclaimed: list[tuple[str, dt.datetime, str]] = field(default_factory=list)  # the oldest
    unclaimed_total: int = 0
    overdue_followups: int = 0
    escalations: int = 0
    wages_owed: dict[str, int] = field(default_factory=dict)
    wages_recovered: dict[str, int] = field(default_factory=dict)
    median_claim_minutes: float | None = None  # creation → first claim
    referrals_claimed: int = 0  # counted in windows read from the cases, not the rollups
    median_referral_claim_minutes: float | None = None  # referral → its claim
    median_resolution_hours: float | None = None
    attention: list[str] = field(default_factory=list)  # the first ATTENTION_SHOWN codes
    attention_total: int = 0
    patterns: list = field(default_factory=list)  # the strongest PATTERNS_SHOWN
    patterns_total: int = 0

    @property
    def quiet(self) -> bool:
        return not (
            self.new
            or self.claimed
            or self.resolved
            or self.unclaimed_total
            or self.overdue_followups
            or self.escalations
            or self.patterns
        )


# Windows longer than this many whole UTC days read the per-day rollups for those days
# (bot.domain.rollups) and count only the partial days at both ends from the cases, so a
# year or all time costs what its days cost, not its cases. Medians there come from duration
# bands (within about 9 %); shorter windows (the daily and weekly digests, /stats 30d) are
# counted exactly from the cases.
ROLLUP_AFTER_DAYS = 31


def _midnight(moment: dt.datetime, up: bool) -> dt.datetime:
    day = moment.astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return day + dt.timedelta(days=1) if up and day < moment else day


async def collect(
    session: AsyncSession,
    corridors: list[str],
    since: dt.datetime,
    until: dt.datetime,
    now: dt.datetime,
) -> DigestData:
    """Every figure is computed by the database: from the covering indexes for a short
    window, from the per-day rollups for the whole days of a long one."""
    data = DigestData(corridors, since, until)
    if not corridors:
        return data
    sql = Aggregates(session)
    in_scope = Case.corridor_code.in_(corridors) & COUNTED
    first, last = _midnight(since, up=True), _midnight(until, up=False)
    if (last - first).days > ROLLUP_AFTER_DAYS:
        await _collect_rolled(data, session, sql, corridors, since, first, last, until)
    else:

        def window(column: Any) -> ColumnElement[bool]:
            return column.between(since, until)

        await _count_directly(data, session, in_scope, window)
        # claimed_at is the first claim: a referral's claim does not move it.
        claimed = (in_scope, window(Case.claimed_at))
        data.median_claim_minutes = await sql.median(
            sql.minutes_between(Case.created_at, Case.claimed_at), claimed, data.claimed
        )
        await _count_referrals(data, sql, in_scope, window)
        resolved = (in_scope, window(Case.resolved_at))
        resolution_minutes = await sql.median(
            sql.minutes_between(Case.created_at, Case.resolved_at),
            resolved,
            sum(data.resolved.values()),
        )
        if resolution_minutes is not None:
            data.median_resolution_hours = resolution_minutes / 60
    waiting = (in_scope, Case.status.in_([s.value for s in UNCLAIMED_STATUSES]))
    data.unclaimed_total = await session.scalar(select(func.count()).where(*waiting)) or 0
    for code, created, urgency in await session.execute(
        select(Case.code, Case.created_at, Case.urgency)
        .where(*waiting)
        .order_by(Case.created_at)
        .limit(UNCLAIMED_SHOWN)
    ):
        data.unclaimed.append((code, created, urgency))
    data.overdue_followups = (
        await session.scalar(
            select(func.count())
            .select_from(Timer)
            .join(Case, Case.id == Timer.case_id)
            .where(
                in_scope,
                Timer.status == "pending",
                Timer.kind.in_(("checkin", "owner_reminder")),
                Timer.due_at < now - dt.timedelta(hours=1),
            )
        )
        or 0
    )
    # Waiting SOS first, then waiting high-urgency cases, then SOS cases being worked.
    needs_attention = (
        in_scope,
        or_(
            Case.status.in_([s.value for s in UNCLAIMED_STATUSES])
            & Case.urgency.in_(("sos", "high")),
            (Case.status == "claimed") & (Case.urgency == "sos"),
        ),
    )
    rank = case(
        (Case.status == "claimed", 2),
        (Case.urgency == "sos", 0),
        else_=1,
    )
    data.attention_total = await session.scalar(select(func.count()).where(*needs_attention)) or 0
    data.attention = list(
        await session.scalars(
            select(Case.code)
            .where(*needs_attention)
            .order_by(rank, Case.created_at, Case.id)
            .limit(ATTENTION_SHOWN)
        )
    )
    return data


async def _count_directly(
    data: DigestData, session: AsyncSession, in_scope: Any, window: Any
) -> None:
    """Adds the counts and amounts of the cases (and escalations) whose moment falls in
    ``window`` (a function of the timestamp column) to ``data``."""
    for currency, count, owed in await session.execute(
        select(Case.wage_currency, func.count(), func.sum(Case.wage_owed_minor))
        .where(in_scope, window(Case.created_at))
        .group_by(Case.wage_currency)
    ):
        data.new += count
        if owed is not None:
            key = currency or "?"
            data.wages_owed[key] = data.wages_owed.get(key, 0) + int(owed)
    data.claimed += (
        await session.scalar(select(func.count()).where(in_scope, window(Case.claimed_at))) or 0
    )
    for outcome, currency, count, recovered in await session.execute(
        select(
            Case.outcome, Case.outcome_currency, func.count(), func.sum(Case.outcome_amount_minor)
        )
        .where(in_scope, window(Case.resolved_at))
        .group_by(Case.outcome, Case.outcome_currency)
    ):
        data.resolved[outcome or "OTHER"] += count
        if recovered is not None:
            key = currency or "?"
            data.wages_recovered[key] = data.wages_recovered.get(key, 0) + int(recovered)
    data.escalations += (
        await session.scalar(
            select(func.count())
            .select_from(CaseEvent)
            .join(Case, Case.id == CaseEvent.case_id)
            .where(in_scope, CaseEvent.kind == "escalated", window(CaseEvent.at))
        )
        or 0
    )


async def _count_referrals(data: DigestData, sql: Aggregates, in_scope: Any, window: Any) -> None:
    """Referrals claimed in the window and how long after the referral: their own figure."""
    claimed = (
        in_scope,
        window(Case.referral_claimed_at),
        Case.referral_claimed_at >= Case.referred_at,
    )
    data.referrals_claimed = await sql.session.scalar(select(func.count()).where(*claimed)) or 0
    data.median_referral_claim_minutes = await sql.median(
        sql.minutes_between(Case.referred_at, Case.referral_claimed_at),
        claimed,
        data.referrals_claimed,
    )


async def _collect_rolled(
    data: DigestData,
    session: AsyncSession,
    sql: Aggregates,
    corridors: list[str],
    since: dt.datetime,
    first: dt.datetime,
    last: dt.datetime,
    until: dt.datetime,
) -> None:
    """Whole days ``first`` ≤ day < ``last`` from the rollups; [since, first) and
    [last, until] from the cases."""
    in_scope = Case.corridor_code.in_(corridors) & COUNTED
    edges = (
        lambda column: (column >= since) & (column < first),
        lambda column: (column >= last) & (column <= until),
    )
    claim_seconds: list[float] = []
    resolve_seconds: list[float] = []
    for window in edges:
        await _count_directly(data, session, in_scope, window)
        for column, values in (
            (Case.claimed_at, claim_seconds),
            (Case.resolved_at, resolve_seconds),
        ):
            values.extend(
                60 * minutes
                for minutes in await session.scalars(
                    select(sql.minutes_between(Case.created_at, column)).where(
                        in_scope, window(column)
                    )
                )
                if minutes is not None
            )
    days = await rollups.totals(session, corridors, rollups.EVENT, first.date(), last.date())
    data.new += days.cases("new")
    data.claimed += days.cases("claimed")
    data.escalations += days.cases("escalated")
    for outcome, (count, _w, _a) in days.codes("resolved").items():
        data.resolved[outcome] += count
    for target, measure in ((data.wages_owed, "owed"), (data.wages_recovered, "recovered")):
        for currency, (_n, _w, amount) in days.codes(measure).items():
            target[currency] = target.get(currency, 0) + amount
    claim = rollups.median_seconds(days.bands("claim_time"), claim_seconds)
    data.median_claim_minutes = None if claim is None else claim / 60
    resolution = rollups.median_seconds(days.bands("resolve_time"), resolve_seconds)
    data.median_resolution_hours = None if resolution is None else resolution / 3600


def seconds_of(column: Any) -> ColumnElement[int]:
    # unixepoch() (SQLite 3.38+) is twice as fast as formatting and parsing a string.
    if sqlite3.sqlite_version_info >= (3, 38):
        return func.unixepoch(column)
    return cast(func.strftime("%s", column), Integer)


class Aggregates:
    """The few expressions SQLite and PostgreSQL spell differently."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.postgres = session.bind.dialect.name == "postgresql"

    def minutes_between(self, start: Any, end: Any) -> ColumnElement[float]:
        if self.postgres:
            return cast(extract("epoch", end - start), Float) / 60
        # SQLite keeps UTC timestamps as ISO text; whole seconds are exact where
        # julianday's floating-point days are not.
        return (seconds_of(end) - seconds_of(start)) / 60.0

    def utc_day(self, column: Any) -> ColumnElement[Any]:
        if self.postgres:
            return func.date(func.timezone("UTC", column))
        return func.date(column)

    async def median(self, value: ColumnElement[float], where: tuple, count: int) -> float | None:
        """The median of ``value`` over the ``count`` rows matching ``where``."""
        if not count:
            return None
        if self.postgres:
            # A year of durations is a few MB to sort: in memory, not in a temporary file.
            await self.session.execute(text("SET LOCAL work_mem = '32MB'"))
            return await self.session.scalar(
                select(func.percentile_cont(0.5).within_group(value)).where(*where)
            )
        # SQLite has no percentile function: sort, and read the middle one or two values.
        middle = (
            await self.session.scalars(
                select(value)
                .where(*where)
                .order_by(value)
                .offset((count - 1) // 2)
                .limit(2 - count % 2)
            )
        ).all()
        return sum(middle) / len(middle) if middle else None


async def daily_counts(
    session: AsyncSession, corridors: list[str], until: dt.datetime, days: int = 30
) -> dict[str, dict[str, list[int]]]:
    """Per corridor: new and resolved per day over the last ``days`` days (UTC days), from
    the per-day rollups. The window ends with today, so what happened this morning is on
    the chart."""
    start = (until - dt.timedelta(days=days - 1)).date()
    series: dict[str, dict[str, list[int]]] = defaultdict(
        lambda: {"new": [0] * days, "resolved": [0] * days}
    )
    for corridor, on, measure, count in await session.execute(
        select(StatsDay.corridor, StatsDay.day, StatsDay.measure, func.sum(StatsDay.cases))
        .where(
            StatsDay.corridor.in_(corridors),
            StatsDay.basis == rollups.EVENT,
            StatsDay.measure.in_(("new", "resolved")),
            StatsDay.day >= start,
            StatsDay.day <= until.date(),
        )
        .group_by(StatsDay.corridor, StatsDay.day, StatsDay.measure)
    ):
        index = (on - start).days
        if 0 <= index < days and count:
            series[corridor][measure][index] += int(count)
    return dict(series)


def next_digest_at(
    now: dt.datetime, timezone: str, clock_time: str, weekday: int | None = None
) -> dt.datetime:
    """The next local ``clock_time`` (optionally on ``weekday``) after ``now``, DST-aware."""
    zone = ZoneInfo(timezone)
    hours, minutes = (int(p) for p in clock_time.split(":"))
    local_now = now.astimezone(zone)
    day = local_now.date()
    for offset in range(0, 9):
        candidate_day = day + dt.timedelta(days=offset)
        if weekday is not None and candidate_day.weekday() != weekday:
            continue
        candidate = dt.datetime.combine(candidate_day, dt.time(hours, minutes), tzinfo=zone)
        # A time skipped by a spring-forward gap normalises to a real instant via UTC.
        candidate_utc = candidate.astimezone(dt.UTC)
        if candidate_utc > now:
            return candidate_utc
    raise AssertionError("unreachable: a week always has the weekday")


async def build(
    session: AsyncSession, domain: Domain, corridors: list[str], weekly: bool = False
) -> Digest:
    """The digest of ``corridors`` as of now, for the view layer to render."""
    now = domain.now()
    since = now - dt.timedelta(days=7 if weekly else 1)
    data = await collect(session, corridors, since, now, now)
    # Names are shown to coordinators only: the digest goes nowhere else.
    search = await find_patterns(
        session,
        corridors,
        now - dt.timedelta(days=30),
        now,
        domain.config.statistics.pattern_threshold,
        limit=PATTERNS_SHOWN,
    )
    data.patterns, data.patterns_total = search.patterns, search.groups
    series = await daily_counts(session, corridors, now)
    return Digest(tuple(corridors), data, now, weekly, series)
