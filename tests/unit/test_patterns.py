"""Pattern alerts: one employer or agency behind several cases, however it was spelled."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from bot import crypto
from bot.domain import cases
from bot.domain.context import Domain
from bot.domain.patterns import Pattern, repeated_names
from bot.domain.privacy import erase_case
from bot.names import name_key
from models import Case
from tests.support import wage_report

START = dt.datetime(2026, 3, 2, 6, tzinfo=dt.UTC)
_next_user = iter(range(20_000, 1_000_000))


async def submit(domain: Domain, employer: str | None, agency: str | None = None, **changes) -> str:  # type: ignore[no-untyped-def]
    user = next(_next_user)
    values = dict(
        employer=employer, agency=agency, consents={"destination_help": True, "origin_help": True}
    )
    values.update(changes)
    async with domain.sessions() as session, session.begin():
        reporter = await cases.reporter_for(session, domain, user, user, "ne")
        case = await cases.submit_report(session, domain, reporter, wage_report(**values))
    domain.clock.advance(hours=1)
    return case.code


async def find(domain: Domain, corridors: list[str] | None = None, **kwargs) -> list[Pattern]:  # type: ignore[no-untyped-def]
    async with domain.sessions() as session:
        return await repeated_names(
            session,
            corridors if corridors is not None else ["NP-QA", "NP-MY", "ID-MY"],
            kwargs.pop("since", START),
            kwargs.pop("until", START + dt.timedelta(days=30)),
            **kwargs,
        )


@pytest.mark.parametrize(
    "spelling",
    [
        "Al Noor Contracting W.L.L.",
        "al-noor contracting wll",
        "AL NOOR CONTRACTING",
        "Al  Noor   Contracting Co. W.L.L",
        "Al-Noor Contracting L.L.C",
        "alnoor contracting",
        "The Al Noor Contracting Company",
    ],
)
def test_spellings_of_one_company_share_a_key(spelling: str) -> None:
    assert name_key(spelling) == name_key("Al Noor Contracting")


@pytest.mark.parametrize(
    "other",
    [
        "Al Nour Contracting",  # one letter is a different company: no fuzzy merging
        "Al Noor Trading",
        "Noor Contracting",
        "Al Noor Contracting, Doha",  # a place is not a legal form
    ],
)
def test_different_companies_keep_different_keys(other: str) -> None:
    assert name_key(other) != name_key("Al Noor Contracting")


def test_keys_of_agencies_scripts_and_placeholders() -> None:
    assert name_key("M/s Himalayan Overseas Pvt. Ltd.") == name_key("Himalayan Overseas")
    assert name_key("PT. Sinar Jaya Tbk") == name_key("Sinar Jaya")
    assert name_key("Trading & Contracting Co") == name_key("trading and contracting")
    assert name_key("Crème Brûlée Ltd") == name_key("creme brulee")
    assert name_key("अल-नूर  कन्स्ट्रक्सन") == name_key("अल नूर कन्स्ट्रक्सन")
    assert name_key("अल नूर") != name_key("अल नर")  # vowel signs are part of the word
    assert name_key("Company") == "company"  # nothing but a legal form: kept
    for nobody in (None, "", "  ", "—", "N/A", "Unknown", "don't know", "Not sure"):
        assert name_key(nobody) is None


async def test_repeated_employer_and_agency_are_found_across_spellings(domain: Domain) -> None:
    codes = [
        await submit(domain, "Al Noor Contracting W.L.L.", "Himalayan Overseas Pvt. Ltd."),
        await submit(domain, "al-noor contracting wll", "M/s Himalayan Overseas"),
        await submit(domain, "AL NOOR CONTRACTING", None),
        await submit(domain, "Al Noor Contracting W.L.L.", "himalayan overseas"),
    ]
    await submit(domain, "Al Nour Contracting", "unknown")  # another company; nobody
    await submit(domain, "Al Nour Contracting", "unknown")
    await submit(domain, "Gulf Star", "don't know")
    found = await find(domain)
    assert [(p.kind, p.count) for p in found] == [("employer", 4), ("agency", 3)]
    employer, agency = found
    assert employer.name == "Al Noor Contracting W.L.L."  # the most common spelling
    assert employer.case_codes == codes and employer.spellings == 3
    assert agency.case_codes == [codes[0], codes[1], codes[3]]
    assert agency.name == "Himalayan Overseas Pvt. Ltd."  # all differ: the first one seen


async def test_threshold_period_and_corridors(domain: Domain) -> None:
    nour = [await submit(domain, "Al Nour Contracting") for _ in range(2)]
    kl = [
        await submit(
            domain, "Sunrise Cleaning Sdn Bhd", destination_country="MY", origin_country="ID"
        )
        for _ in range(3)
    ]
    assert [p.name for p in await find(domain)] == ["Sunrise Cleaning Sdn Bhd"]
    assert [p.count for p in await find(domain, threshold=2)] == [3, 2]
    assert await find(domain, ["NP-QA"]) == []
    assert await find(domain, []) == []
    (only,) = await find(domain, ["ID-MY"])
    assert only.case_codes == kl and only.kind == "employer"
    # The period is [since, until): the first two cases are before it.
    assert await find(domain, since=START + dt.timedelta(hours=2), threshold=2) == [
        Pattern("employer", "Sunrise Cleaning Sdn Bhd", 3, kl, 1)
    ]
    assert await find(domain, until=START + dt.timedelta(hours=3), threshold=2) == [
        Pattern("employer", "Al Nour Contracting", 2, nour, 1)
    ]
    with pytest.raises(ValueError):
        await find(domain, threshold=1)


async def test_only_names_in_a_repeated_group_are_decrypted(domain: Domain, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Grouping is done by the database on fingerprints; a month of one-off employers
    costs no decryption at all."""
    for i in range(6):
        await submit(domain, f"Employer {i % 2}", f"One-off agency {i}")
    for i in range(20):
        await submit(domain, f"Unique employer {i}")
    ring = crypto.active()
    decrypted: list[str] = []
    real = ring.decrypt

    def counting(token: str) -> str:
        plain = real(token)
        decrypted.append(plain)
        return plain

    monkeypatch.setattr(ring, "decrypt", counting)
    found = await find(domain, threshold=2)
    assert sorted((p.kind, p.name, p.count) for p in found) == [
        ("employer", "Employer 0", 3),
        ("employer", "Employer 1", 3),
    ]
    assert sorted(decrypted) == sorted(f"Employer {i % 2}" for i in range(6))


