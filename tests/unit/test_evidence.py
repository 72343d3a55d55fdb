"""The corridor evidence report: every figure against a direct count, suppression, files."""

from __future__ import annotations

import datetime as dt
import io
import random
import re
import statistics
from collections import Counter, defaultdict
from html.parser import HTMLParser
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader
from sqlalchemy import select

from bot.domain import cases, claims, evidence, privacy, referral, resolution
from bot.domain.cases import Report
from bot.domain.context import Domain
from bot.domain.exports import protect
from bot.i18n import tr
from bot.taxonomy import CATEGORIES, GENDERS, OUTCOMES, SECTORS, articles_of, indicators_of
from models import Case, CaseCard, Consent, Person, Reporter
from tests.support import wage_report

YEAR = dt.date(2026, 1, 1), dt.date(2026, 12, 1)
EMPLOYERS = ["Al Noor Contracting", "Gulf Star Trading", "Pearl Services", "Falcon Works"]


async def seed_year(domain: Domain, count: int = 90) -> None:
    """A year of NP-QA cases (and a few ID-MY ones) with every kind of fact."""
    rng = random.Random(11)
    users = iter(range(300_000, 400_000))
    for n in range(count):
        corridor = "NP-QA" if n % 9 else "ID-MY"
        origin, destination = corridor.split("-")
        month = 1 + (n * 7) % 12 if n % 5 else 3
        domain.clock.set(dt.datetime(2026, month, 1 + n % 27, 6 + n % 12, tzinfo=dt.UTC))
        statistics_answer = n % 13 != 0  # a few refuse: they are never counted
        report = wage_report(
            origin_country=origin,
            destination_country=destination,
            categories=rng.sample(
                ["WAGE", "DOCS", "PHYS", "MOVE", "THRT", "HOUR"], rng.randint(1, 3)
            ),
            consents={
                "destination_help": True,
                "origin_help": True,
                "statistics": statistics_answer,
            },
            workers_affected=rng.randint(1, 4),
            wage_owed_minor=rng.choice([None, 150_000, 480_000]),
            wage_currency="QAR" if destination == "QA" else "MYR",
            employer=EMPLOYERS[min(int(rng.paretovariate(1.2)) - 1, 3)],
            sector=rng.choice([None, "SECTOR_F", "SECTOR_F", "SECTOR_T"]),
            gender=rng.choice([None, "MAN", "MAN", "WOMAN"]),
        )
        user = next(users)
        async with domain.sessions() as session, session.begin():
            reporter = await cases.reporter_for(session, domain, user, user, "en")
            case = await cases.submit_report(session, domain, reporter, report)
        if rng.random() < 0.8:
            domain.clock.advance(minutes=rng.randint(5, 900))
            async with domain.sessions() as session, session.begin():
                card = await session.scalar(select(CaseCard).where(CaseCard.case_id == case.id))
                person = await session.scalar(
                    select(Person).where(Person.organisation_id == card.organisation_id)
                )
                await claims.claim(session, domain, case.id, person, card.chat_id)
            domain.clock.advance(hours=rng.randint(2, 400))
            async with domain.sessions() as session, session.begin():
                case = await session.get(Case, case.id)
                owner = await session.get(Person, case.owner_person_id)
                if rng.random() < 0.25:
                    targets = await referral.referral_targets(session, case)
                    await referral.refer(session, domain, case, owner, targets[0], "")
                    taker = await session.scalar(
                        select(Person).where(Person.organisation_id == targets[0].id)
                    )
                    card = await session.scalar(
                        select(CaseCard).where(
                            CaseCard.case_id == case.id,
                            CaseCard.organisation_id == targets[0].id,
                            CaseCard.active.is_(True),
                        )
                    )
                    if taker is not None and card is not None and rng.random() < 0.6:
                        await claims.claim(session, domain, case.id, taker, card.chat_id)
                elif rng.random() < 0.7:
                    outcome = rng.choice(["WAGES_RECOVERED", "REPATRIATED"])
                    recovered = outcome == "WAGES_RECOVERED"
                    await resolution.resolve(
                        session,
                        domain,
                        case,
                        owner,
                        outcome,
                        amount_minor=100_000 if recovered else None,
                        currency=case.wage_currency if recovered else None,
                    )
    # One withdraws statistics consent later: no longer counted.
    async with domain.sessions() as session, session.begin():
        case = await session.scalar(select(Case).order_by(Case.id).limit(1))
        reporter = await session.get(Reporter, case.reporter_id)
        await privacy.withdraw_consent(session, domain, reporter, case, "statistics")


