"""Bot API methods that send, edit, copy, forward and delete messages."""

from __future__ import annotations

import random
import secrets
from typing import Any

from .errors import bad_request
from .files import StoredFile, media_object, placeholder_png
from .registry import Request, method
from .state import ChatRecord, MessageRecord, World
from .validation import CHAT_ACTIONS, check_reply_markup, format_text

NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
CALLBACK_TEXT_LIMIT = 200
_DICE_RANGES = {"🎲": 6, "🎯": 6, "🎳": 6, "🏀": 5, "⚽": 5, "🎰": 64}
# Message fields that describe content, i.e. what copy/forward carry over
_META_FIELDS = frozenset(
    {
        "message_id",
        "from",
        "chat",
        "date",
        "reply_to_message",
        "edit_date",
        "reply_markup",
        "has_protected_content",
        "media_group_id",
        "forward_origin",
        "link_preview_options",
    }
)


# -- shared steps ------------------------------------------------------------------


def _flood(world: World, chat: ChatRecord) -> None:
    error = world.flood.check(chat.id, chat.is_group, world.now_float())
    if error is not None:
        raise error


def _reply_target(
    world: World, chat: ChatRecord, params: dict[str, Any]
) -> tuple[MessageRecord | None, ChatRecord]:
    reply = params.get("reply_parameters")
    allow = bool(params.get("allow_sending_without_reply"))
    message_id = params.get("reply_to_message_id")
    target = chat
    if isinstance(reply, dict):
        message_id = reply.get("message_id")
        allow = bool(reply.get("allow_sending_without_reply", allow))
        if reply.get("chat_id") not in (None, chat.id):
            target = world.chat_for_bot(reply["chat_id"], write=False)
    elif reply is not None:
        raise bad_request("can't parse reply parameters JSON object")
    if message_id is None:
        return None, target
    record = world.message(target, int(message_id))
    if record is None and not allow:
        raise bad_request("message to be replied not found")
    return record, target


def _deliver(
    req: Request,
    content: dict[str, Any],
    markup: dict[str, Any] | None = None,
    chat: ChatRecord | None = None,
    *,
    flood: bool = True,
) -> MessageRecord:
    world, params = req.world, req.params
    chat = chat or world.chat_for_bot(params["chat_id"])
    if flood:
        _flood(world, chat)
    reply, reply_chat = _reply_target(world, chat, params)
    if reply is not None and reply_chat is not chat:
        # a reply to another chat's message is shown as an external reply
        content = {**content, "external_reply": _external_reply(reply, reply_chat)}
        reply = None
    record = world.store_message(
        chat,
        world.bot,
        content,
        reply_to=reply,
        markup=markup,
        protect_content=bool(params.get("protect_content")),
        silent=bool(params.get("disable_notification")),
    )
    if markup and "keyboard" in markup:
        chat.reply_keyboard = markup
    elif markup and markup.get("remove_keyboard"):
        chat.reply_keyboard = None
    return record


def _external_reply(record: MessageRecord, chat: ChatRecord) -> dict[str, Any]:
    origin = {"type": "user", "sender_user": record.data["from"], "date": record.date}
    info: dict[str, Any] = {"origin": origin, "message_id": record.message_id}
    if chat.is_group:
        info["chat"] = chat.api()
    kind = record.media_kind
    if kind:
        info[kind] = record.data[kind]
    return info


def _text_content(params: dict[str, Any]) -> dict[str, Any]:
    text, entities = format_text(
        params.get("text"), params.get("parse_mode"), params.get("entities")
    )
    content: dict[str, Any] = {"text": text}
    if entities:
        content["entities"] = entities
    preview = params.get("link_preview_options")
    if params.get("disable_web_page_preview") and not preview:
        preview = {"is_disabled": True}
    if isinstance(preview, dict) and preview:
        content["link_preview_options"] = preview
    return content


def _caption_content(params: dict[str, Any], key: str = "caption") -> dict[str, Any]:
    if params.get(key) is None:
        return {}
    text, entities = format_text(
        params.get(key), params.get("parse_mode"), params.get(f"{key}_entities"), caption=True
    )
    content: dict[str, Any] = {"caption": text} if text else {}
    if text and entities:
        content["caption_entities"] = entities
    return content


