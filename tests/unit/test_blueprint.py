"""How the handlers' routers are built: every check runs on the event loop, and an update
skips the routers that could not take it."""

from __future__ import annotations

import threading
from typing import Any

from aiogram import Dispatcher, F
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.dispatcher.event.handler import CallableObject
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, Chat, Message, Update, User

from handlers import routers
from handlers.blueprint import Blueprint, callback_prefixes


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


class Probe(CallbackData, prefix="probe"):
    n: int


class Other(CallbackData, prefix="other"):
    n: int


def _press(data: str) -> CallbackQuery:
    return CallbackQuery(
        id="1", from_user=User(id=5, is_bot=False, first_name="A"), chat_instance="c", data=data
    )


def _dispatcher_with(*blueprints: Blueprint) -> Dispatcher:
    dispatcher = Dispatcher()
    for bp in blueprints:
        dispatcher.include_router(bp.build())
    return dispatcher


async def test_a_press_passes_over_routers_that_ask_for_other_buttons() -> None:
    checked: list[str] = []

    def noting(name: str) -> Any:
        async def check(_: Any) -> bool:
            checked.append(name)
            return True

        return check

    first, second = Blueprint("first"), Blueprint("second")

    @first.callback_query(noting("first"), Other.filter())
    async def other(_: Any) -> str:
        return "first"

    @second.callback_query(noting("second"), Probe.filter())
    async def probe(_: Any) -> str:
        return "second"

    dispatcher = _dispatcher_with(first, second)
    routers = dispatcher.sub_routers
    update = Update(update_id=1, callback_query=_press(Probe(n=1).pack()))
    assert await routers[0].propagate_event("callback_query", update.callback_query) is UNHANDLED
    assert checked == []
    assert await routers[1].propagate_event("callback_query", update.callback_query) == "second"
    assert checked == ["second"]


async def test_a_router_with_a_handler_for_any_press_sees_every_press() -> None:
    bp = Blueprint("any")

    @bp.callback_query(Other.filter())
    async def other(_: Any) -> str:
        return "other"

    @bp.callback_query()
    async def anything(_: Any) -> str:
        return "anything"

    router = bp.build()
    assert callback_prefixes(router) is None
    assert await router.propagate_event("callback_query", _press("probe:1")) == "anything"
    assert await router.propagate_event("callback_query", _press("other:1")) == "other"


async def test_a_router_without_handlers_for_the_update_type_is_passed_over() -> None:
    bp = Blueprint("messages only")
    walked: list[str] = []

    @bp.message()
    async def text(_: Any) -> str:
        return "text"

    router = bp.build()
    router.callback_query.outer_middleware(lambda h, e, d: walked.append("x") or h(e, d))
    assert await router.propagate_event("callback_query", _press("probe:1")) is UNHANDLED
    assert walked == []
    message = Message(message_id=1, date=0, chat=Chat(id=1, type="private"), text="hi")
    assert await router.propagate_event("message", message) == "text"


def test_every_button_the_bot_draws_reaches_a_router_that_asks_for_it() -> None:
    # The prefixes the built routers ask for, against every CallbackData class the views use.
    from bot.views import buttons

    asked = set()
    for router in routers():
        prefixes = callback_prefixes(router)
        if prefixes:
            asked |= prefixes
    drawn = {
        cls.__prefix__
        for cls in vars(buttons).values()
        if isinstance(cls, type) and issubclass(cls, CallbackData) and cls is not CallbackData
    }
    assert drawn and drawn <= asked, drawn - asked
