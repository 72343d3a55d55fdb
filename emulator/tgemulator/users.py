"""What played users (and group admins) do: the control side of the world.

Each action changes the world the way a Telegram client would and emits the
updates Telegram would send to the bot.
"""

from __future__ import annotations

import copy
import secrets
from collections.abc import Sequence
from typing import Any

from .entities import sort_entities, trim, with_detected
from .errors import ControlError
from .files import media_object, placeholder_png
from .state import MEMBER_STATUSES, CallbackRecord, ChatRecord, MessageRecord, UserRecord, World

CLIENT_TEXT_LIMIT = 4096
ALBUM_LIMIT = 10
_DEFAULT_BYTES = {
    "voice": b"OggS" + bytes(252),
    "audio": b"ID3" + bytes(253),
    "video": bytes(4) + b"ftypisom" + bytes(244),
    "video_note": bytes(4) + b"ftypisom" + bytes(244),
    "animation": bytes(4) + b"ftypisom" + bytes(244),
    "document": b"%PDF-1.4\n%emulator\n",
}


def _user(world: World, user_id: int) -> UserRecord:
    user = world.users.get(int(user_id))
    if user is None or user.is_bot:
        raise ControlError(f"user {user_id} does not exist; create_user first", 404)
    return user


def _chat(world: World, chat_id: int) -> ChatRecord:
    chat = world.chats.get(int(chat_id))
    if chat is None:
        raise ControlError(f"chat {chat_id} does not exist", 404)
    return chat


def _group(world: World, chat_id: int) -> ChatRecord:
    chat = _chat(world, chat_id)
    if not chat.is_group:
        raise ControlError(f"chat {chat_id} is not a group")
    if chat.migrated_to is not None:
        raise ControlError(f"group {chat_id} was migrated to {chat.migrated_to}")
    return chat


def _creator(chat: ChatRecord) -> int:
    return next((uid for uid, status in chat.members.items() if status == "creator"), 0)


def _privacy_lets_through(world: World, chat: ChatRecord, record: MessageRecord) -> bool:
    """Privacy mode (can_read_all_group_messages off): Telegram shows a non-admin
    bot only commands, replies to it, mentions of it and service messages."""
    if chat.type == "private" or world.bot_flags["can_read_all_group_messages"]:
        return True
    if chat.bot_status == "administrator" or record.is_service:
        return True
    body = record.body
    username = (world.bot.username or "").lower()
    if body.startswith("/"):
        command = body.split()[0]
        return "@" not in command or command.split("@", 1)[1].lower() == username
    replied = record.data.get("reply_to_message", {}).get("from", {})
    return replied.get("id") == world.bot_id or f"@{username}" in body.lower()


def _deliver(world: World, chat: ChatRecord, kind: str, record: MessageRecord) -> None:
    if world.bot_can_receive(chat) and _privacy_lets_through(world, chat, record):
        # a snapshot: later edits must not rewrite updates already queued
        world.emit(kind, copy.deepcopy(record.data))


def create_user(
    world: World,
    first_name: str,
    last_name: str | None = None,
    username: str | None = None,
    language_code: str | None = "en",
    user_id: int | None = None,
    started: bool = False,
) -> dict[str, Any]:
    if user_id is not None and int(user_id) in world.users:
        raise ControlError(f"user id {user_id} is taken")
    user = UserRecord(
        id=int(user_id) if user_id is not None else world.new_user_id(),
        first_name=first_name,
        last_name=last_name,
        username=username,
        language_code=language_code,
    )
    world.users[user.id] = user
    if started:
        world.private_chat(user)
    return user.api()


def set_language(world: World, user_id: int, language_code: str) -> dict[str, Any]:
    """What a user's Telegram app reports as its language from now on."""
    user = _user(world, user_id)
    user.language_code = language_code
    return user.api()


def create_group(
    world: World,
    title: str,
    member_ids: Sequence[int],
    supergroup: bool = False,
    admin_ids: Sequence[int] = (),
    add_bot_update: bool = False,
    bot_is_admin: bool = False,
    username: str | None = None,
    creator_id: int | None = None,
) -> dict[str, Any]:
    members = [_user(world, uid).id for uid in member_ids]
    creator = int(creator_id) if creator_id is not None else (members[0] if members else None)
    chat = ChatRecord(
        id=world.new_group_id(supergroup),
        type="supergroup" if supergroup else "group",
        title=title,
        username=username if supergroup else None,
        bot_status="administrator" if bot_is_admin else "member",
    )
    for uid in members:
        chat.members[uid] = "member"
    for uid in admin_ids:
        chat.members[_user(world, uid).id] = "administrator"
    if creator is not None:
        chat.members[_user(world, creator).id] = "creator"
    world.chats[chat.id] = chat
    if add_bot_update:
        actor = world.users.get(creator) if creator else None
        update = world.chat_member_update(chat, creator or 0, world.bot_id, "left", chat.bot_status)
        world.emit("my_chat_member", update)
        content = {"new_chat_members": [world.bot.api()]}
        if not supergroup:
            content = {"group_chat_created": True}
        record = world.store_message(chat, actor or world.bot, content)
        _deliver(world, chat, "message", record)
    world.signal.fire()
    return chat.api()


