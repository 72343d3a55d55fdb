"""Per-day statistics rollups, kept in step with the cases by the transaction that changes them.

/stats over a year or all time, the digest chart and the evidence report read these rows,
so their cost grows with the days of the range, not with the cases in it.

What is counted (``models.stats``)
-----------------------------------
``event`` rows (every case, for coordinators' /stats, the chart and the dashboard), on the UTC
day it happened: ``new`` (cases reported, workers), ``category``/code, ``owed``/currency (wages reported owed), ``claimed``,
``claim_time``/band, ``resolved``/outcome, ``recovered``/currency, ``resolve_time``/band,
``escalated``.

``cohort`` rows (only cases whose latest statistics consent is granted and not withdrawn, as
in ``bot.domain.exports``), on the first day of the UTC month the case was reported:
``total``, ``category``, ``article`` (ICRMW), ``indicator`` (ILO), ``outcome`` (or
``OPEN``), ``owed`` and ``recovered``/currency, ``claimed``, ``claim_time`` and
``resolve_time``/band, ``referred``, ``taken_up``, ``sector``, ``gender``; and in
``stats_names`` how many of a month's cases name each employer or agency fingerprint.

Durations are kept as bands 2^(1/8) wide (about 9 %) holding a count and the sum of their
seconds, so a median read from them is the mean of the band it falls in: within 9 %, and
exact when the band holds one value.

How they stay in step
---------------------
Session events, registered once for every session (importing ``models`` imports this):
the first time a transaction touches a case (an ORM change to a counted column, a new or
changed statistics consent, an ORM ``update()``/``delete()`` of cases or consents, which are
looked up with the statement's own WHERE clause before it runs), the case's counted facts
are read from the database as they stand, with a row lock on PostgreSQL so that two
transactions changing one case take turns. Just before commit the facts are read again;
the difference of their contributions is added to the rollup rows with one atomic upsert
per row, in key order (no deadlock between two committers). A rollback drops it all with
the transaction. A bulk ``INSERT`` of cases (the benchmark's seeding) is not seen: run
``corridor rollups rebuild`` after one. :func:`rebuild` recomputes every row from the
cases with the same contribution function, so incremental and rebuilt rollups agree.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, event, func, select
from sqlalchemy.orm import Session

from bot.domain import counted
from bot.taxonomy import (
    CATEGORIES,
    GENDERS,
    NOT_GIVEN,
    OUTCOMES,
    SECTORS,
    ConsentPurpose,
    articles_of,
    indicators_of,
)
from models.cases import Case, CaseEvent, Consent
from models.db import upsert_insert
from models.stats import StatsDay, StatsName

EVENT, COHORT = "event", "cohort"
OPEN = "OPEN"
NO_CURRENCY = "XXX"
UNKEYED = "?"  # bot.names.UNKEYED: a name stored before fingerprints
BANDS_PER_DOUBLING = 8
STATISTICS = ConsentPurpose.STATISTICS.value
_STATE = "corridor.rollups"
_CHUNK = 500

DayKey = tuple[str, str, dt.date, str, str]  # corridor, basis, day, measure, code
NameKey = tuple[str, dt.date, str, str]  # corridor, month, kind, fingerprint

# Columns whose change can change what a case contributes.
COUNTED = (
    "corridor_code",
    "created_at",
    "claimed_at",
    "resolved_at",
    "categories",
    "outcome",
    "workers_affected",
    "wage_owed_minor",
    "wage_currency",
    "outcome_amount_minor",
    "outcome_currency",
    "referred_by_organisation_id",
    "owner_organisation_id",
    "sector",
    "gender",
    "employer_key",
    "agency_key",
    "drill",  # a practice case contributes nothing (bot.domain.counted)
)
CONSENT_COUNTED = ("case_id", "purpose", "granted", "withdrawn_at")


# ---------------------------------------------------------------------------------------
# What one case contributes
# ---------------------------------------------------------------------------------------


def band(seconds: float) -> int:
    """The duration band: 0 under a minute, then 2^(1/8)-wide bands from one minute up."""
    if seconds < 60:
        return 0
    return math.floor(BANDS_PER_DOUBLING * math.log2(seconds / 60)) + 1


def band_limits(number: int) -> tuple[float, float]:
    if number == 0:
        return 0.0, 60.0
    return (
        60 * 2 ** ((number - 1) / BANDS_PER_DOUBLING),
        60 * 2 ** (number / BANDS_PER_DOUBLING),
    )


def utc_day(moment: dt.datetime) -> dt.date:
    return moment.astimezone(dt.UTC).date()


def month_of(moment: dt.datetime) -> dt.date:
    return utc_day(moment).replace(day=1)


def currency_code(code: str | None) -> str:
    code = (code or "").strip().upper()
    return code if len(code) == 3 and code.isalpha() else NO_CURRENCY


@dataclass(frozen=True)
class CaseStats:
    """What rollups know of one case: no personal field."""

    corridor: str
    created: dt.datetime
    claimed: dt.datetime | None = None
    resolved: dt.datetime | None = None
    categories: tuple[str, ...] = ()
    outcome: str | None = None
    workers: int = 1
    owed_currency: str | None = None
    owed_minor: int | None = None
    recovered_currency: str | None = None
    recovered_minor: int | None = None
    consented: bool = False
    referred: bool = False
    taken_up: bool = False
    sector: str | None = None
    gender: str | None = None
    employer_key: str | None = None
    agency_key: str | None = None


def _seconds(start: dt.datetime, end: dt.datetime) -> int:
    return max(0, int((end - start).total_seconds()))


def contributions(
    stats: CaseStats | None,
) -> tuple[dict[DayKey, tuple[int, int, int]], dict[NameKey, int]]:
    """The rollup cells one case adds to: (cases, workers, amount) per day key, and a case
    count per name key."""
    days: dict[DayKey, tuple[int, int, int]] = {}
    names: dict[NameKey, int] = {}
    if stats is None:
        return days, names
    corridor = stats.corridor
    workers = max(1, stats.workers or 1)

    def add(basis: str, day: dt.date, measure: str, code: str, value: tuple[int, int, int]) -> None:
        key = (corridor, basis, day, measure, code)
        old = days.get(key, (0, 0, 0))
        days[key] = (old[0] + value[0], old[1] + value[1], old[2] + value[2])

    created = utc_day(stats.created)
    add(EVENT, created, "new", "", (1, workers, 0))
    # Every case, by what happened (the dashboard's chart); the anonymised cohort below
    # counts only cases with statistics consent.
    for code in sorted(set(stats.categories)):
        add(EVENT, created, "category", code, (1, workers, 0))
    if stats.owed_minor is not None:
        add(EVENT, created, "owed", stats.owed_currency or "?", (1, 0, stats.owed_minor))
    claim_seconds = resolve_seconds = None
    if stats.claimed is not None:
        claim_seconds = _seconds(stats.created, stats.claimed)
        day = utc_day(stats.claimed)
        add(EVENT, day, "claimed", "", (1, 0, 0))
        add(EVENT, day, "claim_time", str(band(claim_seconds)), (1, 0, claim_seconds))
    if stats.resolved is not None:
        resolve_seconds = _seconds(stats.created, stats.resolved)
        day = utc_day(stats.resolved)
        add(EVENT, day, "resolved", stats.outcome or "OTHER", (1, 0, 0))
        if stats.recovered_minor is not None:
            add(
                EVENT,
                day,
                "recovered",
                stats.recovered_currency or "?",
                (1, 0, stats.recovered_minor),
            )
        add(EVENT, day, "resolve_time", str(band(resolve_seconds)), (1, 0, resolve_seconds))

    if not stats.consented:
        return days, names
    month = month_of(stats.created)
    one = (1, workers, 0)
    add(COHORT, month, "total", "", one)
    categories = {c if c in CATEGORIES else "OTHR" for c in stats.categories} or {"OTHR"}
    for code in categories:
        add(COHORT, month, "category", code, one)
    for code in articles_of(tuple(categories)):
        add(COHORT, month, "article", code, one)
    for code in indicators_of(tuple(categories)):
        add(COHORT, month, "indicator", code, one)
    if stats.outcome is None:
        outcome = OPEN
    else:
        outcome = stats.outcome if stats.outcome in OUTCOMES else "OTHER"
    add(COHORT, month, "outcome", outcome, one)
    if stats.owed_minor is not None:
        add(COHORT, month, "owed", currency_code(stats.owed_currency), (1, 0, stats.owed_minor))
    if stats.recovered_minor is not None:
        add(
            COHORT,
            month,
            "recovered",
            currency_code(stats.recovered_currency),
            (1, 0, stats.recovered_minor),
        )
    if claim_seconds is not None:
        add(COHORT, month, "claimed", "", one)
        add(COHORT, month, "claim_time", str(band(claim_seconds)), (1, 0, claim_seconds))
    if resolve_seconds is not None:
        add(COHORT, month, "resolve_time", str(band(resolve_seconds)), (1, 0, resolve_seconds))
    if stats.referred:
        add(COHORT, month, "referred", "", one)
        if stats.taken_up:
            add(COHORT, month, "taken_up", "", one)
    add(COHORT, month, "sector", stats.sector if stats.sector in SECTORS else NOT_GIVEN, one)
    add(COHORT, month, "gender", stats.gender if stats.gender in GENDERS else NOT_GIVEN, one)
    for kind, key in (("employer", stats.employer_key), ("agency", stats.agency_key)):
        if key and key != UNKEYED:
            names[(corridor, month, kind, key)] = 1
    return days, names


# ---------------------------------------------------------------------------------------
# Reading a case's facts (sync: these run inside session events)
# ---------------------------------------------------------------------------------------

CASE_COLUMNS = (
    Case.id,
    Case.corridor_code,
    Case.created_at,
    Case.claimed_at,
    Case.resolved_at,
    Case.categories,
    Case.outcome,
    Case.workers_affected,
    Case.wage_currency,
    Case.wage_owed_minor,
    Case.outcome_currency,
    Case.outcome_amount_minor,
    Case.referred_by_organisation_id,
    Case.owner_organisation_id,
    Case.sector,
    Case.gender,
    Case.employer_key,
    Case.agency_key,
)


def _stats_of(row: Any, consented: bool) -> CaseStats:
    referred = row.referred_by_organisation_id is not None
    return CaseStats(
        corridor=row.corridor_code,
        created=row.created_at,
        claimed=row.claimed_at,
        resolved=row.resolved_at,
        categories=tuple(row.categories or ()),
        outcome=row.outcome,
        workers=row.workers_affected or 1,
        owed_currency=row.wage_currency,
        owed_minor=row.wage_owed_minor,
        recovered_currency=row.outcome_currency,
        recovered_minor=row.outcome_amount_minor,
        consented=consented,
        referred=referred,
        # Taken up: someone of another organisation claimed the case after the referral.
        taken_up=referred
        and row.owner_organisation_id is not None
        and row.owner_organisation_id != row.referred_by_organisation_id,
        sector=row.sector,
        gender=row.gender,
        employer_key=row.employer_key,
        agency_key=row.agency_key,
    )


def read_stats(session: Session, ids: Iterable[int], *, lock: bool) -> dict[int, CaseStats]:
    """The counted facts of these cases as the database holds them now (absent ones are
    left out). ``lock``: take the rows' write lock (PostgreSQL), so the facts cannot change
    under this transaction before it commits."""
    result: dict[int, CaseStats] = {}
    ids = sorted(set(ids))
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        query = select(*CASE_COLUMNS).where(Case.id.in_(chunk), counted.COUNTED).order_by(Case.id)
        if lock:
            query = query.with_for_update(of=Case.__table__)
        rows = list(session.execute(query))
        latest: dict[int, tuple[int, bool]] = {}
        for case_id, consent_id, granted, withdrawn in session.execute(
            select(Consent.case_id, Consent.id, Consent.granted, Consent.withdrawn_at).where(
                Consent.case_id.in_(chunk), Consent.purpose == STATISTICS
            )
        ):
            if case_id not in latest or consent_id > latest[case_id][0]:
                latest[case_id] = (consent_id, bool(granted) and withdrawn is None)
        for row in rows:
            result[row.id] = _stats_of(row, latest.get(row.id, (0, False))[1])
    return result


# ---------------------------------------------------------------------------------------
# Session events
# ---------------------------------------------------------------------------------------


@dataclass
class _Pending:
    # Case id → its facts before this transaction touched it (None: it did not exist).
    base: dict[int, CaseStats | None]
    new_cases: list[Case]
    new_events: list[CaseEvent]
    escalations: list[tuple[int, dt.datetime]]


def _pending(session: Session) -> _Pending:
    state = session.info.get(_STATE)
    if state is None:
        state = session.info[_STATE] = _Pending({}, [], [], [])
    return state


def _changed(obj: Any, names: Iterable[str]) -> bool:
    from sqlalchemy import inspect

    attrs = inspect(obj).attrs
    return any(attrs[name].history.has_changes() for name in names)


def _capture(session: Session, ids: set[int]) -> None:
    state = _pending(session)
    fresh = {i for i in ids if i is not None and i not in state.base}
    if not fresh:
        return
    with session.no_autoflush:
        found = read_stats(session, fresh, lock=True)
    for case_id in fresh:
        state.base[case_id] = found.get(case_id)


@event.listens_for(Session, "before_flush")
def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    touched: set[int] = set()
    for obj in session.new:
        if isinstance(obj, Case):
            _pending(session).new_cases.append(obj)
        elif isinstance(obj, Consent):
            if obj.case_id is not None and obj.purpose == STATISTICS:
                touched.add(obj.case_id)
        elif isinstance(obj, CaseEvent) and obj.kind == "escalated":
            _pending(session).new_events.append(obj)
    for obj in session.dirty:
        if isinstance(obj, Case):
            if obj.id is not None and _changed(obj, COUNTED):
                touched.add(obj.id)
        elif isinstance(obj, Consent) and _changed(obj, CONSENT_COUNTED):
            from sqlalchemy import inspect

            history = inspect(obj).attrs["case_id"].history
            touched.update(i for i in (*history.deleted, obj.case_id) if i is not None)
    for obj in session.deleted:
        if isinstance(obj, Case):
            touched.add(obj.id)
        elif isinstance(obj, Consent) and obj.case_id is not None:
            touched.add(obj.case_id)
    if touched:
        _capture(session, touched)


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _context: Any) -> None:
    state = session.info.get(_STATE)
    if state is None:
        return
    for case in state.new_cases:
        if case.id is not None:
            state.base.setdefault(case.id, None)
    state.new_cases.clear()
    for item in state.new_events:
        if item.case_id is not None:
            state.escalations.append((item.case_id, item.at))
    state.new_events.clear()


@event.listens_for(Session, "do_orm_execute")
def _orm_execute(execute_state: Any) -> None:
    if not (execute_state.is_update or execute_state.is_delete):
        return
    statement = execute_state.statement
    table = getattr(getattr(statement, "table", None), "name", None)
    if table == Case.__tablename__:
        names, column = COUNTED, Case.id
    elif table == Consent.__tablename__:
        names, column = CONSENT_COUNTED, Consent.case_id
    else:
        return
    values = getattr(statement, "_values", None)
    if execute_state.is_update and values:
        changed = {getattr(k, "key", getattr(k, "name", str(k))) for k in values}
        if not changed & set(names):
            return
    query = select(column)
    if statement.whereclause is not None:
        query = query.where(statement.whereclause)
    session = execute_state.session
    ids = {i for i in session.execute(query).scalars() if i is not None}
    _capture(session, ids)


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    # The commit's own flush comes after this event: flush first, so that its changes are
    # captured too.
    if session.new or session.dirty or session.deleted:
        session.flush()
    # The rollup rows are the hottest rows there are (every case of a corridor and day adds
    # to the same ones): they are written last, right before the commit, so their locks are
    # held for as short as possible.
    if _STATE not in session.info:
        return
    state: _Pending = session.info.pop(_STATE)
    if not state.base and not state.escalations:
        return
    now = read_stats(session, state.base, lock=False)
    days: dict[DayKey, list[int]] = defaultdict(lambda: [0, 0, 0])
    names: dict[NameKey, int] = defaultdict(int)
    for case_id, before in state.base.items():
        for sign, stats in ((-1, before), (1, now.get(case_id))):
            cells, named = contributions(stats)
            for key, value in cells.items():
                total = days[key]
                for i in range(3):
                    total[i] += sign * value[i]
            for key, count in named.items():
                names[key] += sign * count
    if state.escalations:
        corridors = {i: s.corridor for i, s in now.items()}
        missing = {i for i, _ in state.escalations if i not in corridors}
        if missing:
            for case_id, corridor in session.execute(
                select(Case.id, Case.corridor_code).where(
                    Case.id.in_(sorted(missing)), counted.COUNTED
                )
            ):
                corridors[case_id] = corridor
        for case_id, at in state.escalations:
            if case_id in corridors:
                days[(corridors[case_id], EVENT, utc_day(at), "escalated", "")][0] += 1
    apply(session, days, names)


@event.listens_for(Session, "after_transaction_end")
def _transaction_end(session: Session, transaction: Any) -> None:
    if transaction.parent is None:
        session.info.pop(_STATE, None)


def apply(
    session: Session,
    days: dict[DayKey, list[int]] | dict[DayKey, tuple[int, int, int]],
    names: dict[NameKey, int],
) -> None:
    """Add these differences to the rollup rows (creating rows as needed), in key order."""
    insert = upsert_insert(session)
    rows = [
        {
            "corridor": key[0],
            "basis": key[1],
            "day": key[2],
            "measure": key[3],
            "code": key[4],
            "cases": value[0],
            "workers": value[1],
            "amount": value[2],
        }
        for key, value in sorted(days.items())
        if any(value)
    ]
    if rows:
        table = StatsDay.__table__
        statement = insert(table)
        statement = statement.on_conflict_do_update(
            index_elements=["corridor", "basis", "day", "measure", "code"],
            set_={
                "cases": table.c.cases + statement.excluded.cases,
                "workers": table.c.workers + statement.excluded.workers,
                "amount": table.c.amount + statement.excluded.amount,
            },
        )
        session.execute(statement, rows)
    name_rows = [
        {"corridor": key[0], "month": key[1], "kind": key[2], "key": key[3], "cases": count}
        for key, count in sorted(names.items())
        if count
    ]
    if name_rows:
        table = StatsName.__table__
        statement = insert(table)
        statement = statement.on_conflict_do_update(
            index_elements=["corridor", "month", "kind", "key"],
            set_={"cases": table.c.cases + statement.excluded.cases},
        )
        session.execute(statement, name_rows)


# ---------------------------------------------------------------------------------------
# Rebuild
# ---------------------------------------------------------------------------------------


def _all_stats(connection: Any, corridor: str) -> Iterator[CaseStats]:
    in_corridor = (Case.corridor_code == corridor, counted.COUNTED)
    # Pages by id rather than a server-side cursor: on PostgreSQL (asyncpg) such a cursor
    # stays open until the transaction ends, and a later migration in the same transaction
    # could not ALTER the cases table.
    after = 0
    while True:
        ids = list(
            connection.execute(
                select(Case.id).where(*in_corridor, Case.id > after).order_by(Case.id).limit(5000)
            ).scalars()
        )
        if not ids:
            return
        first, last = ids[0], ids[-1]
        # The latest consent of this page's cases only: grouping every consent for every
        # page made a rebuild quadratic (hours for a million cases).
        latest = (
            select(Consent.case_id.label("case_id"), func.max(Consent.id).label("consent_id"))
            .where(Consent.purpose == STATISTICS, Consent.case_id.between(first, last))
            .group_by(Consent.case_id)
            .subquery()
        )
        rows = connection.execute(
            select(*CASE_COLUMNS, Consent.granted, Consent.withdrawn_at)
            .outerjoin(latest, latest.c.case_id == Case.id)
            .outerjoin(Consent, Consent.id == latest.c.consent_id)
            .where(*in_corridor, Case.id.between(first, last))
            .order_by(Case.id)
        ).all()
        for row in rows:
            yield _stats_of(row, bool(row.granted) and row.withdrawn_at is None)
        after = last


def computed(connection: Any, corridor: str) -> tuple[dict, dict, int]:
    """Every rollup row of one corridor, recomputed from its cases: (day rows, name rows,
    cases read)."""
    days: dict[DayKey, list[int]] = defaultdict(lambda: [0, 0, 0])
    names: dict[NameKey, int] = defaultdict(int)
    cases = 0
    for stats in _all_stats(connection, corridor):
        cases += 1
        cells, named = contributions(stats)
        for key, value in cells.items():
            total = days[key]
            total[0] += value[0]
            total[1] += value[1]
            total[2] += value[2]
        for key, count in named.items():
            names[key] += count
    for (at,) in connection.execute(
        select(CaseEvent.at)
        .join(Case, Case.id == CaseEvent.case_id)
        .where(Case.corridor_code == corridor, counted.COUNTED, CaseEvent.kind == "escalated")
    ):
        days[(corridor, EVENT, utc_day(at), "escalated", "")][0] += 1
    return dict(days), dict(names), cases


def corridors_with_cases(connection: Any) -> list[str]:
    return sorted(connection.execute(select(Case.corridor_code).distinct()).scalars())


def rebuild_sync(connection: Any) -> tuple[int, int]:
    """Recompute every rollup row from the cases (a sync ``Connection`` or ``Session``):
    what a migration runs, and ``corridor rollups rebuild``. Returns (cases, rows). One
    corridor at a time, so memory holds one corridor's rows."""
    connection.execute(delete(StatsDay))
    connection.execute(delete(StatsName))
    cases = rows = 0
    for corridor in corridors_with_cases(connection):
        days, names, count = computed(connection, corridor)
        cases += count
        rows += len(days) + len(names)
        _insert_rows(connection, days, names)
    return cases, rows


