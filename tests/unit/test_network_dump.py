"""Writing the network back as TOML: it parses, and syncing it changes nothing."""

from __future__ import annotations

import datetime as dt
import tomllib

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.config import parse_config
from bot.domain.context import Domain
from bot.domain.network import sync_network
from bot.domain.network_dump import dump_network, toml_string
from models import (
    Corridor,
    CorridorCoordinator,
    HelpContact,
    Organisation,
    Person,
    ResponderGroup,
    RotaShift,
)
from tests.support import TEST_KEY


async def dump_and_resync(domain: Domain) -> tuple[str, list[str]]:
    async with domain.sessions() as session:
        text = await dump_network(session)
    config = parse_config(tomllib.loads(text), "dump.toml", environ={})
    async with domain.sessions() as session, session.begin():
        report = await sync_network(session, config)
    return text, report.changes


async def test_dump_of_the_example_network_round_trips(domain: Domain) -> None:
    text, changes = await dump_and_resync(domain)
    assert changes == []
    data = tomllib.loads(text)
    assert set(data) == {"corridors", "organisations", "groups", "people", "rota", "help"}
    assert [c["code"] for c in data["corridors"]] == ["ID-MY", "NP-MY", "NP-QA"]
    assert {"person": "ramesh", "days": ["mon", "tue", "wed", "thu", "sun"],
            "start": "08:00", "end": "20:00"} in data["rota"]  # fmt: skip
    assert data["help"][0]["verified"] == dt.date(2026, 10, 1)
    # Network only: none of the settings, no secret.
    assert TEST_KEY not in text and "test-hash-key" not in text
    for word in ("security", "encryption", "hash_key", "token", "telegram]", "database", "secret"):
        assert word not in text


async def test_dump_follows_changes_made_in_the_database(domain: Domain) -> None:
    """Invited people, deactivations and awkward text all survive the round trip."""
    async with domain.sessions() as session, session.begin():
        org = await session.get(Organisation, "qa-workers-centre")
        org.name = 'Centre "Doha" \\ Migrants\tété 🌙\nline two'
        session.add(
            Person(
                id="nadia",
                name="Nadia (invited)",
                telegram_user_id=5000042,
                role="responder",
                organisation_id="qa-workers-centre",
                managed_by="telegram",
            )
        )
        session.add(RotaShift(person_id="nadia", weekday=6, start="22:00", end="06:00"))
        (await session.get(Person, "farid")).active = False
        (await session.get(Person, "aisha")).active = False  # has a rota: left out with her
        session.add(
            ResponderGroup(
                organisation_id="my-legal-aid", chat_id=-1009, title="KL night", managed_by="telegram"
            )
        )
        # A whole corridor retired: its coordinator link and help contacts go.
        (await session.get(Corridor, "ID-MY")).active = False
    text, changes = await dump_and_resync(domain)
    assert changes == []
    data = tomllib.loads(text)
    people = {p["id"]: p for p in data["people"]}
    assert "farid" not in people and "aisha" not in people
    assert people["nadia"]["organisation"] == "qa-workers-centre"
    assert {"person": "nadia", "days": ["sun"], "start": "22:00", "end": "06:00"} in data["rota"]
    assert all(r["person"] != "aisha" for r in data["rota"])
    org = next(o for o in data["organisations"] if o["id"] == "qa-workers-centre")
    assert org["name"] == 'Centre "Doha" \\ Migrants\tété 🌙\nline two'
    assert {"organisation": "my-legal-aid", "chat_id": -1009, "title": "KL night"} in data["groups"]
    assert [c["code"] for c in data["corridors"]] == ["NP-MY", "NP-QA"]
    legal = next(o for o in data["organisations"] if o["id"] == "my-legal-aid")
    assert legal["corridors"] == ["NP-MY"]
    assert all(h["corridor"] != "ID-MY" for h in data["help"])
    assert "# Not written, because what they refer to is inactive:" in text
    assert "ID-MY" in text.split("[[corridors]]")[0]  # the omissions are listed up front
    # The database still has what the file could not say; applying the file removes it.
    async with domain.sessions() as session:
        assert await session.get(CorridorCoordinator, ("ID-MY", "dewi")) is not None
        assert await session.scalar(
            select(HelpContact).where(HelpContact.corridor_code == "ID-MY")
        )


async def test_dump_of_a_dump_is_the_same(domain: Domain) -> None:
    async with domain.sessions() as session:
        first = await dump_network(session)
    async with domain.sessions() as session, session.begin():
        await sync_network(session, parse_config(tomllib.loads(first), "d.toml", environ={}))
    async with domain.sessions() as session:
        assert await dump_network(session) == first


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_any_string_survives_toml(value: str) -> None:
    assert tomllib.loads(f"v = {toml_string(value)}\n")["v"] == value