def add_member(
    world: World, chat_id: int, user_id: int, by_user_id: int | None = None
) -> dict[str, Any]:
    chat = _group(world, chat_id)
    actor = _user(world, by_user_id) if by_user_id is not None else None
    if int(user_id) == world.bot_id:
        old, chat.bot_status = chat.bot_status, "member"
        actor_id = actor.id if actor else _creator(chat)
        world.emit(
            "my_chat_member", world.chat_member_update(chat, actor_id, world.bot_id, old, "member")
        )
        joined = world.bot.api()
    else:
        user = _user(world, user_id)
        old = chat.members.get(user.id, "left")
        chat.members[user.id] = "member"
        actor_id = actor.id if actor else user.id
        if chat.bot_status == "administrator":
            world.emit(
                "chat_member", world.chat_member_update(chat, actor_id, user.id, old, "member")
            )
        joined = user.api()
    sender = world.users.get(actor_id) or world.bot
    record = world.store_message(chat, sender, {"new_chat_members": [joined]})
    _deliver(world, chat, "message", record)
    return record.data


def remove_member(
    world: World, chat_id: int, user_id: int, by_user_id: int | None = None
) -> dict[str, Any]:
    chat = _group(world, chat_id)
    user = _user(world, user_id)
    old = chat.members.get(user.id, "left")
    if old not in MEMBER_STATUSES:
        raise ControlError(f"user {user_id} is not a member of {chat_id}")
    actor = _user(world, by_user_id) if by_user_id is not None else user
    new = "left" if actor is user else "kicked"
    chat.members[user.id] = new
    if chat.bot_status == "administrator":
        world.emit("chat_member", world.chat_member_update(chat, actor.id, user.id, old, new))
    record = world.store_message(chat, actor, {"left_chat_member": user.api()})
    _deliver(world, chat, "message", record)
    return record.data


def kick_bot(world: World, chat_id: int, by_user_id: int | None = None) -> bool:
    chat = _group(world, chat_id)
    actor_id = _user(world, by_user_id).id if by_user_id is not None else _creator(chat)
    if chat.bot_status == "kicked":
        raise ControlError(f"the bot was already removed from {chat_id}")
    old, chat.bot_status = chat.bot_status, "kicked"
    world.emit(
        "my_chat_member", world.chat_member_update(chat, actor_id, world.bot_id, old, "kicked")
    )
    return True


def delete_group(world: World, chat_id: int) -> bool:
    """The group is deleted: from now on the Bot API answers "chat not found" for it."""
    _group(world, chat_id)
    del world.chats[chat_id]
    return True


def migrate_to_supergroup(world: World, chat_id: int, by_user_id: int | None = None) -> int:
    old = _group(world, chat_id)
    if old.type != "group":
        raise ControlError(f"chat {chat_id} is already a supergroup")
    actor = _user(world, by_user_id) if by_user_id is not None else world.users.get(_creator(old))
    new = ChatRecord(
        id=world.new_group_id(True),
        type="supergroup",
        title=old.title,
        members=dict(old.members),
        bot_status=old.bot_status,
    )
    world.chats[new.id] = new
    sender = actor or world.bot
    record = world.store_message(old, sender, {"migrate_to_chat_id": new.id})
    _deliver(world, old, "message", record)
    old.migrated_to = new.id
    record = world.store_message(new, sender, {"migrate_from_chat_id": old.id})
    _deliver(world, new, "message", record)
    return new.id


def block_bot(world: World, user_id: int) -> bool:
    user = _user(world, user_id)
    if user.blocked_bot:
        return False
    user.blocked_bot = True
    chat = world.private_chat(user)
    world.emit(
        "my_chat_member", world.chat_member_update(chat, user.id, world.bot_id, "member", "kicked")
    )
    return True


def unblock_bot(world: World, user_id: int) -> bool:
    user = _user(world, user_id)
    if not user.blocked_bot:
        return False
    user.blocked_bot = False
    chat = world.private_chat(user)
    world.emit(
        "my_chat_member", world.chat_member_update(chat, user.id, world.bot_id, "kicked", "member")
    )
    return True