def _insert_rows(connection: Any, days: dict, names: dict) -> None:
    day_rows = [
        {
            "corridor": k[0],
            "basis": k[1],
            "day": k[2],
            "measure": k[3],
            "code": k[4],
            "cases": v[0],
            "workers": v[1],
            "amount": v[2],
        }
        for k, v in sorted(days.items())
    ]
    name_rows = [
        {"corridor": k[0], "month": k[1], "kind": k[2], "key": k[3], "cases": v}
        for k, v in sorted(names.items())
    ]
    for table, batch in ((StatsDay.__table__, day_rows), (StatsName.__table__, name_rows)):
        for start in range(0, len(batch), 5000):
            connection.execute(table.insert(), batch[start : start + 5000])


async def rebuild(session: Any) -> tuple[int, int]:
    """:func:`rebuild_sync` in an ``AsyncSession`` (the caller commits)."""
    return await session.run_sync(lambda sync: rebuild_sync(sync.connection()))


# ---------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------


@dataclass
class Totals:
    """Rollup sums over a range: (measure, code) → [cases, workers, amount]."""

    cells: dict[tuple[str, str], list[int]]

    def cases(self, measure: str, code: str = "") -> int:
        return self.cells.get((measure, code), [0, 0, 0])[0]

    def codes(self, measure: str) -> dict[str, list[int]]:
        return {code: v for (m, code), v in self.cells.items() if m == measure and v[0]}

    def bands(self, measure: str) -> dict[int, tuple[int, int]]:
        return {int(code): (v[0], v[2]) for code, v in self.codes(measure).items()}


