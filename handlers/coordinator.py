"""Coordinators: the digest on demand and quick statistics."""

from __future__ import annotations

import datetime as dt
import html

from aiogram import F
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot import labels
from bot.domain import digest, duties, onboarding
from bot.domain.access import Action
from bot.domain.claims import split_text
from bot.domain.context import Domain
from bot.domain.people import Role, coordinator_corridors
from bot.i18n import current_language
from bot.views import coordinator as view
from bot.views.buttons import InviteOrg
from bot.views.common import button_expired, not_for_coordinators
from bot.views.digest import render as render_digest
from bot.views.notices import dashboard_keyboard
from handlers.blueprint import Blueprint
from handlers.filters import Allowed
from models.db import read_only

router = Blueprint("coordinator")
router.message.filter(F.chat.type == "private")
router.callback_query.filter(F.message.chat.type == "private")


@router.message(Command("digest"), Allowed(Action.DIGEST))
async def digest_now(message: Message, session: AsyncSession, domain: Domain, role: Role) -> None:
    await duties.queue_digest(session, domain, role.person)
    await message.answer(view.digest_queued())


@router.message(Command("stats"), Allowed(Action.STATS))
async def stats(
    message: Message, command: CommandObject, session: AsyncSession, domain: Domain, role: Role
) -> None:
    corridors = await coordinator_corridors(session, role.person)
    days = 30
    for arg in (command.args or "").split():
        if arg.upper() in corridors:
            corridors = [arg.upper()]
        elif arg.rstrip("d").isdigit() and 0 < int(arg.rstrip("d")) <= 3660:
            days = int(arg.rstrip("d"))
        else:
            await message.answer(view.stats_usage())
            return
    await read_only(session)
    now = domain.now()
    data = await digest.collect(session, corridors, now - dt.timedelta(days=days), now, now)
    text = render_digest(data, role.person.language, now, days=days)
    for part in split_text(text):
        await message.answer(part, parse_mode="HTML")


@router.message(Command("dashboard"), Allowed(Action.DASHBOARD))
async def open_dashboard(message: Message, domain: Domain, role: Role) -> None:
    url = domain.config.webapp.public_url
    if not url:
        await message.answer(view.dashboard_not_set_up())
        return
    await message.answer(
        view.dashboard_intro(),
        reply_markup=dashboard_keyboard(url, role.person.language),
    )


@router.message(Command("digest", "stats", "dashboard"))
async def not_coordinator(message: Message) -> None:
    await message.answer(html.escape(not_for_coordinators()))


@router.message(Command("invite"), Allowed(Action.INVITE))
async def invite(message: Message, session: AsyncSession, role: Role) -> None:
    organisations = await onboarding.manageable_organisations(session, role.person)
    if not organisations:
        await message.answer(view.no_organisation())
        return
    await message.answer(
        view.invite_question(),
        reply_markup=view.invite_keyboard(organisations),
    )


@router.callback_query(InviteOrg.filter(), Allowed(Action.INVITE))
async def invite_link(
    query: CallbackQuery,
    callback_data: InviteOrg,
    session: AsyncSession,
    domain: Domain,
    role: Role,
) -> None:
    if not await onboarding.may_manage(session, role.person, callback_data.org):
        await query.answer(button_expired(), show_alert=True)
        return
    token = await onboarding.create_invite(session, domain, role.person, callback_data.org)
    await query.message.edit_reply_markup(reply_markup=None)
    await query.message.answer(
        view.invite_link(domain.bot_username, token),
        protect_content=True,
    )


@router.message(Command("team"), Allowed(Action.TEAM))
async def team(message: Message, session: AsyncSession, role: Role, language: str) -> None:
    teams = await onboarding.teams(session, role.person)
    await message.answer(view.team_text(teams, language), parse_mode="HTML")


@router.message(Command("remove"), Allowed(Action.REMOVE))
async def remove(
    message: Message, command: CommandObject, session: AsyncSession, domain: Domain, role: Role
) -> None:
    person_id = (command.args or "").strip()
    result = (
        await onboarding.remove_person(session, domain, role.person, person_id)
        if person_id
        else "unknown"
    )
    await message.answer(view.remove_result(result, person_id))


@router.message(Command("away", "cover"), Allowed(Action.ROTA))
async def rota_override(
    message: Message, command: CommandObject, session: AsyncSession, domain: Domain, role: Role
) -> None:
    """`/away PERSON_ID FROM TO` (holiday) or `/cover PERSON_ID FROM TO` (extra on-call days)."""
    parts = (command.args or "").split()
    # A bare `/away` must not index an empty list.
    person = parts[0] if parts else ""
    try:
        start, end = dt.date.fromisoformat(parts[1]), dt.date.fromisoformat(parts[2])
    except (IndexError, ValueError):
        start = end = None
    on_call = command.command == "cover"
    result = (
        "usage"
        if start is None
        else await onboarding.set_override(
            session, domain, role.person, person, start, end, on_call
        )
    )
    if result == "set":
        # Dates as the coordinator's language writes them.
        language = current_language.get()
        await message.answer(
            view.override_set(
                person, labels.date(start, language), labels.date(end, language), on_call
            )
        )
        return
    await message.answer(view.override_refused(result))


@router.message(Command("export"), Allowed(Action.EXPORT))
async def export(
    message: Message, command: CommandObject, session: AsyncSession, domain: Domain, role: Role
) -> None:
    """`/export [csv|json] [FROM TO] [CORRIDOR]`: anonymised statistics of the coordinator's
    corridors at the partner threshold, sent only to them."""
    from aiogram.types import BufferedInputFile

    from bot.domain.coordinator_export import FORMATS, default_window, export_files

    corridors = await coordinator_corridors(session, role.person)
    fmt, corridor, dates = "csv", None, []
    for arg in (command.args or "").split():
        if arg.lower() in FORMATS:
            fmt = arg.lower()
        elif arg.upper() in corridors:
            corridor = arg.upper()
        else:
            try:
                dates.append(dt.date.fromisoformat(arg))
            except ValueError:
                dates = [None]
                break
    if len(dates) not in (0, 2) or None in dates or (dates and dates[0] > dates[1]):
        await message.answer(view.export_usage())
        return
    start, end = dates or default_window(domain.now().date())
    chosen = [corridor] if corridor else corridors
    for file in await export_files(session, domain, role.person, chosen, fmt, start, end):
        await message.answer_document(
            BufferedInputFile(file.body.encode("utf-8"), filename=file.filename),
            caption=view.export_caption(file.cases_included, file.k),
            protect_content=True,
        )


@router.message(Command("invite", "team", "remove", "away", "cover", "export"))
async def not_coordinator_admin(message: Message) -> None:
    await message.answer(not_for_coordinators())
