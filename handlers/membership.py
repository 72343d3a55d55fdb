"""A person blocks or unblocks the bot in their private chat. Telegram says so at once
(my_chat_member), so nobody has to wait for a message to fail to find out."""

from __future__ import annotations

from aiogram import F
from aiogram.types import ChatMemberUpdated
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import recipients
from bot.domain.context import Domain
from bot.domain.people import Role
from handlers.blueprint import Blueprint

router = Blueprint("membership")
router.my_chat_member.filter(F.chat.type == "private")


@router.my_chat_member()
async def private_membership(
    update: ChatMemberUpdated, session: AsyncSession, domain: Domain, role: Role
) -> None:
    blocked = update.new_chat_member.status in ("kicked", "left")
    await recipients.blocked_changed(session, domain, role.person, role.reporter, blocked)
