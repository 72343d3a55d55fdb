"""The emulated Telegram world of one bot token: users, chats, messages, updates.

Everything here is synchronous and runs on the event loop thread, so no locks
are needed; waiters use `Signal`, which wakes them after any change.
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from .errors import ApiError, bad_request, forbidden, migrated
from .faults import Chaos, FailRules, FloodControl, RetryLedger
from .files import FileStore

T = TypeVar("T")

# Telegram leaves these out unless they are asked for explicitly
DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
MEMBER_STATUSES = frozenset({"creator", "administrator", "member"})
DELETE_WINDOW = 48 * 3600
_MEDIA_FIELDS = (
    "photo",
    "animation",
    "document",
    "voice",
    "audio",
    "video",
    "video_note",
    "sticker",
    "venue",
    "location",
    "contact",
    "dice",
    "poll",
)


class Signal:
    """Wake every waiter after a change; `fire` works from synchronous code."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def fire(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, seconds: float) -> None:
        """Sleep until the next fire() or for `seconds`."""
        try:
            await asyncio.wait_for(self._event.wait(), seconds)
        except TimeoutError:
            pass

    async def wait_for(self, predicate: Callable[[], T], seconds: float | None) -> T:
        """Return predicate()'s first truthy value; TimeoutError after `seconds`."""
        loop = asyncio.get_running_loop()
        deadline = None if seconds is None else loop.time() + seconds
        while True:
            result = predicate()
            if result:
                return result
            event = self._event
            if deadline is None:
                await event.wait()
                continue
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError
            try:
                await asyncio.wait_for(event.wait(), remaining)
            except TimeoutError:
                pass


@dataclass
class UserRecord:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    is_bot: bool = False
    blocked_bot: bool = False
    started: bool = False  # has a private chat with the bot

    def api(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            value = getattr(self, key)
            if value:
                data[key] = value
        return data


@dataclass
class MessageRecord:
    chat_id: int
    message_id: int
    data: dict[str, Any]
    from_bot: bool
    markup: dict[str, Any] | None = None
    protect_content: bool = False
    silent: bool = False
    deleted: bool = False
    edit_history: list[dict[str, Any]] = field(default_factory=list)

    @property
    def date(self) -> int:
        return self.data["date"]

    @property
    def body(self) -> str:
        return self.data.get("text") or self.data.get("caption") or ""

    @property
    def media_kind(self) -> str | None:
        return next((name for name in _MEDIA_FIELDS if name in self.data), None)

    @property
    def file_id(self) -> str | None:
        kind = self.media_kind
        value = self.data.get(kind) if kind else None
        if isinstance(value, list):
            return value[-1]["file_id"]
        return value.get("file_id") if isinstance(value, dict) else None

    @property
    def is_service(self) -> bool:
        return not self.body and self.media_kind is None

    def shallow(self) -> dict[str, Any]:
        """The message as embedded in another one (Telegram nests one level)."""
        return {k: v for k, v in self.data.items() if k != "reply_to_message"}

    def transcript_entry(self) -> dict[str, Any]:
        return {
            **self.data,
            "from_bot": self.from_bot,
            "kind": self.media_kind or ("text" if "text" in self.data else "service"),
            "media_kind": self.media_kind,
            "file_id": self.file_id,
            "reply_markup": self.markup,
            "protect_content": self.protect_content,
            "disable_notification": self.silent,
            "edited": bool(self.edit_history),
            "edit_history": list(self.edit_history),
            "deleted": self.deleted,
        }


@dataclass
class ChatRecord:
    id: int
    type: str  # private | group | supergroup
    title: str | None = None
    username: str | None = None
    user: UserRecord | None = None  # the other side of a private chat
    members: dict[int, str] = field(default_factory=dict)
    bot_status: str = "member"
    migrated_to: int | None = None
    messages: dict[int, MessageRecord] = field(default_factory=dict)
    next_message_id: int = 1
    menu_button: dict[str, Any] | None = None
    reply_keyboard: dict[str, Any] | None = None
    pinned: list[int] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)
    chat_instance: str = field(default_factory=lambda: str(secrets.randbits(63)))

    @property
    def is_group(self) -> bool:
        return self.type in ("group", "supergroup")

    def api(self) -> dict[str, Any]:
        if self.type == "private":
            assert self.user is not None
            data = {"id": self.id, "type": "private", "first_name": self.user.first_name}
            if self.user.last_name:
                data["last_name"] = self.user.last_name
            if self.user.username:
                data["username"] = self.user.username
            return data
        data = {"id": self.id, "type": self.type, "title": self.title}
        if self.username:
            data["username"] = self.username
        return data

    def live_messages(self) -> list[MessageRecord]:
        return [m for m in self.messages.values() if not m.deleted]


