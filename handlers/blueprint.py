"""Handler modules declare their handlers on a Blueprint at import; each dispatcher gets a
fresh aiogram Router built from it. aiogram's routers can belong to one parent only, and a
process may build several dispatchers (tests, benchmarks, the sandbox): a module-level
Router would have to be detached through a private attribute."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiogram import Router
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.filters import Filter
from aiogram.filters.callback_data import CallbackQueryFilter
from aiogram.types import CallbackQuery
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
    wrapping middlewares or checking a filter: an update type it has no handlers for, or a
    button press whose callback data has a prefix none of its handlers asks for. An update
    goes through twenty routers, and aiogram's walk through each cost more than the echo
    bot spends on a whole update."""

    def __init__(self, *, name: str | None = None) -> None:
        super().__init__(name=name)
        self._callback_prefixes: frozenset[str] | bool | None = False  # False: not yet known

    async def propagate_event(self, update_type: str, event: Any, **kwargs: Any) -> Any:
        if not self.sub_routers:
            observer = self.observers.get(update_type)
            if observer is None or not observer.handlers:
                return UNHANDLED
            if isinstance(event, CallbackQuery) and not self._may_take(event):
                return UNHANDLED
        return await super().propagate_event(update_type, event, **kwargs)

    def _may_take(self, query: CallbackQuery) -> bool:
        if self._callback_prefixes is False:
            self._callback_prefixes = callback_prefixes(self)
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
