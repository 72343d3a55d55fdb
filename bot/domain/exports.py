"""Exports: anonymised aggregate statistics for advocacy, and the admin's encrypted full dump.

Anonymised statistics (shared/TAXONOMY.md, "Anonymised statistics")
--------------------------------------------------------------------
Only cases whose *latest* ``statistics`` consent row (highest id) is granted and not
withdrawn are counted; the others are only counted in ``ExportResult.excluded`` for the
caller's log. The query reads no personal column at all: no names, contacts, free text,
employer or agency, no city or area, no day. What comes out is a table of counts:

* one row per month (``YYYY-MM``, UTC month the case was reported) × corridor × origin ×
  destination (ISO 3166-1 alpha-2) × ``dimension``/``code``:

  - ``total``/``ALL``: every counted case of that month and corridor, once;
  - ``category``/TAXONOMY category code: cases carrying that category (a case with two
    categories is in two rows, so category rows do not add up to ``ALL``);
  - ``outcome``/TAXONOMY outcome code, or ``OPEN`` for a case not resolved yet: a
    partition, each case in exactly one row, so outcome rows add up to ``ALL``;

* measures: ``cases``, ``workers_affected`` and, per ISO 4217 currency, wages owed and
  wages recovered in major units (a case's recovered amount counts in the month it was
  reported, so owed and recovered describe the same cohort).

A combination with no case has no row (a published zero). The period is widened to whole
months, so two exports whose day boundaries differ cannot be subtracted from each other
to isolate the cases of a few days.

Suppression scheme
------------------
``k`` is 10 for ``public`` and 5 for ``partner`` (``k=`` overrides). A *group* is the set of
rows of one month × corridor × dimension; its published total is the ``ALL`` row.

1. Primary: every cell with ``cases < k`` is suppressed: the row stays (so the reader sees
   that something is hidden), its measures are empty and ``suppressed`` is set.
2. Secondary: within each group, while the suppressed cells are exactly one, or hold
   fewer than ``k`` cases together, or no more cases than there are suppressed cells (a
   visible row holds at least one case, so ``n`` hidden rows holding ``n`` cases would each
   be known to hold exactly one), the smallest published cell (ties broken by code) is
   suppressed too. So ``ALL`` minus the published cells gives the reader only the sum of
   two or more hidden cells, at least ``k`` and compatible with several values for each.
   If even suppressing every cell cannot achieve that, or ``ALL`` is itself below ``k``,
   the ``ALL`` row is suppressed and with it the whole month × corridor (otherwise the
   outcome rows, which add up to ``ALL``, would give it back). No other totals (across
   months, corridors or currencies) are published.
3. Money: an amount in a currency is published only if at least ``k`` cases contribute to
   it; amounts of suppressed rows are hidden, and the same secondary rule runs per group,
   currency and measure over the contributing cases, so the ``ALL`` amount minus the
   published amounts never gives one hidden amount or the amount of fewer than ``k``
   cases. A hidden amount is an empty cell (null in JSON) and sets ``amounts_suppressed``;
   an amount with no contributing case is a published ``0``. A month × corridor whose
   ``ALL`` row is hidden is published as that one empty row, without its category and
   outcome rows, which would otherwise describe its few cases.

The pure function :func:`protect` implements rule 2 for one group and is what the
property-based tests exercise.

Standard codes: each row carries, next to Corridor's ``code``, the IOM Human Trafficking
Case Data Standard ``MethodsOfControl`` code of a category (``htcds``; empty where
TAXONOMY.md has none), so partners can join the table with other HTCDS datasets. With
``hxl=True`` the CSV gets a second row of HXL hashtags under the header (see
:data:`HXL_TAGS`), so humanitarian data tools (HDX, HXL Proxy) recognise the columns; without
it the file has no such row. The table is wide (one amount column per currency), so the
currency is an attribute of the amount's hashtag (``#value+owed+qar``, as in HDX financial
data) rather than a ``#currency`` column.

Spreadsheets: CSV is UTF-8 with a byte-order mark and RFC 4180 quoting, and a text cell
starting with ``= + - @``, a tab or a carriage return is prefixed with ``'`` so that no
spreadsheet evaluates it as a formula.

Full detail export
------------------
:func:`full_detail_export` is for admins only: every case with every field decrypted, its
consents and attachments, and the reporters, as JSON encrypted with a key derived from a
passphrase (scrypt → Fernet); the blob is ``salt (16 bytes) + Fernet token``. Each export
is recorded as a ``full_export`` event in the audit trail.
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import hashlib
import io
import json
import os
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from babel.numbers import get_currency_precision
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from sqlalchemy import func, inspect, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import events
from bot.domain.context import Domain
from bot.domain.counted import COUNTED
from bot.taxonomy import CATEGORIES, HTCDS, OUTCOMES, ConsentPurpose
from models import Attachment, Case, Consent, Corridor, Person, Reporter

if TYPE_CHECKING:
    from bot.config import StatisticsSection

Audience = Literal["public", "partner"]
K_DEFAULT: dict[str, int] = {"public": 10, "partner": 5}


def threshold(statistics: StatisticsSection, audience: Audience) -> int:
    """The operator's k for an audience: the one rule the bot, the dashboard and the CLI
    use for every export and report."""
    return statistics.k_public if audience == "public" else statistics.k_partner


ALL = "ALL"
OPEN = "OPEN"  # not a TAXONOMY outcome: the case has none yet
NO_CURRENCY = "XXX"  # ISO 4217 "no currency", for an amount stored without one
DIMENSIONS = ("total", "category", "outcome")
_CODE_ORDER = {
    "total": {ALL: 0},
    "category": {code: i for i, code in enumerate(CATEGORIES)},
    "outcome": {code: i for i, code in enumerate([*OUTCOMES, OPEN])},
}
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
MEASURES = ("wages_owed", "wages_recovered")

CellT = TypeVar("CellT", bound=Hashable)


# ---------------------------------------------------------------------------------------
# Suppression
# ---------------------------------------------------------------------------------------


def protect(
    cells: Mapping[CellT, int],
    k: int,
    *,
    total: int | None = None,
    forced: Iterable[CellT] = (),
) -> tuple[set[CellT], bool]:
    """Primary and secondary suppression for one group of cells sharing a published total.

    ``cells`` maps a cell to its count (leave structural zeros out); ``total`` defaults to
    their sum (pass it when cells overlap, as categories do); ``forced`` cells are hidden
    whatever their count. Returns the hidden cells and whether the total must be hidden.
    Afterwards no published cell is below ``k`` and, unless the total is hidden, the hidden
    cells are none, or at least two holding together at least ``k`` and more than one per
    hidden cell (so that "each hidden cell holds at least one" does not pin them down).
    """
    if k < 1:
        raise ValueError("k must be at least 1")
    hidden = {cell for cell, count in cells.items() if count < k}
    hidden.update(cell for cell in forced if cell in cells)
    total = sum(cells.values()) if total is None else total
    total_hidden = total < k
    while hidden and not total_hidden:
        held = sum(cells[c] for c in hidden)
        if len(hidden) >= 2 and held >= k and held > len(hidden):
            break
        published = [c for c in cells if c not in hidden]
        if not published:
            total_hidden = True
            break
        hidden.add(min(published, key=lambda c: (cells[c], repr(c))))
    return hidden, total_hidden


GroupT = TypeVar("GroupT", bound=Hashable)


def suppress_table(
    table: Mapping[GroupT, Mapping[CellT, int]], k: int
) -> tuple[set[tuple[GroupT, CellT]], set[GroupT]]:
    """:func:`protect` for every group of an additive table (each group's total being the
    sum of its cells): the hidden (group, cell) pairs and the groups whose total is hidden.
    A group whose total is hidden is hidden entirely."""
    cells_hidden: set[tuple[GroupT, CellT]] = set()
    totals_hidden: set[GroupT] = set()
    for group, cells in table.items():
        hidden, total_hidden = protect(cells, k)
        if total_hidden:
            totals_hidden.add(group)
            hidden = set(cells)
        cells_hidden.update((group, cell) for cell in hidden)
    return cells_hidden, totals_hidden


# ---------------------------------------------------------------------------------------
# Anonymised rows
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportRow:
    month: str
    corridor: str
    origin: str
    destination: str
    dimension: str  # total | category | outcome
    code: str  # ALL, a TAXONOMY category or outcome code, or OPEN
    cases: int | None  # None: suppressed
    workers_affected: int | None
    suppressed: bool
    # Currency → amount in major units; None where the amount is suppressed. Empty for a
    # suppressed row.
    wages_owed: dict[str, Decimal | None] = field(default_factory=dict)
    wages_recovered: dict[str, Decimal | None] = field(default_factory=dict)

    @property
    def amounts_suppressed(self) -> bool:
        return self.suppressed or any(
            v is None for m in (self.wages_owed, self.wages_recovered) for v in m.values()
        )


@dataclass
class ExportResult:
    rows: list[ExportRow]
    first_month: str
    last_month: str
    corridor: str | None
    audience: str
    k: int
    currencies: list[str]
    cases_included: int
    # Cases of the period left out, for the caller's log (never published):
    # "no_answer" (no statistics consent recorded), "refused", "withdrawn".
    excluded: dict[str, int]
    cells_suppressed: int

    @property
    def excluded_no_consent(self) -> int:
        return sum(self.excluded.values())


@dataclass
class _Cell:
    cases: int = 0
    workers: int = 0
    # (measure, currency) → [sum of minor units, contributing cases]
    money: dict[tuple[str, str], list[int]] = field(default_factory=dict)

    def add(self, workers: int, amounts: list[tuple[str, str, int]]) -> None:
        self.cases += 1
        self.workers += workers
        for measure, currency, minor in amounts:
            entry = self.money.setdefault((measure, currency), [0, 0])
            entry[0] += minor
            entry[1] += 1


def _month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _next_month(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def _currency(code: str | None) -> str:
    code = (code or "").strip().upper()
    return code if len(code) == 3 and code.isalpha() else NO_CURRENCY


def major_units(minor: int, currency: str) -> Decimal:
    """Minor units to major units with the currency's ISO 4217 exponent (as intake stores
    them, see ``places.parse_money``)."""
    digits = get_currency_precision(currency)
    return Decimal(minor).scaleb(-digits).quantize(Decimal(1).scaleb(-digits))


async def anonymised_rows(
    session: AsyncSession,
    *,
    start: dt.date,
    end: dt.date,
    corridor: str | None,
    audience: Audience,
    k: int | None = None,
) -> ExportResult:
    """The aggregate, suppressed statistics table for the months from ``start`` to ``end``
    (both widened to whole months), for one corridor or all (``corridor=None``)."""
    if isinstance(start, dt.datetime) or isinstance(end, dt.datetime):
        raise ValueError("start and end are dates, not datetimes")
    if start > end:
        raise ValueError(f"start {start.isoformat()} is after end {end.isoformat()}")
    if audience not in K_DEFAULT:
        raise ValueError(f"audience must be 'public' or 'partner', not {audience!r}")
    k = K_DEFAULT[audience] if k is None else k
    if k < 1:
        raise ValueError(f"k must be at least 1, not {k}")
    if corridor is not None and await session.get(Corridor, corridor) is None:
        known = ", ".join(await session.scalars(select(Corridor.code).order_by(Corridor.code)))
        raise ValueError(f"unknown corridor {corridor!r} (known: {known or 'none'})")

    first, after = _month_start(start), _next_month(end)
    lo = dt.datetime.combine(first, dt.time(), tzinfo=dt.UTC)
    hi = dt.datetime.combine(after, dt.time(), tzinfo=dt.UTC)
    latest = (
        select(Consent.case_id.label("case_id"), func.max(Consent.id).label("consent_id"))
        .where(Consent.purpose == ConsentPurpose.STATISTICS.value, Consent.case_id.is_not(None))
        .group_by(Consent.case_id)
        .subquery()
    )
    # Only non-personal columns: nothing encrypted is even decrypted.
    query = (
        select(
            Case.created_at,
            Case.corridor_code,
            Case.origin_country,
            Case.destination_country,
            Case.categories,
            Case.outcome,
            Case.workers_affected,
            Case.wage_owed_minor,
            Case.wage_currency,
            Case.outcome_amount_minor,
            Case.outcome_currency,
            Consent.granted,
            Consent.withdrawn_at,
        )
        .outerjoin(latest, latest.c.case_id == Case.id)
        .outerjoin(Consent, Consent.id == latest.c.consent_id)
        .where(Case.created_at >= lo, Case.created_at < hi, COUNTED)
    )
    if corridor is not None:
        query = query.where(Case.corridor_code == corridor)

    excluded = {"no_answer": 0, "refused": 0, "withdrawn": 0}
    facts: list[CaseFacts] = []
    for row in await session.execute(query):
        if row.granted is None:
            excluded["no_answer"] += 1
        elif not row.granted:
            excluded["refused"] += 1
        elif row.withdrawn_at is not None:
            excluded["withdrawn"] += 1
        else:
            facts.append(
                CaseFacts(
                    month=row.created_at.astimezone(dt.UTC).strftime("%Y-%m"),
                    corridor=row.corridor_code,
                    origin=(row.origin_country or "").upper(),
                    destination=(row.destination_country or "").upper(),
                    categories=tuple(row.categories or ()),
                    outcome=row.outcome,
                    workers=row.workers_affected or 1,
                    owed=None
                    if row.wage_owed_minor is None
                    else (row.wage_currency, row.wage_owed_minor),
                    recovered=None
                    if row.outcome_amount_minor is None
                    else (row.outcome_currency, row.outcome_amount_minor),
                )
            )
    rows, currencies = aggregate(facts, k)
    return ExportResult(
        rows=rows,
        first_month=first.strftime("%Y-%m"),
        last_month=end.strftime("%Y-%m"),
        corridor=corridor,
        audience=audience,
        k=k,
        currencies=currencies,
        cases_included=len(facts),
        excluded=excluded,
        cells_suppressed=sum(1 for r in rows if r.suppressed),
    )


@dataclass(frozen=True)
class CaseFacts:
    """What statistics may know of one consenting case: no personal field."""

    month: str  # YYYY-MM
    corridor: str
    origin: str
    destination: str
    categories: tuple[str, ...]
    outcome: str | None
    workers: int = 1
    owed: tuple[str | None, int] | None = None  # (currency, minor units)
    recovered: tuple[str | None, int] | None = None


def aggregate(facts: Iterable[CaseFacts], k: int) -> tuple[list[ExportRow], list[str]]:
    """Counts per month × corridor × dimension × code, suppressed (module docstring).
    Returns the rows in a stable order and the currencies that occur."""
    if k < 1:
        raise ValueError(f"k must be at least 1, not {k}")
    # (month, corridor, origin, destination) → dimension → code → cell
    table: dict[tuple[str, str, str, str], dict[str, dict[str, _Cell]]] = defaultdict(
        lambda: {d: defaultdict(_Cell) for d in DIMENSIONS}
    )
    for fact in facts:
        amounts: list[tuple[str, str, int]] = []
        if fact.owed is not None:
            amounts.append(("wages_owed", _currency(fact.owed[0]), fact.owed[1]))
        if fact.recovered is not None:
            amounts.append(("wages_recovered", _currency(fact.recovered[0]), fact.recovered[1]))
        workers = max(1, fact.workers)
        categories = {c if c in CATEGORIES else "OTHR" for c in fact.categories} or {"OTHR"}
        if fact.outcome is None:
            outcome = OPEN
        else:
            outcome = fact.outcome if fact.outcome in OUTCOMES else "OTHER"
        dims = table[(fact.month, fact.corridor, fact.origin, fact.destination)]
        dims["total"][ALL].add(workers, amounts)
        for category in categories:
            dims["category"][category].add(workers, amounts)
        dims["outcome"][outcome].add(workers, amounts)
    rows: list[ExportRow] = []
    currencies: set[str] = set()
    for key in sorted(table):
        rows.extend(_suppressed_rows(key, table[key], k, currencies))
    return rows, sorted(currencies)


def _suppressed_rows(
    key: tuple[str, str, str, str],
    dims: dict[str, dict[str, _Cell]],
    k: int,
    currencies: set[str],
) -> list[ExportRow]:
    total = dims["total"][ALL]
    hidden: dict[str, set[str]] = {"total": set()}
    total_hidden = total.cases < k
    for dim in ("category", "outcome"):
        cells = {code: cell.cases for code, cell in dims[dim].items()}
        hidden[dim], hide_total = protect(cells, k, total=total.cases)
        total_hidden = total_hidden or hide_total
    if total_hidden:
        hidden = {dim: set(dims[dim]) for dim in DIMENSIONS}

    # Amounts: the same rule per measure and currency, over the contributing cases.
    hidden_money: dict[str, set[tuple[str, str, str]]] = {dim: set() for dim in DIMENSIONS}
    for measure, currency in total.money:
        currencies.add(currency)
        contributors = total.money[(measure, currency)][1]
        hide_total_amount = contributors < k or total_hidden
        for dim in ("category", "outcome"):
            cells = {
                code: cell.money[(measure, currency)][1]
                for code, cell in dims[dim].items()
                if (measure, currency) in cell.money
            }
            gone, hide_total = protect(cells, k, total=contributors, forced=hidden[dim])
            hidden_money[dim].update((measure, currency, code) for code in gone)
            hide_total_amount = hide_total_amount or hide_total
        if hide_total_amount:
            hidden_money["total"].add((measure, currency, ALL))
            for dim in ("category", "outcome"):
                hidden_money[dim].update((measure, currency, code) for code in dims[dim])

    rows = []
    # A hidden month × corridor shows one empty ALL row: listing which categories and
    # outcomes its few cases had would describe them.
    for dim in ("total",) if total_hidden else DIMENSIONS:
        order = _CODE_ORDER[dim]
        for code in sorted(dims[dim], key=lambda c: (order.get(c, len(order)), c)):
            cell = dims[dim][code]
            is_hidden = code in hidden[dim]
            # A hidden row does not even say in which currencies its amounts were.
            money: dict[str, dict[str, Decimal | None]] = {m: {} for m in MEASURES}
            for (measure, currency), (minor, _n) in () if is_hidden else cell.money.items():
                if (measure, currency, code) in hidden_money[dim]:
                    money[measure][currency] = None
                else:
                    money[measure][currency] = major_units(minor, currency)
            rows.append(
                ExportRow(
                    month=key[0],
                    corridor=key[1],
                    origin=key[2],
                    destination=key[3],
                    dimension=dim,
                    code=code,
                    cases=None if is_hidden else cell.cases,
                    workers_affected=None if is_hidden else cell.workers,
                    suppressed=is_hidden,
                    wages_owed=dict(sorted(money["wages_owed"].items())),
                    wages_recovered=dict(sorted(money["wages_recovered"].items())),
                )
            )
    return rows


# ---------------------------------------------------------------------------------------
# CSV and JSON
# ---------------------------------------------------------------------------------------


def csv_cell(value: Any) -> str:
    """One spreadsheet-safe cell: text that a spreadsheet would run as a formula gets a
    leading apostrophe (OWASP "CSV injection")."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def _amount(
    values: dict[str, Decimal | None], currency: str, suppressed: bool
) -> Decimal | int | None:
    if suppressed:
        return None
    if currency not in values:
        return 0  # no case of this row has an amount in this currency
    return values[currency]


