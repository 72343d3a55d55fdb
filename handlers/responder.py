"""Responders: claim and pass in groups, relay replies, timeline, resolve, refer, snooze."""

from __future__ import annotations

import datetime as dt
import html

from aiogram import F
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import labels
from bot.domain import (
    access,
    claims,
    events,
    followups,
    onboarding,
    recipients,
    referral,
    relay,
    resolution,
)
from bot.domain.access import Action
from bot.domain.context import Domain
from bot.domain.people import Role, group_by_chat, on_call
from bot.domain.places import MoneyError, currency_of, parse_money
from bot.i18n import N_, _, bidi_lines, current_language
from bot.taxonomy import OUTCOMES
from bot.views.buttons import Claim, Outcome, Pass, PassReason, Refer, Snooze
from handlers.blueprint import Blueprint
from handlers.filters import Allowed
from models import Case, CaseEvent, Organisation, Person

router = Blueprint("responder")

PASS_REASONS = {
    "busy": N_("Too busy"),
    "language": N_("Language"),
    "scope": N_("Not our kind of case"),
    "conflict": N_("Conflict of interest"),
}


@router.callback_query(Claim.filter(), F.message.chat.type.in_({"group", "supergroup"}))
async def claim(
    query: CallbackQuery, callback_data: Claim, session: AsyncSession, domain: Domain, role: Role
) -> None:
    result = await claims.claim(
        session, domain, callback_data.case_id, role.person, query.message.chat.id
    )
    if result.outcome == "won":
        await query.answer(
            _(
                "You own case {code} now. Details are in your private chat with me.",
                code=result.case.code,
            )
        )
    elif result.outcome == "taken":
        await query.answer(
            _("Already claimed by {name}.", name=result.owner_name or "—"), show_alert=True
        )
    elif result.outcome == "not_member":
        await query.answer(
            _("Only responders of this group's organisation can claim this case."), show_alert=True
        )
    else:
        await query.answer(_("This case is no longer open."), show_alert=True)


@router.callback_query(Pass.filter(), F.message.chat.type.in_({"group", "supergroup"}))
async def pass_case(
    query: CallbackQuery, callback_data: Pass, session: AsyncSession, role: Role
) -> None:
    if not await claims.is_member_for_card(
        session, callback_data.case_id, role.person, query.message.chat.id
    ):
        await query.answer(
            _("Only responders of this group's organisation can claim this case."), show_alert=True
        )
        return
    await query.answer()
    rows = [
        [
            InlineKeyboardButton(
                text=_(label),
                callback_data=PassReason(case_id=callback_data.case_id, reason=key).pack(),
            )
        ]
        for key, label in PASS_REASONS.items()
    ]
    await query.message.reply(
        _("Why are you passing?"), reply_markup=InlineKeyboardMarkup(inline_keyboard=rows)
    )


@router.callback_query(PassReason.filter(), F.message.chat.type.in_({"group", "supergroup"}))
async def pass_reason(
    query: CallbackQuery,
    callback_data: PassReason,
    session: AsyncSession,
    domain: Domain,
    role: Role,
) -> None:
    if callback_data.reason not in PASS_REASONS:
        await query.answer(_("This button is no longer valid."), show_alert=True)
        return
    result = await claims.pass_case(
        session,
        domain,
        callback_data.case_id,
        role.person,
        query.message.chat.id,
        callback_data.reason,
    )
    if result == "passed":
        await query.answer(_("Noted. The case stays open for others."))
        await query.message.delete()
    else:
        await query.answer(_("This button is no longer valid."), show_alert=True)


async def _still_allowed(
    session: AsyncSession, role: Role, state: FSMContext, message: Message, action: Action
) -> Case | None:
    """Multi-step forms check access again at every step: the person may have been
    removed, or the case taken from them, since the first one."""
    data = await state.get_data()
    case = await session.get(Case, data.get("case_id", 0))
    case = await access.case_for(session, role, action, case)
    if case is None:
        await state.clear()
        await message.answer(_("You no longer have access to this case; nothing was changed."))
    return case


