"""A handler exception: logged with the update id, a short apology in the user's language,
and the update is not retried (polling has already confirmed it)."""

from __future__ import annotations

import logging

from aiogram.types import ErrorEvent

from bot.i18n import normalise_language
from bot.views.errors import apology
from handlers.blueprint import Blueprint

log = logging.getLogger(__name__)
router = Blueprint("errors")


@router.errors()
async def on_error(event: ErrorEvent) -> bool:
    update = event.update
    log.error("update %s failed: %r", update.update_id, event.exception, exc_info=event.exception)
    user = update.event.from_user if hasattr(update.event, "from_user") else None
    language = normalise_language(getattr(user, "language_code", None))
    text = apology(language)
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(text, show_alert=True)
        elif update.message is not None and update.message.chat.type == "private":
            await update.message.answer(text)
    except Exception:
        log.warning("could not apologise for update %s", update.update_id)
    return True
