"""Bot API dispatch plus the methods about updates, webhooks, chats and files."""

from __future__ import annotations

import re
from typing import Any

from .errors import ApiError, bad_request
from .registry import Described, Request, method
from .state import MEMBER_STATUSES, ChatRecord, World
from .validation import check_commands

POLL_TIMEOUT_CAP = 50
_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")
CONFLICT_WEBHOOK = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
CONFLICT_POLLING = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)


# -- identity and updates -------------------------------------------------------


@method("getMe")
def get_me(req: Request) -> dict[str, Any]:
    return req.world.bot_api_user()


@method("getUpdates")
async def get_updates(req: Request) -> list[dict[str, Any]]:
    world, params = req.world, req.params
    if world.webhook.url:
        raise ApiError(409, CONFLICT_WEBHOOK)
    world.confirm_updates(params.get("offset"))
    world.set_allowed_updates(params.get("allowed_updates"))
    limit = min(max(params.get("limit", 100), 1), 100)
    timeout = min(max(params.get("timeout", 0), 0), POLL_TIMEOUT_CAP)
    # A newer getUpdates terminates an older one still waiting, like Telegram.
    world.poll_generation += 1
    generation = world.poll_generation
    world.signal.fire()

    def ready() -> bool:
        return bool(
            world.updates
            or world.closed
            or world.webhook.url
            or world.poll_generation != generation
        )

    if timeout > 0:
        try:
            await world.signal.wait_for(ready, timeout)
        except TimeoutError:
            pass
    if world.poll_generation != generation:
        raise ApiError(409, CONFLICT_POLLING)
    if world.webhook.url:
        raise ApiError(409, CONFLICT_WEBHOOK)
    return list(world.updates[:limit])


@method("setWebhook")
def set_webhook(req: Request) -> Described:
    world, params = req.world, req.params
    url = params.get("url", "").strip()
    if not url:
        return delete_webhook(req)
    if not re.match(r"https?://[^/\s]+", url):
        raise bad_request("invalid webhook URL specified")
    secret = params.get("secret_token")
    if secret is not None and not _SECRET_RE.fullmatch(secret):
        raise bad_request("secret token contains unallowed characters")
    if params.get("drop_pending_updates"):
        world.updates.clear()
    world.set_allowed_updates(params.get("allowed_updates"))
    hook = world.webhook
    changed = hook.url != url or hook.secret_token != secret
    hook.url, hook.secret_token = url, secret
    hook.max_connections = params.get("max_connections", 40)
    hook.ip_address = params.get("ip_address")
    if changed or hook.task is None:
        hook.last_error_date = hook.last_error_message = None
        req.webhooks.start(world)
    world.signal.fire()
    return Described(True, "Webhook was set")


@method("deleteWebhook")
def delete_webhook(req: Request) -> Described:
    world = req.world
    if req.params.get("drop_pending_updates"):
        world.updates.clear()
    if not world.webhook.url:
        return Described(True, "Webhook is already deleted")
    req.webhooks.stop(world)
    world.webhook.url = ""
    world.webhook.secret_token = None
    world.signal.fire()
    return Described(True, "Webhook was deleted")


@method("getWebhookInfo")
def get_webhook_info(req: Request) -> dict[str, Any]:
    world = req.world
    hook = world.webhook
    info: dict[str, Any] = {
        "url": hook.url,
        "has_custom_certificate": False,
        "pending_update_count": len(world.updates),
    }
    if hook.url:
        info["max_connections"] = hook.max_connections
        if hook.ip_address:
            info["ip_address"] = hook.ip_address
        if world.allowed_updates is not None:
            info["allowed_updates"] = sorted(world.allowed_updates)
        if hook.last_error_date:
            info["last_error_date"] = hook.last_error_date
            info["last_error_message"] = hook.last_error_message
    return info


# -- chats and members --------------------------------------------------------


@method("getChat")
def get_chat(req: Request) -> dict[str, Any]:
    chat = req.world.chat_for_bot(req.params["chat_id"], write=False)
    info = {
        **chat.api(),
        "accent_color_id": chat.id % 7 if chat.type == "private" else 0,
        "max_reaction_count": 11,
        "accepted_gift_types": {
            "unlimited_gifts": False,
            "limited_gifts": False,
            "unique_gifts": False,
            "premium_subscription": False,
            "gifts_from_channels": False,
        },
    }
    if chat.pinned and chat.pinned[-1] in chat.messages:
        info["pinned_message"] = chat.messages[chat.pinned[-1]].shallow()
    return info


def _known_user(world: World, user_id: int) -> None:
    if user_id not in world.users:
        raise bad_request("user not found")


@method("getChatMember")
def get_chat_member(req: Request) -> dict[str, Any]:
    world = req.world
    chat = world.chat_for_bot(req.params["chat_id"], write=False)
    user_id = req.params["user_id"]
    _known_user(world, user_id)
    return world.member_api(chat, user_id)


@method("getChatMemberCount")
def get_chat_member_count(req: Request) -> int:
    world = req.world
    chat = world.chat_for_bot(req.params["chat_id"], write=False)
    if chat.type == "private":
        return 2
    humans = sum(1 for status in chat.members.values() if status in MEMBER_STATUSES)
    return humans + (1 if chat.bot_status in MEMBER_STATUSES else 0)


@method("getChatAdministrators")
def get_chat_administrators(req: Request) -> list[dict[str, Any]]:
    world = req.world
    chat = world.chat_for_bot(req.params["chat_id"], write=False)
    if chat.type == "private":
        raise bad_request("there are no administrators in the private chat")
    ids = [uid for uid, status in chat.members.items() if status in ("creator", "administrator")]
    if chat.bot_status == "administrator":
        ids.append(world.bot_id)
    return [world.member_api(chat, uid) for uid in ids]


