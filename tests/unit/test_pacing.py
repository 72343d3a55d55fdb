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


def test_the_chat_with_the_longest_backlog_goes_first_and_answers_before_all() -> None:
    """Twenty cards for a group queued after a hundred single notes: the group starts at
    once (it can send only about once a second, so it sets the total time), the notes fill
    the other slots in the order they came, and an answer to someone's own tap beats both."""
    from aiogram.methods import SendMessage

    from bot.app import make_domain
    from bot.delivery import Delivery, Item
    from tests.support import install_test_keys, make_config

    install_test_keys()
    config = make_config(
        "sqlite+aiosqlite://",
        outbox={"per_chat_per_second": 1, "per_group_per_minute": 20, "global_per_second": 30},
    )
    delivery = Delivery(bot=None, domain=make_domain(config, sessions=None))  # type: ignore[arg-type]

    def message(chat: int, priority: int = 1) -> Item:
        return Item(chat_id=chat, call=SendMessage(chat_id=chat, text="."), priority=priority)

    for person in range(1, 101):
        delivery._enqueue(message(person))
    for _ in range(20):
        delivery._enqueue(message(-100))
    chosen, _wait = delivery.next_chat(now=0.0)
    assert chosen is not None and chosen.chat_id == -100

    chosen.busy = True  # its one call is on its way: the next slot goes to the oldest note
    chosen, _wait = delivery.next_chat(now=0.0)
    assert chosen is not None and chosen.chat_id == 1

    delivery._enqueue(message(500, priority=0))
    chosen, _wait = delivery.next_chat(now=0.0)
    assert chosen is not None and chosen.chat_id == 500


def test_idle_chats_are_forgotten_once_their_windows_no_longer_matter() -> None:
    """A private chat's pace is kept for a few seconds after its last message, a group's for
    a minute; then the queue is dropped, so thousands of chats do not pile up in memory."""
    from aiogram.methods import SendMessage

    from bot.app import make_domain
    from bot.delivery import Delivery, Item
    from tests.support import install_test_keys, make_config

    install_test_keys()
    config = make_config("sqlite+aiosqlite://")
    delivery = Delivery(bot=None, domain=make_domain(config, sessions=None))  # type: ignore[arg-type]
    for chat in (7, -100):
        delivery._enqueue(Item(chat_id=chat, call=SendMessage(chat_id=chat, text=".")))
        queue = delivery.chats[chat]
        queue.items.popleft()
        queue.second.record(0.0)
    delivery.next_chat(now=0.5)
    assert set(delivery.chats) == {7, -100}
    delivery.next_chat(now=10.0)
    assert set(delivery.chats) == {-100}
    delivery.next_chat(now=70.0)
    assert delivery.chats == {}


def test_choosing_the_next_chat_looks_only_at_chats_with_something_to_send() -> None:
    """Hundreds of chats that were answered a moment ago are not looked at for each send;
    a chat that gets a new message is."""
    from aiogram.methods import SendMessage

    from bot.app import make_domain
    from bot.delivery import Delivery, Item
    from tests.support import install_test_keys, make_config

    install_test_keys()
    config = make_config("sqlite+aiosqlite://")
    delivery = Delivery(bot=None, domain=make_domain(config, sessions=None))  # type: ignore[arg-type]
    for chat in range(1, 501):
        delivery._enqueue(Item(chat_id=chat, call=SendMessage(chat_id=chat, text=".")))
    for chat in range(1, 500):
        delivery.chats[chat].items.popleft()  # sent
    chosen, _wait = delivery.next_chat(now=0.0)
    assert chosen is not None and chosen.chat_id == 500
    assert set(delivery.backlog) == {500}
    chosen.items.popleft()
    delivery._enqueue(Item(chat_id=7, call=SendMessage(chat_id=7, text="again")))
    chosen, _wait = delivery.next_chat(now=0.0)
    assert chosen is not None and chosen.chat_id == 7
    assert set(delivery.backlog) == {7}


def test_the_overall_pace_comes_in_thirds_of_a_second_not_whole_bursts() -> None:
    """Sent as fast as allowed, calls never exceed 30 in any second nor 10 in any third of
    one: a second's worth sent at once reaches Telegram spread out, and the next second's
    burst would find Telegram's count not yet run down."""
    from bot.app import make_domain
    from bot.delivery import JITTER, Delivery
    from tests.support import install_test_keys, make_config

    install_test_keys()
    config = make_config("sqlite+aiosqlite://", outbox={"global_per_second": 30})
    delivery = Delivery(bot=None, domain=make_domain(config, sessions=None))  # type: ignore[arg-type]
    now, sent = 0.0, []
    while len(sent) < 300:
        now = max(now, delivery.global_ready_at(now))
        delivery.record_global(now)
        sent.append(now)
    for start in sent:
        assert len([t for t in sent if start <= t < start + 1.0 + JITTER]) <= 30
        assert len([t for t in sent if start <= t < start + (1.0 + JITTER) / 3]) <= 10
    # The steady rate is still the limit's: 300 calls take about ten seconds.
    assert sent[-1] < 10.5 * (1.0 + JITTER)
