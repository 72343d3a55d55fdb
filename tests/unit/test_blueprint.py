"""How the handlers' routers are built: every check runs on the event loop."""

from __future__ import annotations

import threading
from typing import Any

from aiogram import F
from aiogram.dispatcher.event.handler import CallableObject
from aiogram.types import Chat, Message

from handlers import routers
from handlers.blueprint import Blueprint


def _callables(router: Any) -> list[tuple[str, CallableObject]]:
    found: list[tuple[str, CallableObject]] = []
    for kind, observer in router.observers.items():
        found += [(f"{router.name}.{kind} filter", f) for f in observer._handler.filters or []]
        for handler in observer.handlers:
            found.append((f"{router.name}.{kind} {handler.callback.__name__}", handler))
            found += [(f"{router.name}.{kind} filter", f) for f in handler.filters or []]
    for child in router.sub_routers:
        found += _callables(child)
    return found


def test_no_handler_or_filter_is_run_in_a_worker_thread() -> None:
    # aiogram runs any callable that is not a coroutine with asyncio.to_thread
    checked = [(where, item) for router in routers() for where, item in _callables(router)]
    assert len(checked) > 100
    on_a_thread = [where for where, item in checked if not item.awaitable]
    assert on_a_thread == []


async def test_a_magic_filter_is_resolved_on_the_loops_thread() -> None:
    seen: list[int] = []
    bp = Blueprint("probe")

    @bp.message(F.text.func(lambda text: seen.append(threading.get_ident()) or text == "hi"))
    async def hi(message: Any) -> str:
        return "answered"

    message = Message(message_id=1, date=0, chat=Chat(id=1, type="private"), text="hi")
    router = bp.build()
    assert await router.message.trigger(message) == "answered"
    assert seen == [threading.get_ident()]
