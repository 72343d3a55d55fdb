"""Rows that keep the bot's promises across restarts: outbox, timers, conversation state."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, EncryptedJSON


class OutboxMessage(Base):
    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[dt.datetime]
    # Exactly one recipient: a known chat (group, staff) or a reporter, resolved at send time.
    chat_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("reporters.id"))
    method: Mapped[str] = mapped_column(String(32))
    payload: Mapped[Any] = mapped_column(EncryptedJSON)
    purpose: Mapped[str] = mapped_column(String(32))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime]
    locked_until: Mapped[dt.datetime | None]
    telegram_message_id: Mapped[int | None] = mapped_column(BigInteger)
    sent_at: Mapped[dt.datetime | None]
    error: Mapped[str | None] = mapped_column(Text)
    # 0: the answer to someone's own action; 1: everything the bot says unasked. Lower goes first.
    priority: Mapped[int] = mapped_column(SmallInteger, default=1, server_default="1")
    # The process that holds the lease; its lease is renewed while the message waits in its
    # queue, so a message leased by a process that died goes out again within seconds.
    lease_owner: Mapped[str | None] = mapped_column(String(32))


class HandledUpdate(Base):
    """Update ids already handled, written in the same commit as what the update changed, so
    an update Telegram delivers twice is handled once."""

    __tablename__ = "handled_updates"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    handled_at: Mapped[dt.datetime] = mapped_column(index=True)


class Timer(Base):
    """A scheduled duty: escalation step, check-in, reminder, digest, draft reminder."""

    __tablename__ = "timers"
    __table_args__ = (Index("ix_timers_status_due", "status", "due_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    due_at: Mapped[dt.datetime]
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None]
    lease_owner: Mapped[str | None] = mapped_column(String(32))  # models/liveness.py
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime]
    fired_at: Mapped[dt.datetime | None]


class ConversationState(Base):
    """aiogram FSM state, in the database so a restart loses no half-written report."""

    __tablename__ = "conversation_states"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    state: Mapped[str | None] = mapped_column(String(128))
    data: Mapped[Any] = mapped_column(EncryptedJSON, nullable=True)
    updated_at: Mapped[dt.datetime]


class SentMessage(Base):
    """Messages the bot sent into a reporter's chat, so /clear can delete them."""

    __tablename__ = "sent_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chat_key: Mapped[str] = mapped_column(String(64), index=True)
    message_id: Mapped[int] = mapped_column(BigInteger)
    sent_at: Mapped[dt.datetime]
