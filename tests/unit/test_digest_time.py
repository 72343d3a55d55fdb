"""Digest times: local, DST-aware, once per day even on transition days."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bot.domain.digest import next_digest_at


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("now", "zone", "at", "expected_local"),
    [
        ("2026-03-02T01:00", "Asia/Kathmandu", "08:00", "2026-03-02T08:00"),
        ("2026-03-02T03:00", "Asia/Kathmandu", "08:00", "2026-03-03T08:00"),
        (
            "2026-03-02T20:59",
            "Asia/Qatar",
            "00:00",
            "2026-03-03T00:00",
        ),  # 23:59 local, one minute to midnight
        # Europe/Berlin springs forward on 2026-03-29 02:00 → 03:00; 08:00 still exists that day.
        ("2026-03-28T08:00", "Europe/Berlin", "08:00", "2026-03-29T08:00"),
        # 02:30 does not exist on the spring-forward day; the digest still goes out once that day.
        ("2026-03-28T02:00", "Europe/Berlin", "02:30", "2026-03-29T03:30"),
        # Falls back on 2026-10-25 03:00 → 02:00; 02:30 happens twice, the digest only once.
        ("2026-10-24T01:00", "Europe/Berlin", "02:30", "2026-10-25T02:30"),
    ],
)
def test_next_digest_time(now: str, zone: str, at: str, expected_local: str) -> None:
    result = next_digest_at(utc(now), zone, at)
    assert result.astimezone(ZoneInfo(zone)).replace(tzinfo=None) == dt.datetime.fromisoformat(
        expected_local
    )


def test_one_digest_per_day_across_the_autumn_transition() -> None:
    zone = "Europe/Berlin"
    moment = utc("2026-10-23T12:00")
    days = []
    for _ in range(4):
        moment = next_digest_at(moment, zone, "02:30")
        days.append(moment.astimezone(ZoneInfo(zone)).date())
    assert days == [
        dt.date(2026, 10, 24),
        dt.date(2026, 10, 25),
        dt.date(2026, 10, 26),
        dt.date(2026, 10, 27),
    ]


def test_weekly_digest_lands_on_the_weekday() -> None:
    result = next_digest_at(utc("2026-03-04T12:00"), "Asia/Jakarta", "08:00", weekday=0)
    local = result.astimezone(ZoneInfo("Asia/Jakarta"))
    assert local.weekday() == 0 and local.hour == 8 and local.date() == dt.date(2026, 3, 9)
