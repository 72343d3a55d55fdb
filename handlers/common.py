"""What several handler modules share: the command list, the sent file, the access check of
multi-step forms."""

from __future__ import annotations

from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import access
from bot.domain.access import Action
from bot.domain.people import Role
from bot.views import common as common_view

# Handler modules import the menu from here (the view lives in bot.views.menu).
from bot.views.menu import command_list, language_keyboard, menu_keyboard, menu_text
from models import Case

__all__ = [
    "command_list",
    "language_keyboard",
    "media_content",
    "menu_keyboard",
    "menu_text",
    "still_allowed",
]


def media_content(message: Message) -> tuple[str, str | None, str | None] | None:
    """(kind, file_id, text) of a file or location the reporter sent; None for anything else."""
    for kind in ("photo", "voice", "document", "video", "audio"):
        media = getattr(message, kind)
        if media:
            file_id = media[-1].file_id if kind == "photo" else media.file_id
            return kind, file_id, message.caption
    if message.location:
        return "location", None, f"{message.location.latitude:.5f},{message.location.longitude:.5f}"
    return None


async def still_allowed(
    session: AsyncSession, role: Role, state: FSMContext, message: Message, action: Action
) -> Case | None:
    """Multi-step forms check access again at every step: the person may have been
    removed, or the case taken from them, since the first one."""
    data = await state.get_data()
    case = await session.get(Case, data.get("case_id", 0))
    case = await access.case_for(session, role, action, case)
    if case is None:
        await state.clear()
        await message.answer(common_view.access_lost())
    return case