@dataclass
class CallbackRecord:
    id: str
    user_id: int
    chat_id: int
    message_id: int
    data: str | None
    created: float
    answer: dict[str, Any] | None = None


@dataclass
class WebhookConfig:
    url: str = ""
    secret_token: str | None = None
    max_connections: int = 40
    ip_address: str | None = None
    last_error_date: int | None = None
    last_error_message: str | None = None
    delivering: bool = False
    task: asyncio.Task[None] | None = None


class World:
    """Everything one bot token can see, plus the knobs tests turn."""

    CALLBACK_TTL = 60.0

    def __init__(self, token: str) -> None:
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.bot = UserRecord(
            id=self.bot_id,
            first_name="Emulated Bot",
            username=f"emu{self.bot_id}_bot",
            is_bot=True,
        )
        self.bot_flags = {
            "can_join_groups": True,
            "can_read_all_group_messages": True,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
        self.signal = Signal()
        self.stats: Counter[str] = Counter()
        self.fail_rules = FailRules()
        self.flood = FloodControl()
        self.chaos = Chaos()
        self.retries = RetryLedger()
        self.webhook = WebhookConfig()
        self.closed = False
        self._reset_world()

    def _reset_world(self) -> None:
        self.clock_offset = 0.0
        self.users: dict[int, UserRecord] = {self.bot_id: self.bot}
        self.chats: dict[int, ChatRecord] = {}
        self.files = FileStore()
        self.updates: list[dict[str, Any]] = []
        # Like Telegram's, update ids start at some positive number, not at 1: a bot that
        # remembers handled ids must not mistake a new emulator's updates for old ones.
        self.next_update_id = secrets.randbelow(1 << 30) + 1
        self.sent_updates: dict[int, dict[str, Any]] = {}
        self.allowed_updates: frozenset[str] | None = None
        self.callbacks: dict[str, CallbackRecord] = {}
        self.commands: dict[str, list[dict[str, str]]] = {}
        self.profile_texts: dict[tuple[str, str], str] = {}
        self.default_menu_button: dict[str, Any] | None = None
        self.poll_generation = 0
        self.inflight = 0
        self.last_activity = time.monotonic()
        self._user_ids = itertools.count(7_000_000_001)
        self._group_ids = itertools.count(4_000_000_001)
        self._supergroup_ids = itertools.count(2_000_000_001)

    def reset(self) -> None:
        """Wipe the world but keep the token's identity and counters' owner."""
        if self.webhook.task:
            self.webhook.task.cancel()
        self.webhook = WebhookConfig()
        self.stats.clear()
        self.fail_rules = FailRules()
        self.flood = FloodControl()
        self.chaos = Chaos()
        self.retries = RetryLedger()
        self._reset_world()
        self.signal.fire()

    # clock -------------------------------------------------------------
    def now(self) -> int:
        return int(time.time() + self.clock_offset)

    def now_float(self) -> float:
        return time.time() + self.clock_offset

    # activity (for wait_until_idle) ------------------------------------
    def touch(self) -> None:
        self.last_activity = time.monotonic()
        self.signal.fire()

    def is_busy(self) -> bool:
        return bool(self.updates) or self.inflight > 0 or self.webhook.delivering

    # ids and lookups -----------------------------------------------------
    def new_user_id(self) -> int:
        while (user_id := next(self._user_ids)) in self.users:
            pass
        return user_id

    def new_group_id(self, supergroup: bool) -> int:
        if supergroup:
            return -(10**12 + next(self._supergroup_ids))
        return -next(self._group_ids)

    def user_api(self, user_id: int) -> dict[str, Any]:
        user = self.users.get(user_id)
        return (
            user.api()
            if user
            else {"id": user_id, "is_bot": False, "first_name": "Deleted Account"}
        )

    def bot_api_user(self) -> dict[str, Any]:
        return {**self.bot.api(), **self.bot_flags}

    def private_chat(self, user: UserRecord) -> ChatRecord:
        chat = self.chats.get(user.id)
        if chat is None:
            chat = self.chats[user.id] = ChatRecord(id=user.id, type="private", user=user)
        return chat

    def find_chat(self, chat_id: int | str) -> ChatRecord | None:
        if isinstance(chat_id, str):
            name = chat_id.lstrip("@").lower()
            return next(
                (c for c in self.chats.values() if c.username and c.username.lower() == name),
                None,
            )
        return self.chats.get(chat_id)

    def chat_for_bot(self, chat_id: int | str, *, write: bool = True) -> ChatRecord:
        """Resolve a chat the way the Bot API does, with Telegram's refusals."""
        chat = self.find_chat(chat_id)
        if chat is None:
            user = self.users.get(chat_id) if isinstance(chat_id, int) else None
            if user is not None and not user.is_bot and write:
                raise forbidden("bot can't initiate conversation with a user")
            raise bad_request("chat not found")
        if chat.type == "private":
            assert chat.user is not None
            if write and chat.user.blocked_bot:
                raise forbidden("bot was blocked by the user")
            return chat
        if chat.migrated_to is not None:
            raise migrated(chat.migrated_to)
        kind = "group chat" if chat.type == "group" else "supergroup chat"
        if chat.bot_status == "kicked":
            raise forbidden(f"bot was kicked from the {kind}")
        if chat.bot_status not in MEMBER_STATUSES:
            raise forbidden(f"bot is not a member of the {kind}")
        return chat

    def bot_can_receive(self, chat: ChatRecord) -> bool:
        if chat.type == "private":
            return chat.user is not None and not chat.user.blocked_bot
        return chat.migrated_to is None and chat.bot_status in MEMBER_STATUSES

    def member_status(self, chat: ChatRecord, user_id: int) -> str:
        if user_id == self.bot_id:
            return chat.bot_status
        if chat.type == "private":
            return "member" if chat.user and chat.user.id == user_id else "left"
        return chat.members.get(user_id, "left")

    def member_api(self, chat: ChatRecord, user_id: int) -> dict[str, Any]:
        return member_object(self.member_status(chat, user_id), self.user_api(user_id))

    # messages ------------------------------------------------------------
    def store_message(
        self,
        chat: ChatRecord,
        sender: UserRecord,
        content: dict[str, Any],
        *,
        reply_to: MessageRecord | None = None,
        markup: dict[str, Any] | None = None,
        protect_content: bool = False,
        silent: bool = False,
    ) -> MessageRecord:
        data: dict[str, Any] = {
            "message_id": chat.next_message_id,
            "from": self.bot.api() if sender is self.bot else sender.api(),
            "chat": chat.api(),
            "date": self.now(),
        }
        chat.next_message_id += 1
        if reply_to is not None:
            data["reply_to_message"] = reply_to.shallow()
        data.update(content)
        if protect_content:
            data["has_protected_content"] = True
        if markup and "inline_keyboard" in markup:
            data["reply_markup"] = markup
        record = MessageRecord(
            chat_id=chat.id,
            message_id=data["message_id"],
            data=data,
            from_bot=sender is self.bot,
            markup=markup,
            protect_content=protect_content,
            silent=silent,
        )
        chat.messages[record.message_id] = record
        self.signal.fire()
        return record

    def message(self, chat: ChatRecord, message_id: int) -> MessageRecord | None:
        record = chat.messages.get(message_id)
        return None if record is None or record.deleted else record

    def edit_message(
        self, record: MessageRecord, changes: dict[str, Any], drop: tuple[str, ...] = ()
    ) -> None:
        previous = {
            key: record.data[key]
            for key in (
                "text",
                "entities",
                "caption",
                "caption_entities",
                "reply_markup",
                "edit_date",
            )
            if key in record.data
        }
        record.edit_history.append(previous)
        for key in drop:
            record.data.pop(key, None)
        record.data.update(changes)
        record.data["edit_date"] = self.now()
        self.signal.fire()

    def can_delete_now(self, record: MessageRecord) -> bool:
        return self.now() - record.date <= DELETE_WINDOW

    # updates ---------------------------------------------------------------
    def update_allowed(self, kind: str) -> bool:
        if self.allowed_updates is None:
            return kind not in DEFAULT_EXCLUDED_UPDATES
        return kind in self.allowed_updates

    def emit(self, kind: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        if not self.update_allowed(kind):
            return None
        update = {"update_id": self.next_update_id, kind: payload}
        self.next_update_id += 1
        self.updates.append(update)
        self.sent_updates[update["update_id"]] = update
        while len(self.sent_updates) > 5000:
            self.sent_updates.pop(next(iter(self.sent_updates)))
        self.signal.fire()
        return update

    def redeliver(self, update_id: int | None = None) -> bool:
        """Offers an update again (by default the newest), as Telegram does when it did not
        see it confirmed."""
        if update_id is None and self.sent_updates:
            update_id = next(reversed(self.sent_updates))
        update = self.sent_updates.get(update_id) if update_id is not None else None
        if update is None:
            return False
        self.updates.append(update)
        self.signal.fire()
        return True

    def confirm_updates(self, offset: int | None) -> None:
        if offset is None:
            return
        before = len(self.updates)
        if offset < 0:
            self.updates = self.updates[offset:] if -offset < len(self.updates) else self.updates
        else:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        if len(self.updates) != before:
            self.signal.fire()

    def set_allowed_updates(self, allowed: Any) -> None:
        if allowed is None:
            return
        if not isinstance(allowed, list):
            raise ApiError(400, "Bad Request: can't parse allowed updates JSON object")
        self.allowed_updates = frozenset(str(a) for a in allowed) or None

    def chat_member_update(
        self, chat: ChatRecord, actor_id: int, user_id: int, old: str, new: str
    ) -> dict[str, Any]:
        user = self.user_api(user_id)
        return {
            "chat": chat.api(),
            "from": self.user_api(actor_id),
            "date": self.now(),
            "old_chat_member": member_object(old, user),
            "new_chat_member": member_object(new, user),
        }


def member_object(status: str, user: dict[str, Any]) -> dict[str, Any]:
    if status == "creator":
        return {"status": "creator", "user": user, "is_anonymous": False}
    if status == "administrator":
        rights = dict.fromkeys(
            (
                "can_manage_chat",
                "can_delete_messages",
                "can_manage_video_chats",
                "can_restrict_members",
                "can_change_info",
                "can_invite_users",
                "can_post_stories",
                "can_edit_stories",
                "can_delete_stories",
                "can_pin_messages",
                "can_send_welcome_messages",
            ),
            True,
        )
        return {
            "status": "administrator",
            "user": user,
            "can_be_edited": False,
            "is_anonymous": False,
            "can_promote_members": False,
            **rights,
        }
    if status == "kicked":
        return {"status": "kicked", "user": user, "until_date": 0}
    return {"status": status, "user": user}


class Emulator:
    """All worlds, one per bot token."""

    def __init__(self) -> None:
        self.worlds: dict[str, World] = {}

    def world(self, token: str) -> World:
        world = self.worlds.get(token)
        if world is None:
            world = self.worlds[token] = World(token)
        return world

    def close(self) -> None:
        for world in self.worlds.values():
            world.closed = True
            if world.webhook.task:
                world.webhook.task.cancel()
            world.signal.fire()
