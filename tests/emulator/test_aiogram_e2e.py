"""A real aiogram Dispatcher long-polling the emulator, driven by played users."""

import asyncio

import pytest
from aiogram import Bot, Dispatcher, F
from aiogram.filters import Command
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from tgemulator import EmulatorClient
from tgemulator.harness import run_polling
from tgemulator.spec import required_fields

KEYBOARD = InlineKeyboardMarkup(
    inline_keyboard=[
        [InlineKeyboardButton(text="Yes", callback_data="answer:yes")],
        [InlineKeyboardButton(text="Docs", url="https://example.org")],
    ]
)


def build_dispatcher() -> Dispatcher:
    dp = Dispatcher()

    @dp.message(Command("start"))
    async def start(message: Message) -> None:
        await message.answer(
            "<b>Welcome</b>, are you safe?", parse_mode="HTML", reply_markup=KEYBOARD
        )

    @dp.message(Command("menu"))
    async def menu(message: Message) -> None:
        keyboard = ReplyKeyboardMarkup(
            keyboard=[[KeyboardButton(text="Help")]], resize_keyboard=True, one_time_keyboard=True
        )
        await message.answer("Pick one", reply_markup=keyboard)

    @dp.message(F.text == "Help")
    async def help_(message: Message) -> None:
        await message.answer("Removing keyboard", reply_markup=ReplyKeyboardRemove())
        await message.answer("Your name?", reply_markup=ForceReply(input_field_placeholder="Name"))

    @dp.message(F.photo)
    async def photo(message: Message, bot: Bot) -> None:
        file = await bot.get_file(message.photo[-1].file_id)
        data = await bot.download_file(file.file_path)
        await message.reply(f"got {len(data.read())} bytes")

    @dp.message(F.document)
    async def document(message: Message) -> None:
        await message.answer_document(
            BufferedInputFile(b"report-body", filename="report.txt"),
            caption="your <i>report</i>",
            parse_mode="HTML",
        )

    @dp.message(F.text)
    async def echo(message: Message) -> None:
        await message.answer(message.text)

    @dp.edited_message()
    async def edited(message: Message) -> None:
        await message.answer(f"edited: {message.text}")

    @dp.callback_query(F.data.startswith("answer:"))
    async def answered(query: CallbackQuery) -> None:
        await query.answer("Noted", show_alert=True)
        await query.message.edit_text("Thanks, noted.")

    return dp


@pytest.fixture
async def polling(bot: Bot):
    async with run_polling(build_dispatcher(), bot) as task:
        yield task


async def test_echo_round_trip(tg: EmulatorClient, polling, bot: Bot):
    user = await tg.create_user("Amina", username="amina", language_code="ar")
    sent = await tg.send_message(user["id"], "hello there")
    reply = await tg.wait_for_message(user["id"], after_message_id=sent["message_id"])
    assert reply["text"] == "hello there"
    assert reply["from"] == {
        "id": bot.id,
        "is_bot": True,
        "first_name": "Emulated Bot",
        "username": f"emu{bot.id}_bot",
    }
    assert reply["chat"] == {
        "id": user["id"],
        "type": "private",
        "first_name": "Amina",
        "username": "amina",
    }
    assert reply["from_bot"] is True and reply["message_id"] == sent["message_id"] + 1


