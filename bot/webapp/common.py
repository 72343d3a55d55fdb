"""Shared by the dashboard's handlers: who is asking (403 for anyone but a coordinator),
one transaction per request, JSON answers and refusals in the viewer's language.

Every API request carries Telegram's signed init data (``Authorization: tma <initData>``).
Domain changes and the messages they cause (outbox rows) are committed together and
delivered after the commit; nothing here calls the Bot API."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import access, events, onboarding
from bot.domain.access import Action
from bot.domain.context import Domain
from bot.i18n import tr
from bot.webapp.auth import Denied, Viewer, viewer_for
from bot.webapp.labels import ACTION_RESULTS
from models import Case, Person
from models.db import read_only

log = logging.getLogger(__name__)

DOMAIN = web.AppKey("domain", Domain)


def init_data_of(request: web.Request) -> str:
    header = request.headers.get("Authorization", "")
    return header[4:] if header.startswith("tma ") else ""


@contextlib.asynccontextmanager
async def as_viewer(
    request: web.Request, *, writes: bool
) -> AsyncIterator[tuple[AsyncSession, Viewer]]:
    """A session and the verified coordinator; 403 for anyone else. Reads run in one
    read-only snapshot; writes commit when the block ends without an error."""
    domain = request.app[DOMAIN]
    async with domain.sessions() as session:
        if not writes:
            await read_only(session)
        try:
            viewer = await viewer_for(session, domain, init_data_of(request))
        except Denied as exc:
            log.info("dashboard refused %s %s: %s", request.method, request.path, exc)
            raise web.HTTPForbidden(text="forbidden") from None
        yield session, viewer
        await session.commit()


def json(data: Any, status: int = 200) -> web.Response:
    response = web.json_response(data, status=status, headers={"Cache-Control": "no-store"})
    response.enable_compression()
    return response


def refusal(viewer: Viewer, reason: str, status: int = 409) -> web.Response:
    return json({"ok": False, "reason": tr(viewer.language, ACTION_RESULTS[reason])}, status)


async def body_of(request: web.Request) -> dict[str, Any]:
    try:
        data = await request.json()
    except ValueError:
        raise web.HTTPBadRequest(text="a JSON object is expected") from None
    if not isinstance(data, dict):
        raise web.HTTPBadRequest(text="a JSON object is expected")
    return data


def chosen_corridors(request: web.Request, viewer: Viewer) -> list[str]:
    wanted = request.query.get("corridor", "")
    if not wanted:
        return viewer.corridors
    if wanted not in viewer.corridors:
        raise web.HTTPForbidden(text="forbidden")
    return [wanted]


async def viewer_case(session: AsyncSession, viewer: Viewer, code: str, action: Action) -> Case:
    """The case if the access policy puts it within the viewer's reach for ``action``:
    a case out of reach is refused exactly like one that does not exist."""
    case = await access.case_for(session, viewer.role, action, code)
    if case is None:
        raise web.HTTPForbidden(text="forbidden")
    return case


def require(viewer: Viewer, action: Action) -> None:
    if not access.allowed(viewer.role, action):
        raise web.HTTPForbidden(text="forbidden")


async def record(
    session: AsyncSession, domain: Domain, viewer: Viewer, kind: str, case_id: int
) -> None:
    await events.record(session, domain, kind, case_id=case_id, actor=f"person:{viewer.person.id}")


async def reassign_candidates(session: AsyncSession, viewer: Viewer) -> list[Person]:
    organisations = [
        o.id for o in await onboarding.manageable_organisations(session, viewer.person)
    ]
    return list(
        await session.scalars(
            select(Person)
            .where(Person.organisation_id.in_(organisations), Person.active.is_(True))
            .order_by(Person.name)
        )
    )
