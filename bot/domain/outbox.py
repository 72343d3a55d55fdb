"""Writing messages to the outbox, in the same transaction as the change that causes them."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.util import identity_key

from bot.domain.context import Domain
from bot.i18n import N_, tr
from models import Case, OutboxMessage

DRILL_MARK = N_("🧪 DRILL: a practice case, not a real person.")


def inline_keyboard(rows: list[list[tuple[str, str]]]) -> dict[str, Any]:
    return {
        "inline_keyboard": [
            [{"text": text, "callback_data": data} for text, data in row] for row in rows
        ]
    }


def _drill_language(session: AsyncSession, case_id: int | None) -> str | None:
    """The language of the case a message is about, if that case is a drill. Whoever
    queues a message about a case has just loaded it, so this never reads the database."""
    if case_id is None:
        return None
    case = session.sync_session.identity_map.get(identity_key(Case, case_id))
    return case.language if case is not None and case.drill else None


def mark_drill(language: str, text: str) -> str:
    """Every message about a drill says so on its first line."""
    return f"{tr(language, DRILL_MARK)}\n{text}"


def queue(
    session: AsyncSession,
    domain: Domain,
    *,
    purpose: str,
    text: str | None = None,
    chat_id: int | None = None,
    reporter_id: int | None = None,
    case_id: int | None = None,
    method: str = "sendMessage",
    keyboard: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> OutboxMessage:
    if (chat_id is None) == (reporter_id is None):
        raise ValueError("an outbox message has exactly one recipient")
    payload: dict[str, Any] = dict(extra or {})
    drill = _drill_language(session, case_id)
    if text is not None:
        payload["text"] = text if drill is None else mark_drill(drill, text)
    elif drill is not None and "caption" in payload:
        payload["caption"] = mark_drill(drill, payload["caption"] or "")
    if keyboard is not None:
        payload["reply_markup"] = keyboard
    message = OutboxMessage(
        created_at=domain.now(),
        chat_id=chat_id,
        reporter_id=reporter_id,
        method=method,
        payload=payload,
        purpose=purpose,
        case_id=case_id,
        status="pending",
        attempts=0,
        next_attempt_at=domain.now(),
    )
    session.add(message)
    # Delivery takes the messages of a transaction straight after its commit.
    session.info.setdefault("outbox_rows", []).append(message)
    return message
