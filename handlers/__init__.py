"""aiogram routers, one per feature. Order matters: specific before general, fallback last."""

from __future__ import annotations

from aiogram import Router


def routers() -> list[Router]:
    from handlers import (
        coordinator,
        errors,
        fallback,
        groups,
        intake,
        menu,
        reporter,
        responder,
        safety,
        sos,
    )

    result = [
        errors.router,
        groups.router,
        coordinator.router,
        responder.router,
        sos.router,
        safety.router,
        menu.router,
        intake.router,
        reporter.router,
        groups.silence,
        fallback.router,
    ]
    for router in result:
        # Routers are module singletons and aiogram has no public way to detach one. A
        # process that builds a second dispatcher (tests, benchmarks, an in-process
        # restart) re-attaches them; the earlier dispatcher is no longer running by then.
        router._parent_router = None
    return result
