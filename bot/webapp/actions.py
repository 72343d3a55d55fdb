"""What a coordinator can do from the page, through the same domain functions as the bot;
each is an event in the audit trail."""

from __future__ import annotations

import datetime as dt

from aiohttp import web

from bot.domain import claims, onboarding, routing
from bot.domain.access import Action
from bot.webapp.common import (
    DOMAIN,
    as_viewer,
    body_of,
    json,
    reassign_candidates,
    refusal,
    require,
    viewer_case,
)
from models import Organisation


async def nudge(request: web.Request) -> web.Response:
    domain = request.app[DOMAIN]
    body = await body_of(request)
    async with as_viewer(request, writes=True) as (session, viewer):
        case = await viewer_case(session, viewer, request.match_info["code"], Action.MANAGE_CASE)
        organisation = await session.get(Organisation, str(body.get("organisation", "")))
        if organisation is None:
            return refusal(viewer, "unknown")
        result = await routing.nudge(session, domain, case, viewer.person, organisation)
        return json({"ok": True}) if result == "nudged" else refusal(viewer, result)


async def release(request: web.Request) -> web.Response:
    domain = request.app[DOMAIN]
    async with as_viewer(request, writes=True) as (session, viewer):
        case = await viewer_case(session, viewer, request.match_info["code"], Action.MANAGE_CASE)
        if case.status != "claimed" or case.owner_person_id is None:
            return refusal(viewer, "not_claimed")
        await claims.release(
            session, domain, case, "coordinator", actor=f"person:{viewer.person.id}"
        )
        return json({"ok": True})


async def reassign(request: web.Request) -> web.Response:
    domain = request.app[DOMAIN]
    body = await body_of(request)
    async with as_viewer(request, writes=True) as (session, viewer):
        case = await viewer_case(session, viewer, request.match_info["code"], Action.MANAGE_CASE)
        person_id = str(body.get("person", ""))
        person = next(
            (p for p in await reassign_candidates(session, viewer) if p.id == person_id), None
        )
        if person is None:
            return refusal(viewer, "unknown")
        result = await claims.reassign(session, domain, case, viewer.person, person)
        return json({"ok": True}) if result == "reassigned" else refusal(viewer, result)


async def set_override(request: web.Request) -> web.Response:
    domain = request.app[DOMAIN]
    body = await body_of(request)
    async with as_viewer(request, writes=True) as (session, viewer):
        require(viewer, Action.ROTA)
        try:
            start = dt.date.fromisoformat(str(body.get("from", "")))
            end = dt.date.fromisoformat(str(body.get("to", "")))
        except ValueError:
            return refusal(viewer, "bad_dates", 400)
        if end < start:
            return refusal(viewer, "bad_dates", 400)
        result = await onboarding.set_override(
            session,
            domain,
            viewer.person,
            str(body.get("person", "")),
            start,
            end,
            bool(body.get("on_call", False)),
        )
        return json({"ok": True}) if result == "set" else refusal(viewer, result)
