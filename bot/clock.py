"""The one source of time. Everything that schedules or timestamps asks a Clock."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Protocol


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Clock(Protocol):
    def now(self) -> dt.datetime: ...


class SystemClock:
    def now(self) -> dt.datetime:
        return utcnow()


class FakeClock:
    """A clock tests and the demo move by hand, so a 72-hour follow-up takes milliseconds."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        self._now = start or dt.datetime(2026, 3, 2, 6, 0, tzinfo=dt.UTC)
        self.changed = asyncio.Event()

    def now(self) -> dt.datetime:
        return self._now

    def advance(self, **delta: float) -> dt.datetime:
        self._now += dt.timedelta(**delta)
        return self._now

    def set(self, moment: dt.datetime) -> None:
        if moment.tzinfo is None:
            raise ValueError("FakeClock needs an aware datetime")
        self._now = moment


def as_utc(moment: dt.datetime) -> dt.datetime:
    """SQLite hands datetimes back naive; every stored datetime is UTC."""
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)