async def totals(
    session: Any, corridors: list[str], basis: str, first: dt.date, after: dt.date
) -> Totals:
    """Sums of the rollup rows of these corridors on days ``first`` ≤ day < ``after``."""
    cells: dict[tuple[str, str], list[int]] = {}
    if not corridors or first >= after:
        return Totals(cells)
    for measure, code, cases, workers, amount in await session.execute(
        select(
            StatsDay.measure,
            StatsDay.code,
            func.sum(StatsDay.cases),
            func.sum(StatsDay.workers),
            func.sum(StatsDay.amount),
        )
        .where(
            StatsDay.corridor.in_(corridors),
            StatsDay.basis == basis,
            StatsDay.day >= first,
            StatsDay.day < after,
        )
        .group_by(StatsDay.measure, StatsDay.code)
    ):
        cells[(measure, code)] = [int(cases or 0), int(workers or 0), int(amount or 0)]
    return Totals(cells)


def median_seconds(bands: dict[int, tuple[int, int]], extra: Iterable[float] = ()) -> float | None:
    """The median of the durations counted in ``bands`` (band → (count, seconds)) and the
    ``extra`` ones: the mean of the band holding the middle value (within a band's width)."""
    merged = {b: [n, s] for b, (n, s) in bands.items() if n}
    for seconds in extra:
        entry = merged.setdefault(band(seconds), [0, 0])
        entry[0] += 1
        entry[1] += seconds
    count = sum(n for n, _ in merged.values())
    if not count:
        return None
    wanted = sorted({(count - 1) // 2, count // 2})
    values, seen = [], 0
    for number in sorted(merged):
        n, seconds = merged[number]
        while wanted and wanted[0] < seen + n:
            values.append(seconds / n)
            wanted.pop(0)
        seen += n
    return sum(values) / len(values)