@method("leaveChat")
def leave_chat(req: Request) -> bool:
    world = req.world
    chat = world.chat_for_bot(req.params["chat_id"], write=False)
    if chat.type == "private":
        raise bad_request("chat member status can't be changed in private chats")
    old, chat.bot_status = chat.bot_status, "left"
    world.emit(
        "my_chat_member", world.chat_member_update(chat, world.bot_id, world.bot_id, old, "left")
    )
    return True


# -- commands and menu button ---------------------------------------------------


def _commands_key(params: dict[str, Any]) -> str:
    scope = params.get("scope") or {"type": "default"}
    if not isinstance(scope, dict) or "type" not in scope:
        raise bad_request("can't parse BotCommandScope JSON object")
    parts = [f"{k}={scope[k]}" for k in sorted(scope)]
    return "|".join([*parts, f"lang={params.get('language_code') or ''}"])


@method("setMyCommands")
def set_my_commands(req: Request) -> bool:
    commands = check_commands(req.params["commands"])
    req.world.commands[_commands_key(req.params)] = commands
    return True


@method("getMyCommands")
def get_my_commands(req: Request) -> list[dict[str, str]]:
    return list(req.world.commands.get(_commands_key(req.params), []))


@method("deleteMyCommands")
def delete_my_commands(req: Request) -> bool:
    req.world.commands.pop(_commands_key(req.params), None)
    return True


@method("setChatMenuButton")
def set_chat_menu_button(req: Request) -> bool:
    world, params = req.world, req.params
    button = params.get("menu_button")
    if button is not None and (not isinstance(button, dict) or "type" not in button):
        raise bad_request("can't parse menu button JSON object")
    if "chat_id" in params:
        chat = world.chat_for_bot(params["chat_id"], write=False)
        if chat.type != "private":
            raise bad_request("chat not found")
        chat.menu_button = button
    else:
        world.default_menu_button = button
    return True


@method("getChatMenuButton")
def get_chat_menu_button(req: Request) -> dict[str, Any]:
    world, params = req.world, req.params
    if "chat_id" in params:
        chat = world.chat_for_bot(params["chat_id"], write=False)
        if chat.menu_button:
            return chat.menu_button
    return world.default_menu_button or {"type": "default"}


# -- profile texts ------------------------------------------------------------------

_PROFILE_TEXTS = {
    # method stem -> (parameter and result field, Telegram's length limit)
    "Description": ("description", 512),
    "ShortDescription": ("short_description", 120),
    "Name": ("name", 64),
}


def _profile_methods(stem: str, field: str, limit: int) -> None:
    def set_text(req: Request) -> bool:
        text = req.params.get(field) or ""
        if len(text) > limit:
            raise bad_request(f"bot {field.replace('_', ' ')} is too long")
        key = (field, req.params.get("language_code") or "")
        if text:
            req.world.profile_texts[key] = text
        else:
            req.world.profile_texts.pop(key, None)
        return True

    def get_text(req: Request) -> dict[str, str]:
        texts = req.world.profile_texts
        language = req.params.get("language_code") or ""
        default = req.world.bot.first_name if field == "name" else ""
        return {field: texts.get((field, language), texts.get((field, ""), default))}

    method(f"setMy{stem}")(set_text)
    method(f"getMy{stem}")(get_text)


for _stem, (_field, _limit) in _PROFILE_TEXTS.items():
    _profile_methods(_stem, _field, _limit)


@method("getUserProfilePhotos")
def get_user_profile_photos(req: Request) -> dict[str, Any]:
    _known_user(req.world, req.params["user_id"])
    return {"total_count": 0, "photos": []}


# -- moderation ---------------------------------------------------------------------


def _moderated(req: Request) -> tuple[ChatRecord, int]:
    world = req.world
    chat = world.chat_for_bot(req.params["chat_id"], write=False)
    if chat.type == "private":
        raise bad_request("can't remove chat owner")  # Telegram's answer for private chats
    if chat.bot_status != "administrator":
        raise bad_request("not enough rights to restrict/unrestrict chat member")
    user_id = req.params["user_id"]
    _known_user(world, user_id)
    if chat.members.get(user_id) == "creator":
        raise bad_request("can't remove chat owner")
    return chat, user_id


@method("banChatMember")
def ban_chat_member(req: Request) -> bool:
    world = req.world
    chat, user_id = _moderated(req)
    old = chat.members.get(user_id, "left")
    chat.members[user_id] = "kicked"
    if old in MEMBER_STATUSES:
        world.emit(
            "chat_member", world.chat_member_update(chat, world.bot_id, user_id, old, "kicked")
        )
        world.store_message(chat, world.bot, {"left_chat_member": world.user_api(user_id)})
    return True


@method("unbanChatMember")
def unban_chat_member(req: Request) -> bool:
    world = req.world
    chat, user_id = _moderated(req)
    old = chat.members.get(user_id, "left")
    if old == "kicked":
        chat.members[user_id] = "left"
        world.emit(
            "chat_member", world.chat_member_update(chat, world.bot_id, user_id, old, "left")
        )
    elif old in MEMBER_STATUSES and not req.params.get("only_if_banned"):
        # Telegram's unban of a current member removes them (they may rejoin)
        chat.members[user_id] = "left"
        world.emit(
            "chat_member", world.chat_member_update(chat, world.bot_id, user_id, old, "left")
        )
    return True


# -- files ------------------------------------------------------------------------


@method("getFile")
def get_file(req: Request) -> dict[str, Any]:
    stored = req.world.files.get(req.params["file_id"])
    if stored is None:
        raise bad_request("invalid file_id")
    if stored.size > 20 * 1024 * 1024:
        raise bad_request("file is too big")
    return stored.api_file()