@router.message(Command("reply"), F.chat.type == "private")
async def reply_command(
    message: Message, command: CommandObject, session: AsyncSession, domain: Domain, role: Role
) -> None:
    parts = (command.args or "").split(maxsplit=1)
    if role.person is None:
        await message.answer(_("This command is for responders."))
        return
    if len(parts) < 2:
        await message.answer(_("Usage: /reply CODE your message"))
        return
    case = await access.case_for(session, role, Action.REPLY, parts[0])
    if case is None:
        await message.answer(_("No case {code} is yours.", code=parts[0][:20]))
        return
    await _relay_to_reporter(message, session, domain, case, role.person, parts[1])


async def _relay_to_reporter(
    message: Message, session: AsyncSession, domain: Domain, case: Case, person: Person, text: str
) -> None:
    result = await relay.from_owner(session, domain, case, person, text)
    await message.answer(relay_result_text(result, case), parse_mode="HTML")


def relay_result_text(result: str, case: Case) -> str:
    """What the sender of a message to a reporter is told (``relay.from_owner``'s result),
    as HTML."""
    code = html.escape(case.code)
    if result == "unreachable":
        # Only the owner sends to a reporter: the other ways to reach them are theirs to see.
        return _("Not sent.") + " " + recipients.unreachable_text(case, current_language.get())
    return {
        "sent": _("Sent to the reporter of {code}.", code=code),
        "not_owner": _("No case {code} is yours.", code=code),
        "closed": _("Case {code} is not open; nothing was sent.", code=code),
        "no_reporter": _("The reporter of {code} can no longer be reached here.", code=code),
    }[result]


@router.message(
    F.chat.type == "private",
    F.reply_to_message,
    F.text & ~F.text.startswith("/"),
    Allowed(Action.REPLY),
    StateFilter(None),
)
async def reply_to_relayed(
    message: Message, session: AsyncSession, domain: Domain, role: Role
) -> None:
    case = await relay.case_for_reply(session, message.chat.id, message.reply_to_message.message_id)
    if case is None:
        await message.answer(_("That message is not linked to a case. Use /reply CODE text."))
        return
    await _relay_to_reporter(message, session, domain, case, role.person, message.text)


@router.message(Command("case"), F.chat.type == "private")
async def case_timeline(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    domain: Domain,
    role: Role,
    language: str,
) -> None:
    code = (command.args or "").strip()
    case = await access.case_for(session, role, Action.VIEW_CASE, code) if code else None
    if case is None:
        await message.answer(
            _("No case {code} is yours.", code=code[:20] or "—")
            if role.person
            else _("This command is for responders.")
        )
        return
    rows = list(
        await session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)
        )
    )[-40:]
    staff = {e.actor.partition(":")[2] for e in rows if e.actor.startswith("person:")}
    names = dict(
        (await session.execute(select(Person.id, Person.name).where(Person.id.in_(staff)))).all()
    )
    status = labels.status(case.status, language)
    lines = [
        f"🗂 <b>{html.escape(case.code)}</b> · {status} · {labels.urgency(case.urgency, language)}"
    ]
    for event in rows:
        lines.append(timeline_line(event, language, names))
    await events.record(
        session, domain, "timeline_read", case_id=case.id, actor=f"person:{role.person.id}"
    )
    text = bidi_lines("\n".join(lines), language)
    await message.answer(text, parse_mode="HTML", protect_content=True)


