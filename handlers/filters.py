from __future__ import annotations

from aiogram.filters import Filter
from aiogram.types import TelegramObject

from bot.domain.people import Role


class IsStaff(Filter):
    async def __call__(self, event: TelegramObject, role: Role) -> bool:
        return role.is_staff


class IsCoordinator(Filter):
    async def __call__(self, event: TelegramObject, role: Role) -> bool:
        return role.name in ("coordinator", "admin")
