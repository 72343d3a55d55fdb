"""How the handlers' routers are built: every check runs on the event loop, and an update
skips the routers that could not take it."""

from __future__ import annotations

import re
import threading
from types import SimpleNamespace
from typing import Any

from aiogram import Dispatcher, F
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.dispatcher.event.handler import CallableObject
from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Chat, Message, Update, User

from handlers import routers
from handlers.blueprint import Blueprint, callback_prefixes, first_word, gate_of


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


def _text(text: str | None, caption: str | None = None) -> Message:
    return Message(
        message_id=1, date=0, chat=Chat(id=1, type="private"), text=text, caption=caption
    )


class Asking(StatesGroup):
    name = State()


async def test_a_message_passes_over_routers_whose_commands_and_states_turn_it_down() -> None:
    checked: list[str] = []

    async def noting(_: Any) -> bool:
        checked.append("filter")
        return True

    bp = Blueprint("commands and a state")

    @bp.message(noting, Command("stats"))
    async def stats(_: Any) -> str:
        return "stats"

    @bp.message(noting, StateFilter(Asking.name))
    async def name(_: Any) -> str:
        return "name"

    router = bp.build()
    bot = SimpleNamespace(me=None)

    async def send(text: str, state: str | None) -> Any:
        return await router.propagate_event("message", _text(text), raw_state=state, bot=bot)

    assert await send("hello", None) is UNHANDLED
    assert await send("/start", None) is UNHANDLED
    assert checked == []
    assert await send("Ram", Asking.name.state) == "name"
    assert await send("/stats week", None) == "stats"


async def test_a_handler_the_gate_cannot_judge_sees_every_message() -> None:
    bp = Blueprint("a pattern")

    @bp.message(Command(re.compile(r"case_\d+")))
    async def case(_: Any) -> str:
        return "case"

    router = bp.build()
    bot = SimpleNamespace(me=None)
    reply = await router.propagate_event("message", _text("/case_12"), raw_state=None, bot=bot)
    assert reply == "case"


async def test_the_gates_never_turn_down_a_message_a_handlers_filters_would_take() -> None:
    """Every message handler of the bot, against commands (with a mention, in capitals, with
    words after them, in a caption), plain words, and every conversation state."""

    async def me() -> Any:
        return SimpleNamespace(username="corridor_bot")

    bot = SimpleNamespace(me=me)
    handlers = [h for r in routers() for h in r.message.handlers]
    commands, states = set(), {None, "Unknown:state"}
    for handler in handlers:
        for item in handler.filters or ():
            if isinstance(item.callback, Command):
                commands.update(c for c in item.callback.commands if isinstance(c, str))
            if isinstance(item.callback, StateFilter):
                states.update(getattr(s, "state", s) for s in item.callback.states)
    texts: list[tuple[str | None, str | None]] = [(None, None), ("help me", None), ("", None)]
    for command in sorted(commands):
        texts += [
            (f"/{command}", None),
            (f"/{command}@corridor_bot now", None),
            (f"/{command.upper()}", None),
            (None, f"/{command} photo"),
        ]
    judged = 0
    for handler in handlers:
        gate = gate_of(handler)
        if gate is None:
            continue
        for text, caption in texts:
            message = _text(text, caption)
            for state in states:
                takes = True
                for item in handler.filters or ():
                    if isinstance(item.callback, Command):
                        takes = takes and bool(await item.callback(message, bot))
                    elif isinstance(item.callback, StateFilter):
                        takes = takes and bool(await item.callback(message, raw_state=state))
                if takes:
                    assert gate.lets(first_word(message), state), (handler.callback, text, state)
                judged += 1
    assert judged > 1000
