"""The corridor evidence report: what a network hands to a treaty body, an embassy or a
ministry, as a PDF and a self-contained HTML file.

Every figure comes from the per-day rollups (``bot.domain.rollups``: cases with statistics
consent, by the month they were reported) and obeys the export's suppression
(``bot.domain.exports.protect``, primary and secondary, k = 10 public, 5 partner): each table
is one group whose total is the period's published total; a money figure needs k
contributing cases; a median needs k durations; a repeated-name count needs k cases behind
it. A period whose total is below k publishes nothing and says so.

Languages: the report is written in the coordinator's language if it has a catalogue, else
in English; figures use the language's number format with Latin digits. The PDF embeds
DejaVu Sans (shipped with matplotlib) for Latin scripts and Noto Sans Devanagari and Bengali
(bot/fonts, SIL Open Font License) with HarfBuzz shaping, so Nepali, Hindi and Bengali
reports are real text (searchable, copyable), not pictures. Charts label bars with codes and
months only: their captions, in the report's language, are text next to them.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from babel.numbers import format_decimal, format_percent
from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import rollups
from bot.domain.counted import COUNTED
from bot.domain.exports import K_DEFAULT, major_units, protect
from bot.i18n import LANGUAGE_NAMES, LOCALES_DIR, N_, tr
from bot.taxonomy import (
    ARTICLE_TITLES,
    CATEGORIES,
    GENDERS,
    HTCDS,
    ILO_LABELS,
    NOT_GIVEN,
    OUTCOMES,
    SECTORS,
    ConsentPurpose,
)
from models import Case, Consent, Corridor, StatsDay, StatsName

FONTS = Path(__file__).resolve().parent.parent / "fonts"
OPEN = rollups.OPEN
HIDDEN = "–"  # what a suppressed cell shows
LABELS = {
    "outcome": {**OUTCOMES, OPEN: N_("Not resolved yet")},
    "category": CATEGORIES,
    "article": ARTICLE_TITLES,
    "indicator": ILO_LABELS,
    "sector": {**SECTORS, NOT_GIVEN: N_("Not given")},
    "gender": {**GENDERS, NOT_GIVEN: N_("Not given")},
}
TABLES = ("category", "article", "indicator", "outcome", "sector", "gender")
HEADINGS = {
    "month": N_("Cases and workers affected by month"),
    "category": N_("By category"),
    "article": N_("By article of the Migrant Workers Convention"),
    "indicator": N_("By ILO indicator of forced labour"),
    "outcome": N_("Outcomes"),
    "sector": N_("By sector of work"),
    "gender": N_("By gender"),
}


class ReportError(ValueError):
    """A request that cannot become a report; the message is one line naming what is wrong."""


# ---------------------------------------------------------------------------------------
# The figures
# ---------------------------------------------------------------------------------------


@dataclass
class Row:
    code: str
    label: str  # in the report's language
    cases: int | None  # None: hidden
    workers: int | None
    note: str = ""  # HTCDS code of a category


@dataclass
class Table:
    key: str
    rows: list[Row]

    @property
    def hidden(self) -> int:
        return sum(1 for r in self.rows if r.cases is None)


@dataclass
class Money:
    currency: str
    owed: int | None  # minor units; None: hidden
    recovered: int | None
    share: float | None  # recovered / owed


@dataclass
class Evidence:
    corridor: str
    origin: str
    destination: str
    first: dt.date  # first day of the first month
    last: dt.date  # first day of the last month
    audience: str
    k: int
    language: str
    generated: dt.date
    pattern_threshold: int
    cases: int | None = None  # None: the whole period is below k
    workers: int | None = None
    months: Table = field(default_factory=lambda: Table("month", []))
    tables: dict[str, Table] = field(default_factory=dict)
    money: list[Money] = field(default_factory=list)
    claim_hours: float | None = None
    resolution_days: float | None = None
    referred: int | None = None
    taken_up: int | None = None
    repeated: dict[str, tuple[int | None, int | None]] = field(default_factory=dict)
    names: list[tuple[str, str, int]] = field(default_factory=list)  # kind, name, cases
    names_not_shown: dict[str, int] = field(default_factory=dict)  # kind → named, not listed
    hidden: int = 0  # suppressed figures
    figures: int = 0  # figures in the report, hidden or not

    @property
    def empty(self) -> bool:
        return self.cases is None


def _next_month(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def parse_month(value: str, flag: str) -> dt.date:
    try:
        return dt.datetime.strptime(value.strip(), "%Y-%m").date()
    except ValueError:
        raise ReportError(f"{flag}: {value!r} is not a month like 2026-01") from None


def check_language(language: str) -> str:
    if language == "en" or (
        language in LANGUAGE_NAMES and (LOCALES_DIR / f"{language}.po").exists()
    ):
        return language
    known = ", ".join(code for code in LANGUAGE_NAMES)
    raise ReportError(f"no catalogue for language {language!r} (available: {known})")


async def build(
    session: AsyncSession,
    *,
    corridor: str,
    first: dt.date,
    last: dt.date,
    audience: str,
    language: str,
    k: int | None = None,
    pattern_threshold: int = 3,
    today: dt.date | None = None,
) -> Evidence:
    """The report's figures for the months ``first`` to ``last`` (any day of each), read
    from the rollups and suppressed. ``ReportError`` for a bad request."""
    language = check_language(language)
    if audience not in K_DEFAULT:
        raise ReportError(f"audience must be 'public' or 'partner', not {audience!r}")
    k = K_DEFAULT[audience] if k is None else k
    if k < 1:
        raise ReportError(f"k must be at least 1, not {k}")
    first, last = first.replace(day=1), last.replace(day=1)
    if first > last:
        raise ReportError(f"empty period: {first:%Y-%m} is after {last:%Y-%m}")
    row = await session.get(Corridor, corridor)
    if row is None:
        known = ", ".join(await session.scalars(select(Corridor.code).order_by(Corridor.code)))
        raise ReportError(f"unknown corridor {corridor!r} (known: {known or 'none'})")
    after = _next_month(last)
    report = Evidence(
        corridor=corridor,
        origin=row.origin,
        destination=row.destination,
        first=first,
        last=last,
        audience=audience,
        k=k,
        language=language,
        generated=today or dt.date.today(),
        pattern_threshold=pattern_threshold,
    )
    period = await rollups.totals(session, [corridor], rollups.COHORT, first, after)
    months = [first]
    while months[-1] < last:
        months.append(_next_month(months[-1]))
    by_month = {
        day: (int(cases), int(workers))
        for day, cases, workers in await session.execute(
            select(StatsDay.day, func.sum(StatsDay.cases), func.sum(StatsDay.workers))
            .where(
                StatsDay.corridor == corridor,
                StatsDay.basis == rollups.COHORT,
                StatsDay.measure == "total",
                StatsDay.day >= first,
                StatsDay.day < after,
            )
            .group_by(StatsDay.day)
        )
    }
    assemble(report, period, by_month, months)
    everything_hidden = report.empty
    # Repeated names: counts only; names for partners where each is in k cases or more.
    threshold = max(2, pattern_threshold)
    for kind in ("employer", "agency"):
        groups = list(
            await session.execute(
                select(StatsName.key, func.sum(StatsName.cases))
                .where(
                    StatsName.corridor == corridor,
                    StatsName.kind == kind,
                    StatsName.month >= first,
                    StatsName.month < after,
                )
                .group_by(StatsName.key)
                .having(func.sum(StatsName.cases) >= threshold)
            )
        )
        named_cases = sum(int(n) for _, n in groups)
        if everything_hidden or named_cases < k:
            report.repeated[kind] = (None, None)
        else:
            report.repeated[kind] = (len(groups), named_cases)
            if audience == "partner":
                named = [
                    (key, count)
                    for key, count in sorted(groups, key=lambda g: (-g[1], g[0]))
                    if count >= max(k, threshold)
                ]
                if len(named) > NAMES_LISTED:
                    report.names_not_shown[kind] = len(named) - NAMES_LISTED
                    named = named[:NAMES_LISTED]
                spellings = await _spellings(
                    session, corridor, kind, [key for key, _ in named], first, after
                )
                for key, count in named:
                    if spellings.get(key):
                        report.names.append((kind, spellings[key], int(count)))
    report.hidden, report.figures = _count_figures(report)
    return report


def protect_rollups(
    cells: dict[tuple, list[int]], k: int, *, months: int, language: str = "en"
) -> Evidence:
    """The report's figures for rollup cells ``(corridor, basis, day, measure, code)`` of one
    corridor and the first ``months`` months of 2026, without a database (for tests)."""
    first = dt.date(2026, 1, 1)
    days = [first]
    while len(days) < months:
        days.append(_next_month(days[-1]))
    report = Evidence("NP-QA", "NP", "QA", first, days[-1], "partner", k, language, first, 3)
    sums: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    by_month: dict[dt.date, tuple[int, int]] = {}
    for (_c, basis, day, measure, code), value in cells.items():
        if basis != rollups.COHORT:
            continue
        for i in range(3):
            sums[(measure, code)][i] += value[i]
        if measure == "total":
            by_month[day] = (value[0], value[1])
    assemble(report, rollups.Totals(dict(sums)), by_month, days)
    report.hidden, report.figures = _count_figures(report)
    return report


def assemble(
    report: Evidence,
    period: rollups.Totals,
    by_month: dict[dt.date, tuple[int, int]],
    months: list[dt.date],
) -> None:
    """Every figure but the repeated names, suppressed: a pure function of the rollup sums
    (what the property tests exercise)."""
    k, language = report.k, report.language
    total = period.cells.get(("total", ""), [0, 0, 0])
    # By month: one group whose total is the period's; if the months cannot be protected,
    # the total cannot be published either (as the export's ALL row), and so nothing is.
    cells = {m: by_month[m][0] for m in months if by_month.get(m, (0, 0))[0]}
    hidden, total_hidden = protect(cells, k, total=total[0])
    everything_hidden = total[0] < k or total_hidden
    report.figures = 2
    if not everything_hidden:
        report.cases, report.workers = total[0], total[1]
    report.months = Table(
        "month",
        [
            Row(
                code=f"{m:%Y-%m}",
                label=f"{m:%Y-%m}",
                cases=None if everything_hidden or m in hidden else by_month.get(m, (0, 0))[0],
                workers=None if everything_hidden or m in hidden else by_month.get(m, (0, 0))[1],
            )
            for m in months
        ],
    )
    for key in TABLES:
        codes = period.codes(key)
        order = list(LABELS[key])
        counts = {code: v[0] for code, v in codes.items()}
        hidden, total_hidden = protect(counts, k, total=total[0])
        # A table that even hiding every cell cannot protect is left out whole: it is one
        # group, and the period's total is published elsewhere.
        everything_hidden_here = total_hidden or everything_hidden
        rows = []
        for code in sorted(codes, key=lambda c: (order.index(c) if c in order else len(order), c)):
            secret = code in hidden
            rows.append(
                Row(
                    code=code,
                    label=tr(language, LABELS[key].get(code, code)),
                    cases=None if secret else codes[code][0],
                    workers=None if secret else codes[code][1],
                    note=HTCDS.get(code, "") if key == "category" else "",
                )
            )
        # A hidden period (or table) does not list which codes its few cases had.
        report.tables[key] = Table(key, [] if everything_hidden_here else rows)
    # Money: a figure needs k contributing cases.
    owed, recovered = period.codes("owed"), period.codes("recovered")
    for currency in sorted(set(owed) | set(recovered)):
        shown_owed = owed[currency][2] if owed.get(currency, [0])[0] >= k else None
        shown_recovered = recovered[currency][2] if recovered.get(currency, [0])[0] >= k else None
        if currency not in recovered and shown_owed is not None:
            shown_recovered = 0  # no case recovered anything in this currency
        share = (
            shown_recovered / shown_owed
            if shown_owed and shown_recovered is not None and not everything_hidden
            else None
        )
        if not everything_hidden:  # a hidden period does not even say in which currencies
            report.money.append(Money(currency, shown_owed, shown_recovered, share))
    # Medians: k durations at least.
    claim_bands, resolve_bands = period.bands("claim_time"), period.bands("resolve_time")
    if not everything_hidden and sum(n for n, _ in claim_bands.values()) >= k:
        seconds = rollups.median_seconds(claim_bands)
        report.claim_hours = None if seconds is None else seconds / 3600
    if not everything_hidden and sum(n for n, _ in resolve_bands.values()) >= k:
        seconds = rollups.median_seconds(resolve_bands)
        report.resolution_days = None if seconds is None else seconds / 86400
    # Referrals: referred = taken up + not taken up, one group.
    referred, taken = period.cases("referred"), period.cases("taken_up")
    if referred and not everything_hidden:
        parts = {"taken": taken, "not": referred - taken}
        gone, total_gone = protect({c: n for c, n in parts.items() if n}, k, total=referred)
        if not total_gone:
            report.referred = referred
            report.taken_up = None if "taken" in gone else taken


# A report lists the most repeated names of each kind; a busy corridor's year names hundreds,
# a list for partners to read, not a register.
NAMES_LISTED = 30
# Finding each listed name's latest consenting case: pages of the period's cases, newest
# first; then, for a name not met, its own last cases (the latest may have no consent).
SPELLING_PAGE = 2000
SPELLING_PAGES = 3
SPELLING_CANDIDATES = 20


async def _spellings(
    session: AsyncSession,
    corridor: str,
    kind: str,
    keys: list[str],
    first: dt.date,
    after: dt.date,
) -> dict[str, str]:
    """The latest spelling of each name among the period's consenting cases. The listed
    names are the most repeated, so walking the period back from its end a page of cases at
    a time finds nearly all of them in the first page; a name still missing after a few
    pages is looked up among its own last cases."""
    column, key_column = (
        (Case.employer, Case.employer_key) if kind == "employer" else (Case.agency, Case.agency_key)
    )
    lo = dt.datetime.combine(first, dt.time(), tzinfo=dt.UTC)
    hi = dt.datetime.combine(after, dt.time(), tzinfo=dt.UTC)
    in_period = (Case.corridor_code == corridor, COUNTED, Case.created_at >= lo)
    chosen: dict[str, int] = {}
    missing = set(keys)
    before: tuple[dt.datetime, int] | None = None
    for _ in range(SPELLING_PAGES):
        if not missing:
            break
        older = (
            Case.created_at < hi
            if before is None
            else or_(
                Case.created_at < before[0],
                and_(Case.created_at == before[0], Case.id < before[1]),
            )
        )
        page = (
            await session.execute(
                select(Case.id, Case.created_at, key_column)
                .where(*in_period, older, key_column.in_(sorted(missing)))
                .order_by(Case.created_at.desc(), Case.id.desc())
                .limit(SPELLING_PAGE)
            )
        ).all()
        consenting = await _consenting(session, [case_id for case_id, _, _ in page])
        for case_id, _, key in page:
            if case_id in consenting and key in missing:
                chosen[key] = case_id
                missing.discard(key)
        if len(page) < SPELLING_PAGE:
            missing.clear()  # the whole period was read
        else:
            before = (page[-1][1], page[-1][0])
    for key in sorted(missing):
        case_id = await _older_consenting_case(session, key_column, key, in_period, hi)
        if case_id is not None:
            chosen[key] = case_id
    spellings: dict[str, str] = {}
    names = dict(
        (
            await session.execute(select(Case.id, column).where(Case.id.in_(list(chosen.values()))))
        ).all()
    )
    for key, case_id in chosen.items():
        if names.get(case_id):
            spellings[key] = names[case_id]
    return spellings


async def _older_consenting_case(
    session: AsyncSession, key_column: Any, key: str, in_period: tuple[Any, ...], hi: dt.datetime
) -> int | None:
    candidates = list(
        await session.scalars(
            select(Case.id)
            .where(*in_period, Case.created_at < hi, key_column == key)
            .order_by(Case.created_at.desc(), Case.id.desc())
            .limit(SPELLING_CANDIDATES)
        )
    )
    consenting = await _consenting(session, candidates)
    return next((case_id for case_id in candidates if case_id in consenting), None)


def _chunks(values: list[Any], size: int) -> list[list[Any]]:
    return [values[i : i + size] for i in range(0, len(values), size)]


async def _consenting(session: AsyncSession, case_ids: list[int]) -> set[int]:
    """The cases among ``case_ids`` whose latest statistics consent stands."""
    latest: dict[int, tuple[bool, bool]] = {}
    for ids in _chunks(case_ids, 500):
        for case_id, granted, withdrawn_at in await session.execute(
            select(Consent.case_id, Consent.granted, Consent.withdrawn_at)
            .where(Consent.case_id.in_(ids), Consent.purpose == ConsentPurpose.STATISTICS.value)
            .order_by(Consent.id)
        ):
            latest[case_id] = (granted, withdrawn_at is None)
    return {case_id for case_id, (granted, standing) in latest.items() if granted and standing}


def _count_figures(report: Evidence) -> tuple[int, int]:
    values: list[Any] = [report.cases, report.workers]
    for table in (report.months, *report.tables.values()):
        for row in table.rows:
            values += [row.cases, row.workers]
    for money in report.money:
        values += [money.owed, money.recovered]
    values += [report.claim_hours, report.resolution_days]
    if report.referred is not None or report.taken_up is not None:
        values += [report.referred, report.taken_up]
    for groups, cases in report.repeated.values():
        values += [groups, cases]
    return sum(1 for v in values if v is None), len(values)


# ---------------------------------------------------------------------------------------
# Words and numbers
# ---------------------------------------------------------------------------------------


def number(value: float | int | None, language: str, digits: int = 0) -> str:
    if value is None:
        return HIDDEN
    locale = "en" if language == "en" else language
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(value, format=pattern, locale=locale, numbering_system="latn")


def money_text(minor: int | None, currency: str, language: str) -> str:
    if minor is None:
        return HIDDEN
    value = major_units(minor, currency) if currency != rollups.NO_CURRENCY else minor / 100
    digits = max(0, -int(value.as_tuple().exponent)) if hasattr(value, "as_tuple") else 2
    return f"{number(value, language, digits)} {currency}"


def percent(value: float | None, language: str) -> str:
    if value is None:
        return HIDDEN
    locale = "en" if language == "en" else language
    return format_percent(value, format="#,##0%", locale=locale, numbering_system="latn")


@dataclass
class Section:
    title: str
    paragraphs: list[str] = field(default_factory=list)
    header: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    chart: str | None = None  # which chart goes with it


def sections(report: Evidence) -> tuple[str, str, list[Section]]:
    """Title, subtitle and the sections, in the report's language."""
    lang = report.language

    title = tr(lang, "Corridor evidence report: {corridor}", corridor=report.corridor)
    subtitle = tr(
        lang,
        "{origin} to {destination}, {first} to {last}",
        origin=report.origin,
        destination=report.destination,
        first=f"{report.first:%Y-%m}",
        last=f"{report.last:%Y-%m}",
    )
    result: list[Section] = []
    if report.empty:
        result.append(
            Section(
                tr(lang, "Summary"),
                [
                    tr(
                        lang,
                        "Fewer than {k} cases with consent to statistics were reported in this period, so this report publishes no figures.",
                        k=report.k,
                    )
                ],
            )
        )
        result.append(_methods(report))
        return title, subtitle, result
    summary = Section(
        tr(lang, "Summary"),
        [
            tr(lang, "Cases: {n}", n=number(report.cases, lang)),
            tr(lang, "Workers affected: {n}", n=number(report.workers, lang)),
        ],
    )
    result.append(summary)
    month_section = Section(
        tr(lang, HEADINGS["month"]),
        header=[tr(lang, "Month"), tr(lang, "Cases"), tr(lang, "Workers affected")],
        rows=[
            [row.label, number(row.cases, lang), number(row.workers, lang)]
            for row in report.months.rows
        ],
        chart="month",
    )
    result.append(month_section)
    for key in TABLES:
        table = report.tables[key]
        if not table.rows:
            continue
        header = [tr(lang, "Code"), "", tr(lang, "Cases"), tr(lang, "Workers affected")]
        if key == "category":
            header = [
                tr(lang, "Code"),
                "HTCDS",
                "",
                tr(lang, "Cases"),
                tr(lang, "Workers affected"),
            ]
        rows = []
        for row in table.rows:
            code = f"Art. {row.code}" if key == "article" else row.code
            cells = [code, row.label, number(row.cases, lang), number(row.workers, lang)]
            if key == "category":
                cells.insert(1, row.note.replace(";", "; "))
            rows.append(cells)
        section = Section(tr(lang, HEADINGS[key]), header=header, rows=rows)
        if key in ("category", "outcome"):
            section.chart = key
        if key in ("sector", "gender"):
            section.paragraphs.append(
                tr(lang, "Optional question: counted only where it was answered.")
            )
        result.append(section)
    if report.money:
        result.append(
            Section(
                tr(lang, "Wages reported owed and recovered"),
                header=[
                    tr(lang, "Currency"),
                    tr(lang, "Owed"),
                    tr(lang, "Recovered"),
                    tr(lang, "Share recovered"),
                ],
                rows=[
                    [
                        m.currency,
                        money_text(m.owed, m.currency, lang),
                        money_text(m.recovered, m.currency, lang),
                        percent(m.share, lang),
                    ]
                    for m in report.money
                ],
            )
        )
    result.append(
        Section(
            tr(lang, "Time to help and referrals"),
            [
                tr(
                    lang,
                    "Median time to first claim: {value} hours",
                    value=number(report.claim_hours, lang, 1),
                ),
                tr(
                    lang,
                    "Median time to resolution: {value} days",
                    value=number(report.resolution_days, lang, 1),
                ),
                tr(
                    lang, "Cases referred across the corridor: {n}", n=number(report.referred, lang)
                ),
                tr(lang, "Referrals taken up: {n}", n=number(report.taken_up, lang)),
            ],
        )
    )
    repeated = Section(tr(lang, "Repeated employers and recruitment agencies"))
    for kind, message in (
        ("employer", N_("Employers named in {t} or more cases: {n} (together {cases} cases)")),
        ("agency", N_("Agencies named in {t} or more cases: {n} (together {cases} cases)")),
    ):
        groups, cases = report.repeated.get(kind, (None, None))
        repeated.paragraphs.append(
            tr(
                lang,
                message,
                t=report.pattern_threshold,
                n=number(groups, lang),
                cases=number(cases, lang),
            )
        )
    if report.names:
        repeated.paragraphs.append(
            tr(
                lang,
                "Named for partners (each in {k} or more cases):",
                k=max(report.k, report.pattern_threshold),
            )
        )
        repeated.header = [tr(lang, "Kind"), tr(lang, "Name"), tr(lang, "Cases")]
        for kind in ("employer", "agency"):
            label = tr(lang, "Employer") if kind == "employer" else tr(lang, "Agency")
            repeated.rows += [
                [label, name, number(n, lang)] for of, name, n in report.names if of == kind
            ]
            if kind in report.names_not_shown:
                more = number(report.names_not_shown[kind], lang)
                repeated.rows.append([label, tr(lang, "(+{n} more)", n=more), ""])
    result.append(repeated)
    result.append(_methods(report))
    return title, subtitle, result


