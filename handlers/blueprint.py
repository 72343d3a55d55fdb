"""Handler modules declare their handlers on a Blueprint at import; each dispatcher gets a
fresh aiogram Router built from it. aiogram's routers can belong to one parent only, and a
process may build several dispatchers (tests, benchmarks, the sandbox): a module-level
Router would have to be detached through a private attribute."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiogram import Router

Step = Callable[[Router], None]


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
        kind = self.kind
        self.steps.append(lambda r: getattr(r, kind).register(callback, *filters, **kwargs))

    def filter(self, *filters: Any) -> None:
        kind = self.kind
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
        router = Router(name=self.name)
        for step in self._steps:
            step(router)
        return router