def _user_chat(world: World, user: UserRecord, chat_id: int | None) -> ChatRecord:
    if chat_id is None or int(chat_id) == user.id:
        if user.blocked_bot:
            raise ControlError(f"user {user.id} has blocked the bot; unblock_bot first")
        return world.private_chat(user)
    chat = _chat(world, chat_id)
    if chat.type == "private":
        raise ControlError(f"chat {chat_id} is another user's private chat")
    if chat.migrated_to is not None:
        raise ControlError(f"group {chat_id} was migrated to {chat.migrated_to}")
    if chat.members.get(user.id) not in MEMBER_STATUSES:
        raise ControlError(f"user {user.id} is not a member of {chat_id}")
    return chat


def _post(
    world: World,
    user_id: int,
    chat_id: int | None,
    content: dict[str, Any],
    reply_to_message_id: int | None = None,
) -> MessageRecord:
    user = _user(world, user_id)
    chat = _user_chat(world, user, chat_id)
    reply = None
    if reply_to_message_id is not None:
        reply = world.message(chat, int(reply_to_message_id))
        if reply is None:
            raise ControlError(f"message {reply_to_message_id} does not exist in {chat.id}")
    keyboard = chat.reply_keyboard
    if keyboard and keyboard.get("one_time_keyboard"):
        chat.reply_keyboard = None
    record = world.store_message(chat, user, content, reply_to=reply)
    _deliver(world, chat, "message", record)
    return record


def split_long_text(text: str, limit: int = CLIENT_TEXT_LIMIT) -> list[str]:
    """Split like Telegram clients do: at a line break or space when possible."""
    parts = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit + 1)
        if cut < limit // 2:
            cut = text.rfind(" ", 0, limit + 1)
        if cut < limit // 2:
            cut = limit
        parts.append(text[:cut])
        text = text[cut:].lstrip("\n ")
    parts.append(text)
    return [p for p in parts if p.strip()]