# HXL hashtags of the columns (https://hxlstandard.org): the amount columns get theirs from
# hxl_tag().
HXL_TAGS = {
    "month": "#date+month",
    "corridor": "#meta+corridor",
    "origin": "#country+code+origin",
    "destination": "#country+code+dest",
    "dimension": "#indicator+type",
    "code": "#indicator+code",
    "htcds": "#indicator+code+htcds",
    "cases": "#indicator+value+num",
    "workers_affected": "#affected+num",
    "suppressed": "#meta+suppressed",
    "amounts_suppressed": "#meta+suppressed+amounts",
}


def hxl_tag(column: str) -> str:
    for measure, attribute in (("wages_owed_", "owed"), ("wages_recovered_", "recovered")):
        if column.startswith(measure):
            return f"#value+{attribute}+{column.removeprefix(measure).lower()}"
    return HXL_TAGS[column]


def htcds_code(dimension: str, code: str) -> str:
    """The HTCDS MethodsOfControl code(s) of a category row, ``;``-separated; else empty."""
    return HTCDS.get(code, "") if dimension == "category" else ""


def csv_columns(result: ExportResult) -> list[str]:
    return [
        "month",
        "corridor",
        "origin",
        "destination",
        "dimension",
        "code",
        "htcds",
        "cases",
        "workers_affected",
        "suppressed",
        *(f"{m}_{c}" for m in MEASURES for c in result.currencies),
        "amounts_suppressed",
    ]


