"""aiogram handlers, one module per feature. Order matters: specific before general, fallback
last. Each dispatcher gets fresh routers (see handlers.blueprint).

Every callback query is answered exactly once, after the update's commit, by
``bot.middlewares.DatabaseMiddleware``: empty, unless the handler called ``query.answer``
with a toast or an alert (the last call wins)."""

from __future__ import annotations

from aiogram import Router


def routers() -> list[Router]:
    from handlers import (
        checkins,
        claims,
        coordinator,
        drills,
        errors,
        fallback,
        followup,
        groups,
        guards,
        intake,
        membership,
        menu,
        outcome,
        referral,
        replies,
        report,
        reporter,
        safety,
        saved,
        sos,
        timeline,
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
        # Once one module, kept in its order: a form's state handler (outcome, referral)
        # takes any text, commands included, before the commands registered after it.
        claims.router,
        replies.router,
        timeline.router,
        outcome.router,
        referral.router,
        followup.router,
        sos.router,
        safety.router,
        menu.router,
        intake.router,
        reporter.router,
        checkins.router,
        groups.silence,
        fallback.router,
    ]
    return [blueprint.build() for blueprint in blueprints]
