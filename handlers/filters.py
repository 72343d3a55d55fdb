from __future__ import annotations

from aiogram.filters import Filter
from aiogram.types import TelegramObject

from bot.domain import access
from bot.domain.access import Action
from bot.domain.people import Role


class Allowed(Filter):
    """Lets an update through when the access policy allows the caller ``action``."""

    def __init__(self, action: Action) -> None:
        self.action = action

    async def __call__(self, event: TelegramObject, role: Role) -> bool:
        return access.allowed(role, self.action)
