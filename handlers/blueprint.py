"""Handler modules declare their handlers on a Blueprint at import; each dispatcher gets a
fresh aiogram Router built from it. aiogram's routers can belong to one parent only, and a
process may build several dispatchers (tests, benchmarks, the sandbox): a module-level
Router would have to be detached through a private attribute."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiogram import Router
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.filters import Command, Filter, StateFilter
from aiogram.filters.callback_data import CallbackQueryFilter
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from magic_filter import MagicFilter

Step = Callable[[Router], None]


class OnTheLoop(Filter):
    """A magic filter checked on the event loop. aiogram runs every filter that is not a
    coroutine with ``asyncio.to_thread``: a hop to a worker thread and back for a check
    that takes microseconds, nine of them for one ``/start``."""

    def __init__(self, magic: MagicFilter) -> None:
        self.magic = magic

    async def __call__(self, event: Any) -> Any:
        return self.magic.resolve(event)

    def __str__(self) -> str:
        return f"OnTheLoop({self.magic!r})"


def _on_the_loop(filters: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(OnTheLoop(f) if isinstance(f, MagicFilter) else f for f in filters)


class QuickRouter(Router):
    """A router that passes over an update none of its handlers could take, without
    wrapping middlewares or checking a filter: an update type it has no handlers for, a
    button press whose callback data has a prefix none of its handlers asks for, a message
    that every handler turns down on its command or its conversation state. An update goes
    through twenty routers, and aiogram's walk through each cost more than the echo bot
    spends on a whole update."""

    def __init__(self, *, name: str | None = None) -> None:
        super().__init__(name=name)
        self._gates: dict[str, list[Gate | None]] = {}

    async def propagate_event(self, update_type: str, event: Any, **kwargs: Any) -> Any:
        if not self.sub_routers:
            observer = self.observers.get(update_type)
            if observer is None or not observer.handlers:
                return UNHANDLED
            if isinstance(event, CallbackQuery) and not self._may_take(event):
                return UNHANDLED
            if isinstance(event, Message) and "raw_state" in kwargs:
                gates = self._gates.get(update_type)
                if gates is None:
                    gates = self._gates[update_type] = [gate_of(h) for h in observer.handlers]
                said = first_word(event)
                state = kwargs["raw_state"]
                if all(gate is not None and not gate.lets(said, state) for gate in gates):
                    return UNHANDLED
            if not len(observer.outer_middleware):
                # aiogram's own steps, less wrapping the handler in an empty middleware
                # chain (a functools.wraps at every router, on every update).
                kwargs.update(event_router=self)
                return await self._propagate_event(
                    observer=observer, update_type=update_type, event=event, **kwargs
                )
        return await super().propagate_event(update_type, event, **kwargs)

    @functools.cached_property
    def _callback_prefixes(self) -> frozenset[str] | None:
        # Known once the handlers are registered: asked at the first press, not at build.
        return callback_prefixes(self)

    def _may_take(self, query: CallbackQuery) -> bool:
        prefixes = self._callback_prefixes
        if prefixes is None or query.data is None:
            return True
        return query.data.split(":", 1)[0] in prefixes


def callback_prefixes(router: Router) -> frozenset[str] | None:
    """The callback data prefixes the router's button handlers ask for; None when one of them
    takes a press without asking for one (anything may be for it)."""
    prefixes: set[str] = set()
    for handler in router.callback_query.handlers:
        asked = [
            f.callback.callback_data
            for f in handler.filters or ()
            if isinstance(f.callback, CallbackQueryFilter)
        ]
        if not asked or any(data.__separator__ != ":" for data in asked):
            return None
        prefixes.update(data.__prefix__ for data in asked)
    return frozenset(prefixes)


def first_word(message: Message) -> str | None:
    """The first word of the message's text (or caption), where a command would be."""
    text = message.text or message.caption
    if not text:
        return None
    words = text.split(maxsplit=1)
    return words[0] if words else None


_ANY = object()


@dataclass(frozen=True)
class Gate:
    """What a message handler's command and state filters let through, when they can be
    told without running them: a message they turn down is never shown to the handler.
    (The filters still run for a message that passes.)"""

    commands: tuple[tuple[str, frozenset[str], bool], ...]  # (prefixes, names, ignore case)
    states: tuple[frozenset[str | None], ...]

    def lets(self, said: str | None, state: str | None) -> bool:
        for prefixes, names, ignore_case in self.commands:
            if said is None or said[0] not in prefixes:
                return False
            name = said[1:].partition("@")[0]
            if (name.casefold() if ignore_case else name) not in names:
                return False
        return all(state in allowed for allowed in self.states)


def gate_of(handler: Any) -> Gate | None:
    """The handler's gate, or None when nothing can be told without running its filters."""
    commands, states = [], []
    for item in handler.filters or ():
        check = item.callback
        if isinstance(check, Command):
            if not all(isinstance(c, str) for c in check.commands):
                continue  # a pattern: only the filter can tell
            fold = bool(check.ignore_case)
            names = frozenset(c.casefold() if fold else c for c in check.commands)
            commands.append((str(check.prefix), names, fold))
        elif isinstance(check, StateFilter):
            allowed = _state_names(check.states)
            if allowed is not _ANY:
                states.append(allowed)
    if not commands and not states:
        return None
    return Gate(tuple(commands), tuple(states))


def _state_names(states: Any) -> Any:
    names: set[str | None] = set()
    for state in states:
        if state is None or isinstance(state, str):
            if state == "*":
                return _ANY
            names.add(state)
        elif isinstance(state, State):
            if state.state == "*":
                return _ANY
            names.add(state.state)
        elif isinstance(state, StatesGroup):
            names.update(type(state).__all_states_names__)
        elif isinstance(state, type) and issubclass(state, StatesGroup):
            names.update(state.__all_states_names__)
        else:
            return _ANY
    return frozenset(names)


class _Observer:
    def __init__(self, kind: str, steps: list[Step]) -> None:
        self.kind = kind
        self.steps = steps

    def __call__(self, *filters: Any, **kwargs: Any) -> Callable[[Any], Any]:
        def decorator(callback: Any) -> Any:
            self.register(callback, *filters, **kwargs)
            return callback

        return decorator

    def register(self, callback: Any, *filters: Any, **kwargs: Any) -> None:
        kind, filters = self.kind, _on_the_loop(filters)
        self.steps.append(lambda r: getattr(r, kind).register(callback, *filters, **kwargs))

    def filter(self, *filters: Any) -> None:
        kind, filters = self.kind, _on_the_loop(filters)
        self.steps.append(lambda r: getattr(r, kind).filter(*filters))

    def middleware(self, middleware: Any) -> None:
        kind = self.kind
        self.steps.append(lambda r: getattr(r, kind).middleware(middleware))


class Blueprint:
    """Looks like an aiogram Router for declaring handlers (``@bp.message(...)``,
    ``bp.callback_query.filter(...)``); ``build()`` makes the Router."""

    OBSERVERS = tuple(Router().observers)

    def __init__(self, name: str) -> None:
        self.name = name
        self._steps: list[Step] = []
        for kind in self.OBSERVERS:
            setattr(self, kind, _Observer(kind, self._steps))
        self.errors = self.error

    def build(self) -> Router:
        router = QuickRouter(name=self.name)
        for step in self._steps:
            step(router)
        return router
