"""Saved replies: reviewed, parameterised messages a responder sends to a reporter, who reads
them in the reporter's own language whatever the responder's.

The built-in ones live in the gettext catalogues like every other message; organisations add
their own in the network file with a text per language. A reply without a text in the
reporter's language is not offered: a reviewed text is the point, not a machine's guess."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from babel.dates import format_date, format_datetime
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import relay
from bot.domain.context import Domain
from bot.i18n import N_, has_translation, tr
from models import Case, Person, SavedReplyText

# code → (title for the sender's picker, text for the reporter, fields asked for)
BUILT_IN: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "ACK": (
        N_("Case received"),
        N_(
            "Hello, I have received your case and I am working on it. You can write to me here at any time; only I read your messages."
        ),
        (),
    ),
    "DOCS": (
        N_("Ask for documents"),
        N_(
            "Please send photos of any documents you have: passport, ID card, contract, payslips, visa or work permit. Photos taken with your phone are fine."
        ),
        (),
    ),
    "COPIES": (
        N_("Keep copies of contract and payslips"),
        N_(
            "Keep copies of your contract and payslips: take photos of them and, if you can, send them to a family member you trust."
        ),
        (),
    ),
    "NOSIGN": (
        N_("Do not sign what you do not understand"),
        N_(
            "Do not sign anything you do not understand, and do not sign a paper saying you were paid unless you were. You may ask for time to get advice."
        ),
        (),
    ),
    "EMBASSY": (
        N_("Embassy contact"),
        N_(
            "You can contact your embassy: {office}, phone {phone}. Tell them your case code {code}."
        ),
        ("office", "phone"),
    ),
    "LABOUR": (
        N_("Labour office contact"),
        N_(
            "You can make a complaint at the labour office: {office}, phone {phone}. Take your ID and any documents you have."
        ),
        ("office", "phone"),
    ),
    "PICKUP": (
        N_("Airport pickup"),
        N_(
            "Someone from {organisation} will meet you at the airport when flight {flight} arrives on {arrival}. Wait inside the arrivals hall; they will ask for case {code}."
        ),
        ("organisation", "flight", "arrival"),
    ),
    "REFERRAL": (
        N_("Referral explained"),
        N_(
            "With your agreement I have passed your case to {organisation}, who can help you where you are now. They will write to you here; your case code stays {code}."
        ),
        ("organisation",),
    ),
    "CHECKIN": (
        N_("Check-in"),
        N_("I am checking in: are you safe right now? Has anything changed since we last wrote?"),
        (),
    ),
    "CLOSING": (
        N_("Closing the case"),
        N_(
            "We are closing your case {code} now. If you need help again, write here at any time and we will answer."
        ),
        (),
    ),
    "SAFETY": (
        N_("Safety first"),
        N_(
            "Your safety comes first. If you are in danger right now, call {phone} or go to a safe place, then write to me."
        ),
        ("phone",),
    ),
    "NOFEE": (
        N_("Our help is free"),
        N_("Our help is free. Do not pay anyone who says they can solve your case for money."),
        (),
    ),
    "WORKING": (
        N_("Still working on it"),
        N_("I am still working on your case. I will write to you again by {date}."),
        ("date",),
    ),
    "CALL": (
        N_("Ask for a phone call"),
        N_(
            "Can you talk on the phone? Tell me a time that is safe for you and the number to call."
        ),
        (),
    ),
    "PHONE": (
        N_("Protect your phone"),
        N_(
            "If someone else may look at your phone, you can delete this chat with /clear. Your case stays open with us."
        ),
        (),
    ),
    "MEDICAL": (
        N_("Medical care"),
        N_(
            "You have the right to medical care. Go to {office}, phone {phone}. Keep every receipt and medical report."
        ),
        ("office", "phone"),
    ),
    "WAGES": (
        N_("Details for a wage claim"),
        N_(
            "To claim your unpaid wages we need the months not paid, the amount owed and the employer's name. Write them here when you can."
        ),
        (),
    ),
}

PROMPTS = {
    "organisation": N_("Name of the organisation:"),
    "office": N_("Name of the office (embassy, labour office, clinic):"),
    "phone": N_("Phone number:"),
    "flight": N_("Flight number (e.g. QR 652):"),
    "arrival": N_("Arrival date and local time, as YYYY-MM-DD HH:MM (e.g. 2026-12-04 14:05):"),
    "date": N_("Date, as YYYY-MM-DD:"),
}
MAX_VALUE = 120


@dataclass(frozen=True)
class SavedReply:
    code: str
    fields: tuple[str, ...]
    organisation: str | None = None
    # An organisation's own texts by language; built-in ones come from the catalogues.
    titles: dict[str, str] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)

    @property
    def built_in(self) -> bool:
        return self.code in BUILT_IN

    def title(self, language: str) -> str:
        if self.built_in:
            return tr(language, BUILT_IN[self.code][0])
        return (
            self.titles.get(language) or self.titles.get("en") or next(iter(self.titles.values()))
        )

    def text_in(self, language: str) -> str | None:
        """The reviewed text in ``language``, or None when there is none."""
        if self.built_in:
            text = BUILT_IN[self.code][1]
            return tr(language, text) if has_translation(language, text) else None
        return self.texts.get(language)


def _own(row: SavedReplyText) -> SavedReply:
    return SavedReply(
        code=row.code,
        fields=tuple(row.fields or ()),
        organisation=row.organisation_id,
        titles=dict(row.titles),
        texts=dict(row.texts),
    )


async def offered(session: AsyncSession, person: Person, reader: str) -> list[SavedReply]:
    """What ``person`` may send to a reporter who reads ``reader``: built-in ones, then their
    organisation's (as the last `network sync` or start left them), each only if it has a
    text in that language."""
    built_in = [SavedReply(code, spec[2]) for code, spec in BUILT_IN.items()]
    rows = await session.scalars(
        select(SavedReplyText)
        .where(
            or_(
                SavedReplyText.organisation_id.is_(None),
                SavedReplyText.organisation_id == person.organisation_id,
            )
        )
        .order_by(SavedReplyText.code)
    )
    own = [_own(row) for row in rows]
    return [reply for reply in built_in + own if reply.text_in(reader) is not None]


async def find(session: AsyncSession, person: Person, reader: str, code: str) -> SavedReply | None:
    wanted = code.strip().upper()
    return next((r for r in await offered(session, person, reader) if r.code == wanted), None)


class BadValue(ValueError):
    """A field's answer that cannot be used; the message says why, in the sender's language."""


def parse_value(name: str, raw: str, language: str) -> str:
    """The stored form of a field's answer: dates as ISO, everything else as typed."""
    value = " ".join(raw.split())
    if not value:
        raise BadValue(tr(language, "Please type an answer, or /cancel."))
    if len(value) > MAX_VALUE:
        raise BadValue(
            tr(language, "That is too long: at most {n} characters, please.", n=MAX_VALUE)
        )
    if name == "arrival":
        try:
            return dt.datetime.strptime(value, "%Y-%m-%d %H:%M").isoformat(timespec="minutes")
        except ValueError:
            raise BadValue(
                tr(
                    language,
                    "Please write the date and time as YYYY-MM-DD HH:MM, e.g. 2026-12-04 14:05.",
                )
            ) from None
    if name == "date":
        try:
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
                raise ValueError(value)
            return dt.date.fromisoformat(value).isoformat()
        except ValueError:
            raise BadValue(
                tr(language, "Please write the date as YYYY-MM-DD, e.g. 2026-12-04.")
            ) from None
    return value


def render(reply: SavedReply, language: str, values: dict[str, str], case_code: str) -> str:
    """The reply in ``language`` with its fields filled in; dates in that language's format."""
    text = reply.text_in(language) or reply.text_in("en") or ""
    shown = {"code": case_code}
    for name in reply.fields:
        value = values.get(name, "")
        if name == "arrival" and value:
            value = format_datetime(
                dt.datetime.fromisoformat(value), "medium", locale=_babel(language)
            )
        elif name == "date" and value:
            value = format_date(dt.date.fromisoformat(value), "long", locale=_babel(language))
        shown[name] = value
    return text.format(**shown)


def _babel(language: str) -> str:
    return language.replace("-", "_")


async def send(
    session: AsyncSession,
    domain: Domain,
    case: Case,
    person: Person,
    reply: SavedReply,
    values: dict[str, str],
) -> str:
    """Relays the reply in the reporter's language; same results as ``relay.from_owner``."""
    text = render(reply, case.language, values, case.code)
    return await relay.from_owner(session, domain, case, person, text, reviewed=True)
