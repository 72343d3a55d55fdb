"""The flood guard drops one account's flood before it costs a transaction, and forgets
accounts that went quiet."""

from __future__ import annotations

from typing import Any

from aiogram.types import Chat, Message, Update, User

from bot.middlewares import FloodGuard


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def update_from(user_id: int) -> tuple[Update, dict[str, Any]]:
    message = Message(message_id=1, date=0, chat=Chat(id=user_id, type="private"), text="hi")
    user = User(id=user_id, is_bot=False, first_name="someone")
    return Update(update_id=1, message=message), {"event_from_user": user}


async def handled(_event: Any, _data: dict[str, Any]) -> str:
    return "handled"


async def send(guard: FloodGuard, user_id: int) -> Any:
    update, data = update_from(user_id)
    return await guard(handled, update, data)


async def test_one_accounts_flood_is_dropped_and_nobody_elses() -> None:
    clock = Clock()
    guard = FloodGuard(limit=3, window=60.0, monotonic=clock)
    answers = [await send(guard, 1) for _ in range(5)]
    assert answers == ["handled"] * 3 + [None] * 2
    assert await send(guard, 2) == "handled"
    clock.now = 61.0  # the window has passed
    assert await send(guard, 1) == "handled"


async def test_accounts_quiet_for_a_window_are_forgotten() -> None:
    clock = Clock()
    guard = FloodGuard(limit=3, window=60.0, monotonic=clock)
    for user_id in range(1, 1001):
        await send(guard, user_id)
    assert len(guard.hits) == 1000
    clock.now = 30.0
    await send(guard, 5000)
    assert len(guard.hits) == 1001  # still within their window
    clock.now = 100.0
    await send(guard, 5001)
    assert set(guard.hits) == {5001}
