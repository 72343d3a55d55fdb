"""Telegram's refusals reach aiogram as the same exceptions, with the same texts."""

import asyncio
import time

import pytest
from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, ReplyParameters

from tgemulator import EmulatorClient


@pytest.fixture
async def user(tg: EmulatorClient) -> dict:
    created = await tg.create_user("Nadia", started=True)
    return created


async def test_text_validation(bot: Bot, user: dict):
    with pytest.raises(TelegramBadRequest, match="Bad Request: message text is empty"):
        await bot.send_message(user["id"], "   ")
    with pytest.raises(TelegramBadRequest, match="Bad Request: message is too long"):
        await bot.send_message(user["id"], "x" * 4097)
    sent = await bot.send_message(user["id"], "é" * 4096)
    assert len(sent.text) == 4096


async def test_html_errors(bot: Bot, user: dict):
    with pytest.raises(TelegramBadRequest) as caught:
        await bot.send_message(user["id"], "<b>bold", parse_mode="HTML")
    assert caught.value.message == (
        "Bad Request: can't parse entities: Can't find end tag corresponding to start tag \"b\""
    )
    with pytest.raises(TelegramBadRequest, match='Unsupported start tag "x"'):
        await bot.send_message(user["id"], "a <x> b", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="reserved and must be escaped"):
        await bot.send_message(user["id"], "1.5", parse_mode="MarkdownV2")


async def test_caption_and_callback_data_limits(bot: Bot, user: dict):
    from aiogram.types import BufferedInputFile

    photo = BufferedInputFile(b"\x89PNG\r\n\x1a\nnot-really", filename="p.png")
    with pytest.raises(TelegramBadRequest, match="message caption is too long"):
        await bot.send_photo(user["id"], photo, caption="c" * 1025)
    markup = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="x", callback_data="d" * 65)]]
    )
    with pytest.raises(TelegramBadRequest, match="Bad Request: BUTTON_DATA_INVALID"):
        await bot.send_message(user["id"], "menu", reply_markup=markup)


async def test_chat_not_found_and_cannot_initiate(bot: Bot, tg: EmulatorClient):
    with pytest.raises(TelegramBadRequest, match="Bad Request: chat not found"):
        await bot.send_message(123, "hello")
    stranger = await tg.create_user("Never wrote")
    with pytest.raises(TelegramForbiddenError, match="bot can't initiate conversation with a user"):
        await bot.send_message(stranger["id"], "hello")


async def test_blocked_user(bot: Bot, tg: EmulatorClient, user: dict):
    await tg.block_bot(user["id"])
    with pytest.raises(TelegramForbiddenError) as caught:
        await bot.send_message(user["id"], "hello")
    assert caught.value.message == "Forbidden: bot was blocked by the user"
    (update,) = await bot.get_updates()
    member = update.my_chat_member
    assert (member.old_chat_member.status, member.new_chat_member.status) == ("member", "kicked")
    await tg.unblock_bot(user["id"])
    assert (await bot.send_message(user["id"], "welcome back")).text == "welcome back"


async def test_kicked_from_group(bot: Bot, tg: EmulatorClient, user: dict):
    group = await tg.create_group("Volunteers", [user["id"]])
    await bot.send_message(group["id"], "hello group")
    await tg.kick_bot(group["id"])
    with pytest.raises(TelegramForbiddenError) as caught:
        await bot.send_message(group["id"], "still here?")
    assert caught.value.message == "Forbidden: bot was kicked from the group chat"
    (update,) = await bot.get_updates()
    assert update.my_chat_member.new_chat_member.status == "kicked"
    assert update.my_chat_member.from_user.id == user["id"]


async def test_migrated_group(bot: Bot, tg: EmulatorClient, user: dict):
    group = await tg.create_group("Old group", [user["id"]])
    new_id = await tg.migrate_to_supergroup(group["id"])
    assert str(new_id).startswith("-100")
    with pytest.raises(TelegramMigrateToChat) as caught:
        await bot.send_message(group["id"], "hello")
    assert caught.value.migrate_to_chat_id == new_id
    assert "group chat was upgraded to a supergroup chat" in caught.value.message
    sent = await bot.send_message(new_id, "hello again")
    assert sent.chat.type == "supergroup" and sent.chat.title == "Old group"
    updates = await bot.get_updates()
    assert [u.message.migrate_to_chat_id for u in updates][:1] == [new_id]
    assert updates[1].message.migrate_from_chat_id == group["id"]
    assert updates[1].message.chat.id == new_id