def _methods(report: Evidence) -> Section:
    lang = report.language

    return Section(
        tr(lang, "Methods"),
        [
            tr(
                lang,
                "Period: {first} to {last}. Cases are counted in the month they were reported (UTC).",
                first=f"{report.first:%Y-%m}",
                last=f"{report.last:%Y-%m}",
            ),
            tr(
                lang,
                "Only cases whose reporter agreed to anonymised statistics, and did not withdraw it, are counted; no other case is counted or mentioned.",
            ),
            tr(
                lang,
                "Small numbers are hidden ({hidden}): every figure from fewer than {k} cases, and any other figure that would let a reader work one out. {n} of the {m} figures of this report are hidden ({audience} release, k = {k}).",
                hidden=HIDDEN,
                k=report.k,
                n=report.hidden,
                m=report.figures,
                audience=report.audience,
            ),
            tr(
                lang,
                "A case with several categories counts in each of them, and so in articles and indicators; outcomes, sectors and genders add up to the total. Wages are what reporters said they are owed, per currency, never converted; recovered amounts count in the month the case was reported. Medians come from durations grouped in bands about 9% wide.",
            ),
            tr(
                lang,
                "Not in this report: names of workers, contacts, anything reporters wrote, places finer than a country, exact dates. Employers and agencies are counted by a keyed fingerprint of their name.",
            ),
            tr(lang, "Generated by Corridor on {date}.", date=report.generated.isoformat()),
        ],
    )


