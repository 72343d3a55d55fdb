"""The anonymised export a coordinator takes away (from /export or the dashboard): partner
threshold, their own corridors only, recorded in the audit trail."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.context import Domain
from bot.domain.exports import anonymised_rows, record_export, threshold, to_csv, to_json
from models import Person

FORMATS = ("csv", "json")


@dataclass(frozen=True)
class ExportFile:
    corridor: str
    filename: str
    body: str
    cases_included: int
    k: int


def default_window(today: dt.date) -> tuple[dt.date, dt.date]:
    """The last twelve whole months and this one."""
    return today.replace(day=1) - dt.timedelta(days=365), today


async def export_files(
    session: AsyncSession,
    domain: Domain,
    coordinator: Person,
    corridors: list[str],
    fmt: str,
    start: dt.date,
    end: dt.date,
) -> list[ExportFile]:
    """One file per corridor in ``corridors`` (which the caller has checked are the
    coordinator's), and one audit event for the lot."""
    results = [
        await anonymised_rows(
            session,
            start=start,
            end=end,
            corridor=corridor,
            audience="partner",
            k=threshold(domain.config.statistics, "partner"),
        )
        for corridor in corridors
    ]
    await record_export(
        session,
        domain,
        f"person:{coordinator.id}",
        fmt=fmt,
        audience="partner",
        results=results,
        start=start,
        end=end,
    )
    return [
        ExportFile(
            corridor=result.corridor,
            filename=f"corridor-{result.corridor}-{start:%Y%m}-{end:%Y%m}.{fmt}",
            body=to_csv(result) if fmt == "csv" else to_json(result),
            cases_included=result.cases_included,
            k=result.k,
        )
        for result in results
    ]
