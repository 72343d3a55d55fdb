"""Per-day statistics rollups, kept in step with the cases by bot.domain.rollups."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Date, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class StatsDay(Base):
    """One measure of one corridor on one UTC day.

    ``basis`` is ``event`` (every case, on the day something happened to it: reported,
    claimed, resolved, escalated; what /stats and the digest chart read) or ``cohort``
    (only cases with statistics consent, on the first day of the month they were reported;
    what the evidence report reads). ``code`` is a category, outcome, currency, duration
    band … or "" when the measure has none."""

    __tablename__ = "stats_days"

    corridor: Mapped[str] = mapped_column(String(8), primary_key=True)
    basis: Mapped[str] = mapped_column(String(8), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    measure: Mapped[str] = mapped_column(String(16), primary_key=True)
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    cases: Mapped[int] = mapped_column(BigInteger, default=0)
    workers: Mapped[int] = mapped_column(BigInteger, default=0)
    # Money in minor units of the currency in ``code``; seconds for duration bands.
    amount: Mapped[int] = mapped_column(BigInteger, default=0)


class StatsName(Base):
    """How many consenting cases of a month name one employer or agency, by the keyed
    fingerprint of its name (never the name): repeated names in the evidence report."""

    __tablename__ = "stats_names"

    corridor: Mapped[str] = mapped_column(String(8), primary_key=True)
    month: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)  # employer | agency
    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    cases: Mapped[int] = mapped_column(BigInteger, default=0)
