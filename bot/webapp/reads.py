"""What the page shows: the viewer, the board, a case, the rota, trends, the export."""

from __future__ import annotations

import datetime as dt

from aiohttp import web
from sqlalchemy import select

from bot.domain import access, claims, dashboard, onboarding, trends
from bot.domain.access import Action
from bot.domain.coordinator_export import FORMATS, default_window, export_files
from bot.domain.people import on_call
from bot.i18n import RTL_LANGUAGES, tr
from bot.views.details import details_text
from bot.webapp import views
from bot.webapp.common import (
    DOMAIN,
    as_viewer,
    chosen_corridors,
    json,
    reassign_candidates,
    record,
    require,
    viewer_case,
)
from bot.webapp.labels import page_labels
from models import CaseCard, Organisation, Person, RotaOverride, RotaShift


async def me(request: web.Request) -> web.Response:
    async with as_viewer(request, writes=False) as (_, viewer):
        return json(
            {
                "name": viewer.person.name,
                "language": viewer.language,
                "direction": "rtl" if viewer.language in RTL_LANGUAGES else "ltr",
                "corridors": viewer.corridors,
                "labels": page_labels(viewer.language),
            }
        )


async def refusal_text(request: web.Request) -> web.Response:
    """What a refused page says, in the language the browser or Telegram asks for; it
    needs no init data and tells nothing about anyone."""
    from bot.i18n import normalise_language
    from bot.webapp.labels import PAGE_LABELS

    language = normalise_language(request.query.get("lang"))
    return json({"text": tr(language, PAGE_LABELS["denied"]), "language": language})


async def board(request: web.Request) -> web.Response:
    domain = request.app[DOMAIN]
    async with as_viewer(request, writes=False) as (session, viewer):
        corridors = chosen_corridors(request, viewer)
        now = domain.now()
        data = await dashboard.board(session, corridors, now)
        return json(views.board_json(data, viewer.language, now))


async def case_view(request: web.Request) -> web.Response:
    domain = request.app[DOMAIN]
    async with as_viewer(request, writes=True) as (session, viewer):
        case = await viewer_case(session, viewer, request.match_info["code"], Action.VIEW_CASE)
        owner = await session.get(Person, case.owner_person_id) if case.owner_person_id else None
        owner_org = (
            await session.get(Organisation, case.owner_organisation_id)
            if case.owner_organisation_id
            else None
        )
        # Ids first: PostgreSQL cannot compare the organisations' json columns for DISTINCT.
        holding = select(CaseCard.organisation_id).where(
            CaseCard.case_id == case.id, CaseCard.active.is_(True)
        )
        card_orgs = list(
            await session.scalars(
                select(Organisation).where(Organisation.id.in_(holding)).order_by(Organisation.name)
            )
        )
        events = await dashboard.timeline(session, case)
        # The same audit event as /case: the timeline shows who handled the case when.
        await record(session, domain, viewer, "timeline_read", case.id)
        candidates = await reassign_candidates(session, viewer)
        data = views.case_json(
            case, events, owner, owner_org, card_orgs, viewer.language, domain.now()
        )
        data["candidates"] = [{"id": p.id, "name": p.name} for p in candidates]
        # The page offers the second tap only where it would be answered.
        data["may_read_details"] = access.reaches(
            viewer.role, case, viewer.corridors, Action.READ_DETAILS
        )
        return json(data)


async def case_details(request: web.Request) -> web.Response:
    """The second tap: personal details, for exactly whom the bot sends them to (the
    case's owner), through the same access check and audit event as the bot's message.
    Anyone else is refused like a case that does not exist."""
    domain = request.app[DOMAIN]
    async with as_viewer(request, writes=True) as (session, viewer):
        opened = await claims.open_details(session, domain, viewer.role, request.match_info["code"])
        if opened is None:
            raise web.HTTPForbidden(text="forbidden")
        case, attachments = opened
        text = views.plain_text(details_text(case, viewer.language, attachments, commands=False))
        return json({"text": text, "description": case.description or ""})


async def oncall(request: web.Request) -> web.Response:
    domain = request.app[DOMAIN]
    async with as_viewer(request, writes=False) as (session, viewer):
        now = domain.now()
        organisations = await onboarding.manageable_organisations(session, viewer.person)
        ids = [o.id for o in organisations]
        people = list(
            await session.scalars(
                select(Person)
                .where(Person.organisation_id.in_(ids), Person.active.is_(True))
                .order_by(Person.name)
            )
        )
        person_ids = [p.id for p in people]
        shifts = list(
            await session.scalars(
                select(RotaShift)
                .where(RotaShift.person_id.in_(person_ids))
                .order_by(RotaShift.weekday, RotaShift.start)
            )
        )
        overrides = list(
            await session.scalars(
                select(RotaOverride)
                .where(
                    RotaOverride.person_id.in_(person_ids),
                    RotaOverride.ends_at > now,
                    RotaOverride.starts_at < now + dt.timedelta(days=7),
                )
                .order_by(RotaOverride.starts_at)
            )
        )
        now_on = {p.id for p in await on_call(session, domain, ids, now)}
        return json(views.oncall_json(organisations, people, shifts, overrides, now_on))


async def trend(request: web.Request) -> web.Response:
    domain = request.app[DOMAIN]
    try:
        days = int(request.query.get("days", "30"))
    except ValueError:
        days = 0
    if days not in trends.WINDOWS:
        raise web.HTTPBadRequest(text=f"days must be one of {trends.WINDOWS}")
    async with as_viewer(request, writes=False) as (session, viewer):
        require(viewer, Action.STATS)
        corridors = chosen_corridors(request, viewer)
        result = await trends.trends(session, corridors, domain.now(), days)
        return json(views.trends_json(result, viewer.language))


async def export(request: web.Request) -> web.Response:
    """The same files as /export, one corridor at a time (a browser downloads one file)."""
    domain = request.app[DOMAIN]
    fmt = request.query.get("format", "csv")
    if fmt not in FORMATS:
        raise web.HTTPBadRequest(text="format must be csv or json")
    async with as_viewer(request, writes=True) as (session, viewer):
        require(viewer, Action.EXPORT)
        corridor = request.query.get("corridor") or viewer.corridors[0]
        if corridor not in viewer.corridors:
            raise web.HTTPForbidden(text="forbidden")
        start, end = default_window(domain.now().date())
        [file] = await export_files(session, domain, viewer.person, [corridor], fmt, start, end)
    return web.Response(
        text=file.body,
        content_type="text/csv" if fmt == "csv" else "application/json",
        headers={
            "Content-Disposition": f'attachment; filename="{file.filename}"',
            "Cache-Control": "no-store",
        },
    )