async def direct(domain: Domain, corridor: str) -> dict[str, Any]:
    """The figures counted straight from the cases and consents, without rollups."""
    async with domain.sessions() as session:
        consent: dict[int, bool] = {}
        for row in await session.scalars(
            select(Consent).where(Consent.purpose == "statistics").order_by(Consent.id)
        ):
            consent[row.case_id] = row.granted and row.withdrawn_at is None
        rows = [
            c
            for c in await session.scalars(select(Case).where(Case.corridor_code == corridor))
            if consent.get(c.id)
        ]
    got: dict[str, Any] = defaultdict(Counter)
    workers: dict[str, Counter] = defaultdict(Counter)
    claim, resolve = [], []
    names: Counter[str] = Counter()
    for case in rows:
        w = case.workers_affected
        got["total"][""] += 1
        workers["total"][""] += w
        got["month"][f"{case.created_at:%Y-%m}"] += 1
        workers["month"][f"{case.created_at:%Y-%m}"] += w
        cats = set(case.categories)
        for key, codes in (
            ("category", cats),
            ("article", articles_of(tuple(cats))),
            ("indicator", indicators_of(tuple(cats))),
            ("outcome", {case.outcome or "OPEN"}),
            ("sector", {case.sector or "UNKNOWN"}),
            ("gender", {case.gender or "UNKNOWN"}),
        ):
            for code in codes:
                got[key][code] += 1
                workers[key][code] += w
        if case.wage_owed_minor is not None:
            got["owed"][case.wage_currency] += case.wage_owed_minor
            got["owed_n"][case.wage_currency] += 1
        if case.outcome_amount_minor is not None:
            got["recovered"][case.outcome_currency] += case.outcome_amount_minor
            got["recovered_n"][case.outcome_currency] += 1
        if case.claimed_at:
            claim.append((case.claimed_at - case.created_at).total_seconds())
        if case.resolved_at:
            resolve.append((case.resolved_at - case.created_at).total_seconds())
        if case.referred_by_organisation_id:
            got["referred"][""] += 1
            if case.owner_organisation_id not in (None, case.referred_by_organisation_id):
                got["taken_up"][""] += 1
        if case.employer_key:
            names[case.employer_key] += 1
    got["workers"] = workers
    got["claim"], got["resolve"], got["names"] = claim, resolve, names
    return got


def assert_table_protected(rows: list[evidence.Row], total: int, k: int, partition: bool) -> None:
    published = [r for r in rows if r.cases is not None]
    hidden = [r for r in rows if r.cases is None]
    # A zero is a true zero (no case at all), as in the export; anything else is at least k.
    assert all(r.cases == 0 or r.cases >= k for r in published)
    assert len(hidden) != 1
    if hidden and partition:
        held = total - sum(r.cases for r in published)
        assert held >= k and held > len(hidden)


async def test_report_for_a_seeded_year_matches_direct_counts(domain: Domain) -> None:
    await seed_year(domain)
    want = await direct(domain, "NP-QA")
    for language in ("en", "ne"):
        await check_report(domain, want, language)