async def test_start_button_press_is_answered_and_edits(tg: EmulatorClient, polling):
    user = await tg.create_user("Li")
    start = await tg.send_message(user["id"], "/start")
    assert start["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
    menu = await tg.wait_for_message(user["id"], contains="Welcome")
    assert menu["entities"] == [{"type": "bold", "offset": 0, "length": 7}]
    assert menu["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "answer:yes"

    query_id = await tg.press_button(user["id"], user["id"], menu["message_id"], button_text="Yes")
    answer = await tg.get_callback_answer(query_id)
    assert answer["text"] == "Noted" and answer["show_alert"] is True

    await tg.wait_until_idle()
    (edited,) = [m for m in await tg.transcript(user["id"]) if m["from_bot"]]
    assert edited["text"] == "Thanks, noted." and edited["edited"] is True
    assert edited["edit_history"][0]["text"] == "Welcome, are you safe?"
    assert edited["reply_markup"] is None  # editing text without a markup drops the keyboard


async def test_reply_keyboards_and_force_reply(tg: EmulatorClient, polling):
    user = await tg.create_user("Ravi")
    await tg.send_message(user["id"], "/menu")
    pick = await tg.wait_for_message(user["id"], contains="Pick one")
    assert pick["reply_markup"]["keyboard"] == [[{"text": "Help"}]]
    (chat,) = await tg.chats()
    assert chat["reply_keyboard"]["keyboard"] == [[{"text": "Help"}]]

    await tg.send_message(user["id"], "Help")
    ask = await tg.wait_for_message(user["id"], contains="Your name?")
    assert ask["reply_markup"] == {"force_reply": True, "input_field_placeholder": "Name"}
    (chat,) = await tg.chats()
    assert chat["reply_keyboard"] is None


async def test_photo_download_and_document_upload(tg: EmulatorClient, polling):
    user = await tg.create_user("Sara")
    photo = await tg.send_photo(user["id"], caption="my passport")
    assert photo["caption"] == "my passport" and len(photo["photo"]) == 2
    original = await tg.get_file_bytes(photo["photo"][-1]["file_id"])
    reply = await tg.wait_for_message(user["id"], contains="bytes")
    assert reply["text"] == f"got {len(original)} bytes"
    assert reply["reply_to_message"]["message_id"] == photo["message_id"]

    await tg.send_document(user["id"], "contract.pdf", b"%PDF-1.4 contract")
    sent = await tg.wait_for_message(user["id"], contains="report")
    assert sent["kind"] == "document" and sent["caption"] == "your report"
    assert sent["caption_entities"] == [{"type": "italic", "offset": 5, "length": 6}]
    assert sent["document"]["file_name"] == "report.txt"
    assert await tg.get_file_bytes(sent["file_id"]) == b"report-body"
    (uploaded,) = await tg.sent_files()
    assert uploaded["name"] == "report.txt" and uploaded["mime"] == "text/plain"
    assert uploaded["file_id"] == sent["file_id"]


async def test_user_edit_reaches_bot(tg: EmulatorClient, polling):
    user = await tg.create_user("Joy")
    sent = await tg.send_message(user["id"], "first")
    await tg.wait_for_message(user["id"], contains="first")
    await tg.edit_message(user["id"], user["id"], sent["message_id"], "second")
    reply = await tg.wait_for_message(user["id"], contains="edited: second")
    assert reply["text"] == "edited: second"
    history = await tg.transcript(user["id"])
    assert history[0]["edited"] is True and history[0]["text"] == "second"


async def test_everything_emitted_parses_in_aiogram_and_has_required_fields(
    tg: EmulatorClient, polling, bot: Bot
):
    from aiogram.types import Update

    user = await tg.create_user("Omar", last_name="K")
    group = await tg.create_group("Team", [user["id"]], add_bot_update=True, bot_is_admin=True)
    await tg.send_message(user["id"], "hi @team #help https://ex.org", chat_id=group["id"])
    await tg.send_photo(user["id"], caption="pic")
    await tg.send_voice(user["id"], duration=3)
    await tg.send_video(user["id"])
    await tg.send_animation(user["id"])
    await tg.send_sticker(user["id"])
    await tg.send_location(user["id"], 41.0, 29.0)
    await tg.send_contact(user["id"], "+905551112233", "Omar")
    await tg.send_dice(user["id"])
    await tg.send_poll(user["id"], "Safe?", ["yes", "no"])
    await tg.send_message(user["id"], "fwd", forward_from_user_id=user["id"])
    await tg.wait_until_idle()
    for chat_id in (user["id"], group["id"]):
        for entry in await tg.transcript(chat_id):
            message = {k: v for k, v in entry.items() if k not in EMULATOR_KEYS}
            assert set(required_fields("Message")) <= set(message)
            Update.model_validate({"update_id": 1, "message": message}, context={"bot": bot})


EMULATOR_KEYS = {
    "from_bot",
    "kind",
    "media_kind",
    "file_id",
    "protect_content",
    "disable_notification",
    "edited",
    "edit_history",
    "deleted",
}


async def test_two_bots_have_isolated_worlds(server, tg: EmulatorClient, bot: Bot, polling):
    from tgemulator.harness import make_bot

    other_token = "999000111:AAF-other-secret"
    other = make_bot(server.base_url, other_token)
    try:
        async with EmulatorClient(server.base_url, other_token) as other_tg:
            mine = await tg.create_user("Mine")
            theirs = await other_tg.create_user("Theirs")
            assert mine["id"] == theirs["id"]  # same ids, different worlds
            await other_tg.send_message(theirs["id"], "for the other bot")
            await tg.send_message(mine["id"], "for my bot")
            reply = await tg.wait_for_message(mine["id"])
            assert reply["text"] == "for my bot"
            assert len(await other_tg.pending_updates()) == 1  # nobody polls the other bot
            updates = await other.get_updates()
            assert updates[0].message.text == "for the other bot"
            assert (await other.get_me()).id == 999000111
            assert "getUpdates" in await other_tg.stats()
            assert (await tg.stats())["sendMessage"] == 1
    finally:
        await other.session.close()


async def test_polling_returns_promptly_when_an_update_arrives(tg: EmulatorClient, bot: Bot):
    user = await tg.create_user("Fast")
    loop = asyncio.get_running_loop()
    poll = asyncio.create_task(bot.get_updates(timeout=30))
    await asyncio.sleep(0.05)
    started = loop.time()
    await tg.send_message(user["id"], "ping")
    updates = await poll
    assert loop.time() - started < 0.5
    assert [u.message.text for u in updates] == ["ping"]
