"""The derived spec stays in step with the official description, and what the
emulator emits carries every field the description requires."""

import json
from pathlib import Path

import pytest
from aiogram import Bot

from tgemulator import EmulatorClient
from tgemulator.spec import SPEC_PATH, build_spec, coerce_params, required_fields

# The official description, in the shared folder beside the repository (../shared).
OFFICIAL = (
    Path(__file__).resolve().parents[2] / ".." / "shared" / "telegram-bot-api" / "api.min.json"
)

# field name -> object type, for walking emitted JSON
FIELD_TYPES = {
    "from": "User",
    "sender_user": "User",
    "user": "User",
    "chat": "Chat",
    "photo": "PhotoSize",
    "document": "Document",
    "voice": "Voice",
    "audio": "Audio",
    "video": "Video",
    "video_note": "VideoNote",
    "animation": "Animation",
    "sticker": "Sticker",
    "venue": "Venue",
    "contact": "Contact",
    "dice": "Dice",
    "poll": "Poll",
    "options": "PollOption",
    "entities": "MessageEntity",
    "caption_entities": "MessageEntity",
    "message": "Message",
    "reply_to_message": "Message",
    "callback_query": "CallbackQuery",
    "my_chat_member": "ChatMemberUpdated",
    "chat_member": "ChatMemberUpdated",
    "forward_origin": "MessageOriginUser",
    "inline_keyboard": "InlineKeyboardButton",
}
MEMBER_TYPES = {
    "creator": "ChatMemberOwner",
    "administrator": "ChatMemberAdministrator",
    "member": "ChatMemberMember",
    "left": "ChatMemberLeft",
    "kicked": "ChatMemberBanned",
}


def check(obj, type_name: str, path: str = "") -> None:
    if isinstance(obj, list):
        for index, item in enumerate(obj):
            check(item, type_name, f"{path}[{index}]")
        return
    if type_name == "Message" and obj.get("date") == 0:
        return  # InaccessibleMessage
    missing = set(required_fields(type_name)) - set(obj)
    assert not missing, f"{path or type_name} ({type_name}) lacks {sorted(missing)}"
    for key, value in obj.items():
        if key in ("old_chat_member", "new_chat_member"):
            check(value, MEMBER_TYPES[value["status"]], f"{path}.{key}")
        elif key in FIELD_TYPES and isinstance(value, dict | list):
            check(value, FIELD_TYPES[key], f"{path}.{key}")


@pytest.mark.skipif(
    not OFFICIAL.exists(),
    reason="the official Bot API description (../shared/telegram-bot-api/api.min.json beside "
    "the repository) is not there",
)
def test_spec_json_is_derived_from_the_official_description():
    derived = build_spec(json.loads(OFFICIAL.read_text(encoding="utf-8")))
    assert json.loads(SPEC_PATH.read_text(encoding="utf-8")) == derived


def test_form_values_are_coerced_by_type():
    params = coerce_params(
        "sendMessage",
        {
            "chat_id": "-1001",
            "text": "x",
            "disable_notification": "true",
            "reply_markup": '{"remove_keyboard": true}',
            "unknown": "ignored",
        },
    )
    assert params == {
        "chat_id": -1001,
        "text": "x",
        "disable_notification": True,
        "reply_markup": {"remove_keyboard": True},
    }
    assert (
        coerce_params("sendMessage", {"chat_id": "@channel", "text": "x"})["chat_id"] == "@channel"
    )


async def test_emitted_updates_have_all_required_fields(bot: Bot, tg: EmulatorClient):
    user = await tg.create_user("Full", last_name="Check", username="full_check")
    group = await tg.create_group(
        "Required", [user["id"]], supergroup=True, add_bot_update=True, username="required_hub"
    )
    start = await tg.send_message(user["id"], "/start #tag https://ex.org")
    menu = await bot.send_message(
        user["id"],
        "menu",
        reply_markup={"inline_keyboard": [[{"text": "a", "callback_data": "a"}]]},
        reply_parameters={"message_id": start["message_id"]},
    )
    await tg.press_button(user["id"], user["id"], menu.message_id, data="a")
    await tg.send_message(user["id"], "fwd", forward_from_user_id=user["id"])
    for kind in ("photo", "video", "animation", "sticker", "video_note", "audio"):
        await getattr(tg, f"send_{kind}")(user["id"])
    await tg.send_voice(user["id"], 3)
    await tg.send_document(user["id"], "a.pdf", b"%PDF")
    await tg.send_contact(user["id"], "+1", "A")
    await tg.send_dice(user["id"])
    await tg.send_poll(user["id"], "q", ["a", "b"])
    await tg.send_location(user["id"], 1.0, 2.0)
    await tg.send_message(user["id"], "in group", chat_id=group["id"])
    await tg.block_bot(user["id"])
    sent_by_handle = await bot.send_message("@required_hub", "by username")
    assert sent_by_handle.chat.id == group["id"]
    updates = await tg.pending_updates()
    assert len(updates) >= 16
    for update in updates:
        check(update, "Update")
    for chat_id in (user["id"], group["id"]):
        for entry in await tg.transcript(chat_id):
            check(entry, "Message")
