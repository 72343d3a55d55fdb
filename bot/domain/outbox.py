"""Writing messages to the outbox, in the same transaction as the change that causes them."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.context import Domain
from models import OutboxMessage


def inline_keyboard(rows: list[list[tuple[str, str]]]) -> dict[str, Any]:
    return {
        "inline_keyboard": [
            [{"text": text, "callback_data": data} for text, data in row] for row in rows
        ]
    }


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
    if text is not None:
        payload["text"] = text
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
