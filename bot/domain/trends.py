"""The last 30 / 90 / 365 days of the coordinator's corridors, for charts."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import digest, rollups

WINDOWS = (30, 90, 365)


@dataclass
class Trends:
    days: int
    start: dt.date
    new_per_day: list[int] = field(default_factory=list)
    resolved_per_day: list[int] = field(default_factory=list)
    categories: Counter[str] = field(default_factory=Counter)
    figures: digest.DigestData | None = None


async def trends(
    session: AsyncSession, corridors: list[str], now: dt.datetime, days: int
) -> Trends:
    if days not in WINDOWS:
        raise ValueError(f"days must be one of {WINDOWS}")
    since = now - dt.timedelta(days=days)
    series = await digest.daily_counts(session, corridors, now, days)
    result = Trends(days, (now - dt.timedelta(days=days - 1)).date())
    result.new_per_day = [sum(s["new"][i] for s in series.values()) for i in range(days)]
    result.resolved_per_day = [sum(s["resolved"][i] for s in series.values()) for i in range(days)]
    result.categories = await category_counts(session, corridors, result.start, now.date())
    result.figures = await digest.collect(session, corridors, since, now, now)
    return result


async def category_counts(
    session: AsyncSession, corridors: list[str], first: dt.date, last: dt.date
) -> Counter[str]:
    """New cases per category on the UTC days ``first``..``last`` (a case with two
    categories counts in both), from the per-day rollups: a year of a busy corridor is a
    few thousand rows, not its cases."""
    totals = await rollups.totals(
        session, corridors, rollups.EVENT, first, last + dt.timedelta(days=1)
    )
    return Counter({code: cells[0] for code, cells in totals.codes("category").items()})
