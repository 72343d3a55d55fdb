"""aiogram handlers, one module per feature. Order matters: specific before general, fallback
last. Each dispatcher gets fresh routers (see handlers.blueprint)."""

from __future__ import annotations

from aiogram import Router


def routers() -> list[Router]:
    from handlers import (
        coordinator,
        drills,
        errors,
        fallback,
        groups,
        guards,
        intake,
        membership,
        menu,
        report,
        reporter,
        responder,
        safety,
        saved,
        sos,
    )

    blueprints = [
        guards.router,
        errors.router,
        groups.router,
        drills.router,
        membership.router,
        coordinator.router,
        report.router,
        saved.router,
        responder.router,
        sos.router,
        safety.router,
        menu.router,
        intake.router,
        reporter.router,
        groups.silence,
        fallback.router,
    ]
    return [blueprint.build() for blueprint in blueprints]
