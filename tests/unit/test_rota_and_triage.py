from __future__ import annotations

import datetime as dt

import pytest

from bot.domain.context import Domain
from bot.domain.people import on_call
from bot.domain.triage import RED_FLAGS, red_flags, triage
from bot.taxonomy import Urgency
from models import RotaOverride


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        ("2026-03-02T06:00", ["ramesh"]),  # Monday 09:00 in Doha: Ramesh's shift
        ("2026-03-02T18:30", []),  # Monday 21:30 in Doha: after his shift
        ("2026-03-06T21:30", ["aisha"]),  # Saturday 00:30 in Doha: Aisha's weekend shift
        ("2026-03-05T16:59", ["ramesh"]),  # Thursday 19:59 in Doha
    ],
)
async def test_on_call_follows_weekly_shifts_in_local_time(
    domain: Domain, moment: str, expected: list[str]
) -> None:
    async with domain.sessions() as session:
        people = await on_call(session, domain, ["qa-workers-centre"], at(moment))
    assert [p.id for p in people] == expected


async def test_overrides_take_people_off_and_put_them_on(domain: Domain) -> None:
    async with domain.sessions() as session, session.begin():
        session.add(
            RotaOverride(
                person_id="ramesh",
                starts_at=at("2026-03-02T00:00"),
                ends_at=at("2026-03-03T00:00"),
                on_call=False,
                note="holiday",
            )
        )
        session.add(
            RotaOverride(
                person_id="aisha",
                starts_at=at("2026-03-02T00:00"),
                ends_at=at("2026-03-03T00:00"),
                on_call=True,
                note="swap",
            )
        )
    async with domain.sessions() as session:
        assert [
            p.id
            for p in await on_call(session, domain, ["qa-workers-centre"], at("2026-03-02T06:00"))
        ] == ["aisha"]
        assert [
            p.id
            for p in await on_call(session, domain, ["qa-workers-centre"], at("2026-03-03T06:00"))
        ] == ["ramesh"]


@pytest.mark.parametrize(
    "language", sorted({lang for flags in RED_FLAGS.values() for lang in flags})
)
def test_every_language_has_red_flags_that_are_found(language: str) -> None:
    for flag, by_language in RED_FLAGS.items():
        word = by_language[language][0]
        assert flag in red_flags(f"... {word} ..."), (language, flag, word)


def test_red_flags_ignore_innocent_words() -> None:
    assert red_flags("the food was unbeatable and the police station is far") == {"detention"}
    assert red_flags("everything is fine, just late salary") == set()


@pytest.mark.parametrize(
    ("kwargs", "urgency"),
    [
        ({"categories": ["WAGE"], "in_danger": False, "description": "not paid"}, Urgency.NORMAL),
        ({"categories": ["DOCS"], "in_danger": True, "description": None}, Urgency.HIGH),
        ({"categories": ["PHYS"], "in_danger": True, "description": None}, Urgency.SOS),
        (
            {"categories": ["WAGE"], "in_danger": False, "description": "मालिकले मार्छु भन्यो"},
            Urgency.SOS,
        ),
        ({"categories": ["WAGE"], "in_danger": False, "description": "saya dipukul"}, Urgency.HIGH),
        (
            {"categories": ["OTHR"], "in_danger": False, "description": None, "sos": True},
            Urgency.SOS,
        ),
    ],
)
def test_triage(kwargs: dict, urgency: Urgency) -> None:
    result = triage(**kwargs)
    assert result.urgency == urgency
    assert "saya" not in result.reason and "मालिक" not in result.reason