# ---------------------------------------------------------------------------------------
# Charts
# ---------------------------------------------------------------------------------------


def _charts(report: Evidence, fmt: str) -> dict[str, bytes]:
    """Bar charts of the published figures, labelled with codes and months only."""
    if report.empty:
        return {}
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    series = {
        "month": [(r.code, r.cases) for r in report.months.rows],
        "category": [(r.code, r.cases) for r in report.tables["category"].rows],
        "outcome": [(r.code, r.cases) for r in report.tables["outcome"].rows],
    }
    charts = {}
    for key, values in series.items():
        if not any(v for _, v in values):
            continue
        figure, axis = plt.subplots(figsize=(7, 2.6), dpi=110)
        labels = [label for label, _ in values]
        heights = [v or 0 for _, v in values]
        bars = axis.bar(range(len(values)), heights, color="#33658a")
        for bar, (_, v) in zip(bars, values, strict=True):
            if v is None:
                axis.annotate(
                    HIDDEN, (bar.get_x() + bar.get_width() / 2, 0), ha="center", va="bottom"
                )
        axis.set_xticks(
            range(len(values)),
            labels,
            rotation=45 if key != "month" else 60,
            ha="right",
            fontsize=7,
        )
        axis.yaxis.get_major_locator().set_params(integer=True)
        axis.spines[["top", "right"]].set_visible(False)
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format=fmt, metadata={"Date": None} if fmt == "svg" else None)
        plt.close(figure)
        charts[key] = buffer.getvalue()
    return charts