async def test_fingerprints_follow_the_names_and_are_not_the_names(domain: Domain) -> None:
    code = await submit(domain, "Al Noor Contracting W.L.L.", "unknown")
    await submit(domain, "AL NOOR CONTRACTING")
    async with domain.sessions() as session, session.begin():
        case = await session.scalar(select(Case).where(Case.code == code))
        first = case.employer_key
        assert first and "noor" not in first.lower() and len(first) == 32
        assert case.agency_key == ""  # answered, but names nobody: never grouped
        twin = await session.scalar(select(Case).where(Case.code != code))
        assert twin.employer_key == first
        await erase_case(session, domain, case, "test")
    async with domain.sessions() as session:
        case = await session.scalar(select(Case).where(Case.code == code))
        assert case.employer is None and case.employer_key is None and case.agency_key is None
    assert await find(domain, threshold=2) == []  # the erased case no longer counts


async def test_a_large_group_decrypts_only_its_latest_spellings(
    domain: Domain, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from bot.domain.patterns import SPELLING_SAMPLE

    codes = [
        await submit(domain, "big employer wll" if i < 20 else "Big Employer W.L.L.")
        for i in range(SPELLING_SAMPLE + 10)
    ]
    ring = crypto.active()
    decrypted = 0
    real = ring.decrypt

    def counting(token: str) -> str:
        nonlocal decrypted
        decrypted += 1
        return real(token)

    monkeypatch.setattr(ring, "decrypt", counting)
    (found,) = await find(domain, since=START, until=START + dt.timedelta(days=90))
    assert found.count == SPELLING_SAMPLE + 10 and found.case_codes == codes
    assert decrypted == SPELLING_SAMPLE
    # The latest fifty: ten old spellings and forty new ones.
    assert found.name == "Big Employer W.L.L." and found.spellings == 2
