"""Who is calling: Telegram's signed init data, checked for signature and age, then the
person and their corridors, exactly as the bot would see them."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from dataclasses import dataclass
from urllib.parse import urlencode

from aiogram.utils.web_app import safe_parse_webapp_init_data
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import access
from bot.domain.access import Action
from bot.domain.context import Domain
from bot.domain.people import Role, person_by_telegram
from models import Person

# Telegram's clock and ours may differ a little; a launch from the future beyond this is forged.
CLOCK_SKEW = dt.timedelta(seconds=60)


class Denied(Exception):
    """Any reason to refuse; the page gets 403 and nothing else, the log gets the reason."""


@dataclass(frozen=True)
class Viewer:
    role: Role
    corridors: list[str]

    @property
    def person(self) -> Person:
        assert self.role.person is not None
        return self.role.person

    @property
    def language(self) -> str:
        return self.person.language


def verified_user_id(domain: Domain, init_data: str) -> int:
    """The Telegram user id from init data signed with this bot's token and recent enough.

    aiogram checks the signature only; a signed string stays valid forever, so its
    ``auth_date`` decides how long a captured copy can be replayed."""
    if not init_data:
        raise Denied("no init data")
    try:
        parsed = safe_parse_webapp_init_data(domain.config.telegram.token, init_data)
    except ValueError as exc:
        raise Denied(f"bad init data: {exc}") from None
    if parsed.user is None:
        raise Denied("init data without a user")
    signed_at = parsed.auth_date
    if signed_at.tzinfo is None:
        signed_at = signed_at.replace(tzinfo=dt.UTC)
    now = domain.now()
    max_age = dt.timedelta(seconds=domain.config.webapp.init_data_max_age)
    if now - signed_at > max_age:
        raise Denied("init data too old")
    if signed_at - now > CLOCK_SKEW:
        raise Denied("init data from the future")
    return parsed.user.id


async def viewer_for(session: AsyncSession, domain: Domain, init_data: str) -> Viewer:
    """Someone the access policy lets open the dashboard (coordinators and admins), with
    at least one corridor; anyone else is refused."""
    user_id = verified_user_id(domain, init_data)
    person = await person_by_telegram(session, user_id)
    role = Role(person.role, person) if person is not None else Role("stranger")
    if not access.allowed(role, Action.DASHBOARD):
        raise Denied(f"{role.name} may not open the dashboard")
    corridors = await access.corridors_of(session, role)
    if not corridors:
        raise Denied("coordinator without corridors")
    return Viewer(role, corridors)


def sign_init_data(
    token: str, user_id: int, auth_date: dt.datetime, first_name: str = "Test"
) -> str:
    """Init data as Telegram would sign it, for tests and for opening the page outside
    Telegram (``corridor`` never hands this out to anyone)."""
    fields = {
        "auth_date": str(int(auth_date.timestamp())),
        "query_id": "AAE-dashboard",
        "user": json.dumps({"id": user_id, "first_name": first_name}, separators=(",", ":")),
    }
    check = "\n".join(f"{k}={v}" for k, v in sorted(fields.items()))
    secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    fields["hash"] = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    return urlencode(fields)
