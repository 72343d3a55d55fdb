"""The coordinator's morning digest: what is stuck, what was achieved, and a 30-day chart."""

from __future__ import annotations

import datetime as dt
import html
import io
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.cards import age_text
from bot.domain.context import Domain
from bot.domain.patterns import repeated_names
from bot.domain.places import format_money
from bot.i18n import tr
from bot.taxonomy import OUTCOMES, UNCLAIMED_STATUSES
from models import Case, CaseEvent, Timer


@dataclass
class DigestData:
    corridors: list[str]
    since: dt.datetime
    until: dt.datetime
    new: int = 0
    claimed: int = 0
    resolved: Counter[str] = field(default_factory=Counter)
    unclaimed: list[tuple[str, dt.datetime, str]] = field(default_factory=list)
    overdue_followups: int = 0
    escalations: int = 0
    wages_owed: dict[str, int] = field(default_factory=dict)
    wages_recovered: dict[str, int] = field(default_factory=dict)
    median_claim_minutes: float | None = None
    median_resolution_hours: float | None = None
    attention: list[str] = field(default_factory=list)
    patterns: list = field(default_factory=list)

    @property
    def quiet(self) -> bool:
        return not (
            self.new
            or self.claimed
            or self.resolved
            or self.unclaimed
            or self.overdue_followups
            or self.escalations
            or self.patterns
        )