async def check_report(domain: Domain, want: dict[str, Any], language: str) -> None:
    k = 5
    report = await partner_year(domain, language, k=None, today=dt.date(2026, 12, 31))
    total = want["total"][""]
    assert report.cases == total and total >= 40
    assert report.workers == want["workers"]["total"][""]
    # Months: one group; each published month equals the direct count.
    assert [r.code for r in report.months.rows] == [f"2026-{m:02d}" for m in range(1, 13)]
    for row in report.months.rows:
        if row.cases is not None:
            assert row.cases == want["month"][row.code]
            assert row.workers == want["workers"]["month"][row.code]
    assert_table_protected(report.months.rows, total, k, partition=True)
    assert any(r.cases is not None for r in report.months.rows)
    for key, partition in (
        ("category", False),
        ("article", False),
        ("indicator", False),
        ("outcome", True),
        ("sector", True),
        ("gender", True),
    ):
        rows = report.tables[key].rows
        assert {r.code for r in rows} in (set(want[key]), set()), key
        for row in rows:
            if row.cases is not None:
                assert row.cases == want[key][row.code], (key, row.code)
                assert row.workers == want["workers"][key][row.code]
        assert_table_protected(rows, total, k, partition)
        # Which cells are hidden is exactly what protect() decides for the direct counts.
        hidden, whole = protect(dict(want[key]), k, total=total)
        if whole:
            assert rows == []
        else:
            assert {r.code for r in rows if r.cases is None} == hidden, key
    assert next(r for r in report.tables["category"].rows if r.code == "WAGE").note == (
        "TakesEarnings"
    )
    (qar,) = report.money
    assert qar.currency == "QAR"
    assert qar.owed == (want["owed"]["QAR"] if want["owed_n"]["QAR"] >= k else None)
    assert qar.recovered == (want["recovered"]["QAR"] if want["recovered_n"]["QAR"] >= k else None)
    assert qar.owed is not None and qar.recovered is not None
    assert qar.share == pytest.approx(qar.recovered / qar.owed)
    for value, durations, unit in (
        (report.claim_hours, want["claim"], 3600),
        (report.resolution_days, want["resolve"], 86400),
    ):
        exact = statistics.median(durations) / unit
        assert value == pytest.approx(exact, rel=2 ** (1 / 8) - 1)
    referred, taken = want["referred"][""], want["taken_up"][""]
    assert report.referred == (referred if referred >= k else None)
    assert report.referred is not None and report.taken_up is not None and taken
    assert report.taken_up == taken >= k and referred - taken in (0, *range(k, 999))
    repeated = {key: n for key, n in want["names"].items() if n >= 3}
    if sum(repeated.values()) >= k:
        assert report.repeated["employer"] == (len(repeated), sum(repeated.values()))
    assert {name for _, name, _ in report.names} <= set(EMPLOYERS)
    assert all(n >= k for _, _, n in report.names) and report.names
    assert (
        report.hidden == sum(1 for f in _figures(report) if f is None)
        and 0 < report.hidden < report.figures
    )

    # Files: HTML self-contained, PDF text extractable, both carrying the figures.
    page = evidence.to_html(report)
    assert_self_contained(page)
    pdf = evidence.to_pdf(report)
    assert pdf.startswith(b"%PDF-")
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    flat = re.sub(r"\s+", "", text)
    for figure in (
        evidence.number(report.cases, language),
        evidence.number(report.workers, language),
        *(evidence.number(r.cases, language) for r in report.months.rows if r.cases),
        evidence.money_text(qar.owed, "QAR", language),
        "NP-QA",
        "TakesEarnings",
    ):
        assert re.sub(r"\s+", "", figure) in flat, figure
        assert figure in page
    fonts = {
        str(font.get_object()["/BaseFont"])
        for p in PdfReader(io.BytesIO(pdf)).pages
        for font in p["/Resources"]["/Font"].values()
    }
    assert any("DejaVu" in f for f in fonts)
    if language == "ne":
        assert any("Devanagari" in f for f in fonts)
        assert "प्रतिवेदन" in page  # the title is in Nepali
        assert "प्रतिवेदन" in flat


def _figures(report: evidence.Evidence) -> list[Any]:
    values: list[Any] = [report.cases, report.workers]
    for table in (report.months, *report.tables.values()):
        values += [v for r in table.rows for v in (r.cases, r.workers)]
    values += [v for m in report.money for v in (m.owed, m.recovered)]
    values += [report.claim_hours, report.resolution_days, report.referred, report.taken_up]
    values += [v for pair in report.repeated.values() for v in pair]
    return values


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.references: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href") or (
                name == "xlink:href" and not (value or "").startswith("#")
            ):
                self.references.append(f"{tag} {name}={value}")


def assert_self_contained(page: str) -> None:
    parser = _Links()
    parser.feed(page)
    assert parser.references == []
    # Charts are inline SVG: their only url() references are to their own clip paths.
    assert "<link" not in page and "@import" not in page
    assert not re.search(r"url\((?!#)", page)