def timeline_line(event: CaseEvent, language: str, names: dict[str, str]) -> str:
    """One event in the reader's words: when (UTC), what, who."""
    who = labels.actor(event.actor, language, names)
    line = (
        f"{labels.moment(event.at, language)} UTC · {labels.event(event.kind, language)}"
        f" · {html.escape(who)}"
    )
    if event.kind == "card_undeliverable":
        # Which chat failed, so the coordinator knows which group id to fix.
        data = event.data or {}
        line += " — " + _(
            "the card could not reach chat {chat} ({title}, {org}): {reason}",
            chat=data.get("chat_id"),
            title=html.escape(data.get("title") or "—"),
            org=html.escape(data.get("organisation") or "?"),
            reason=_(recipients.REASONS.get(data.get("reason", ""), data.get("reason", "?"))),
        )
    return line


class Resolving(StatesGroup):
    amount = State()
    note = State()


@router.message(Command("resolve"), F.chat.type == "private")
async def resolve_command(
    message: Message, command: CommandObject, session: AsyncSession, role: Role
) -> None:
    code = (command.args or "").strip()
    case = await access.case_for(session, role, Action.RESOLVE, code) if code else None
    if case is None:
        await message.answer(_("Usage: /resolve CODE (a case you own)"))
        return
    rows = [
        [
            InlineKeyboardButton(
                text=_(label), callback_data=Outcome(case_id=case.id, code=key).pack()
            )
        ]
        for key, label in OUTCOMES.items()
    ]
    await message.answer(
        _("Outcome of case {code}?", code=case.code),
        reply_markup=InlineKeyboardMarkup(inline_keyboard=rows),
    )


@router.callback_query(Outcome.filter(), F.message.chat.type == "private")
async def outcome_chosen(
    query: CallbackQuery,
    callback_data: Outcome,
    session: AsyncSession,
    role: Role,
    state: FSMContext,
) -> None:
    case = await session.get(Case, callback_data.case_id)
    case = await access.case_for(session, role, Action.RESOLVE, case.code) if case else None
    if case is None or callback_data.code not in OUTCOMES:
        await query.answer(_("This button is no longer valid."), show_alert=True)
        return
    await query.answer()
    await query.message.edit_reply_markup(reply_markup=None)
    await state.set_data({"case_id": case.id, "outcome": callback_data.code})
    if callback_data.code == "WAGES_RECOVERED":
        await state.set_state(Resolving.amount)
        await query.message.answer(_("How much was recovered? For example 1200 QAR."))
    else:
        await state.set_state(Resolving.note)
        await query.message.answer(_("A short note for the record (or send - for none)."))


@router.message(StateFilter(Resolving.amount), F.text, F.chat.type == "private")
async def outcome_amount(
    message: Message, session: AsyncSession, role: Role, state: FSMContext
) -> None:
    case = await _still_allowed(session, role, state, message, Action.RESOLVE)
    if case is None:
        return
    try:
        minor, currency = parse_money(
            message.text, case.wage_currency or currency_of(case.destination_country)
        )
    except MoneyError:
        await message.answer(_("Please write only the amount, for example 1200 or 1200 QAR."))
        return
    await state.update_data(amount=minor, currency=currency)
    await state.set_state(Resolving.note)
    await message.answer(_("A short note for the record (or send - for none)."))


@router.message(StateFilter(Resolving.note), F.text, F.chat.type == "private")
async def outcome_note(
    message: Message, session: AsyncSession, domain: Domain, role: Role, state: FSMContext
) -> None:
    case = await _still_allowed(session, role, state, message, Action.RESOLVE)
    if case is None:
        return
    data = await state.get_data()
    await state.clear()
    note = None if message.text.strip() == "-" else message.text.strip()[:2000]
    try:
        await resolution.resolve(
            session,
            domain,
            case,
            role.person,
            data["outcome"],
            note,
            data.get("amount"),
            data.get("currency"),
        )
    except resolution.ResolutionError as error:
        await message.answer(_("Could not resolve: {reason}", reason=error.reason))
        return
    await message.answer(_("Case {code} resolved. Thank you.", code=case.code))