def to_csv(result: ExportResult, *, hxl: bool = False) -> str:
    """The table as CSV text starting with a UTF-8 byte-order mark (write it as UTF-8);
    ``hxl``: a row of HXL hashtags under the header."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    columns = csv_columns(result)
    writer.writerow([csv_cell(c) for c in columns])
    if hxl:
        writer.writerow([hxl_tag(c) for c in columns])
    for row in result.rows:
        amounts = [
            _amount(getattr(row, m), c, row.suppressed) for m in MEASURES for c in result.currencies
        ]
        writer.writerow(
            [
                csv_cell(v)
                for v in (
                    row.month,
                    row.corridor,
                    row.origin,
                    row.destination,
                    row.dimension,
                    row.code,
                    htcds_code(row.dimension, row.code),
                    row.cases,
                    row.workers_affected,
                    row.suppressed,
                    *amounts,
                    row.amounts_suppressed,
                )
            ]
        )
    return "\ufeff" + buffer.getvalue()


def _json_number(value: Decimal | None) -> int | float | None:
    if value is None:
        return None
    exponent = value.as_tuple().exponent
    return int(value) if isinstance(exponent, int) and exponent >= 0 else float(value)


def to_json(result: ExportResult) -> str:
    """The table as JSON: months, codes and counts only; suppressed values are null."""
    document = {
        "from_month": result.first_month,
        "to_month": result.last_month,
        "corridor": result.corridor,
        "audience": result.audience,
        "k": result.k,
        "currencies": result.currencies,
        "notes": (
            "Counts of cases with consent to anonymised statistics, by month reported. "
            "Category rows overlap (a case may have several); outcome rows (OPEN = not yet "
            "resolved) add up to ALL. Cells below k are suppressed (null), with secondary "
            "suppression so that totals do not reveal them."
        ),
        "rows": [
            {
                "month": row.month,
                "corridor": row.corridor,
                "origin": row.origin,
                "destination": row.destination,
                "dimension": row.dimension,
                "code": row.code,
                "htcds": htcds_code(row.dimension, row.code) or None,
                "cases": row.cases,
                "workers_affected": row.workers_affected,
                "suppressed": row.suppressed,
                **{m: {c: _json_number(v) for c, v in getattr(row, m).items()} for m in MEASURES},
            }
            for row in result.rows
        ],
    }
    return json.dumps(document, ensure_ascii=False, indent=1)


# ---------------------------------------------------------------------------------------
# Full detail export (admins only)
# ---------------------------------------------------------------------------------------

SALT_BYTES = 16
MIN_PASSPHRASE = 12
_SCRYPT = {"length": 32, "n": 2**15, "r": 8, "p": 1}


class ExportDecryptionError(ValueError):
    """Wrong passphrase, or a damaged or truncated file."""


def _fernet(passphrase: str, salt: bytes) -> Fernet:
    key = Scrypt(salt=salt, **_SCRYPT).derive(passphrase.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _as_dict(row: Any) -> dict[str, Any]:
    mapper = inspect(type(row))
    return {attr.key: _plain(getattr(row, attr.key)) for attr in mapper.column_attrs}


async def _check_admin(session: AsyncSession, actor: str) -> None:
    kind, _, who = actor.partition(":")
    if kind == "cli" and who:
        return  # an operator at the server's shell, who holds the keys anyway
    if kind == "person" and who:
        person = await session.get(Person, who)
        if person is not None and person.active and person.role == "admin":
            return
    raise PermissionError(f"{actor!r} may not make a full export: admins only")


async def full_detail_export(
    session: AsyncSession, domain: Domain, passphrase: str, actor: str
) -> bytes:
    """Every case with all fields decrypted (plus consents, attachments and reporters), as
    JSON encrypted with a key derived from ``passphrase``: ``salt + Fernet token``.

    ``actor`` is ``person:<id>`` of an active admin, or ``cli:<name>`` for the operator's
    command line; anyone else gets ``PermissionError``. The export is recorded as a
    ``full_export`` event (counts and the file's SHA-256, never the passphrase)."""
    blob, counts = await build_full_export(session, domain, passphrase, actor)
    await record_full_export(session, domain, actor, blob, counts)
    return blob


async def build_full_export(
    session: AsyncSession, domain: Domain, passphrase: str, actor: str
) -> tuple[bytes, dict[str, int]]:
    """The encrypted file and its counts, reading only (the operator's command reads in a
    read-only transaction, then records the export in a short one: record_full_export)."""
    await _check_admin(session, actor)
    if len(passphrase) < MIN_PASSPHRASE:
        raise ValueError(f"the passphrase needs at least {MIN_PASSPHRASE} characters")
    cases = [
        _as_dict(c) for c in await session.scalars(select(Case).where(COUNTED).order_by(Case.id))
    ]
    consents = [_as_dict(c) for c in await session.scalars(select(Consent).order_by(Consent.id))]
    drills = select(Case.id).where(~COUNTED)
    attachments = [
        _as_dict(a)
        for a in await session.scalars(
            select(Attachment).where(Attachment.case_id.not_in(drills)).order_by(Attachment.id)
        )
    ]
    reporters = [_as_dict(r) for r in await session.scalars(select(Reporter).order_by(Reporter.id))]
    document = {
        "format": "corridor-full-export/1",
        "exported_at": domain.now().isoformat(),
        "exported_by": actor,
        "cases": cases,
        "consents": consents,
        "attachments": attachments,
        "reporters": reporters,
    }
    plain = json.dumps(document, ensure_ascii=False, sort_keys=True).encode()
    salt = os.urandom(SALT_BYTES)
    blob = salt + _fernet(passphrase, salt).encrypt(plain)
    counts = {
        "cases": len(cases),
        "consents": len(consents),
        "attachments": len(attachments),
        "reporters": len(reporters),
    }
    return blob, counts


async def record_export(
    session: AsyncSession,
    domain: Domain,
    actor: str,
    *,
    fmt: str,
    audience: Audience,
    results: list[ExportResult],
    start: dt.date,
    end: dt.date,
) -> None:
    """The audit record of an anonymised export, the same from the bot, the dashboard and
    the CLI: who, which corridors and months, for which audience, how many cases."""
    await events.record(
        session,
        domain,
        "export",
        actor=actor,
        data={
            "format": fmt,
            "audience": audience,
            "corridors": [result.corridor or "all" for result in results],
            "from": start.isoformat(),
            "to": end.isoformat(),
            "cases": sum(result.cases_included for result in results),
        },
    )


async def record_full_export(
    session: AsyncSession, domain: Domain, actor: str, blob: bytes, counts: dict[str, int]
) -> None:
    await events.record(
        session,
        domain,
        "full_export",
        actor=actor,
        data={**counts, "sha256": hashlib.sha256(blob).hexdigest()},
    )


FERNET_START = b"gAAAAA"


def decrypt_full_export(blob: bytes, passphrase: str) -> dict[str, Any]:
    """The document inside a full export; ``ExportDecryptionError`` if the passphrase is
    wrong or the file damaged."""
    if len(blob) <= SALT_BYTES:
        raise ExportDecryptionError("not a full export: too short")
    salt, token = blob[:SALT_BYTES], blob[SALT_BYTES:]
    # Every Fernet token starts so (version byte, then a timestamp's leading zeros): without
    # it the file is something else, and a passphrase is not what to doubt.
    if not token.startswith(FERNET_START):
        raise ExportDecryptionError("not a full export (`corridor export --full` writes one)")
    try:
        plain = _fernet(passphrase, salt).decrypt(token)
    except InvalidToken:
        raise ExportDecryptionError("wrong passphrase, or the file is damaged") from None
    return json.loads(plain)
