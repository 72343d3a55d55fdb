"""The models and the migrations must describe the same schema, and data survives them."""

from __future__ import annotations

import datetime as dt

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select, text

import models
from bot import crypto
from bot.domain.context import Domain
from bot.domain.patterns import repeated_names
from bot.names import UNKEYED
from models import Case
from models.db import make_engine
from models.migrate import alembic_config, upgrade


async def test_models_and_migrations_agree(database_url: str) -> None:
    engine = make_engine(database_url)

    def diff(connection):  # type: ignore[no-untyped-def]
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, models.Base.metadata)

    async with engine.connect() as connection:
        differences = await connection.run_sync(diff)
    await engine.dispose()
    assert differences == [], f"models differ from migrations; add a migration: {differences}"


async def test_names_stored_before_fingerprints_get_them_on_first_look(
    database_url: str, domain: Domain
) -> None:
    """Migration 0002 cannot read encrypted names; it marks them, and the first digest
    that looks at them computes their fingerprints."""
    engine = make_engine(database_url)
    config = alembic_config()

    def downgrade(connection) -> None:  # type: ignore[no-untyped-def]
        config.attributes["connection"] = connection
        command.downgrade(config, "0001")

    async with engine.begin() as connection:
        await connection.run_sync(downgrade)
    created = domain.now() - dt.timedelta(days=2)
    async with engine.begin() as connection:
        for n, name in enumerate(["Gulf Star Trading", "GULF STAR TRADING W.L.L.", "gulf star"]):
            await connection.execute(
                text(
                    "INSERT INTO cases (code, corridor_code, reporter_role, categories, urgency,"
                    " urgency_reason, status, side, language, destination_country,"
                    " origin_country, worker_location, in_danger, workers_affected, employer,"
                    " contact_method, escalation_level, erased, created_at, last_activity_at)"
                    " VALUES (:code, 'NP-QA', 'self', '[]', 'normal', '', 'routed',"
                    " 'destination', 'en', 'QA', 'NP', 'destination', false, 1, :employer,"
                    " 'chat', 0, false, :created, :created)"
                ),
                {"code": f"OLD{n}", "employer": crypto.active().encrypt(name), "created": created},
            )
    await upgrade(engine)
    await engine.dispose()
    async with domain.sessions() as session:
        marks = list(await session.scalars(select(Case.employer_key)))
    assert marks == [UNKEYED] * 3
    async with domain.sessions() as session, session.begin():
        found = await repeated_names(
            session, ["NP-QA"], created - dt.timedelta(days=1), domain.now(), threshold=2
        )
    assert [(p.count, p.case_codes) for p in found] == [(2, ["OLD0", "OLD1"])]
    async with domain.sessions() as session:
        keys = list(await session.scalars(select(Case.employer_key).order_by(Case.code)))
    assert keys[0] == keys[1] != keys[2] and UNKEYED not in keys and None not in keys


async def test_a_referred_case_gets_its_first_claim_back(database_url: str, domain: Domain) -> None:
    """Before 0006 a referral's claim overwrote the first one; the event log still has it."""
    engine = make_engine(database_url)
    config = alembic_config()

    def downgrade(connection) -> None:  # type: ignore[no-untyped-def]
        config.attributes["connection"] = connection
        command.downgrade(config, "0005")

    async with engine.begin() as connection:
        await connection.run_sync(downgrade)
    created = domain.now() - dt.timedelta(days=2)
    first, referred, second = (created + dt.timedelta(minutes=m) for m in (10, 60, 4860))
    async with engine.begin() as connection:
        case_id = (
            await connection.execute(
                text(
                    "INSERT INTO cases (code, corridor_code, reporter_role, categories, urgency,"
                    " urgency_reason, status, side, language, destination_country,"
                    " origin_country, worker_location, in_danger, workers_affected,"
                    " contact_method, escalation_level, erased, created_at, last_activity_at,"
                    " claimed_at, referred_by_organisation_id)"
                    " VALUES ('OLD1', 'NP-QA', 'self', '[]', 'normal', '', 'claimed',"
                    " 'origin', 'en', 'QA', 'NP', 'destination', false, 1,"
                    " 'chat', 0, false, :created, :created, :second, 'qa-workers-centre')"
                    " RETURNING id"
                ),
                {"created": created, "second": second},
            )
        ).scalar_one()
        for kind, at in (("claimed", first), ("referred", referred), ("claimed", second)):
            await connection.execute(
                text(
                    "INSERT INTO case_events (case_id, at, kind, actor, data, prev_hash, hash)"
                    " VALUES (:case, :at, :kind, 'system', '{}', '', '')"
                ),
                {"case": case_id, "at": at, "kind": kind},
            )
    await upgrade(engine)
    await engine.dispose()
    async with domain.sessions() as session:
        case = await session.get(Case, case_id)
        assert case is not None
        assert (case.claimed_at, case.referred_at, case.referral_claimed_at) == (
            first,
            referred,
            second,
        )
