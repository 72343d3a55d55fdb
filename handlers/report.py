"""`/report [FROM TO as YYYY-MM] [corridor] [public|partner]`: the corridor evidence report
(PDF and HTML) for coordinators, in their language (or English), sent only to them.

Minimal on purpose: the figures, the suppression and the files come from
bot.domain.evidence; this sends them as documents."""

from __future__ import annotations

import datetime as dt

from aiogram import F
from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import events, evidence
from bot.domain.access import Action
from bot.domain.context import Domain
from bot.domain.exports import threshold
from bot.domain.people import Role, coordinator_corridors
from bot.i18n import LANGUAGE_NAMES, LOCALES_DIR
from bot.views import report as view
from bot.views.common import not_for_coordinators
from handlers.blueprint import Blueprint
from handlers.filters import Allowed
from models.db import read_only

router = Blueprint("report")
router.message.filter(F.chat.type == "private")


@router.message(Command("report"), Allowed(Action.REPORT_EVIDENCE))
async def report(
    message: Message, command: CommandObject, session: AsyncSession, domain: Domain, role: Role
) -> None:
    corridors = await coordinator_corridors(session, role.person)
    corridor, audience, months = None, "partner", []
    for arg in (command.args or "").split():
        if arg.upper() in corridors:
            corridor = arg.upper()
        elif arg.lower() in ("public", "partner"):
            audience = arg.lower()
        else:
            try:
                months.append(evidence.parse_month(arg, "month"))
            except evidence.ReportError:
                months = [None]
                break
    if (
        len(months) not in (0, 2)
        or None in months
        or (months and months[0] > months[1])
        or (corridor is None and len(corridors) != 1)
    ):
        await message.answer(view.usage())
        return
    today = domain.now().date()
    first, last = months or [dt.date(today.year, 1, 1), today.replace(day=1)]
    language = role.person.language
    if language not in LANGUAGE_NAMES or not (
        language == "en" or (LOCALES_DIR / f"{language}.po").exists()
    ):
        language = "en"
    await events.record(
        session,
        domain,
        "report",
        actor=f"person:{role.person.id}",
        data={"corridor": corridor or corridors[0], "audience": audience},
    )
    await read_only(session)
    built = await evidence.build(
        session,
        corridor=corridor or corridors[0],
        first=first,
        last=last,
        audience=audience,
        language=language,
        k=threshold(domain.config.statistics, audience),
        pattern_threshold=domain.config.statistics.pattern_threshold,
        today=today,
    )
    stem = evidence.file_stem(built)
    for body, suffix in (
        (evidence.to_pdf(built), "pdf"),
        (evidence.to_html(built).encode(), "html"),
    ):
        await message.answer_document(
            BufferedInputFile(body, filename=f"{stem}.{suffix}"), protect_content=True
        )


@router.message(Command("report"))
async def not_coordinator(message: Message) -> None:
    await message.answer(not_for_coordinators())
