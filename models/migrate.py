"""Programmatic Alembic: `corridor db upgrade`, app start-up and tests share this path."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config() -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    config = alembic_config()

    def run(connection) -> None:  # type: ignore[no-untyped-def]
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with engine.begin() as connection:
        await connection.run_sync(run)


async def pending_revisions(engine: AsyncEngine) -> list[str]:
    """Revisions not yet applied: the app refuses to start on an outdated schema."""
    script = ScriptDirectory.from_config(alembic_config())

    def current(connection) -> set[str]:  # type: ignore[no-untyped-def]
        return set(MigrationContext.configure(connection).get_current_heads())

    async with engine.connect() as connection:
        heads = await connection.run_sync(current)
    pending = []
    for rev in script.walk_revisions():
        if rev.revision in heads:
            break
        pending.append(rev.revision)
    return pending
