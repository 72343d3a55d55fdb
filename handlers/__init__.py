"""aiogram routers, one per feature. Order matters: specific before general, fallback last."""

from __future__ import annotations

from aiogram import Router


def routers() -> list[Router]:
    from handlers import coordinator, errors, fallback, groups, intake, menu, reporter, responder, sos

    return [
        errors.router,
        groups.router,
        coordinator.router,
        responder.router,
        sos.router,
        menu.router,
        intake.router,
        reporter.router,
        fallback.router,
    ]
