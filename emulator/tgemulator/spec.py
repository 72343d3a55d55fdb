"""Parameter spec of the Bot API methods the emulator implements.

`spec.json` is derived from the full machine-readable Bot API description
(`python -m tgemulator --derive-spec PATH/api.min.json` regenerates it) so that the
emulator coerces and requires parameters exactly where Telegram does, without
shipping the whole 650 KB description.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from functools import cache
from pathlib import Path
from typing import Any

from .errors import ApiError, bad_request

SPEC_PATH = Path(__file__).with_name("spec.json")

IMPLEMENTED_METHODS = (
    "getMe",
    "getUpdates",
    "setWebhook",
    "deleteWebhook",
    "getWebhookInfo",
    "sendMessage",
    "sendPhoto",
    "sendDocument",
    "sendVoice",
    "sendAudio",
    "sendVideo",
    "sendAnimation",
    "sendSticker",
    "sendVideoNote",
    "sendLocation",
    "sendVenue",
    "sendContact",
    "sendDice",
    "sendPoll",
    "sendMediaGroup",
    "sendChatAction",
    "editMessageText",
    "editMessageCaption",
    "editMessageReplyMarkup",
    "answerCallbackQuery",
    "copyMessage",
    "copyMessages",
    "forwardMessage",
    "forwardMessages",
    "deleteMessage",
    "deleteMessages",
    "pinChatMessage",
    "unpinChatMessage",
    "getChat",
    "getChatMember",
    "getChatMemberCount",
    "getChatAdministrators",
    "leaveChat",
    "setMyCommands",
    "getMyCommands",
    "deleteMyCommands",
    "setChatMenuButton",
    "getChatMenuButton",
    "getFile",
    "setMyDescription",
    "getMyDescription",
    "setMyShortDescription",
    "getMyShortDescription",
    "setMyName",
    "getMyName",
    "getUserProfilePhotos",
    "banChatMember",
    "unbanChatMember",
)

# Objects the emulator emits; their required fields are kept so tests can check
# every emitted object against the official description.
EMITTED_TYPES = (
    "Update",
    "Message",
    "User",
    "Chat",
    "ChatFullInfo",
    "MessageEntity",
    "PhotoSize",
    "Document",
    "Voice",
    "Audio",
    "Video",
    "VideoNote",
    "Animation",
    "Sticker",
    "Location",
    "Venue",
    "Contact",
    "Dice",
    "Poll",
    "PollOption",
    "CallbackQuery",
    "ChatMemberUpdated",
    "ChatMemberOwner",
    "ChatMemberAdministrator",
    "ChatMemberMember",
    "ChatMemberLeft",
    "ChatMemberBanned",
    "MessageOriginUser",
    "MessageId",
    "File",
    "WebhookInfo",
    "BotCommand",
    "AcceptedGiftTypes",
    "InlineKeyboardMarkup",
    "InlineKeyboardButton",
)

# Parameters aiogram still sends for backwards compatibility although newer
# versions of the description dropped them; Telegram keeps accepting them.
LEGACY_PARAMS = {
    "reply_to_message_id": ("int", False),
    "allow_sending_without_reply": ("bool", False),
    "disable_web_page_preview": ("bool", False),
}


def _kind(types: list[str]) -> str:
    if types == ["Integer"]:
        return "int"
    if types in (["Float"], ["Float number"]):
        return "float"
    if types == ["Boolean"]:
        return "bool"
    if types == ["String"]:
        return "str"
    if types == ["Integer", "String"]:
        return "int|str"
    if "InputFile" in types:
        return "file"
    return "json"


def build_spec(api: dict[str, Any]) -> dict[str, Any]:
    methods = {}
    for name in IMPLEMENTED_METHODS:
        fields = api["methods"][name].get("fields", [])
        methods[name] = {f["name"]: [_kind(f["types"]), f["required"]] for f in fields}
    types = {}
    for name in EMITTED_TYPES:
        fields = api["types"][name].get("fields", [])
        types[name] = [f["name"] for f in fields if f["required"]]
    return {
        "version": api["version"],
        "methods": methods,
        "types": types,
        "all_methods": sorted(api["methods"]),
    }


@cache
def load_spec() -> dict[str, Any]:
    return json.loads(SPEC_PATH.read_text(encoding="utf-8"))


@cache
def canonical_names() -> dict[str, str]:
    """lower-case name -> official spelling, for every Bot API method."""
    return {name.lower(): name for name in load_spec()["all_methods"]}


def is_implemented(method: str) -> bool:
    return method in load_spec()["methods"]


def method_params(method: str) -> dict[str, tuple[str, bool]]:
    params = {k: (v[0], v[1]) for k, v in load_spec()["methods"][method].items()}
    for name, rule in LEGACY_PARAMS.items():
        params.setdefault(name, rule)
    return params


def required_fields(type_name: str) -> list[str]:
    return load_spec()["types"][type_name]


_INT_RE = re.compile(r"-?\d+")
_JSON_NAMES = {
    "reply_markup": "reply keyboard markup",
    "entities": "entities",
    "caption_entities": "caption entities",
}
_MISSING_MESSAGES = {
    "chat_id": "chat_id is empty",
    "from_chat_id": "from_chat_id is empty",
    "text": "message text is empty",
    "message_id": "message identifier is not specified",
    "message_ids": "message identifiers are not specified",
    "callback_query_id": "query is too old and response timeout expired or query ID is invalid",
    "user_id": "invalid user_id specified",
    "file_id": "invalid file_id",
    "commands": "commands are not specified",
    "media": "media is not specified",
    "action": "wrong parameter action in request",
}


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    return str(value).strip().lower() in ("true", "1", "yes", "on")


def _coerce(name: str, kind: str, value: Any) -> Any:
    if kind == "str":
        return value if isinstance(value, str) else json.dumps(value)
    if kind == "bool":
        return _to_bool(value)
    if kind == "int":
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int):
            return value
        if isinstance(value, str) and _INT_RE.fullmatch(value.strip()):
            return int(value)
        raise bad_request(f"invalid {name} specified")
    if kind == "float":
        try:
            return float(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {name} specified") from None
    if kind == "int|str":
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        text = str(value).strip()
        return int(text) if _INT_RE.fullmatch(text) else text
    if kind == "json":
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except ValueError:
            label = _JSON_NAMES.get(name, name.replace("_", " "))
            raise bad_request(f"can't parse {label} JSON object") from None
    return value  # "file": resolved later, it may refer to an uploaded part


def coerce_params(
    method: str, raw: dict[str, Any], uploads: Collection[str] = ()
) -> dict[str, Any]:
    """Typed parameters; unknown ones are ignored like Telegram does.

    A file may also arrive as a multipart part named like the parameter.
    """
    params: dict[str, Any] = {}
    for name, (kind, required) in method_params(method).items():
        value = raw.get(name)
        if value is None and kind == "file" and name in uploads:
            value = f"attach://{name}"
        if value is None or (value == "" and kind != "str"):
            if required:
                raise missing_param(name, kind)
            continue
        params[name] = _coerce(name, kind, value)
    return params


def missing_param(name: str, kind: str = "str") -> ApiError:
    if kind == "file":
        return bad_request(f"there is no {name} in the request")
    return bad_request(_MISSING_MESSAGES.get(name, f'parameter "{name}" is required'))


def write_spec(api_path: str | Path) -> int:
    api = json.loads(Path(api_path).read_text(encoding="utf-8"))
    text = json.dumps(build_spec(api), separators=(",", ":"), sort_keys=True)
    SPEC_PATH.write_text(text + "\n", encoding="utf-8")
    return len(text)