@router.message(Command("reopen"), F.chat.type == "private")
async def reopen_command(
    message: Message, command: CommandObject, session: AsyncSession, domain: Domain, role: Role
) -> None:
    case = await access.case_for(session, role, Action.REOPEN, (command.args or "").strip())
    if case is None:
        await message.answer(_("Usage: /reopen CODE"))
        return
    try:
        await resolution.reopen(session, domain, case, role.person)
    except resolution.ResolutionError:
        await message.answer(_("Case {code} is not resolved.", code=case.code))
        return
    await message.answer(_("Case {code} is open again.", code=case.code))


class Referring(StatesGroup):
    note = State()


@router.message(Command("refer"), F.chat.type == "private")
async def refer_command(
    message: Message, command: CommandObject, session: AsyncSession, role: Role, language: str
) -> None:
    case = await access.case_for(session, role, Action.REFER, (command.args or "").strip())
    if case is None:
        await message.answer(_("Usage: /refer CODE (a case you own)"))
        return
    targets = await referral.referral_targets(session, case)
    rows = [
        [
            InlineKeyboardButton(
                text=f"{org.name} ({labels.country(org.country, language)})",
                callback_data=Refer(case_id=case.id, org=org.id).pack(),
            )
        ]
        for org in targets
    ]
    if not rows:
        await message.answer(_("No other organisation serves this corridor."))
        return
    await message.answer(
        _("Refer case {code} to:", code=case.code),
        reply_markup=InlineKeyboardMarkup(inline_keyboard=rows),
    )


@router.callback_query(Refer.filter(), F.message.chat.type == "private")
async def refer_target(
    query: CallbackQuery, callback_data: Refer, session: AsyncSession, role: Role, state: FSMContext
) -> None:
    case = await session.get(Case, callback_data.case_id)
    case = await access.case_for(session, role, Action.REFER, case.code) if case else None
    target = await session.get(Organisation, callback_data.org)
    allowed = {o.id for o in await referral.referral_targets(session, case)} if case else set()
    if case is None or target is None or target.id not in allowed:
        await query.answer(_("This button is no longer valid."), show_alert=True)
        return
    await query.answer()
    await query.message.edit_reply_markup(reply_markup=None)
    await state.set_state(Referring.note)
    await state.set_data({"case_id": case.id, "org": target.id})
    await query.message.answer(
        _(
            "A note for {org} (what they need to know, e.g. flight and arrival time):",
            org=target.name,
        )
    )


@router.message(StateFilter(Referring.note), F.text, F.chat.type == "private")
async def refer_note(
    message: Message, session: AsyncSession, domain: Domain, role: Role, state: FSMContext
) -> None:
    case = await _still_allowed(session, role, state, message, Action.REFER)
    if case is None:
        return
    data = await state.get_data()
    await state.clear()
    target = await session.get(Organisation, data["org"])
    is_coordinator = await access.case_for(session, role, Action.OVERRIDE, case) is not None
    result = await referral.refer(
        session,
        domain,
        case,
        role.person,
        target,
        message.text.strip()[:2000],
        coordinator=is_coordinator,
    )
    replies = {
        "referred": _(
            "Case {code} referred to {org}. You will be told when they claim it.",
            code=case.code,
            org=target.name,
        ),
        "consent_asked": _(
            "The reporter has not agreed to share with that side yet; I asked them. You will hear back."
        ),
        "consent_pending": _(
            "The reporter has already been asked about sharing with that side and has not answered yet."
        ),
        "refused": _(
            "Referral refused: the reporter has not agreed to share with that side and cannot be asked through the bot."
        )
        + (
            "\n"
            + _(
                "If a life is at risk: /override {code} {org} reason", code=case.code, org=target.id
            )
            if is_coordinator
            else ""
        ),
        "not_owner": _("No case {code} is yours.", code=case.code),
    }
    await message.answer(replies[result])


