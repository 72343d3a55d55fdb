"""Group chats: intake never runs here. The bot answers only its own buttons and a few
commands; everything else people say in a group is none of its business."""

from __future__ import annotations

import logging

from aiogram import F
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import ChatMemberUpdated, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import access, onboarding
from bot.domain.access import Action
from bot.domain.context import Domain
from bot.domain.people import Role
from bot.domain.recipients import group_lost, migrate_group
from bot.views import groups as view
from bot.views.common import not_for_coordinators
from handlers.blueprint import Blueprint

log = logging.getLogger(__name__)
router = Blueprint("groups")
router.message.filter(F.chat.type.in_({"group", "supergroup"}))

PRIVATE_ONLY = ("start", "sos", "status", "language", "cancel", "forget", "clear")


@router.message(F.migrate_to_chat_id)
async def migrated(message: Message, session: AsyncSession, domain: Domain) -> None:
    await migrate_group(session, domain, message.chat.id, message.migrate_to_chat_id)


@router.message(CommandStart())
@router.message(Command(*PRIVATE_ONLY[1:]))
async def private_only(message: Message, domain: Domain) -> None:
    await message.reply(view.private_only(domain.bot_username))


@router.message(Command("linkgroup"))
async def link_group(
    message: Message, command: CommandObject, session: AsyncSession, domain: Domain, role: Role
) -> None:
    """A coordinator, inside the group: `/linkgroup ORGANISATION_ID`."""
    if not access.allowed(role, Action.LINK_GROUP):
        await message.reply(not_for_coordinators())
        return
    organisation_id = (command.args or "").strip()
    posted = await onboarding.link_group(
        session, domain, role.person, organisation_id, message.chat.id, message.chat.title or ""
    )
    if posted is not None:
        await message.reply(view.group_linked(organisation_id, posted))
    else:
        await message.reply(view.link_group_usage())


# Last before the fallback, so group commands other routers handle (/oncall) still work.
silence = Blueprint("groups-silence")
silence.message.filter(F.chat.type.in_({"group", "supergroup"}))


@silence.message()
async def ignore(message: Message) -> None:
    log.debug("ignoring group message in %s", message.chat.id)


@router.my_chat_member(F.chat.type.in_({"group", "supergroup"}))
async def membership(update: ChatMemberUpdated, session: AsyncSession, domain: Domain) -> None:
    if update.new_chat_member.status in ("left", "kicked"):
        await group_lost(session, domain, update.chat.id)