async def test_everything_suppressed_says_so_plainly(domain: Domain) -> None:
    users = iter(range(900_000, 900_100))
    for _ in range(3):
        user = next(users)
        async with domain.sessions() as session, session.begin():
            reporter = await cases.reporter_for(session, domain, user, user, "en")
            await cases.submit_report(session, domain, reporter, wage_report())
    async with domain.sessions() as session:
        report = await evidence.build(
            session,
            corridor="NP-QA",
            first=dt.date(2026, 1, 1),
            last=dt.date(2027, 12, 1),
            audience="public",
            language="en",
        )
    assert report.empty and report.cases is None and report.money == []
    page, pdf = evidence.to_html(report), evidence.to_pdf(report)
    assert "publishes no figures" in page and "<svg" not in page
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert "publishes no figures" in re.sub(r"\s+", " ", text)


async def test_bad_requests_name_what_is_wrong(domain: Domain) -> None:
    async with domain.sessions() as session:
        base = {"first": YEAR[0], "last": YEAR[1], "audience": "public", "language": "en"}
        with pytest.raises(evidence.ReportError, match="unknown corridor 'XX-YY'"):
            await evidence.build(session, **{**base, "corridor": "XX-YY"})
        with pytest.raises(evidence.ReportError, match="empty period"):
            await evidence.build(
                session, **{**base, "corridor": "NP-QA", "first": YEAR[1], "last": YEAR[0]}
            )
        with pytest.raises(evidence.ReportError, match="no catalogue for language 'xx'"):
            await evidence.build(session, **{**base, "corridor": "NP-QA", "language": "xx"})
        with pytest.raises(evidence.ReportError, match="audience"):
            await evidence.build(session, **{**base, "corridor": "NP-QA", "audience": "press"})
    with pytest.raises(evidence.ReportError, match="not a month"):
        evidence.parse_month("2026-13", "--from")


# --- The same suppression, property-based -------------------------------------------------

FACTS = st.lists(
    st.tuples(
        st.integers(0, 2),  # month
        st.lists(st.sampled_from(["WAGE", "DOCS", "PHYS", "SEXV", "DETN"]), max_size=3),
        st.sampled_from([None, *list(OUTCOMES)[:3]]),
        st.sampled_from([None, *list(SECTORS)[:2]]),
        st.sampled_from([None, *list(GENDERS)[:2]]),
    ),
    max_size=50,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(facts=FACTS, k=st.integers(2, 10))
def test_report_tables_are_protected_for_any_data(facts: list[tuple], k: int) -> None:
    """The report applies protect() to each table: no published count below k, no lone
    hidden cell, hidden cells of a partition not recoverable from the total."""
    from bot.domain.rollups import CaseStats, contributions

    cells: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0])
    for month, categories, outcome, sector, gender in facts:
        stats = CaseStats(
            corridor="NP-QA",
            created=dt.datetime(2026, 1 + month, 5, tzinfo=dt.UTC),
            categories=tuple(categories),
            outcome=outcome,
            consented=True,
            sector=sector,
            gender=gender,
        )
        for key, value in contributions(stats)[0].items():
            for i in range(3):
                cells[key][i] += value[i]
    report = evidence.protect_rollups(cells, k, months=3)
    total = len(facts)
    if report.empty:  # fewer than k, or months that cannot be protected: nothing at all
        assert all(r.cases is None for r in report.months.rows) and report.money == []
        assert all(table.rows == [] for table in report.tables.values())
        return
    assert report.cases == total >= k
    assert_table_protected(report.months.rows, total, k, partition=True)
    for key in evidence.TABLES:
        partition = key in ("outcome", "sector", "gender")
        assert_table_protected(report.tables[key].rows, total, k, partition)
    assert set(CATEGORIES) >= {r.code for r in report.tables["category"].rows}


# --- The command line -----------------------------------------------------------------------