def _inline_only(markup: dict[str, Any] | None) -> dict[str, Any] | None:
    if markup is not None and "inline_keyboard" not in markup:
        raise bad_request("inline keyboard expected")
    return markup


# -- text --------------------------------------------------------------------------


@method("sendMessage")
def send_message(req: Request) -> dict[str, Any]:
    content = _text_content(req.params)
    markup = check_reply_markup(req.params.get("reply_markup"))
    return _deliver(req, content, markup).data


# -- media ---------------------------------------------------------------------------


def _input_file(req: Request, field: str, kind: str, value: Any = None) -> StoredFile:
    world, files = req.world, req.files
    value = req.params.get(field) if value is None else value
    upload = None
    if isinstance(value, str) and value.startswith("attach://"):
        upload = files.get(value[len("attach://") :])
        if upload is None:
            raise bad_request(f"there is no {field} in the request")
    if upload is not None:
        if not upload.data:
            raise bad_request("file must be non-empty")
        mime = upload.content_type
        if mime in (None, "application/octet-stream"):
            mime = None
        return world.files.add(
            kind, upload.data, file_name=upload.filename, mime_type=mime, uploaded_by_bot=True
        )
    if not isinstance(value, str) or not value:
        raise bad_request(f"there is no {field} in the request")
    if value.startswith(("http://", "https://")):
        # No network here: keep a stand-in, named after the URL, so the flow goes on
        name = value.rstrip("/").rsplit("/", 1)[-1] or None
        data = placeholder_png() if kind in ("photo", "sticker") else value.encode()
        return world.files.add(kind, data, file_name=name, uploaded_by_bot=True)
    stored = world.files.get(value)
    if stored is None:
        raise bad_request("wrong file identifier/HTTP URL specified")
    if (stored.kind == "photo") != (kind == "photo"):
        raise bad_request("type of file mismatch")
    return stored


def _media_content(req: Request, kind: str, stored: StoredFile) -> dict[str, Any]:
    params = req.params
    content: dict[str, Any] = {kind: media_object(req.world.files, stored, params)}
    if kind == "animation":
        twin = content[kind]
        content["document"] = {
            k: twin[k]
            for k in ("file_id", "file_unique_id", "file_name", "mime_type", "file_size")
            if k in twin
        }
    if params.get("has_spoiler"):
        content["has_media_spoiler"] = True
    if params.get("show_caption_above_media"):
        content["show_caption_above_media"] = True
    return content


def _send_media(req: Request, kind: str) -> dict[str, Any]:
    caption = _caption_content(req.params)
    markup = check_reply_markup(req.params.get("reply_markup"))
    chat = req.world.chat_for_bot(req.params["chat_id"])
    stored = _input_file(req, kind, kind)
    content = {**_media_content(req, kind, stored), **caption}
    return _deliver(req, content, markup, chat).data


def _media_method(name: str, kind: str) -> None:
    method(name)(lambda req: _send_media(req, kind))


for _name, _kind in (
    ("sendPhoto", "photo"),
    ("sendDocument", "document"),
    ("sendVoice", "voice"),
    ("sendAudio", "audio"),
    ("sendVideo", "video"),
    ("sendAnimation", "animation"),
    ("sendSticker", "sticker"),
    ("sendVideoNote", "video_note"),
):
    _media_method(_name, _kind)


_ALBUM_KINDS = {"photo", "video", "document", "audio"}