def send_message(
    world: World,
    user_id: int,
    text: str,
    chat_id: int | None = None,
    reply_to_message_id: int | None = None,
    forward_from_user_id: int | None = None,
    forward_origin: dict[str, Any] | None = None,
    entities: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    text, entities = trim(text, sort_entities(entities or []))
    if not text:
        raise ControlError("a Telegram client cannot send an empty message")
    origin = forward_origin
    if forward_from_user_id is not None:
        origin = {
            "type": "user",
            "sender_user": world.user_api(int(forward_from_user_id)),
            "date": world.now() - 60,
        }
    if origin is not None:
        origin = {"date": world.now() - 60, **origin}
    parts = split_long_text(text)
    records = []
    for index, part in enumerate(parts):
        part_entities = entities if len(parts) == 1 else []
        content: dict[str, Any] = {"text": part}
        if origin is not None:
            content["forward_origin"] = origin
        found = with_detected(part, part_entities)
        if found:
            content["entities"] = found
        reply = reply_to_message_id if index == 0 else None
        records.append(_post(world, user_id, chat_id, content, reply))
    result = dict(records[-1].data)
    if len(records) > 1:
        result["parts"] = [r.message_id for r in records]
    return result


def _caption(content: dict[str, Any], caption: str | None) -> None:
    if caption:
        content["caption"] = caption
        found = with_detected(caption, [])
        if found:
            content["caption_entities"] = found


def send_media(
    world: World,
    user_id: int,
    kind: str,
    chat_id: int | None = None,
    caption: str | None = None,
    data: bytes | None = None,
    file_name: str | None = None,
    mime_type: str | None = None,
    media_group_id: str | None = None,
    reply_to_message_id: int | None = None,
    **extra: Any,
) -> dict[str, Any]:
    if data is None:
        data = placeholder_png() if kind in ("photo", "sticker") else _DEFAULT_BYTES[kind]
    stored = world.files.add(kind, data, file_name=file_name, mime_type=mime_type)
    content: dict[str, Any] = {kind: media_object(world.files, stored, extra)}
    if kind == "animation":
        # Telegram still adds a `document` twin for old clients
        content["document"] = {
            key: content[kind][key]
            for key in ("file_id", "file_unique_id", "file_name", "mime_type", "file_size")
            if key in content[kind]
        }
    if kind not in ("sticker", "video_note"):
        _caption(content, caption)
    if media_group_id:
        content["media_group_id"] = str(media_group_id)
    return _post(world, user_id, chat_id, content, reply_to_message_id).data


def send_album(
    world: World, user_id: int, n: int, chat_id: int | None = None, caption: str | None = None
) -> list[dict[str, Any]]:
    """Up to 10 photos per album; more arrive as several albums, like Telegram."""
    messages = []
    for start in range(0, int(n), ALBUM_LIMIT):
        group_id = str(secrets.randbits(62))
        for index in range(start, min(int(n), start + ALBUM_LIMIT)):
            messages.append(
                send_media(
                    world,
                    user_id,
                    "photo",
                    chat_id=chat_id,
                    caption=caption if index == 0 else None,
                    media_group_id=group_id,
                )
            )
    return messages


def send_content(
    world: World, user_id: int, content: dict[str, Any], chat_id: int | None = None
) -> dict[str, Any]:
    return _post(world, user_id, chat_id, content).data


def edit_message(
    world: World, user_id: int, chat_id: int, message_id: int, text: str
) -> dict[str, Any]:
    user = _user(world, user_id)
    chat = _chat(world, chat_id)
    record = world.message(chat, int(message_id))
    if record is None or record.from_bot or record.data.get("from", {}).get("id") != user.id:
        raise ControlError(f"user {user_id} has no message {message_id} in {chat_id}")
    if "text" in record.data:
        changes: dict[str, Any] = {"text": text}
        key, drop = "entities", ("entities",)
    elif record.media_kind:
        changes = {"caption": text}
        key, drop = "caption_entities", ("caption_entities",)
    else:
        raise ControlError("service messages cannot be edited")
    found = with_detected(text, [])
    if found:
        changes[key] = found
    world.edit_message(record, changes, drop)
    _deliver(world, chat, "edited_message", record)
    return record.data


def press_button(
    world: World,
    user_id: int,
    chat_id: int,
    message_id: int,
    data: str | None = None,
    button_text: str | None = None,
    strict: bool = True,
) -> str:
    user = _user(world, user_id)
    chat = _chat(world, chat_id)
    if chat.type == "private" and chat.id != user.id:
        raise ControlError(f"user {user_id} cannot see chat {chat_id}")
    if chat.is_group and chat.members.get(user.id) not in MEMBER_STATUSES:
        raise ControlError(f"user {user_id} is not a member of {chat_id}")
    record = world.message(chat, int(message_id))
    if strict:
        if record is None:
            raise ControlError(f"message {message_id} does not exist in {chat_id}")
        data = _find_button(record, data, button_text)
    if not world.bot_can_receive(chat):
        raise ControlError("the bot cannot receive updates from this chat")
    if record is not None:
        message = copy.deepcopy(record.data)
    else:
        message = {"chat": chat.api(), "message_id": int(message_id), "date": 0}
    query_id = str(secrets.randbits(63))
    payload = {
        "id": query_id,
        "from": user.api(),
        "message": message,
        "chat_instance": chat.chat_instance,
    }
    if data is not None:
        payload["data"] = data
    world.callbacks[query_id] = CallbackRecord(
        id=query_id,
        user_id=user.id,
        chat_id=chat.id,
        message_id=int(message_id),
        data=data,
        created=world.now_float(),
    )
    world.emit("callback_query", payload)
    return query_id


def _find_button(record: MessageRecord, data: str | None, text: str | None) -> str:
    rows = (record.data.get("reply_markup") or {}).get("inline_keyboard") or []
    for row in rows:
        for button in row:
            if text is not None and button.get("text") != text:
                continue
            if data is not None and button.get("callback_data") != data:
                continue
            if "callback_data" not in button:
                raise ControlError(f"button {button.get('text')!r} has no callback_data")
            return button["callback_data"]
    wanted = f"text {text!r}" if text is not None else f"callback_data {data!r}"
    available = [b.get("text") for row in rows for b in row]
    raise ControlError(
        f"message {record.message_id} has no inline button with {wanted}; buttons: {available}"
    )


def transcript(world: World, chat_id: int, include_deleted: bool = False) -> list[dict[str, Any]]:
    if int(chat_id) not in world.chats and int(chat_id) in world.users:
        return []  # a user whose private chat with the bot was never opened
    chat = _chat(world, chat_id)
    return [
        m.transcript_entry() for m in chat.messages.values() if include_deleted or not m.deleted
    ]


def chats(world: World) -> list[dict[str, Any]]:
    out = []
    for chat in world.chats.values():
        title = chat.title
        if chat.type == "private" and chat.user:
            title = " ".join(filter(None, (chat.user.first_name, chat.user.last_name)))
        out.append(
            {
                "id": chat.id,
                "type": chat.type,
                "title": title,
                "username": chat.username or (chat.user.username if chat.user else None),
                "bot_status": world.member_status(chat, world.bot_id)
                if chat.type != "private"
                else ("kicked" if chat.user and chat.user.blocked_bot else "member"),
                "members": {str(uid): status for uid, status in chat.members.items()},
                "migrated_to": chat.migrated_to,
                "message_count": len(chat.live_messages()),
                "reply_keyboard": chat.reply_keyboard,
                "menu_button": chat.menu_button,
                "pinned": list(chat.pinned),
                "actions": list(chat.actions[-20:]),
            }
        )
    return out
