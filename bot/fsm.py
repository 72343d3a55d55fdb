"""Conversation state in the database (or Redis), so a half-written report survives a restart.

Keys are pseudonymised and data encrypted, wherever it is kept: a draft report is personal
data (employer, agency, names, phone numbers, the description)."""

from __future__ import annotations

import copy
import datetime as dt
import json
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any, Literal

from aiogram.exceptions import DataNotDictLikeError
from aiogram.fsm.state import State
from aiogram.fsm.storage.base import (
    BaseStorage,
    DefaultKeyBuilder,
    KeyBuilder,
    StateType,
    StorageKey,
)
from aiogram.fsm.storage.redis import RedisStorage
from redis.asyncio import Redis
from sqlalchemy import delete

from bot.crypto import KeyRing
from bot.domain.context import Domain
from bot.middlewares import current_session
from models import ConversationState

log = logging.getLogger(__name__)


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

    async def _get(self, session: Any, key: StorageKey) -> ConversationState | None:
        """The row, read once per transaction: a present row stays in the session's identity
        map, and an absent one is remembered here (aiogram asks for state and data apart)."""
        name = self._key(key)
        absent = session.info.setdefault("fsm_absent", set())
        if name in absent:
            return None
        row = await session.get(ConversationState, name)
        if row is None:
            absent.add(name)
        else:
            # The identity map holds rows weakly: kept alive, the next get needs no query.
            session.info.setdefault("fsm_loaded", []).append(row)
        return row

    async def _row(self, session: Any, key: StorageKey) -> ConversationState:
        row = await self._get(session, key)
        if row is None:
            row = ConversationState(
                key=self._key(key), state=None, data={}, updated_at=self.domain.now()
            )
            session.add(row)
            session.info["fsm_absent"].discard(row.key)
        return row

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        async with self._session() as session:
            row = await self._get(session, key)
            if value is None and (
                row is None or not set(row.data or {}) - {"_chat_id", "_reminded"}
            ):
                if row is not None:
                    await session.delete(row)
                    session.info["fsm_absent"].add(row.key)
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
            row = await self._get(session, key)
            return row.state if row else None

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        async with self._session() as session:
            row = await self._get(session, key)
            if not data and (row is None or row.state is None):
                if row is not None:
                    await session.delete(row)
                    session.info["fsm_absent"].add(row.key)
                return
            row = row or await self._row(session, key)
            row.data = {**dict(data), "_chat_id": key.chat_id}
            row.updated_at = self.domain.now()

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        async with self._session() as session:
            row = await self._get(session, key)
            if row is None or not row.data:
                return {}
            # A deep copy: a handler that changes a list it got here must not change the
            # row's value behind the ORM's back (the change would then not be written).
            return copy.deepcopy({k: v for k, v in row.data.items() if not k.startswith("_")})

    async def close(self) -> None:
        return None

    async def forget(self, key: StorageKey) -> None:
        async with self._session() as session:
            await session.execute(
                delete(ConversationState).where(ConversationState.key == self._key(key))
            )
            session.info.setdefault("fsm_absent", set()).add(self._key(key))


# -- Redis ----------------------------------------------------------------------------------

REDIS_PREFIX = "corridor:fsm"


class PseudonymKeyBuilder(KeyBuilder):
    """Redis keys made of the keyed hash of aiogram's key (bot, chat, user, destiny), the
    same pseudonym the database storage uses: no Telegram id appears in a key."""

    def __init__(self, keys: KeyRing) -> None:
        self.keys = keys
        self.plain = DefaultKeyBuilder(with_bot_id=True, with_destiny=True)

    def build(self, key: StorageKey, part: Literal["data", "state", "lock"] | None = None) -> str:
        name = f"{REDIS_PREFIX}:{self.keys.pseudonym('fsm', self.plain.build(key))}"
        return f"{name}:{part}" if part else name


class EncryptedRedisStorage(RedisStorage):
    """aiogram's Redis storage, with drafts protected as in the database: keys from the
    keyed hash, state and data encrypted with the key ring (``corridor keys rotate``
    re-encrypts them, see ``rotate_redis``), and both expiring together ``ttl`` after the
    last change, which is the draft expiry."""

    def __init__(self, redis: Redis, keys: KeyRing, ttl: dt.timedelta) -> None:
        super().__init__(
            redis,
            key_builder=PseudonymKeyBuilder(keys),
            state_ttl=ttl,
            data_ttl=ttl,
            json_dumps=lambda data: keys.encrypt(json.dumps(data)),
            json_loads=lambda token: json.loads(keys.decrypt(token)),
        )
        self.keys = keys
        self.ttl = ttl

    @classmethod
    def for_url(cls, url: str, keys: KeyRing, ttl: dt.timedelta) -> EncryptedRedisStorage:
        return cls(Redis.from_url(url), keys, ttl)

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        state_key = self.key_builder.build(key, "state")
        async with self.redis.pipeline(transaction=True) as pipe:
            if value is None:
                pipe.delete(state_key)
            else:
                pipe.set(state_key, self.keys.encrypt(value), ex=self.ttl)
                # A draft expires as a whole, counted from its last change.
                pipe.expire(self.key_builder.build(key, "data"), self.ttl)
            await pipe.execute()

    async def get_state(self, key: StorageKey) -> str | None:
        token = await self.redis.get(self.key_builder.build(key, "state"))
        if token is None:
            return None
        return self.keys.decrypt(token.decode() if isinstance(token, bytes) else token)

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        if not isinstance(data, dict):
            raise DataNotDictLikeError(
                f"Data must be a dict or dict-like object, got {type(data).__name__}"
            )
        data_key = self.key_builder.build(key, "data")
        async with self.redis.pipeline(transaction=True) as pipe:
            if not data:
                pipe.delete(data_key)
            else:
                pipe.set(data_key, self.json_dumps(data), ex=self.ttl)
                pipe.expire(self.key_builder.build(key, "state"), self.ttl)
            await pipe.execute()


# Compare-and-set: a value the bot changed meanwhile is left to the bot (it is written
# with the newest key already) and read again.
_REPLACE_IF_UNCHANGED = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
  return 1
end
return 0
"""


async def rotate_redis(redis: Redis, keys: KeyRing, batch: int = 500) -> int:
    """Re-encrypts every draft in Redis with the newest key (``corridor keys rotate``);
    expiry unchanged, and safe while the bot runs. Returns the number of values."""
    script = redis.register_script(_REPLACE_IF_UNCHANGED)
    count = 0
    async for name in redis.scan_iter(match=f"{REDIS_PREFIX}:*", count=batch):
        if not name.endswith(
            (b":state", b":data") if isinstance(name, bytes) else (":state", ":data")
        ):
            continue
        for _attempt in range(5):
            token = await redis.get(name)
            if token is None:
                break
            text = token.decode() if isinstance(token, bytes) else token
            rotated = keys.rotate(text)
            if await script(keys=[name], args=[text, rotated]):
                count += 1
                break
        else:
            log.warning("a draft in Redis kept changing during the rotation; left as it is")
    return count