@method("sendMediaGroup")
def send_media_group(req: Request) -> list[dict[str, Any]]:
    world, items = req.world, req.params["media"]
    if not isinstance(items, list) or not 2 <= len(items) <= 10:
        raise bad_request("media must include 2-10 items")
    kinds = set()
    for item in items:
        if not isinstance(item, dict) or item.get("type") not in _ALBUM_KINDS:
            raise bad_request("can't parse InputMedia JSON object")
        kinds.add(item["type"])
    if len(kinds) > 1 and (kinds & {"document", "audio"}):
        raise bad_request("can't use the media of the specified type in the album")
    captions = [_caption_content(item) for item in items]
    chat = world.chat_for_bot(req.params["chat_id"])
    stored = [_input_file(req, "media", item["type"], item.get("media")) for item in items]
    _flood(world, chat)  # the album passes or fails as a whole
    group_id = str(secrets.randbits(62))
    records = []
    for item, caption, file in zip(items, captions, stored, strict=True):
        content = {
            **_media_content(Request(world, item, req.files, req.webhooks), item["type"], file),
            **caption,
            "media_group_id": group_id,
        }
        records.append(_deliver(req, content, None, chat, flood=False))
    return [r.data for r in records]


# -- other content -------------------------------------------------------------------


@method("sendLocation")
def send_location(req: Request) -> dict[str, Any]:
    params = req.params
    location = {"latitude": params["latitude"], "longitude": params["longitude"]}
    for key in ("horizontal_accuracy", "live_period", "heading", "proximity_alert_radius"):
        if key in params:
            location[key] = params[key]
    markup = check_reply_markup(params.get("reply_markup"))
    return _deliver(req, {"location": location}, markup).data


@method("sendVenue")
def send_venue(req: Request) -> dict[str, Any]:
    params = req.params
    location = {"latitude": params["latitude"], "longitude": params["longitude"]}
    venue = {"location": location, "title": params["title"], "address": params["address"]}
    markup = check_reply_markup(params.get("reply_markup"))
    return _deliver(req, {"venue": venue, "location": location}, markup).data


@method("sendContact")
def send_contact(req: Request) -> dict[str, Any]:
    params = req.params
    contact = {
        k: params[k] for k in ("phone_number", "first_name", "last_name", "vcard") if k in params
    }
    markup = check_reply_markup(params.get("reply_markup"))
    return _deliver(req, {"contact": contact}, markup).data


@method("sendDice")
def send_dice(req: Request) -> dict[str, Any]:
    emoji = req.params.get("emoji") or "🎲"
    if emoji not in _DICE_RANGES:
        raise bad_request("invalid dice emoji specified")
    dice = {"emoji": emoji, "value": random.randint(1, _DICE_RANGES[emoji])}
    markup = check_reply_markup(req.params.get("reply_markup"))
    return _deliver(req, {"dice": dice}, markup).data


@method("sendPoll")
def send_poll(req: Request) -> dict[str, Any]:
    params = req.params
    options = params["options"]
    if not isinstance(options, list) or not 2 <= len(options) <= 12:
        raise bad_request("poll must have 2-12 options")
    texts = [o.get("text") if isinstance(o, dict) else o for o in options]
    if not all(isinstance(t, str) and 1 <= len(t) <= 100 for t in texts):
        raise bad_request("poll options length must not exceed 100")
    question = params["question"]
    if not 1 <= len(question) <= 300:
        raise bad_request("poll question length must not exceed 300")
    poll = {
        "id": str(secrets.randbits(63)),
        "question": question,
        "options": [
            {"persistent_id": str(i), "text": t, "voter_count": 0} for i, t in enumerate(texts)
        ],
        "total_voter_count": 0,
        "is_closed": bool(params.get("is_closed")),
        "is_anonymous": params.get("is_anonymous", True),
        "type": params.get("type") or "regular",
        "allows_multiple_answers": bool(params.get("allows_multiple_answers")),
        "allows_revoting": bool(params.get("allows_revoting", True)),
        "members_only": bool(params.get("members_only")),
    }
    markup = check_reply_markup(params.get("reply_markup"))
    return _deliver(req, {"poll": poll}, markup).data


@method("sendChatAction")
def send_chat_action(req: Request) -> bool:
    world = req.world
    action = req.params["action"]
    if action not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    chat = world.chat_for_bot(req.params["chat_id"])
    chat.actions.append({"action": action, "date": world.now()})
    return True


# -- editing -------------------------------------------------------------------------