@router.callback_query(Snooze.filter(), F.message.chat.type == "private")
async def snooze(
    query: CallbackQuery, callback_data: Snooze, session: AsyncSession, domain: Domain, role: Role
) -> None:
    case = await session.get(Case, callback_data.case_id)
    if (
        case is None
        or role.person is None
        or case.owner_person_id != role.person.id
        or not 1 <= callback_data.hours <= 24 * 30
    ):
        await query.answer(_("This button is no longer valid."), show_alert=True)
        return
    until = domain.now() + dt.timedelta(hours=callback_data.hours)
    await followups.snooze(session, domain, case, until)
    when = labels.moment(until, current_language.get()) + " UTC"
    await query.answer(_("Snoozed until {when}.", when=when))
    await query.message.edit_reply_markup(reply_markup=None)


@router.message(Command("followup"), F.chat.type == "private")
async def followup_date(
    message: Message, command: CommandObject, session: AsyncSession, domain: Domain, role: Role
) -> None:
    parts = (command.args or "").split()
    case = await access.case_for(session, role, Action.FOLLOWUP, parts[0]) if parts else None
    try:
        day = dt.date.fromisoformat(parts[1]) if len(parts) > 1 else None
    except ValueError:
        day = None
    if case is None or day is None:
        await message.answer(_("Usage: /followup CODE YYYY-MM-DD"))
        return
    until = dt.datetime.combine(day, dt.time(9, 0), tzinfo=dt.UTC)
    if until <= domain.now():
        await message.answer(_("Please give a date in the future."))
        return
    await followups.snooze(session, domain, case, until)
    await message.answer(
        _(
            "Next follow-up for {code}: {when}.",
            code=case.code,
            when=labels.date(day, current_language.get()),
        )
    )


@router.message(Command("oncall"))
async def oncall(message: Message, session: AsyncSession, domain: Domain, role: Role) -> None:
    """Who is on call now: in a group, for its organisation; for a responder, their own;
    for a coordinator, every organisation of their corridors."""
    group = (
        await group_by_chat(session, message.chat.id) if message.chat.type != "private" else None
    )
    if group is not None:
        organisations = [group.organisation_id]
    elif role.name in ("coordinator", "admin"):
        organisations = [
            o.id for o in await onboarding.manageable_organisations(session, role.person)
        ]
    elif role.person is not None and role.person.organisation_id:
        organisations = [role.person.organisation_id]
    else:
        await message.answer(_("This command is for responders."))
        return
    lines = []
    for organisation_id in organisations:
        org = await session.get(Organisation, organisation_id)
        people = await on_call(session, [organisation_id], domain.now())
        names = ", ".join(p.name for p in people) or _("nobody")
        lines.append(f"{org.name if org else organisation_id}: {names}")
    await message.answer(_("On call now:") + "\n" + "\n".join(lines))


@router.message(Command("override"), F.chat.type == "private")
async def override(
    message: Message, command: CommandObject, session: AsyncSession, domain: Domain, role: Role
) -> None:
    """A coordinator refers without the reporter's consent because a life is at risk; the
    reason is recorded in the audit trail."""
    parts = (command.args or "").split(maxsplit=2)
    case = await access.case_for(session, role, Action.OVERRIDE, parts[0]) if parts else None
    target = await session.get(Organisation, parts[1]) if len(parts) > 1 else None
    if case is not None and target is not None:
        # Only organisations of the case's own corridor, as for any referral.
        if target.id not in {o.id for o in await referral.referral_targets(session, case)}:
            target = None
    if case is None or target is None or len(parts) < 3:
        await message.answer(
            _("Usage: /override CODE ORGANISATION_ID reason (coordinators, danger to life only)")
        )
        return
    result = await referral.refer(
        session,
        domain,
        case,
        role.person,
        target,
        parts[2],
        override_reason=parts[2],
        coordinator=True,
    )
    if result == "referred":
        await message.answer(
            _(
                "Case {code} referred to {org}. You will be told when they claim it.",
                code=case.code,
                org=target.name,
            )
        )
    else:
        await message.answer(_("Case {code} is not open; nothing was sent.", code=case.code))
