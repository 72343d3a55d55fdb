from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import make_domain
from bot.clock import FakeClock
from bot.domain import network
from bot.domain.context import Domain
from bot.transactions import Violations
from corridor_dev.harness import Harness
from models.db import make_engine, make_sessionmaker
from tests.dashboard import Dashboard
from tests.support import database, install_test_keys, make_config


@pytest.fixture
async def database_url(tmp_path: Path) -> AsyncIterator[str]:
    async with database(tmp_path) as url:
        yield url


@pytest.fixture
async def domain(database_url: str) -> AsyncIterator[Domain]:
    """A domain on a migrated database holding the example network, on a fake clock."""
    config = make_config(database_url)
    keys = install_test_keys()
    engine = make_engine(database_url)
    sessions = make_sessionmaker(engine)
    built = make_domain(config, sessions, clock=FakeClock(), keys=keys)
    async with sessions() as session, session.begin():
        await network.sync_network(session, config)
    yield built
    await engine.dispose()


# Talking to the Bot API inside a database transaction fails the test where it happens.
Violations.strict = True


@pytest.fixture
async def quiet_harness(database_url: str) -> AsyncIterator[Harness]:
    """The running bot with no background sender: each test decides when the outbox runs."""
    running = await Harness.start(database_url, background_sender=False)
    try:
        yield running
    finally:
        await running.stop()


@pytest.fixture
async def dash_harness(database_url: str) -> AsyncIterator[Harness]:
    """The running bot with the dashboard configured (a public address, a one-hour limit)."""
    from tests.dashboard import DASHBOARD_CONFIG

    running = await Harness.start(database_url, overrides=DASHBOARD_CONFIG)
    try:
        yield running
    finally:
        await running.stop()


@pytest.fixture
async def dash(dash_harness: Harness) -> AsyncIterator[Dashboard]:
    """The dashboard of ``dash_harness``, served over HTTP on a local port."""
    from tests.dashboard import serve_dashboard

    async with serve_dashboard(dash_harness) as served:
        yield served
