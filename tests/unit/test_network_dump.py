"""Writing the network back as TOML: it parses, and syncing it changes nothing."""

from __future__ import annotations

import datetime as dt
import re
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
    SavedReplyText,
)
from tests.support import TEST_KEY, example_data


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
    settings = re.compile(
        r"^\s*(\[+\s*(security|telegram|database|bot|fsm)\b|(token|secret|encryption_keys|"
        r"key_file|hash_key|database_url)\s*=)",
        re.MULTILINE,
    )
    assert not settings.search(text)
    assert re.search(r"[A-Za-z0-9_-]{43}=", text) is None  # nothing shaped like a Fernet key


async def test_dump_follows_changes_made_in_the_database(domain: Domain) -> None:
    """Invited people and groups, a deactivated person and awkward text survive."""
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
        await session.flush()
        session.add(RotaShift(person_id="nadia", weekday=6, start="22:00", end="06:00"))
        (await session.get(Person, "farid")).active = False
        session.add(
            ResponderGroup(
                organisation_id="my-legal-aid",
                chat_id=-1009,
                title="KL night",
                managed_by="telegram",
            )
        )
    text, changes = await dump_and_resync(domain)
    assert changes == []
    assert "# Not written" not in text
    data = tomllib.loads(text)
    people = {p["id"]: p for p in data["people"]}
    assert "farid" not in people
    assert people["nadia"]["organisation"] == "qa-workers-centre"
    assert {"person": "nadia", "days": ["sun"], "start": "22:00", "end": "06:00"} in data["rota"]
    org = next(o for o in data["organisations"] if o["id"] == "qa-workers-centre")
    assert org["name"] == 'Centre "Doha" \\ Migrants\tété 🌙\nline two'
    assert {"organisation": "my-legal-aid", "chat_id": -1009, "title": "KL night"} in data["groups"]


async def test_links_to_inactive_rows_are_listed_and_dropped(domain: Domain) -> None:
    """Rows deactivated behind sync's back leave links no file can express: the dump still
    parses, names what it left out, and applying it removes exactly those links."""
    async with domain.sessions() as session, session.begin():
        (await session.get(Person, "aisha")).active = False  # she has a rota
        (await session.get(Corridor, "ID-MY")).active = False  # coordinator, orgs, help
    async with domain.sessions() as session:
        text = await dump_network(session)
    header = text.split("[[corridors]]")[0]
    for omission in ("shift of aisha", "coordinator dewi", "corridor ID-MY", "Kuala Lumpur"):
        assert omission in header
    data = tomllib.loads(text)
    assert [c["code"] for c in data["corridors"]] == ["NP-MY", "NP-QA"]
    assert next(o for o in data["organisations"] if o["id"] == "my-legal-aid")["corridors"] == [
        "NP-MY"
    ]
    assert all(r["person"] != "aisha" for r in data["rota"])
    async with domain.sessions() as session:
        assert await session.get(CorridorCoordinator, ("ID-MY", "dewi")) is not None
    _, changes = await dump_and_resync(domain)
    assert sorted(changes) == sorted(
        [
            "- organisation-corridor id-migrant-union ↔ ID-MY",
            "- organisation-corridor my-legal-aid ↔ ID-MY",
            "- coordinator ID-MY ↔ dewi",
            "- shift aisha fri 00:00-23:59",
            "- shift aisha sat 00:00-23:59",
            "- help 'Migrant workers hotline, Kuala Lumpur' (ID-MY)",
        ]
    )
    async with domain.sessions() as session:
        assert not await session.scalar(
            select(HelpContact).where(HelpContact.corridor_code == "ID-MY")
        )
    assert (await dump_and_resync(domain))[1] == []


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


async def test_saved_replies_are_synced_dumped_and_synced_back_unchanged(domain: Domain) -> None:
    """Organisations' own saved replies belong to the network: sync stores them, the dump
    writes every language's text back (quotes, new lines, other scripts intact), a reply of
    an inactive organisation is left out with a note, and removing one from the file removes it."""
    data = example_data()
    data["saved_replies"] = [
        {
            "code": "DMWC_HOURS",
            "organisation": "qa-workers-centre",
            "fields": ["phone"],
            "title": {"en": "Office hours", "ar": "ساعات العمل"},
            "text": {
                "en": 'Open "9–5".\nPhone {phone}.',
                "ar": "مفتوح من ٩ إلى ٥. الهاتف {phone}.",
            },
        },
        {"code": "ANYONE", "title": {"ne": "नमस्ते"}, "text": {"ne": "नमस्ते, {code}"}},
    ]
    async with domain.sessions() as session, session.begin():
        report = await sync_network(session, parse_config(data, "x.toml", environ={}))
    assert {"+ saved reply DMWC_HOURS", "+ saved reply ANYONE"} <= set(report.changes)
    text, changes = await dump_and_resync(domain)
    assert changes == []
    dumped = {r["code"]: r for r in tomllib.loads(text)["saved_replies"]}
    assert dumped["DMWC_HOURS"]["text"] == data["saved_replies"][0]["text"]
    assert dumped["DMWC_HOURS"]["organisation"] == "qa-workers-centre"
    assert "organisation" not in dumped["ANYONE"] and dumped["ANYONE"]["fields"] == []

    async with domain.sessions() as session, session.begin():
        (await session.get(Organisation, "qa-workers-centre")).active = False
    async with domain.sessions() as session:
        text = await dump_network(session)
    assert "saved reply DMWC_HOURS left out" in text.split("[[corridors]]")[0]
    assert [r["code"] for r in tomllib.loads(text)["saved_replies"]] == ["ANYONE"]

    data["saved_replies"] = data["saved_replies"][1:]
    async with domain.sessions() as session, session.begin():
        report = await sync_network(session, parse_config(data, "x.toml", environ={}))
        assert "- saved reply DMWC_HOURS" in report.changes
        assert await session.get(SavedReplyText, "DMWC_HOURS") is None
