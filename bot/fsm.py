"""Conversation state in the database, so a half-written report survives a restart.

Keys are pseudonymised and data encrypted: a draft report is personal data."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder, StateType, StorageKey
from sqlalchemy import delete

from bot.domain.context import Domain
from bot.middlewares import current_session
from models import ConversationState


class DatabaseStorage(BaseStorage):
    def __init__(self, domain: Domain) -> None:
        self.domain = domain
        self.keys = DefaultKeyBuilder(with_bot_id=True, with_destiny=True)

    @asynccontextmanager
    async def _session(self) -> AsyncIterator[Any]:
        shared = current_session.get()
        if shared is not None:
            yield shared
            return
        async with self.domain.sessions() as session, session.begin():
            yield session

    def _key(self, key: StorageKey) -> str:
        return self.domain.keys.pseudonym("fsm", self.keys.build(key))

    async def _row(self, session: Any, key: StorageKey) -> ConversationState:
        row = await session.get(ConversationState, self._key(key))
        if row is None:
            row = ConversationState(
                key=self._key(key), state=None, data={}, updated_at=self.domain.now()
            )
            session.add(row)
        return row

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        async with self._session() as session:
            row = await session.get(ConversationState, self._key(key))
            if value is None and (
                row is None or not set(row.data or {}) - {"_chat_id", "_reminded"}
            ):
                if row is not None:
                    await session.delete(row)
                return
            row = row or await self._row(session, key)
            row.state = value
            row.updated_at = self.domain.now()
            data = dict(row.data or {})
            # The chat id rides along (encrypted) so the draft reminder knows where to go.
            data["_chat_id"] = key.chat_id
            data.pop("_reminded", None)
            row.data = data

    async def get_state(self, key: StorageKey) -> str | None:
        async with self._session() as session:
            row = await session.get(ConversationState, self._key(key))
            return row.state if row else None

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        async with self._session() as session:
            row = await session.get(ConversationState, self._key(key))
            if not data and (row is None or row.state is None):
                if row is not None:
                    await session.delete(row)
                return
            row = row or await self._row(session, key)
            row.data = {**dict(data), "_chat_id": key.chat_id}
            row.updated_at = self.domain.now()

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        async with self._session() as session:
            row = await session.get(ConversationState, self._key(key))
            if row is None or not row.data:
                return {}
            return {k: v for k, v in row.data.items() if not k.startswith("_")}

    async def close(self) -> None:
        return None

    async def forget(self, key: StorageKey) -> None:
        async with self._session() as session:
            await session.execute(
                delete(ConversationState).where(ConversationState.key == self._key(key))
            )
