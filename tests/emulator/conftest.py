import asyncio
import itertools
from collections.abc import AsyncIterator

import pytest

from tgemulator import EmulatorClient, EmulatorServer, start_emulator
from tgemulator.harness import make_bot

_bot_ids = itertools.count(500_000_001)


@pytest.fixture
async def server() -> AsyncIterator[EmulatorServer]:
    async with await start_emulator(webhook_retry_delays=(0.02, 0.05)) as running:
        yield running


@pytest.fixture
def token() -> str:
    return f"{next(_bot_ids)}:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


@pytest.fixture
async def tg(server: EmulatorServer, token: str) -> AsyncIterator[EmulatorClient]:
    async with EmulatorClient(server.base_url, token) as client:
        yield client


@pytest.fixture
async def bot(server: EmulatorServer, token: str):
    instance = make_bot(server.base_url, token)
    yield instance
    await instance.session.close()


@pytest.fixture(autouse=True)
async def no_leftover_tasks() -> AsyncIterator[None]:
    """Every test must stop what it started (servers, pollers, webhook workers)."""
    before = asyncio.all_tasks()
    yield
    await asyncio.sleep(0)
    leftover = [t for t in asyncio.all_tasks() - before - {asyncio.current_task()} if not t.done()]
    assert not leftover, f"tasks left running: {leftover}"
