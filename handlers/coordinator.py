"""Coordinators: the digest on demand and quick statistics."""

from __future__ import annotations

import datetime as dt
import html

from aiogram import F
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import labels
from bot.domain import digest, duties, onboarding
from bot.domain.access import Action
from bot.domain.claims import split_text
from bot.domain.context import Domain
from bot.domain.people import Role, coordinator_corridors
from bot.i18n import _, _n, current_language
from bot.views.buttons import InviteOrg
from bot.views.coordinator import invite_keyboard
from bot.views.digest import render as render_digest
from bot.views.notices import dashboard_keyboard
from handlers.blueprint import Blueprint
from handlers.filters import Allowed
from models import Person
from models.db import read_only

router = Blueprint("coordinator")
router.message.filter(F.chat.type == "private")
router.callback_query.filter(F.message.chat.type == "private")


@router.message(Command("digest"), Allowed(Action.DIGEST))
async def digest_now(message: Message, session: AsyncSession, domain: Domain, role: Role) -> None:
    await duties.queue_digest(session, domain, role.person)
    await message.answer(_("Your digest is on its way."))


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
            await message.answer(_("Usage: /stats [days, e.g. 30d] [corridor, e.g. NP-QA]"))
            return
    await read_only(session)
    now = domain.now()
    data = await digest.collect(session, corridors, now - dt.timedelta(days=days), now, now)
    text = render_digest(data, role.person.language, now).replace(
        _("📊 Daily digest"), _("📊 Last {n} days", n=days)
    )
    for part in split_text(text):
        await message.answer(part, parse_mode="HTML")


@router.message(Command("dashboard"), Allowed(Action.DASHBOARD))
async def open_dashboard(message: Message, domain: Domain, role: Role) -> None:
    url = domain.config.webapp.public_url
    if not url:
        await message.answer(
            _("The dashboard is not set up on this server yet (see [webapp] in the configuration).")
        )
        return
    await message.answer(
        _("Your corridors at a glance:"),
        reply_markup=dashboard_keyboard(url, role.person.language),
    )


@router.message(Command("digest", "stats", "dashboard"))
async def not_coordinator(message: Message) -> None:
    await message.answer(html.escape(_("This command is for coordinators.")))


@router.message(Command("invite"), Allowed(Action.INVITE))
async def invite(message: Message, session: AsyncSession, role: Role) -> None:
    organisations = await onboarding.manageable_organisations(session, role.person)
    if not organisations:
        await message.answer(_("None of your corridors has an organisation yet."))
        return
    await message.answer(
        _("Invite a responder to which organisation?"),
        reply_markup=invite_keyboard(organisations),
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
        await query.answer(_("This button is no longer valid."), show_alert=True)
        return
    token = await onboarding.create_invite(session, domain, role.person, callback_data.org)
    await query.message.edit_reply_markup(reply_markup=None)
    await query.message.answer(
        _(
            "Send this one-time link to the new responder (valid 7 days):\n{link}",
            link=f"https://t.me/{domain.bot_username}?start=join_{token}",
        ),
        protect_content=True,
    )


@router.message(Command("team"), Allowed(Action.TEAM))
async def team(message: Message, session: AsyncSession, role: Role, language: str) -> None:
    organisations = await onboarding.manageable_organisations(session, role.person)
    lines = []
    for org in organisations:
        people = await session.scalars(
            select(Person)
            .where(Person.organisation_id == org.id, Person.active.is_(True))
            .order_by(Person.id)
        )
        lines.append(f"<b>{html.escape(org.name)}</b>")
        lines += [
            f"• {html.escape(p.name)} — <code>{html.escape(p.id)}</code>"
            f" ({labels.role(p.role, language)})"
            for p in people
        ]
    await message.answer(
        "\n".join(lines) or _("None of your corridors has an organisation yet."), parse_mode="HTML"
    )


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
    replies = {
        "removed": _(
            "{person} no longer has access. Their open cases are back in the queue.",
            person=person_id,
        ),
        "not_allowed": _("You cannot remove this person."),
        "unknown": _("Usage: /remove PERSON_ID (see /team)"),
    }
    await message.answer(replies[result])


@router.message(Command("away", "cover"), Allowed(Action.ROTA))
async def rota_override(
    message: Message, command: CommandObject, session: AsyncSession, domain: Domain, role: Role
) -> None:
    """`/away PERSON_ID FROM TO` (holiday) or `/cover PERSON_ID FROM TO` (extra on-call days)."""
    parts = (command.args or "").split()
    # The replies below are all built up front: a bare `/away` must not index an empty list.
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
        shown = {
            "person": person,
            "start": labels.date(start, current_language.get()),
            "end": labels.date(end, current_language.get()),
        }
        await message.answer(
            _("Noted: {person} is on call from {start} to {end}.", **shown)
            if on_call
            else _("Noted: {person} is away from {start} to {end}.", **shown)
        )
        return
    replies = {
        "not_allowed": _(
            "You cannot change this person's rota (or the dates are the wrong way round)."
        ),
        "unknown": _("No such person. See /team."),
        "usage": _(
            "Usage: /away PERSON_ID YYYY-MM-DD YYYY-MM-DD or /cover PERSON_ID YYYY-MM-DD YYYY-MM-DD"
        ),
    }
    await message.answer(replies[result])


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
        await message.answer(
            _("Usage: /export [csv|json] [FROM TO as YYYY-MM-DD] [corridor, e.g. NP-QA]")
        )
        return
    start, end = dates or default_window(domain.now().date())
    chosen = [corridor] if corridor else corridors
    for file in await export_files(session, domain, role.person, chosen, fmt, start, end):
        await message.answer_document(
            BufferedInputFile(file.body.encode("utf-8"), filename=file.filename),
            caption=_n(
                "{n} case with statistics consent; small cells suppressed (k={k}).",
                "{n} cases with statistics consent; small cells suppressed (k={k}).",
                file.cases_included,
                k=file.k,
            ),
            protect_content=True,
        )


@router.message(Command("invite", "team", "remove", "away", "cover", "export"))
async def not_coordinator_admin(message: Message) -> None:
    await message.answer(_("This command is for coordinators."))