async def collect(
    session: AsyncSession,
    corridors: list[str],
    since: dt.datetime,
    until: dt.datetime,
    now: dt.datetime,
) -> DigestData:
    data = DigestData(corridors, since, until)
    if not corridors:
        return data
    in_scope = Case.corridor_code.in_(corridors)
    window = (since, until)
    data.new = (
        await session.scalar(select(func.count()).where(in_scope, Case.created_at.between(*window)))
        or 0
    )
    data.claimed = (
        await session.scalar(select(func.count()).where(in_scope, Case.claimed_at.between(*window)))
        or 0
    )
    for outcome, count in await session.execute(
        select(Case.outcome, func.count())
        .where(in_scope, Case.resolved_at.between(*window))
        .group_by(Case.outcome)
    ):
        data.resolved[outcome or "OTHER"] = count
    for code, created, urgency in await session.execute(
        select(Case.code, Case.created_at, Case.urgency)
        .where(in_scope, Case.status.in_([s.value for s in UNCLAIMED_STATUSES]))
        .order_by(Case.created_at)
        .limit(50)
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
    data.escalations = (
        await session.scalar(
            select(func.count())
            .select_from(CaseEvent)
            .join(Case, Case.id == CaseEvent.case_id)
            .where(in_scope, CaseEvent.kind == "escalated", CaseEvent.at.between(*window))
        )
        or 0
    )
    for currency, total in await session.execute(
        select(Case.wage_currency, func.sum(Case.wage_owed_minor))
        .where(in_scope, Case.created_at.between(*window), Case.wage_owed_minor.is_not(None))
        .group_by(Case.wage_currency)
    ):
        data.wages_owed[currency or "?"] = int(total or 0)
    for currency, total in await session.execute(
        select(Case.outcome_currency, func.sum(Case.outcome_amount_minor))
        .where(in_scope, Case.resolved_at.between(*window), Case.outcome_amount_minor.is_not(None))
        .group_by(Case.outcome_currency)
    ):
        data.wages_recovered[currency or "?"] = int(total or 0)
    claim_minutes = [
        (claimed - created).total_seconds() / 60
        for created, claimed in await session.execute(
            select(Case.created_at, Case.claimed_at).where(
                in_scope, Case.claimed_at.between(*window)
            )
        )
    ]
    resolution_hours = [
        (resolved - created).total_seconds() / 3600
        for created, resolved in await session.execute(
            select(Case.created_at, Case.resolved_at).where(
                in_scope, Case.resolved_at.between(*window)
            )
        )
    ]
    data.median_claim_minutes = statistics.median(claim_minutes) if claim_minutes else None
    data.median_resolution_hours = statistics.median(resolution_hours) if resolution_hours else None
    data.attention = [code for code, _, urgency in data.unclaimed if urgency in ("sos", "high")] + [
        code
        for (code,) in await session.execute(
            select(Case.code)
            .where(in_scope, Case.urgency == "sos", Case.status == "claimed")
            .order_by(Case.created_at)
            .limit(20)
        )
    ]
    return data


def money(minor: int, currency: str) -> str:
    return format_money(minor, currency)


def render(data: DigestData, language: str, now: dt.datetime, weekly: bool = False) -> str:
    e = html.escape
    title = tr(language, "📊 Weekly summary") if weekly else tr(language, "📊 Daily digest")
    head = f"<b>{title}</b> · {e(', '.join(data.corridors))}"
    if data.quiet:
        return head + "\n" + tr(language, "Nothing new since the last digest. No case is waiting.")
    lines = [
        head,
        tr(language, "New cases: {n}", n=data.new),
        tr(language, "Claimed: {n}", n=data.claimed),
        tr(language, "Resolved: {n}", n=sum(data.resolved.values())),
    ]
    for outcome, count in sorted(data.resolved.items()):
        lines.append(f"  · {tr(language, OUTCOMES.get(outcome, outcome))}: {count}")
    lines.append(tr(language, "Unclaimed now: {n}", n=len(data.unclaimed)))
    for code, created, urgency in data.unclaimed[:10]:
        lines.append(f"  · {e(code)} ({urgency}, {age_text(language, created, now)})")
    lines.append(tr(language, "Overdue follow-ups: {n}", n=data.overdue_followups))
    lines.append(tr(language, "Escalations: {n}", n=data.escalations))
    if data.wages_owed:
        lines.append(
            tr(
                language,
                "Wages reported owed: {amounts}",
                amounts="; ".join(money(v, k) for k, v in sorted(data.wages_owed.items())),
            )
        )
    if data.wages_recovered:
        lines.append(
            tr(
                language,
                "Wages recovered: {amounts}",
                amounts="; ".join(money(v, k) for k, v in sorted(data.wages_recovered.items())),
            )
        )
    if data.median_claim_minutes is not None:
        lines.append(
            tr(language, "Median time to claim: {n} min", n=round(data.median_claim_minutes))
        )
    if data.median_resolution_hours is not None:
        lines.append(
            tr(
                language,
                "Median time to resolution: {n} h",
                n=round(data.median_resolution_hours, 1),
            )
        )
    for pattern in data.patterns:
        lines.append(
            tr(
                language,
                "⚠️ {kind} named in {n} cases: {name} ({codes})",
                kind=tr(language, "Employer")
                if pattern.kind == "employer"
                else tr(language, "Agency"),
                n=pattern.count,
                name=e(pattern.name),
                codes=e(", ".join(pattern.case_codes[:10])),
            )
        )
    if data.attention:
        lines.append(
            tr(
                language,
                "Needs attention: {codes}",
                codes=e(", ".join(dict.fromkeys(data.attention))),
            )
        )
    return "\n".join(lines)


async def daily_counts(
    session: AsyncSession, corridors: list[str], until: dt.datetime, days: int = 30
) -> dict[str, dict[str, list[int]]]:
    """Per corridor: new and resolved per day over the last ``days`` days (UTC days)."""
    # The window ends with today, so what happened this morning is on the chart.
    start = (until - dt.timedelta(days=days - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
    series: dict[str, dict[str, list[int]]] = defaultdict(
        lambda: {"new": [0] * days, "resolved": [0] * days}
    )
    for corridor, created in await session.execute(
        select(Case.corridor_code, Case.created_at).where(
            Case.corridor_code.in_(corridors), Case.created_at >= start, Case.created_at < until
        )
    ):
        index = (created - start).days
        if 0 <= index < days:
            series[corridor]["new"][index] += 1
    for corridor, resolved in await session.execute(
        select(Case.corridor_code, Case.resolved_at).where(
            Case.corridor_code.in_(corridors), Case.resolved_at >= start, Case.resolved_at < until
        )
    ):
        index = (resolved - start).days
        if 0 <= index < days:
            series[corridor]["resolved"][index] += 1
    return dict(series)


def chart_png(series: dict[str, dict[str, list[int]]], until: dt.datetime, days: int = 30) -> bytes:
    """Labels stay in English: matplotlib's bundled font has no Devanagari or Bengali
    glyphs, and a chart of empty boxes helps no one. The digest text is translated."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    start = (until - dt.timedelta(days=days - 1)).date()
    x = [start + dt.timedelta(days=i) for i in range(days)]
    figure, axis = plt.subplots(figsize=(8, 4), dpi=100)
    for corridor, values in sorted(series.items()):
        axis.plot(
            x,
            values["new"],
            marker="o",
            markersize=3,
            label=f"{corridor} new",
        )
        axis.plot(
            x,
            values["resolved"],
            linestyle="--",
            label=f"{corridor} resolved",
        )
    axis.set_title("Cases per day, last 30 days")
    axis.set_ylabel("cases")
    axis.yaxis.get_major_locator().set_params(integer=True)
    if series:
        axis.legend(fontsize=8)
    figure.autofmt_xdate()
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return buffer.getvalue()


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
    session: AsyncSession, domain: Domain, corridors: list[str], language: str, weekly: bool = False
) -> tuple[str, bytes]:
    now = domain.now()
    since = now - dt.timedelta(days=7 if weekly else 1)
    data = await collect(session, corridors, since, now, now)
    # Names are shown to coordinators only: the digest goes nowhere else.
    data.patterns = await repeated_names(
        session,
        corridors,
        now - dt.timedelta(days=30),
        now,
        domain.config.statistics.pattern_threshold,
    )
    text = render(data, language, now, weekly)
    chart = chart_png(await daily_counts(session, corridors, now), now)
    return text, chart
