"""Anonymised statistics and the admin's full export: consent, anonymity, suppression."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections import defaultdict
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.domain import cases, privacy
from bot.domain.context import Domain
from bot.domain.exports import (
    ALL,
    CaseFacts,
    ExportDecryptionError,
    ExportResult,
    ExportRow,
    aggregate,
    anonymised_rows,
    csv_cell,
    decrypt_full_export,
    full_detail_export,
    protect,
    suppress_table,
    to_csv,
    to_json,
)
from bot.taxonomy import CATEGORIES, OUTCOMES
from models import Case, CaseEvent, Person, Reporter
from tests.support import wage_report

MARCH = dt.date(2026, 3, 1), dt.date(2026, 3, 31)
PERSONAL = (
    "Al Noor Contracting",
    "Himalaya Manpower",
    "Not paid for four months",
    "Ram Bahadur",
    "+97455512345",
    "Doha",
    "Kuala Lumpur",
    "Street 12, camp 4",
)
ALL_CONSENTS = {"destination_help": True, "origin_help": True, "statistics": True}
NO_STATS = {"destination_help": True, "origin_help": True, "statistics": False}
HELP_ONLY = {"destination_help": True, "origin_help": True}

_next_user = iter(range(10_000, 1_000_000))


def report(**changes) -> cases.Report:  # type: ignore[no-untyped-def]
    values = dict(
        agency="Himalaya Manpower",
        worker_name="Ram Bahadur",
        contact_phone="+97455512345",
        precise_location="Street 12, camp 4",
        consents=ALL_CONSENTS,
    )
    values.update(changes)
    return wage_report(**values)


async def submit(domain: Domain, at: dt.datetime, **changes) -> Case:  # type: ignore[no-untyped-def]
    domain.clock.set(at)
    user = next(_next_user)
    async with domain.sessions() as session, session.begin():
        reporter = await cases.reporter_for(session, domain, user, user, "ne")
        return await cases.submit_report(session, domain, reporter, report(**changes))


def march(day: int, hour: int = 9) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, tzinfo=dt.UTC)


async def seed(domain: Domain) -> dict[str, int]:
    """A month of cases on two corridors, with every kind of consent answer."""
    for i in range(12):  # NP-QA: wage theft, some also document retention
        await submit(
            domain,
            march(1 + i, 8 + i % 10),
            categories=["WAGE", "DOCS"] if i < 4 else ["WAGE"],
            workers_affected=1 + i % 3,
        )
    for i in range(3):  # NP-QA: a rare category
        await submit(domain, march(14 + i), categories=["SEXV"], wage_owed_minor=None)
    for i in range(6):  # ID-MY
        await submit(
            domain,
            march(3 + i),
            destination_country="MY",
            origin_country="ID",
            area="Kuala Lumpur",
            categories=["DOCS"],
            wage_currency="MYR",
            wage_owed_minor=150000 + i,
        )
    # Not counted: statistics refused, never asked, withdrawn, refused on second thoughts.
    await submit(domain, march(20), consents=NO_STATS, categories=["PHYS"])
    await submit(domain, march(21), consents=HELP_ONLY, categories=["PHYS"])
    withdrawn = await submit(domain, march(22), categories=["PHYS"])
    second_thoughts = await submit(domain, march(23), categories=["PHYS"])
    # Counted: refused at first, granted later (the latest answer counts).
    agreed_later = await submit(domain, march(24), consents=NO_STATS, categories=["HOUR"])
    domain.clock.set(march(25))
    async with domain.sessions() as session, session.begin():
        for case, answer in ((second_thoughts, False), (agreed_later, True)):
            reporter = await session.get(Reporter, case.reporter_id)
            await cases.record_consents(
                session, domain, reporter, case, {"statistics": answer}, "ne"
            )
        reporter = await session.get(Reporter, withdrawn.reporter_id)
        await privacy.withdraw_consent(session, domain, reporter, withdrawn, "statistics")
    # Outside March: counted only when April is asked for.
    await submit(domain, dt.datetime(2026, 4, 2, 9, tzinfo=dt.UTC), categories=["WAGE"])
    await submit(domain, dt.datetime(2026, 2, 27, 9, tzinfo=dt.UTC), categories=["WAGE"])
    return {"NP-QA": 12 + 3 + 1, "ID-MY": 6}


def rows_of(result: ExportResult, **where: str) -> list[ExportRow]:
    return [r for r in result.rows if all(getattr(r, k) == v for k, v in where.items())]


def one(result: ExportResult, **where: str) -> ExportRow:
    (row,) = rows_of(result, **where)
    return row


def assert_protected(rows: list[ExportRow], k: int) -> None:
    """No published count below k; per month × corridor × dimension, with ALL published,
    no hidden row or none recoverable from ALL minus the published rows."""
    groups: dict[tuple[str, str], list[ExportRow]] = defaultdict(list)
    for row in rows:
        assert row.suppressed == (row.cases is None)
        if not row.suppressed:
            assert row.cases >= k
        groups[(row.month, row.corridor)].append(row)
    for members in groups.values():
        (total,) = [r for r in members if r.dimension == "total"]
        if total.suppressed:
            assert members == [total]
            continue
        for dim in ("category", "outcome"):
            hidden = [r for r in members if r.dimension == dim and r.suppressed]
            assert len(hidden) != 1
        outcomes = [r for r in members if r.dimension == "outcome"]
        hidden_sum = total.cases - sum(r.cases for r in outcomes if not r.suppressed)
        hidden_rows = sum(1 for r in outcomes if r.suppressed)
        if hidden_rows:
            assert hidden_sum >= k and hidden_sum > hidden_rows


# --- The database path --------------------------------------------------------------------


async def test_only_cases_with_statistics_consent_are_counted(domain: Domain) -> None:
    expected = await seed(domain)
    async with domain.sessions() as session:
        result = await anonymised_rows(
            session, start=MARCH[0], end=MARCH[1], corridor=None, audience="partner", k=1
        )
    assert result.k == 1 and result.audience == "partner"
    assert one(result, corridor="NP-QA", code=ALL).cases == expected["NP-QA"]
    assert one(result, corridor="ID-MY", code=ALL).cases == expected["ID-MY"]
    assert not rows_of(result, code="PHYS")  # every PHYS case lacked statistics consent
    assert one(result, code="HOUR").cases == 1  # refused, then granted: the latest counts
    assert result.excluded == {"no_answer": 1, "refused": 2, "withdrawn": 1}
    assert result.excluded_no_consent == 4
    assert result.cases_included == expected["NP-QA"] + expected["ID-MY"]
    assert {r.month for r in result.rows} == {"2026-03"}
    wage = one(result, corridor="NP-QA", dimension="category", code="WAGE")
    assert wage.cases == 12 and wage.workers_affected == sum(1 + i % 3 for i in range(12))
    assert wage.wages_owed == {"QAR": Decimal("57600.00")}  # 12 × 4800.00, major units
    assert one(result, corridor="NP-QA", dimension="outcome", code="OPEN").cases == 16
    assert result.currencies == ["MYR", "QAR"]


async def test_export_is_anonymous_suppressed_and_in_months(domain: Domain) -> None:
    await seed(domain)
    async with domain.sessions() as session:
        result = await anonymised_rows(
            session,
            start=dt.date(2026, 3, 10),  # widened to whole months
            end=dt.date(2026, 4, 5),
            corridor=None,
            audience="partner",
        )
        public = await anonymised_rows(
            session, start=MARCH[0], end=MARCH[1], corridor="NP-QA", audience="public"
        )
    assert result.k == 5 and public.k == 10
    assert (result.first_month, result.last_month) == ("2026-03", "2026-04")
    assert_protected(result.rows, 5)
    assert_protected(public.rows, 10)
    # Partner, March, NP-QA: WAGE 12 and OPEN 16 published; SEXV 3 and DOCS 4 hidden.
    assert one(result, month="2026-03", corridor="NP-QA", code="WAGE").cases == 12
    assert one(result, month="2026-03", corridor="NP-QA", code="SEXV").suppressed
    assert one(result, month="2026-03", corridor="NP-QA", code="DOCS").suppressed
    # ID-MY March (6 cases, all DOCS, all OPEN) is published whole at k = 5 …
    assert one(result, month="2026-03", corridor="ID-MY", code="DOCS").cases == 6
    # … and April (one case) is a single empty row that does not say what the case was.
    assert rows_of(result, month="2026-04") == [one(result, month="2026-04", code=ALL)]
    assert one(result, month="2026-04").suppressed
    # Public, k = 10: the 6 ID-MY cases are not in a NP-QA export at all; NP-QA stays.
    assert {r.corridor for r in public.rows} == {"NP-QA"}
    assert one(public, code=ALL).cases == 16 and one(public, code="SEXV").suppressed

    text_csv, text_json = to_csv(result), to_json(result)
    for secret in PERSONAL:
        assert secret not in text_csv and secret not in text_json
    for day in re.findall(r"\d{4}-\d{2}(?:-\d{2})?", text_csv + text_json):
        assert len(day) == 7, f"{day} is more precise than a month"
    assert text_csv.startswith("\ufeff")
    table = list(csv.DictReader(io.StringIO(text_csv.removeprefix("\ufeff"))))
    assert {r["month"] for r in table} == {"2026-03", "2026-04"}
    assert all(re.fullmatch(r"[A-Z]{2}", r["origin"]) for r in table)
    assert all(re.fullmatch(r"[A-Z]{2}", r["destination"]) for r in table)
    sexv = next(r for r in table if r["code"] == "SEXV")
    assert sexv["cases"] == "" and sexv["suppressed"] == "yes"
    assert sexv["wages_owed_QAR"] == "" and sexv["amounts_suppressed"] == "yes"
    wage = next(r for r in table if r["code"] == "WAGE" and r["corridor"] == "NP-QA")
    assert wage["wages_owed_QAR"] == "57600.00" and wage["wages_owed_MYR"] == "0"
    document = json.loads(text_json)
    assert document["k"] == 5 and document["from_month"] == "2026-03"
    assert len(document["rows"]) == len(result.rows)
    assert next(r for r in document["rows"] if r["code"] == "SEXV")["cases"] is None


async def test_inputs_are_checked(domain: Domain) -> None:
    async with domain.sessions() as session:
        with pytest.raises(ValueError, match="after end"):
            await anonymised_rows(
                session,
                start=dt.date(2026, 4, 1),
                end=dt.date(2026, 3, 1),
                corridor=None,
                audience="public",
            )
        with pytest.raises(ValueError, match="unknown corridor 'XX-YY'"):
            await anonymised_rows(
                session, start=MARCH[0], end=MARCH[1], corridor="XX-YY", audience="public"
            )
        with pytest.raises(ValueError, match="audience"):
            await anonymised_rows(
                session, start=MARCH[0], end=MARCH[1], corridor=None, audience="press"
            )
        with pytest.raises(ValueError, match="k must be"):
            await anonymised_rows(
                session, start=MARCH[0], end=MARCH[1], corridor=None, audience="public", k=0
            )
        empty = await anonymised_rows(
            session, start=MARCH[0], end=MARCH[1], corridor="ID-MY", audience="public"
        )
    assert empty.rows == [] and empty.excluded_no_consent == 0
    assert to_csv(empty).startswith("\ufeffmonth,corridor,origin,destination,")


# --- Suppression, property-based ----------------------------------------------------------

CELLS = st.dictionaries(st.sampled_from(sorted(CATEGORIES)), st.integers(1, 30), max_size=15)


@settings(max_examples=200, deadline=None)
@given(table=st.dictionaries(st.integers(0, 5), CELLS, max_size=6), k=st.integers(1, 12))
def test_suppression_leaves_no_small_or_recoverable_cell(
    table: dict[int, dict[str, int]], k: int
) -> None:
    hidden, totals_hidden = suppress_table(table, k)
    for group, cells in table.items():
        total = sum(cells.values())
        gone = {c for c in cells if (group, c) in hidden}
        published = {c: n for c, n in cells.items() if c not in gone}
        assert all(n >= k for n in published.values())
        if group in totals_hidden:
            assert gone == set(cells)  # nothing of the group is published
            continue
        assert total >= k
        # What a reader can compute: the hidden cells' sum, each hidden cell being ≥ 1.
        held = total - sum(published.values())
        assert len(gone) == 0 or len(gone) >= 2
        if gone:
            assert held >= k
            # Every hidden cell could take at least two values: held - (others at 1) > 1.
            assert held - (len(gone) - 1) > 1


@settings(max_examples=200, deadline=None)
@given(
    cells=st.dictionaries(st.integers(0, 20), st.integers(1, 30), min_size=1, max_size=12),
    k=st.integers(2, 12),
    forced=st.sets(st.integers(0, 20), max_size=4),
)
def test_forced_cells_stay_hidden_and_protected(cells: dict[int, int], k: int, forced) -> None:  # type: ignore[no-untyped-def]
    hidden, total_hidden = protect(cells, k, forced=forced)
    assert {c for c in forced if c in cells} <= hidden
    if not total_hidden and hidden:
        held = sum(cells[c] for c in hidden)
        assert len(hidden) >= 2 and held >= k and held > len(hidden)


FACTS = st.builds(
    CaseFacts,
    month=st.sampled_from(["2026-01", "2026-02"]),
    corridor=st.just("NP-QA"),
    origin=st.just("NP"),
    destination=st.just("QA"),
    categories=st.lists(st.sampled_from(["WAGE", "DOCS", "DEBT", "SEXV"]), max_size=3).map(tuple),
    outcome=st.sampled_from([None, "WAGES_RECOVERED", "REPATRIATED", "OTHER"]),
    workers=st.integers(1, 5),
    owed=st.none() | st.tuples(st.sampled_from(["QAR", "NPR"]), st.integers(1, 10**6)),
    recovered=st.none() | st.tuples(st.just("QAR"), st.integers(1, 10**6)),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(facts=st.lists(FACTS, max_size=60), k=st.integers(2, 10))
def test_aggregate_tables_are_protected_end_to_end(facts: list[CaseFacts], k: int) -> None:
    rows, currencies = aggregate(facts, k)
    assert_protected(rows, k)
    # Amounts: a published amount has at least k contributing cases, and the hidden ones
    # of an outcome group cannot be read off ALL minus the published ones.
    contributors: dict[tuple[str, str, str, str], int] = defaultdict(int)
    for fact in facts:
        outcome = fact.outcome or "OPEN"
        codes = ["ALL", outcome, *set(fact.categories or ("OTHR",))]
        for measure, money in (("wages_owed", fact.owed), ("wages_recovered", fact.recovered)):
            if money is not None:
                for code in codes:
                    contributors[(fact.month, code, measure, money[0])] += 1
    for row in rows:
        for measure in ("wages_owed", "wages_recovered"):
            for currency, value in getattr(row, measure).items():
                if value is not None:
                    assert contributors[(row.month, row.code, measure, currency)] >= k
    for month in {f.month for f in facts}:
        total = next(r for r in rows if r.month == month and r.code == ALL)
        outcomes = [r for r in rows if r.month == month and r.dimension == "outcome"]
        for measure in ("wages_owed", "wages_recovered"):
            for currency in currencies:
                if getattr(total, measure).get(currency) is None:
                    continue
                hidden = [r for r in outcomes if getattr(r, measure).get(currency, 0) is None]
                hidden += [
                    r
                    for r in outcomes
                    if r.suppressed and contributors[(month, r.code, measure, currency)]
                ]
                assert len(hidden) != 1


def test_suppression_examples() -> None:
    # One small cell: the next smallest goes with it, so ALL − published reveals neither.
    assert protect({"WAGE": 20, "DOCS": 3, "DEBT": 12, "MOVE": 15}, 10) == ({"DOCS", "DEBT"}, False)
    # Two small cells holding fewer than k together: a third joins them.
    assert protect({"WAGE": 20, "DOCS": 1, "DEBT": 2, "MOVE": 15}, 10) == (
        {"DOCS", "DEBT", "MOVE"},
        False,
    )
    # A total below k is hidden with everything in it.
    assert protect({"WAGE": 4, "DOCS": 3}, 10) == ({"WAGE", "DOCS"}, True)
    # Three cells of one case each and k = 3: their sum (3) would pin each at 1.
    assert protect({"A": 1, "B": 1, "C": 1, "D": 9}, 3) == ({"A", "B", "C", "D"}, False)
    assert protect({"A": 1, "B": 1, "C": 1, "D": 9, "E": 4}, 3) == ({"A", "B", "C", "E"}, False)
    assert protect({"WAGE": 20, "DOCS": 12}, 10) == (set(), False)
    # A lone hidden cell that nothing can keep company: the total goes too.
    assert protect({"WAGE": 5}, 3, forced={"WAGE"}) == ({"WAGE"}, True)


# --- Spreadsheets ------------------------------------------------------------------------


def test_csv_cells_cannot_be_formulas() -> None:
    evil = ExportRow(
        month="2026-03",
        corridor='=HYPERLINK("http://x")',
        origin="+1",
        destination="@SUM(A1)",
        dimension="-2+3",
        code="\tTAB",
        cases=12,
        workers_affected=12,
        suppressed=False,
        wages_owed={"QAR": Decimal("10.00")},
    )
    result = ExportResult(
        rows=[evil],
        first_month="2026-03",
        last_month="2026-03",
        corridor=None,
        audience="public",
        k=10,
        currencies=["QAR"],
        cases_included=12,
        excluded={},
        cells_suppressed=0,
    )
    (header, row) = list(csv.reader(io.StringIO(to_csv(result).removeprefix("\ufeff"))))
    assert header[:6] == ["month", "corridor", "origin", "destination", "dimension", "code"]
    assert row[1:6] == ['\'=HYPERLINK("http://x")', "'+1", "'@SUM(A1)", "'-2+3", "'\tTAB"]
    assert row[6] == "" and row[7] == "12" and "10.00" in row  # "\tTAB" has no HTCDS code


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=20))
def test_no_cell_starts_like_a_formula(text: str) -> None:
    cell = csv_cell(text)
    assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert cell.removeprefix("'") == text or cell == text


# --- Standard codes ----------------------------------------------------------------------


async def test_category_rows_carry_htcds_codes_and_hxl_adds_one_row(domain: Domain) -> None:
    await seed(domain)
    async with domain.sessions() as session:
        result = await anonymised_rows(
            session, start=MARCH[0], end=MARCH[1], corridor="NP-QA", audience="partner", k=1
        )
    plain, tagged = to_csv(result), to_csv(result, hxl=True)
    header, *rows = list(csv.reader(io.StringIO(plain.removeprefix("\ufeff"))))
    assert header[5:7] == ["code", "htcds"]
    by_code = {row[5]: row[6] for row in rows}
    assert by_code["WAGE"] == "TakesEarnings" and by_code["DOCS"] == "WithholdsDocuments"
    assert by_code["SEXV"] == "SexualAbuse" and by_code[ALL] == "" and by_code["OPEN"] == ""
    tagged_lines = tagged.removeprefix("\ufeff").split("\r\n")
    plain_lines = plain.removeprefix("\ufeff").split("\r\n")
    # Without --hxl nothing changes; with it, exactly one row of hashtags under the header.
    assert tagged_lines[0] == plain_lines[0] and tagged_lines[2:] == plain_lines[1:]
    tags = dict(zip(header, tagged_lines[1].split(","), strict=True))
    assert tags["month"] == "#date+month"
    assert tags["origin"] == "#country+code+origin"
    assert tags["destination"] == "#country+code+dest"
    assert tags["code"] == "#indicator+code"
    assert tags["workers_affected"] == "#affected+num"
    assert tags["suppressed"] == "#meta+suppressed"
    assert tags["wages_owed_QAR"] == "#value+owed+qar"
    assert all(tag.startswith("#") for tag in tags.values())
    document = json.loads(to_json(result))
    assert {r["code"]: r["htcds"] for r in document["rows"]}["WAGE"] == "TakesEarnings"


# --- Full detail export ------------------------------------------------------------------


async def add_admin(domain: Domain) -> None:
    async with domain.sessions() as session, session.begin():
        session.add(
            Person(
                id="ana", name="Ana", telegram_user_id=5000099, role="admin", managed_by="telegram"
            )
        )


async def test_full_export_round_trips_and_is_audited(domain: Domain) -> None:
    case = await submit(domain, march(5))
    await add_admin(domain)
    passphrase = "correct horse battery staple"
    async with domain.sessions() as session, session.begin():
        blob = await full_detail_export(session, domain, passphrase, "person:ana")
    assert b"Al Noor" not in blob and b"Ram Bahadur" not in blob
    document = decrypt_full_export(blob, passphrase)
    (exported,) = document["cases"]
    assert exported["code"] == case.code
    assert exported["employer"] == "Al Noor Contracting"
    assert exported["worker_name"] == "Ram Bahadur"
    assert exported["contact_phone"] == "+97455512345"
    assert exported["precise_location"] == "Street 12, camp 4"
    assert {c["purpose"] for c in document["consents"]} == set(ALL_CONSENTS)
    assert document["reporters"][0]["chat_id"] is not None
    with pytest.raises(ExportDecryptionError):
        decrypt_full_export(blob, "wrong horse battery staple")
    with pytest.raises(ExportDecryptionError):
        decrypt_full_export(blob[:-5], passphrase)
    async with domain.sessions() as session:
        (event,) = await session.scalars(select(CaseEvent).where(CaseEvent.kind == "full_export"))
    assert event.actor == "person:ana" and event.data["cases"] == 1
    assert passphrase not in json.dumps(event.data)


async def test_full_export_is_for_admins_with_a_real_passphrase(domain: Domain) -> None:
    await add_admin(domain)
    async with domain.sessions() as session:
        for actor in ("person:ramesh", "person:sita", "person:nobody", "system", "reporter:1"):
            with pytest.raises(PermissionError):
                await full_detail_export(session, domain, "a long enough passphrase", actor)
        with pytest.raises(ValueError, match="at least"):
            await full_detail_export(session, domain, "short", "person:ana")
        assert (
            await session.scalar(select(CaseEvent).where(CaseEvent.kind == "full_export")) is None
        )


def test_every_taxonomy_code_has_a_place_in_the_row_order() -> None:
    facts = [
        CaseFacts("2026-03", "NP-QA", "NP", "QA", (category,), outcome)
        for category in CATEGORIES
        for outcome in [*OUTCOMES, None]
    ]
    rows, _ = aggregate(facts, 1)
    codes = [r.code for r in rows]
    assert codes[0] == ALL
    assert codes[1 : 1 + len(CATEGORIES)] == list(CATEGORIES)
    assert codes[1 + len(CATEGORIES) :] == [*OUTCOMES, "OPEN"]