def _editable(req: Request) -> MessageRecord:
    params = req.params
    if params.get("inline_message_id"):
        raise bad_request("MESSAGE_ID_INVALID")
    if "chat_id" not in params:
        raise bad_request("chat_id is empty")
    if "message_id" not in params:
        raise bad_request("message identifier is not specified")
    chat = req.world.chat_for_bot(params["chat_id"])
    record = req.world.message(chat, params["message_id"])
    if record is None:
        raise bad_request("message to edit not found")
    if not record.from_bot:
        raise bad_request("message can't be edited")
    return record


def _apply_edit(
    req: Request, record: MessageRecord, changes: dict[str, Any], keys: tuple[str, ...]
) -> dict[str, Any]:
    current = {k: record.data.get(k) for k in keys}
    wanted = {k: changes.get(k) for k in keys}
    if current == wanted:
        raise bad_request(NOT_MODIFIED)
    req.world.edit_message(record, {k: v for k, v in changes.items() if v is not None}, keys)
    if "reply_markup" in keys:
        record.markup = changes.get("reply_markup")
    return record.data


@method("editMessageText")
def edit_message_text(req: Request) -> dict[str, Any]:
    if req.params.get("text") is None:
        raise bad_request("message text is empty")
    content = _text_content(req.params)
    markup = _inline_only(check_reply_markup(req.params.get("reply_markup")))
    record = _editable(req)
    if "text" not in record.data:
        raise bad_request("there is no text in the message to edit")
    changes = {"entities": None, **content, "reply_markup": markup}
    return _apply_edit(req, record, changes, ("text", "entities", "reply_markup"))


@method("editMessageCaption")
def edit_message_caption(req: Request) -> dict[str, Any]:
    content = _caption_content(req.params)
    markup = _inline_only(check_reply_markup(req.params.get("reply_markup")))
    record = _editable(req)
    if record.media_kind is None or "text" in record.data:
        raise bad_request("there is no caption in the message to edit")
    changes = {"caption": None, "caption_entities": None, **content, "reply_markup": markup}
    return _apply_edit(req, record, changes, ("caption", "caption_entities", "reply_markup"))


@method("editMessageReplyMarkup")
def edit_message_reply_markup(req: Request) -> dict[str, Any]:
    markup = _inline_only(check_reply_markup(req.params.get("reply_markup")))
    record = _editable(req)
    return _apply_edit(req, record, {"reply_markup": markup}, ("reply_markup",))


@method("answerCallbackQuery")
def answer_callback_query(req: Request) -> bool:
    world, params = req.world, req.params
    query = world.callbacks.get(params["callback_query_id"])
    expired = query is None or world.now_float() - query.created > world.CALLBACK_TTL
    if expired or query.answer is not None:
        raise bad_request("query is too old and response timeout expired or query ID is invalid")
    text = params.get("text")
    if text and len(text) > CALLBACK_TEXT_LIMIT:
        raise bad_request("MESSAGE_TOO_LONG")
    query.answer = {
        "text": text,
        "show_alert": bool(params.get("show_alert")),
        "url": params.get("url"),
        "cache_time": params.get("cache_time", 0),
    }
    world.signal.fire()
    return True


# -- copy and forward -----------------------------------------------------------------


def _source(req: Request, message_id: int, action: str) -> MessageRecord:
    world = req.world
    chat = world.chat_for_bot(req.params["from_chat_id"], write=False)
    record = world.message(chat, message_id)
    if record is None:
        raise bad_request(f"message to {action} not found")
    if record.is_service:
        raise bad_request(
            f"message can't be {action}ed" if action == "forward" else "message can't be copied"
        )
    if record.protect_content:
        raise bad_request("message has protected content and can't be forwarded")
    return record


def _content_of(record: MessageRecord) -> dict[str, Any]:
    return {k: v for k, v in record.data.items() if k not in _META_FIELDS}


def _copy(req: Request, record: MessageRecord, chat: ChatRecord) -> MessageRecord:
    content = _content_of(record)
    if "caption" in req.params and record.media_kind:
        content.pop("caption", None)
        content.pop("caption_entities", None)
        content.update(_caption_content(req.params))
    markup = check_reply_markup(req.params.get("reply_markup"))
    return _deliver(req, content, markup, chat)


