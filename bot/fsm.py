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
from dataclasses import dataclass
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
from sqlalchemy import bindparam, delete, event, select
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session, SessionTransaction

from bot.crypto import KeyRing
from bot.domain.context import Domain
from bot.middlewares import current_session
from models import ConversationState
from models.db import dialect_insert
from models.prepared import Prepared

log = logging.getLogger(__name__)


@dataclass
class _Draft:
    """One chat's conversation state as this transaction sees it; written at the commit."""

    state: str | None
    data: dict[str, Any]
    updated_at: dt.datetime | None
    stored: bool  # the database holds a row for it
    changed: bool = False

    @classmethod
    def absent(cls) -> _Draft:
        return cls(state=None, data={}, updated_at=None, stored=False)

    @property
    def present(self) -> bool:
        return self.state is not None or bool(self.data)


_DRAFTS = "corridor.fsm"
_TABLE = ConversationState.__table__
_READ = Prepared(
    lambda _: select(_TABLE.c.state, _TABLE.c.data).where(_TABLE.c.key == bindparam("key"))
)
_DELETE = Prepared(lambda _: delete(_TABLE).where(_TABLE.c.key == bindparam("key")))


def _build_write(dialect: Dialect) -> Any:
    new = dialect_insert(dialect)(_TABLE).values(
        key=bindparam("key"),
        state=bindparam("state"),
        data=bindparam("data", type_=_TABLE.c.data.type),
        updated_at=bindparam("updated_at"),
    )
    columns = ("state", "data", "updated_at")
    return new.on_conflict_do_update(
        index_elements=["key"], set_={name: new.excluded[name] for name in columns}
    )


_WRITE = Prepared(_build_write)
# Keys of the data that are the bot's own bookkeeping, not the conversation's.
_PRIVATE = ("_chat_id", "_reminded")


@event.listens_for(Session, "before_commit")
def _write_drafts(session: Session) -> None:
    """Every draft changed in the transaction, written with plain statements just before it
    commits: aiogram sets the state and the data apart, and the unit of work's flush of the
    row cost more than the update's other statements."""
    drafts: dict[str, _Draft] | None = session.info.get(_DRAFTS)
    if not drafts:
        return
    for key, draft in drafts.items():
        if not draft.changed:
            continue
        if draft.present:
            _WRITE.run(
                session,
                {
                    "key": key,
                    "state": draft.state,
                    "data": draft.data,
                    "updated_at": draft.updated_at,
                },
            )
        elif draft.stored:
            _DELETE.run(session, {"key": key})
        draft.stored = draft.present
        draft.changed = False


@event.listens_for(Session, "after_transaction_end")
def _forget_drafts(session: Session, transaction: SessionTransaction) -> None:
    # Read again in the next transaction: another one (the draft reminder) may change it.
    if transaction.parent is None:
        session.info.pop(_DRAFTS, None)


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

    async def _draft(self, session: Any, key: StorageKey) -> _Draft:
        """The chat's draft, read once per transaction (aiogram asks for state and data
        apart)."""
        name = self._key(key)
        drafts = session.info.setdefault(_DRAFTS, {})
        draft = drafts.get(name)
        if draft is None:
            rows = (await _READ(session, {"key": name})).rows
            if not rows:
                draft = _Draft.absent()
            else:
                state, data = rows[0]
                draft = _Draft(state=state, data=dict(data or {}), updated_at=None, stored=True)
            drafts[name] = draft
        return draft

    def _changed(self, draft: _Draft, state: str | None, data: dict[str, Any]) -> None:
        draft.state = state
        draft.data = data
        draft.updated_at = self.domain.now()
        draft.changed = True

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        async with self._session() as session:
            draft = await self._draft(session, key)
            if value is None and not set(draft.data) - set(_PRIVATE):
                if draft.present:
                    self._changed(draft, None, {})
                return
            # The chat id rides along (encrypted) so the draft reminder knows where to go.
            data = {k: v for k, v in draft.data.items() if k != "_reminded"}
            data["_chat_id"] = key.chat_id
            self._changed(draft, value, data)

    async def get_state(self, key: StorageKey) -> str | None:
        async with self._session() as session:
            return (await self._draft(session, key)).state

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        async with self._session() as session:
            draft = await self._draft(session, key)
            if not data and draft.state is None:
                if draft.present:
                    self._changed(draft, None, {})
                return
            self._changed(draft, draft.state, {**dict(data), "_chat_id": key.chat_id})

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        async with self._session() as session:
            draft = await self._draft(session, key)
            # A deep copy: a handler that changes a list it got here must not change the
            # draft behind the storage's back.
            return copy.deepcopy({k: v for k, v in draft.data.items() if not k.startswith("_")})

    async def close(self) -> None:
        return None

    async def forget(self, key: StorageKey) -> None:
        async with self._session() as session:
            name = self._key(key)
            await _DELETE(session, {"key": name})
            session.info.setdefault(_DRAFTS, {})[name] = _Draft.absent()


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
