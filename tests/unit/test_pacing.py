"""Delivery's pace: a sliding window never lets more than its limit through in any period."""

from __future__ import annotations

import asyncio

from hypothesis import given
from hypothesis import strategies as st

from bot.delivery import Window


@given(
    limit=st.integers(min_value=1, max_value=30),
    gaps=st.lists(st.floats(min_value=0, max_value=0.5), min_size=1, max_size=200),
)
def test_no_period_holds_more_than_the_limit(limit: int, gaps: list[float]) -> None:
    window = Window(limit, 1.0)
    now = 0.0
    sent: list[float] = []
    for gap in gaps:
        now = max(now + gap, window.ready_at(now + gap))
        window.record(now)
        sent.append(now)
    for start in sent:
        inside = [t for t in sent if start <= t < start + 1.0]
        assert len(inside) <= limit


def test_a_full_window_opens_when_its_oldest_event_leaves() -> None:
    window = Window(3, 1.0)
    for moment in (0.0, 0.1, 0.2):
        assert window.ready_at(moment) == moment
        window.record(moment)
    assert window.ready_at(0.3) == 1.0
    assert window.ready_at(1.05) == 1.05


async def test_an_urgent_writer_goes_before_those_waiting() -> None:
    from bot.domain.context import Turns

    turns, order = Turns(), []
    await turns.acquire()

    async def writer(name: str, urgent: bool) -> None:
        await turns.acquire(urgent)
        order.append(name)
        turns.release()

    waiting = [
        asyncio.create_task(writer("first", False)),
        asyncio.create_task(writer("second", False)),
        asyncio.create_task(writer("urgent", True)),
    ]
    await asyncio.sleep(0)
    turns.release()
    await asyncio.gather(*waiting)
    assert order == ["urgent", "first", "second"]