def test_cli_report_and_rebuild(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli import main
    from bot.crypto import generate_key
    from tests.support import EXAMPLE

    monkeypatch.setenv("CORRIDOR_CONFIG", str(EXAMPLE))
    monkeypatch.setenv("CORRIDOR_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'c.sqlite3'}")
    monkeypatch.setenv("CORRIDOR_ENCRYPTION_KEYS", generate_key())
    assert main(["db", "upgrade"]) == 0
    assert main(["network", "sync", str(EXAMPLE)]) == 0
    capsys.readouterr()
    out = tmp_path / "out"
    base = ["report", "--corridor", "NP-QA", "--from", "2026-01", "--to", "2026-12"]
    for arguments, problem in (
        (["--corridor", "XX-YY"], "report: unknown corridor 'XX-YY' (known: ID-MY, NP-MY, NP-QA)"),
        (["--from", "2026-13"], "report: --from: '2026-13' is not a month like 2026-01"),
        (["--from", "2027-01"], "report: empty period: 2027-01 is after 2026-12"),
        (["--language", "xx"], "report: no catalogue for language 'xx'"),
    ):
        assert main([*base, "--out", str(out), *arguments]) == 2
        error = capsys.readouterr().err.strip()
        assert error.startswith(problem) and "\n" not in error, error
    assert main([*base, "--out", str(out), "--audience", "partner"]) == 0
    written = sorted(p.name for p in out.iterdir())
    assert written == [
        "corridor-report-NP-QA-202601-202612-partner-en.html",
        "corridor-report-NP-QA-202601-202612-partner-en.pdf",
    ]
    assert "publishes no figures" in (out / written[0]).read_text()
    assert main(["rollups", "rebuild"]) == 0
    assert "rollups rebuilt from 0 cases" in capsys.readouterr().out


async def file_reports(
    domain: Domain, first_user: int, reports: list[Report], day: dt.datetime
) -> None:
    """Each report from a reporter of its own, a day apart from ``day``."""
    for n, report in enumerate(reports):
        domain.clock.set(day + dt.timedelta(days=n))
        async with domain.sessions() as session, session.begin():
            reporter = await cases.reporter_for(
                session, domain, first_user + n, first_user + n, "en"
            )
            await cases.submit_report(session, domain, reporter, report)


async def partner_year(
    domain: Domain, language: str, k: int | None, today: dt.date = dt.date(2027, 1, 1)
) -> evidence.Evidence:
    """NP-QA's 2026 for partners, names threshold 3 (``k`` None: the partners' default)."""
    async with domain.sessions() as session:
        return await evidence.build(
            session,
            corridor="NP-QA",
            first=YEAR[0],
            last=YEAR[1],
            audience="partner",
            language=language,
            k=k,
            pattern_threshold=3,
            today=today,
        )


@pytest.mark.parametrize(
    ("page", "pages"),
    [(2000, 3), (1, 1), (1, 3)],
    ids=["first-page", "own-last-cases", "later-page"],
)
async def test_a_name_is_spelled_as_its_latest_consenting_case_spells_it(
    domain: Domain, monkeypatch: pytest.MonkeyPatch, page: int, pages: int
) -> None:
    """Partners see each repeated employer as the latest case that may be counted spells it:
    never the spelling of a newer case whose reporter refused statistics; found in the first
    page of the period's cases, in a later one, or among the name's own last cases."""
    monkeypatch.setattr(evidence, "SPELLING_PAGE", page)
    monkeypatch.setattr(evidence, "SPELLING_PAGES", pages)
    spellings = ["Pearl Services"] * 5 + ["Pearl  services"] + ["PEARL SERVICES"]
    reports = [
        wage_report(
            consents={
                "destination_help": True,
                "origin_help": True,
                "statistics": n < len(spellings) - 1,
            },
            employer=spelling,
        )
        for n, spelling in enumerate(spellings)
    ]
    await file_reports(domain, 500_000, reports, dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC))
    built = await partner_year(domain, "en", k=5)
    assert built.names == [("employer", "Pearl  services", 6)]


async def test_a_report_lists_the_most_repeated_names_and_counts_the_rest(
    domain: Domain, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A busy corridor's year names hundreds of employers: the report lists the most
    repeated ones and says how many more there are, in the reader's language."""
    monkeypatch.setattr(evidence, "NAMES_LISTED", 1)
    reports = [wage_report(employer="Falcon Works") for _ in range(6)]
    reports += [wage_report(employer="Gulf Star Trading") for _ in range(4)]
    await file_reports(domain, 600_000, reports, dt.datetime(2026, 4, 1, 9, tzinfo=dt.UTC))
    built = await partner_year(domain, "ne", k=3)
    assert built.names == [("employer", "Falcon Works", 6)]
    assert built.names_not_shown == {"employer": 1}
    page = evidence.to_html(built)
    assert "Falcon Works" in page and "Gulf Star Trading" not in page
    assert tr("ne", "(+{n} more)", n=evidence.number(1, "ne")) in page
