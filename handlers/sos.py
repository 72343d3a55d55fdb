"""SOS: two taps to an urgent, routed case. Details can follow and join the same case."""

from __future__ import annotations

import datetime as dt

from aiogram import F
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import cases as case_domain
from bot.domain.context import Domain
from bot.domain.people import Role
from bot.domain.places import LANGUAGE_ORIGINS, timezone_of
from bot.i18n import N_, _
from bot.taxonomy import ConsentPurpose
from bot.views import sos as sos_view
from bot.views.buttons import Menu, SosSend
from handlers.blueprint import Blueprint
from models import Case, Corridor

router = Blueprint("sos")

# An SOS cannot wait for three consent questions: one sentence covers both sides, so an
# unclaimed alert may climb to the home-country side of the corridor.
SOS_CONSENT = N_(
    "By tapping, you agree that trusted helpers in that country and in your home country see this alert."
)
router.message.filter(F.chat.type == "private")
router.callback_query.filter(F.message.chat.type == "private")


async def _ask_country(message: Message, session: AsyncSession, role: Role) -> None:
    destinations = await case_domain.sos_countries(session, role.reporter)
    await message.answer(
        _("🆘 Which country are you in? Tap it and we alert helpers there at once.")
        + "\n\n"
        + _(SOS_CONSENT),
        reply_markup=sos_view.countries_keyboard(destinations),
        protect_content=True,
    )


@router.message(Command("sos"))
async def sos_command(
    message: Message, session: AsyncSession, role: Role, state: FSMContext
) -> None:
    await _ask_country(message, session, role)


@router.callback_query(Menu.filter(F.action == "sos"))
async def sos_button(query: CallbackQuery, session: AsyncSession, role: Role) -> None:
    await _ask_country(query.message, session, role)


async def _origin_for(
    session: AsyncSession, role: Role, destination: str, language: str
) -> str | None:
    origins = list(
        await session.scalars(
            select(Corridor.origin)
            .where(Corridor.destination == destination, Corridor.active.is_(True))
            .order_by(Corridor.code)
        )
    )
    if not origins:
        return None
    if role.reporter is not None:
        previous = await session.scalar(
            select(Case.origin_country)
            .where(Case.reporter_id == role.reporter.id, Case.destination_country == destination)
            .order_by(Case.id.desc())
            .limit(1)
        )
        if previous in origins:
            return previous
    hinted = LANGUAGE_ORIGINS.get(language)
    return hinted if hinted in origins else origins[0]


async def _recent_sos(
    session: AsyncSession, role: Role, country: str, domain: Domain
) -> Case | None:
    if role.reporter is None:
        return None
    return await session.scalar(
        select(Case)
        .where(
            Case.reporter_id == role.reporter.id,
            Case.destination_country == country,
            Case.urgency_reason.like("sos%"),
            Case.created_at >= domain.now() - dt.timedelta(minutes=10),
        )
        .order_by(Case.id.desc())
        .limit(1)
    )


@router.callback_query(SosSend.filter())
async def sos_send(
    query: CallbackQuery,
    callback_data: SosSend,
    session: AsyncSession,
    domain: Domain,
    role: Role,
    language: str,
    state: FSMContext,
) -> None:
    origin = await _origin_for(session, role, callback_data.country, language)
    if origin is None:
        await query.answer(_("That choice is not available."), show_alert=True)
        return
    await query.answer(_("SOS sent"))
    recent = await _recent_sos(session, role, callback_data.country, domain)
    if recent is not None:
        # A double tap, or a second tap because the first felt slow: one alert is enough.
        await query.message.answer(
            _(
                "Your SOS {code} is already with helpers. Write here or share your location: it is added to that case.",
                code=recent.code,
            ),
            protect_content=True,
        )
        return
    reporter = role.reporter or await case_domain.reporter_for(
        session, domain, query.from_user.id, query.message.chat.id, language
    )
    reporter.timezone = timezone_of(callback_data.country)
    # An unfinished report would otherwise swallow the details that follow the SOS.
    await state.clear()
    report = case_domain.Report(
        reporter_role="self",
        destination_country=callback_data.country,
        origin_country=origin,
        categories=["OTHR"],
        language=language,
        sos=True,
        in_danger=True,
        consents={
            ConsentPurpose.DESTINATION_HELP.value: True,
            ConsentPurpose.ORIGIN_HELP.value: True,
        },
        consent_text=SOS_CONSENT,
    )
    try:
        case = await case_domain.submit_report(session, domain, reporter, report)
    except case_domain.IntakeError:
        await query.message.answer(
            _(
                "You have opened many cases today. Please write in your open case instead; /status shows them."
            )
        )
        return
    await query.message.edit_reply_markup(reply_markup=None)
    await query.message.answer(
        _(
            "🆘 SOS sent. Your case code is {code}. Helpers are being alerted now.\n\n"
            "If you can, share your location with the button below, or write what is happening. Everything you send here is added to this case.",
            code=case.code,
        ),
        reply_markup=sos_view.share_location_keyboard(),
        protect_content=True,
    )