def _forward(req: Request, record: MessageRecord, chat: ChatRecord) -> MessageRecord:
    content = _content_of(record)
    content["forward_origin"] = record.data.get("forward_origin") or {
        "type": "user",
        "sender_user": record.data["from"],
        "date": record.date,
    }
    return _deliver(req, content, None, chat)


@method("copyMessage")
def copy_message(req: Request) -> dict[str, int]:
    record = _source(req, req.params["message_id"], "copy")
    chat = req.world.chat_for_bot(req.params["chat_id"])
    return {"message_id": _copy(req, record, chat).message_id}


@method("forwardMessage")
def forward_message(req: Request) -> dict[str, Any]:
    record = _source(req, req.params["message_id"], "forward")
    chat = req.world.chat_for_bot(req.params["chat_id"])
    return _forward(req, record, chat).data


def _many(req: Request, action: str) -> list[dict[str, int]]:
    ids = req.params["message_ids"]
    if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
        raise bad_request("message identifiers are not specified")
    chat = req.world.chat_for_bot(req.params["chat_id"])
    source = req.world.chat_for_bot(req.params["from_chat_id"], write=False)
    out = []
    for message_id in sorted(int(i) for i in ids):
        record = req.world.message(source, message_id)
        if record is None or record.is_service or record.protect_content:
            continue  # Telegram skips what it cannot copy
        send = _copy if action == "copy" else _forward
        out.append({"message_id": send(req, record, chat).message_id})
    if not out:
        raise bad_request(f"messages to {action} not found")
    return out


@method("copyMessages")
def copy_messages(req: Request) -> list[dict[str, int]]:
    return _many(req, "copy")


@method("forwardMessages")
def forward_messages(req: Request) -> list[dict[str, int]]:
    return _many(req, "forward")


# -- deleting and pinning ---------------------------------------------------------------


def _can_delete(world: World, chat: ChatRecord, record: MessageRecord) -> bool:
    if not world.can_delete_now(record):
        return False
    if record.from_bot or chat.type == "private":
        return True
    return chat.bot_status in ("creator", "administrator")


@method("deleteMessage")
def delete_message(req: Request) -> bool:
    world = req.world
    chat = world.chat_for_bot(req.params["chat_id"])
    record = world.message(chat, req.params["message_id"])
    if record is None:
        raise bad_request("message to delete not found")
    if not _can_delete(world, chat, record):
        raise bad_request("message can't be deleted")
    record.deleted = True
    world.signal.fire()
    return True


@method("deleteMessages")
def delete_messages(req: Request) -> bool:
    world = req.world
    ids = req.params["message_ids"]
    if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
        raise bad_request("message identifiers are not specified")
    chat = world.chat_for_bot(req.params["chat_id"])
    for message_id in ids:
        record = world.message(chat, int(message_id))
        if record is not None and _can_delete(world, chat, record):
            record.deleted = True
    world.signal.fire()
    return True


@method("pinChatMessage")
def pin_chat_message(req: Request) -> bool:
    world = req.world
    chat = world.chat_for_bot(req.params["chat_id"])
    if chat.is_group and chat.bot_status != "administrator":
        raise bad_request("not enough rights to manage pinned messages in the chat")
    record = world.message(chat, req.params["message_id"])
    if record is None:
        raise bad_request("message to pin not found")
    chat.pinned = [*(m for m in chat.pinned if m != record.message_id), record.message_id]
    world.store_message(chat, world.bot, {"pinned_message": record.shallow()})
    return True


@method("unpinChatMessage")
def unpin_chat_message(req: Request) -> bool:
    world = req.world
    chat = world.chat_for_bot(req.params["chat_id"])
    if chat.is_group and chat.bot_status != "administrator":
        raise bad_request("not enough rights to manage pinned messages in the chat")
    message_id = req.params.get("message_id") or (chat.pinned[-1] if chat.pinned else None)
    if message_id is None or message_id not in chat.pinned:
        raise bad_request("message to unpin not found")
    chat.pinned.remove(message_id)
    return True
