"""Pattern alerts: the same employer or recruitment agency named in several cases.

Cases are grouped in SQL by the keyed fingerprint of each name (see :mod:`bot.names`), so a
month of many thousand cases costs one indexed scan and decrypts only the names of cases
that belong to a repeated group.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.counted import COUNTED
from bot.names import UNKEYED, stored_fingerprint
from models import Case

SPELLING_SAMPLE = 50


@dataclass(frozen=True)
class Pattern:
    kind: str  # employer | agency
    name: str  # the most common spelling among the cases
    count: int  # distinct cases
    case_codes: list[str]  # oldest first
    spellings: int = 1  # how many different spellings were merged


@dataclass(frozen=True)
class PatternSearch:
    patterns: list[Pattern]  # the strongest ``limit`` groups, most cases first
    groups: int  # how many names were repeated in all


async def repeated_names(
    session: AsyncSession,
    corridors: list[str],
    since: dt.datetime,
    until: dt.datetime,
    threshold: int = 3,
) -> list[Pattern]:
    """Employers and agencies named in at least ``threshold`` cases of ``corridors`` reported
    in [since, until), most cases first. Names are decrypted by the ORM and never stored
    elsewhere; the result is meant for coordinators, not for publication."""
    return (await find_patterns(session, corridors, since, until, threshold)).patterns


async def find_patterns(
    session: AsyncSession,
    corridors: list[str],
    since: dt.datetime,
    until: dt.datetime,
    threshold: int = 3,
    limit: int | None = None,
) -> PatternSearch:
    """As :func:`repeated_names`, but only the ``limit`` groups with the most cases are
    spelled out (and their names decrypted); the rest are only counted."""
    if threshold < 2:
        raise ValueError("a pattern needs a threshold of at least 2 cases")
    if not corridors:
        return PatternSearch([], 0)
    in_window = (
        Case.corridor_code.in_(corridors),
        COUNTED,
        Case.created_at >= since,
        Case.created_at < until,
    )
    await fingerprint_unkeyed(session, in_window)
    columns = {
        "employer": (Case.employer, Case.employer_key),
        "agency": (Case.agency, Case.agency_key),
    }
    groups: list[tuple[int, str, str]] = []
    for kind, (_, key_column) in columns.items():
        groups.extend(
            (count, kind, key)
            for key, count in await session.execute(
                select(key_column, func.count())
                .where(*in_window, key_column.is_not(None), key_column.not_in(("", UNKEYED)))
                .group_by(key_column)
                .having(func.count() >= threshold)
            )
        )
    groups.sort(key=lambda group: (-group[0], group[1], group[2]))
    shown = groups if limit is None else groups[:limit]
    found = []
    for kind, (name_column, key_column) in columns.items():
        keys = {key for _, group_kind, key in shown if group_kind == kind}
        if not keys:
            continue
        codes: dict[str, list[str]] = defaultdict(list)
        for code, key in await session.execute(
            select(Case.code, key_column)
            .where(*in_window, key_column.in_(keys))
            .order_by(Case.created_at, Case.id)
        ):
            codes[key].append(code)  # one employer and one agency per case: no repeats
        spellings = await recent_spellings(session, in_window, name_column, key_column, keys)
        for key, case_codes in codes.items():
            counter = spellings[key]
            # Most common spelling; among equals, the first one seen.
            name = max(counter, key=lambda s: counter[s])
            found.append(
                Pattern(
                    kind=kind,
                    name=name,
                    count=len(case_codes),
                    case_codes=case_codes,
                    spellings=len(counter),
                )
            )
    found.sort(key=lambda p: (-p.count, p.kind, p.name.casefold()))
    return PatternSearch(found, len(groups))


async def recent_spellings(
    session: AsyncSession, in_window: tuple, name_column: Any, key_column: Any, keys: set[str]
) -> dict[str, Counter[str]]:
    """How each group's name was spelled in its latest SPELLING_SAMPLE cases, oldest first.
    Only these names are decrypted: an employer named in two thousand cases costs fifty."""
    recent = (
        select(
            name_column.label("name"),
            key_column.label("key"),
            Case.created_at,
            Case.id,
            func.row_number()
            .over(partition_by=key_column, order_by=(Case.created_at.desc(), Case.id.desc()))
            .label("recency"),
        )
        .where(*in_window, key_column.in_(keys))
        .subquery()
    )
    spellings: dict[str, Counter[str]] = defaultdict(Counter)
    for name, key in await session.execute(
        select(recent.c.name, recent.c.key)
        .where(recent.c.recency <= SPELLING_SAMPLE)
        .order_by(recent.c.created_at, recent.c.id)
    ):
        spellings[key][" ".join(name.split())] += 1
    return spellings


async def fingerprint_unkeyed(session: AsyncSession, in_window: tuple) -> None:
    """Cases stored before names had fingerprints get them the first time a digest looks;
    finding them reads only the window's index entries."""
    rows = (
        await session.scalars(
            select(Case).where(
                *in_window, or_(Case.employer_key == UNKEYED, Case.agency_key == UNKEYED)
            )
        )
    ).all()
    for case in rows:
        case.employer_key = stored_fingerprint(case.employer)
        case.agency_key = stored_fingerprint(case.agency)
    if rows:
        await session.flush()