# ---------------------------------------------------------------------------------------
# HTML and PDF
# ---------------------------------------------------------------------------------------

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI","Noto Sans","Noto Sans Devanagari","Noto Sans Bengali",sans-serif;max-width:52em;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.5em;margin-bottom:.2em}h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}.sub{color:#555}figure{margin:.5em 0}svg{max-width:100%;height:auto}
"""


def to_html(report: Evidence) -> str:
    """One self-contained HTML file: styles and charts (SVG) inline, nothing fetched."""
    title, subtitle, parts = sections(report)
    charts = _charts(report, "svg")
    e = html.escape
    out = [
        "<!DOCTYPE html>",
        f'<html lang="{e(report.language)}"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(title)}</title><style>{CSS}</style></head><body>",
        f'<h1>{e(title)}</h1><p class="sub">{e(subtitle)}</p>',
    ]
    for part in parts:
        out.append(f"<h2>{e(part.title)}</h2>")
        out += [f"<p>{e(p)}</p>" for p in part.paragraphs]
        if part.chart in charts:
            svg = charts[part.chart].decode()
            svg = svg[svg.index("<svg") :]
            out.append(f'<figure role="img" aria-label="{e(part.title)}">{svg}</figure>')
        if part.rows:
            out.append("<table><thead><tr>")
            out += [f"<th>{e(h)}</th>" for h in part.header]
            out.append("</tr></thead><tbody>")
            for row in part.rows:
                cells = "".join(
                    f'<td class="n">{e(c)}</td>' if _numeric(c) else f"<td>{e(c)}</td>" for c in row
                )
                out.append(f"<tr>{cells}</tr>")
            out.append("</tbody></table>")
    out.append("</body></html>")
    return "\n".join(out)


_NUMERIC = re.compile(r"^[\d.,%\s–A-Z]*\d[\d.,%\s]*[A-Z]{0,3}$|^–$")


def _numeric(cell: str) -> bool:
    return bool(_NUMERIC.match(cell))


def to_pdf(report: Evidence) -> bytes:
    """The same report as a PDF with embedded fonts (Latin, Devanagari, Bengali), shaped."""
    import matplotlib
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos

    title, subtitle, parts = sections(report)
    charts = _charts(report, "png")
    latin = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    pdf = FPDF(format="A4")
    pdf.set_title(title)
    pdf.set_creator("Corridor")
    pdf.set_lang(report.language)
    pdf.set_creation_date(dt.datetime.combine(report.generated, dt.time(), tzinfo=dt.UTC))
    for family, regular, bold in (
        ("latin", latin / "DejaVuSans.ttf", latin / "DejaVuSans-Bold.ttf"),
        ("deva", FONTS / "NotoSansDevanagari-Regular.ttf", FONTS / "NotoSansDevanagari-Bold.ttf"),
        ("beng", FONTS / "NotoSansBengali-Regular.ttf", FONTS / "NotoSansBengali-Bold.ttf"),
    ):
        pdf.add_font(family, "", str(regular))
        pdf.add_font(family, "B", str(bold))
    pdf.set_fallback_fonts(["deva", "beng"])
    # HarfBuzz shaping is what Devanagari and Bengali need (conjuncts, vowel signs), and it
    # makes line breaking several times slower: only where such text occurs.
    words = [title, subtitle] + [
        text
        for part in parts
        for text in (part.title, *part.paragraphs, *part.header, *(c for r in part.rows for c in r))
    ]
    pdf.set_text_shaping(any(ord(ch) >= 0x0900 for text in words for ch in text))
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    line = {"new_x": XPos.LMARGIN, "new_y": YPos.NEXT}
    pdf.set_font("latin", "B", 16)
    pdf.multi_cell(0, 8, title, **line)
    pdf.set_font("latin", "", 10)
    pdf.multi_cell(0, 6, subtitle, **line)
    for part in parts:
        pdf.ln(3)
        pdf.set_font("latin", "B", 12)
        pdf.multi_cell(0, 7, part.title, **line)
        pdf.set_font("latin", "", 9)
        for paragraph in part.paragraphs:
            pdf.multi_cell(0, 5, paragraph, **line)
        if part.chart in charts:
            pdf.image(io.BytesIO(charts[part.chart]), w=170)
        if part.rows:
            widths = _widths(part.header)
            with pdf.table(
                col_widths=widths,
                line_height=5,
                text_align=tuple("RIGHT" if _numeric(c) else "LEFT" for c in part.rows[0]),
            ) as table:
                pdf.set_font("latin", "", 8)
                heading = table.row()
                for cell in part.header:
                    heading.cell(cell)
                for values in part.rows:
                    row = table.row()
                    for cell in values:
                        row.cell(cell)
    return bytes(pdf.output())


def _widths(header: list[str]) -> tuple[int, ...]:
    if len(header) == 5:  # category: code, HTCDS, label, cases, workers
        return (12, 30, 60, 14, 18)
    if len(header) == 4 and header[1] == "":
        return (36, 62, 14, 18)
    return tuple(1 for _ in header)


def file_stem(report: Evidence) -> str:
    return (
        f"corridor-report-{report.corridor}-{report.first:%Y%m}-{report.last:%Y%m}-"
        f"{report.audience}-{report.language}"
    )


def data_uri_png(data: bytes) -> str:  # kept small: the HTML uses inline SVG
    return "data:image/png;base64," + base64.b64encode(data).decode()


def save(report: Evidence, out: Path) -> list[Path]:
    """Write the report's PDF and HTML into the folder ``out``; returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    stem = file_stem(report)
    pdf, page = out / f"{stem}.pdf", out / f"{stem}.html"
    pdf.write_bytes(to_pdf(report))
    page.write_text(to_html(report), encoding="utf-8")
    return [pdf, page]