async def test_edit_errors(bot: Bot, user: dict, tg: EmulatorClient):
    sent = await bot.send_message(user["id"], "same")
    with pytest.raises(TelegramBadRequest) as caught:
        await bot.edit_message_text("same", chat_id=user["id"], message_id=sent.message_id)
    assert caught.value.message == (
        "Bad Request: message is not modified: specified new message content and reply markup "
        "are exactly the same as a current content and reply markup of the message"
    )
    with pytest.raises(TelegramBadRequest, match="Bad Request: message to edit not found"):
        await bot.edit_message_text("x", chat_id=user["id"], message_id=999)
    mine = await tg.send_message(user["id"], "user text")
    with pytest.raises(TelegramBadRequest, match="message can't be edited"):
        await bot.edit_message_text("x", chat_id=user["id"], message_id=mine["message_id"])
    markup = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="a", callback_data="a")]]
    )
    edited = await bot.edit_message_reply_markup(
        chat_id=user["id"], message_id=sent.message_id, reply_markup=markup
    )
    assert edited.edit_date is not None
    assert edited.reply_markup.inline_keyboard[0][0].callback_data == "a"
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_reply_markup(
            chat_id=user["id"], message_id=sent.message_id, reply_markup=markup
        )


async def test_delete_rules_follow_the_emulator_clock(bot: Bot, user: dict, tg: EmulatorClient):
    old = await bot.send_message(user["id"], "old")
    fresh_later = await tg.advance_clock(47 * 3600)
    assert fresh_later >= int(time.time()) + 47 * 3600 - 5
    assert await bot.delete_message(user["id"], old.message_id)
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(user["id"], old.message_id)
    stale = await bot.send_message(user["id"], "stale")
    await tg.advance_clock(48 * 3600 + 1)
    with pytest.raises(TelegramBadRequest, match="Bad Request: message can't be deleted"):
        await bot.delete_message(user["id"], stale.message_id)
    texts = [m["text"] for m in await tg.transcript(user["id"])]
    assert texts == ["stale"]
    with_deleted = await tg.transcript(user["id"], include_deleted=True)
    assert [(m["text"], m["deleted"]) for m in with_deleted] == [("old", True), ("stale", False)]


async def test_reply_to_missing_message(bot: Bot, user: dict):
    with pytest.raises(TelegramBadRequest, match="message to be replied not found"):
        await bot.send_message(user["id"], "x", reply_parameters=ReplyParameters(message_id=77))
    sent = await bot.send_message(
        user["id"],
        "x",
        reply_parameters=ReplyParameters(message_id=77, allow_sending_without_reply=True),
    )
    assert sent.reply_to_message is None


async def test_missing_required_parameter(bot: Bot, user: dict):
    from aiogram.methods import SendMessage

    class Raw(SendMessage):
        pass

    with pytest.raises(TelegramBadRequest, match="Bad Request: message text is empty"):
        await bot(Raw.model_construct(chat_id=user["id"], text=""))


async def test_injected_retry_after_and_server_error(bot: Bot, tg: EmulatorClient, user: dict):
    await tg.fail_next("sendMessage", error_code=429, retry_after=7)
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(user["id"], "x")
    assert caught.value.retry_after == 7
    assert "Original description: Too Many Requests: retry after 7" in caught.value.message
    await tg.fail_next("sendMessage", error_code=500, times=2, chat_id=user["id"])
    for _ in range(2):
        with pytest.raises(TelegramServerError, match="Internal Server Error"):
            await bot.send_message(user["id"], "x")
    assert (await bot.send_message(user["id"], "finally")).text == "finally"
    assert (await tg.stats())["sendMessage"] == 4


async def test_injected_failure_only_for_one_chat(bot: Bot, tg: EmulatorClient, user: dict):
    other = await tg.create_user("Other", started=True)
    await tg.fail_next(
        "SENDMESSAGE", error_code=403, description="Forbidden: custom", chat_id=other["id"]
    )
    assert (await bot.send_message(user["id"], "unaffected")).text == "unaffected"
    with pytest.raises(TelegramForbiddenError, match="Forbidden: custom"):
        await bot.send_message(other["id"], "x")


async def test_dropped_connection(bot: Bot, tg: EmulatorClient, user: dict):
    await tg.fail_next("sendMessage", disconnect=True)
    with pytest.raises(TelegramNetworkError):
        await bot.send_message(user["id"], "x")
    assert (await bot.send_message(user["id"], "after")).text == "after"
    assert [m["text"] for m in await tg.transcript(user["id"])] == ["after"]


async def test_flood_control(bot: Bot, tg: EmulatorClient, user: dict):
    await tg.set_flood_control(True)
    for index in range(3):  # a small burst passes
        await bot.send_message(user["id"], f"burst {index}")
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(user["id"], "too fast")
    assert caught.value.retry_after >= 1
    await tg.advance_clock(caught.value.retry_after)
    assert (await bot.send_message(user["id"], "after waiting")).text == "after waiting"

    group = await tg.create_group("Busy", [user["id"]])
    sent = 0
    with pytest.raises(TelegramRetryAfter) as caught:
        for _ in range(60):
            await bot.send_message(group["id"], "group news")
            sent += 1
            await tg.advance_clock(1.1)  # under 1 msg/s per chat, but ~55 per minute
    # 20 at once, then the bucket refills at 20/min: it runs dry after ~31 messages
    assert 25 <= sent <= 35 and 1 <= caught.value.retry_after <= 3
    await tg.set_flood_control(False)
    await asyncio.gather(*(bot.send_message(user["id"], str(i)) for i in range(10)))
