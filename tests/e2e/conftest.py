from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from corridor_dev.harness import Harness


@pytest.fixture
async def harness(database_url: str) -> AsyncIterator[Harness]:
    running = await Harness.start(database_url)
    try:
        yield running
    finally:
        await running.stop()
