"""Groups, members, media, copies and the control API's world-shaping calls."""

import pytest
from aiogram import Bot
from aiogram.enums import ChatAction
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.types import (
    BotCommand,
    BotCommandScopeChat,
    BufferedInputFile,
    InputMediaDocument,
    InputMediaPhoto,
    MenuButtonCommands,
)

from tgemulator import EmulatorClient, EmulatorError


async def test_group_lifecycle_updates(bot: Bot, tg: EmulatorClient):
    owner = await tg.create_user("Owner")
    helper = await tg.create_user("Helper")
    newcomer = await tg.create_user("Newcomer")
    group = await tg.create_group(
        "Shelter", [owner["id"], helper["id"]], admin_ids=[helper["id"]], add_bot_update=True
    )
    assert group["type"] == "group" and group["id"] < 0
    await tg.add_member(group["id"], newcomer["id"], by_user_id=owner["id"])
    await tg.send_message(newcomer["id"], "hello all", chat_id=group["id"])
    await tg.remove_member(group["id"], newcomer["id"])
    updates = await bot.get_updates()
    added, created, joined, said, left = updates
    assert added.my_chat_member.new_chat_member.status == "member"
    assert added.my_chat_member.old_chat_member.status == "left"
    assert created.message.group_chat_created is True
    assert joined.message.new_chat_members[0].id == newcomer["id"]
    assert joined.message.from_user.id == owner["id"]
    assert said.message.text == "hello all" and said.message.chat.title == "Shelter"
    assert left.message.left_chat_member.id == newcomer["id"]

    admins = await bot.get_chat_administrators(group["id"])
    assert {(a.user.id, a.status) for a in admins} == {
        (owner["id"], "creator"),
        (helper["id"], "administrator"),
    }
    assert (await bot.get_chat_member(group["id"], newcomer["id"])).status == "left"
    assert (await bot.get_chat_member(group["id"], bot.id)).status == "member"
    assert await bot.get_chat_member_count(group["id"]) == 3
    chat = await bot.get_chat(group["id"])
    assert chat.title == "Shelter" and chat.type == "group"


async def test_chat_member_updates_need_an_admin_bot_and_opt_in(bot: Bot, tg: EmulatorClient):
    owner = await tg.create_user("Owner")
    guest = await tg.create_user("Guest")
    group = await tg.create_group("Ops", [owner["id"]], supergroup=True, bot_is_admin=True)
    assert str(group["id"]).startswith("-100")
    await bot.get_updates(allowed_updates=["chat_member", "message"])
    await tg.add_member(group["id"], guest["id"])
    member_update, service = await bot.get_updates()
    change = member_update.chat_member
    assert (change.old_chat_member.status, change.new_chat_member.status) == ("left", "member")
    assert service.message.new_chat_members[0].id == guest["id"]


async def test_bot_leaves_a_group(bot: Bot, tg: EmulatorClient):
    owner = await tg.create_user("Owner")
    group = await tg.create_group("Left", [owner["id"]])
    assert await bot.leave_chat(group["id"])
    with pytest.raises(TelegramForbiddenError, match="bot is not a member of the group chat"):
        await bot.send_message(group["id"], "x")
    (update,) = await bot.get_updates()
    assert update.my_chat_member.new_chat_member.status == "left"
    await tg.send_message(owner["id"], "unseen", chat_id=group["id"])
    assert await bot.get_updates(offset=update.update_id + 1) == []


async def test_control_refuses_impossible_actions(tg: EmulatorClient):
    user = await tg.create_user("Solo")
    other = await tg.create_user("Other")
    group = await tg.create_group("G", [user["id"]])
    with pytest.raises(EmulatorError, match="not a member"):
        await tg.send_message(other["id"], "hi", chat_id=group["id"])
    with pytest.raises(EmulatorError) as caught:
        await tg.send_message(999, "hi")
    assert caught.value.status == 404
    assert await tg.transcript(other["id"]) == []  # never wrote to the bot
    with pytest.raises(EmulatorError, match="chat 999 does not exist"):
        await tg.transcript(999)
    with pytest.raises(EmulatorError, match="unblock_bot first"):
        await tg.block_bot(user["id"])
        await tg.send_message(user["id"], "hi")


async def test_press_button_strict_and_forged(bot: Bot, tg: EmulatorClient):
    user = await tg.create_user("Press")
    await tg.send_message(user["id"], "/start")
    menu = await bot.send_message(
        user["id"],
        "menu",
        reply_markup={
            "inline_keyboard": [
                [{"text": "Open", "url": "https://ex.org"}, {"text": "Ok", "callback_data": "ok"}]
            ]
        },
    )
    with pytest.raises(EmulatorError, match="no inline button with callback_data 'nope'"):
        await tg.press_button(user["id"], user["id"], menu.message_id, data="nope")
    with pytest.raises(EmulatorError, match="has no callback_data"):
        await tg.press_button(user["id"], user["id"], menu.message_id, button_text="Open")
    forged = await tg.press_button(
        user["id"], user["id"], menu.message_id, data="admin:1", strict=False
    )
    gone = await tg.press_button(user["id"], user["id"], 4242, data="old", strict=False)
    updates = await bot.get_updates()
    assert [u.callback_query.data for u in updates[1:]] == ["admin:1", "old"]
    assert type(updates[2].callback_query.message).__name__ == "InaccessibleMessage"
    assert await bot.answer_callback_query(forged, text="no")
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query(forged)
    with pytest.raises(TimeoutError):
        await tg.get_callback_answer(gone, timeout=0.1)


async def test_copy_forward_and_protected_content(bot: Bot, tg: EmulatorClient):
    alice = await tg.create_user("Alice", started=True)
    bob = await tg.create_user("Bob", started=True)
    note = await tg.send_message(alice["id"], "call me at https://ex.org")
    copied = await bot.copy_message(bob["id"], alice["id"], note["message_id"])
    forwarded = await bot.forward_message(bob["id"], alice["id"], note["message_id"])
    assert forwarded.forward_origin.sender_user.id == alice["id"]
    secret = await bot.send_message(alice["id"], "secret", protect_content=True)
    with pytest.raises(TelegramBadRequest, match="protected content"):
        await bot.forward_message(bob["id"], alice["id"], secret.message_id)
    with pytest.raises(TelegramBadRequest, match="message to copy not found"):
        await bot.copy_message(bob["id"], alice["id"], 999)
    many = await bot.copy_messages(bob["id"], alice["id"], [note["message_id"], 999])
    assert len(many) == 1
    bob_view = await tg.transcript(bob["id"])
    assert [m["message_id"] for m in bob_view] == [
        copied.message_id,
        forwarded.message_id,
        many[0].message_id,
    ]
    assert (
        bob_view[0]["text"] == "call me at https://ex.org" and "forward_origin" not in bob_view[0]
    )
    assert bob_view[0]["entities"][0]["type"] == "url"
    assert (await tg.transcript(alice["id"]))[-1]["protect_content"] is True


async def test_media_group_and_chat_action(bot: Bot, tg: EmulatorClient):
    user = await tg.create_user("Album", started=True)
    files = [BufferedInputFile(b"img%d" % i, filename=f"{i}.jpg") for i in range(3)]
    sent = await bot.send_media_group(
        user["id"],
        [InputMediaPhoto(media=f, caption="trip" if not i else None) for i, f in enumerate(files)],
    )
    assert len({m.media_group_id for m in sent}) == 1 and sent[0].caption == "trip"
    with pytest.raises(TelegramBadRequest, match="can't use the media of the specified type"):
        await bot.send_media_group(
            user["id"],
            [InputMediaPhoto(media=files[0]), InputMediaDocument(media=files[1])],
        )
    assert await bot.send_chat_action(user["id"], ChatAction.TYPING)
    (chat,) = await tg.chats()
    assert chat["actions"][-1]["action"] == "typing"
    reused = await bot.send_photo(user["id"], sent[0].photo[-1].file_id)
    assert reused.photo[-1].file_id == sent[0].photo[-1].file_id
    with pytest.raises(TelegramBadRequest, match="wrong file identifier"):
        await bot.send_photo(user["id"], "AgACAgIAAxkBAAunknown")
    stored = await tg.get_file_bytes(sent[2].photo[-1].file_id)
    assert stored == b"img2"
    file = await bot.get_file(sent[1].photo[-1].file_id)
    assert (await bot.download_file(file.file_path)).read() == b"img1"


async def test_user_albums_and_long_texts(bot: Bot, tg: EmulatorClient):
    user = await tg.create_user("Sender")
    album = await tg.send_album(user["id"], 12, caption="20 photos")
    groups = [m["media_group_id"] for m in album]
    assert len(album) == 12 and len(set(groups)) == 2 and groups.count(groups[0]) == 10
    assert album[0]["caption"] == "20 photos" and "caption" not in album[1]
    long = await tg.send_message(user["id"], ("word " * 1000).strip())
    assert len(long["parts"]) == 2
    texts = [m["text"] for m in await tg.transcript(user["id"]) if m["kind"] == "text"]
    assert all(len(t) <= 4096 for t in texts) and sum(len(t) for t in texts) == 4999 - 1
    updates = await bot.get_updates()
    assert len(updates) == 14


async def test_commands_menu_button_and_bot_profile(bot: Bot, tg: EmulatorClient):
    user = await tg.create_user("Cmd", started=True)
    commands = [
        BotCommand(command="start", description="Begin"),
        BotCommand(command="help", description="Help"),
    ]
    assert await bot.set_my_commands(commands)
    assert await bot.set_my_commands([commands[0]], language_code="ar")
    assert [c.command for c in await bot.get_my_commands()] == ["start", "help"]
    assert [c.command for c in await bot.get_my_commands(language_code="ar")] == ["start"]
    scope = BotCommandScopeChat(chat_id=user["id"])
    assert await bot.get_my_commands(scope=scope) == []
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Bad Command", description="x")])
    assert await bot.delete_my_commands()
    assert await bot.get_my_commands() == []
    assert await bot.set_chat_menu_button(chat_id=user["id"], menu_button=MenuButtonCommands())
    assert (await bot.get_chat_menu_button(chat_id=user["id"])).type == "commands"
    assert (await bot.get_chat_menu_button()).type == "default"
    profile = await tg.set_bot_profile(first_name="Corridor", username="corridor_test_bot")
    me = await bot.get_me()
    assert (
        (me.first_name, me.username)
        == ("Corridor", "corridor_test_bot")
        == (
            profile["first_name"],
            profile["username"],
        )
    )


async def test_clock_stats_and_reset(bot: Bot, tg: EmulatorClient):
    before = await tg.now()
    assert await tg.advance_clock(3600) >= before + 3600
    user = await tg.create_user("Clock", started=True)
    sent = await bot.send_message(user["id"], "later")
    assert sent.date.timestamp() >= before + 3600
    await tg.fail_next("sendMessage")
    assert (await tg.stats())["sendMessage"] == 1
    await tg.reset()
    assert await tg.chats() == [] and await tg.stats() == {}
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(user["id"], "gone")
    assert abs(await tg.now() - before) < 5


async def test_every_kind_of_bot_message(bot: Bot, tg: EmulatorClient):
    from aiogram.types import InputPollOption

    user = await tg.create_user("Kinds", started=True)
    chat = user["id"]
    blob = BufferedInputFile(b"\x00" * 64, filename="clip.mp4")
    results = [
        await bot.send_voice(chat, BufferedInputFile(b"OggS", filename="v.ogg"), duration=4),
        await bot.send_audio(chat, BufferedInputFile(b"ID3", filename="song.mp3"), title="Song"),
        await bot.send_video(chat, blob, caption="clip", width=320, height=240, duration=2),
        await bot.send_animation(chat, BufferedInputFile(b"GIF89a", filename="a.gif")),
        await bot.send_video_note(chat, blob),
        await bot.send_sticker(chat, BufferedInputFile(b"RIFFWEBP", filename="s.webp")),
        await bot.send_location(chat, 36.2, 37.1),
        await bot.send_venue(chat, 36.2, 37.1, title="Clinic", address="Main st"),
        await bot.send_contact(chat, "+3312345678", "Hotline"),
        await bot.send_dice(chat),
        await bot.send_poll(
            chat, "Safe?", [InputPollOption(text="yes"), InputPollOption(text="no")]
        ),
    ]
    assert results[0].voice.duration == 4 and results[0].voice.mime_type == "audio/ogg"
    assert results[1].audio.title == "Song" and results[1].audio.file_name == "song.mp3"
    assert (results[2].video.width, results[2].caption) == (320, "clip")
    assert results[3].animation.file_name == "a.gif" and results[3].document is not None
    assert results[4].video_note.length > 0
    assert results[5].sticker.type == "regular"
    assert results[6].location.latitude == 36.2
    assert results[7].venue.title == "Clinic"
    assert results[8].contact.phone_number == "+3312345678"
    assert 1 <= results[9].dice.value <= 6
    assert [o.text for o in results[10].poll.options] == ["yes", "no"]
    kinds = [m["kind"] for m in await tg.transcript(chat)]
    assert kinds == [
        "voice",
        "audio",
        "video",
        "animation",
        "video_note",
        "sticker",
        "location",
        "venue",
        "contact",
        "dice",
        "poll",
    ]
    names = {f["name"] for f in await tg.sent_files()}
    assert {"v.ogg", "song.mp3", "clip.mp4", "a.gif", "s.webp"} <= names


async def test_caption_edits_and_bulk_delete(bot: Bot, tg: EmulatorClient):
    user = await tg.create_user("Cap", started=True)
    photo = await bot.send_photo(
        user["id"], BufferedInputFile(b"img", filename="i.png"), caption="a"
    )
    edited = await bot.edit_message_caption(
        chat_id=user["id"], message_id=photo.message_id, caption="<b>b</b>", parse_mode="HTML"
    )
    assert edited.caption == "b" and edited.caption_entities[0].type == "bold"
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_caption(
            chat_id=user["id"], message_id=photo.message_id, caption="<b>b</b>", parse_mode="HTML"
        )
    text = await bot.send_message(user["id"], "plain")
    with pytest.raises(TelegramBadRequest, match="there is no caption in the message to edit"):
        await bot.edit_message_caption(chat_id=user["id"], message_id=text.message_id, caption="x")
    with pytest.raises(TelegramBadRequest, match="there is no text in the message to edit"):
        await bot.edit_message_text("x", chat_id=user["id"], message_id=photo.message_id)
    theirs = await tg.send_message(user["id"], "from the user")
    assert await bot.delete_messages(user["id"], [photo.message_id, theirs["message_id"], 999])
    assert [m["text"] for m in await tg.transcript(user["id"])] == ["plain"]


async def test_privacy_mode_in_groups(bot: Bot, tg: EmulatorClient):
    me = await bot.get_me()
    await tg.set_bot_profile(can_read_all_group_messages=False)
    user = await tg.create_user("Member")
    group = await tg.create_group("Quiet", [user["id"]])
    note = await bot.send_message(group["id"], "bot says")
    await tg.send_message(user["id"], "chatter", chat_id=group["id"])
    await tg.send_message(user["id"], "/help", chat_id=group["id"])
    await tg.send_message(user["id"], "/help@other_bot", chat_id=group["id"])
    await tg.send_message(user["id"], f"hey @{me.username}", chat_id=group["id"])
    await tg.send_message(
        user["id"], "answer", chat_id=group["id"], reply_to_message_id=note.message_id
    )
    seen = [u.message.text for u in await bot.get_updates()]
    assert seen == ["/help", f"hey @{me.username}", "answer"]
    assert len(await tg.transcript(group["id"])) == 6


async def test_explicit_entities_and_external_replies(bot: Bot, tg: EmulatorClient):
    alice = await tg.create_user("Alice")
    group = await tg.create_group("Hub", [alice["id"]])
    bold = [{"type": "bold", "offset": 0, "length": 4}]
    sent = await tg.send_message(alice["id"], "Help needed", chat_id=group["id"], entities=bold)
    assert sent["entities"] == bold
    await tg.send_message(alice["id"], "hi")
    from aiogram.types import ReplyParameters

    reply = await bot.send_message(
        alice["id"],
        "about your group post",
        reply_parameters=ReplyParameters(message_id=sent["message_id"], chat_id=group["id"]),
    )
    assert reply.reply_to_message is None
    assert reply.external_reply.chat.id == group["id"]
    assert reply.external_reply.message_id == sent["message_id"]


async def test_standalone_command_line():
    import asyncio
    import sys

    import aiohttp

    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tgemulator",
        "--port",
        "0",
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        line = (await asyncio.wait_for(process.stdout.readline(), 10)).decode()
        base_url = line.rsplit(" ", 1)[-1].strip()
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{base_url}/bot42:abc/getMe") as resp:
                assert (await resp.json())["result"]["id"] == 42
    finally:
        process.terminate()
        await process.wait()


async def test_profile_texts_and_moderation(bot: Bot, tg: EmulatorClient):
    assert await bot.set_my_description("Help for workers on the move")
    assert await bot.set_my_short_description("Rapid help", language_code="ar")
    assert await bot.set_my_name("Corridor")
    assert (await bot.get_my_description()).description == "Help for workers on the move"
    assert (
        await bot.get_my_short_description(language_code="ar")
    ).short_description == "Rapid help"
    assert (await bot.get_my_short_description()).short_description == ""
    assert (await bot.get_my_name()).name == "Corridor"
    with pytest.raises(TelegramBadRequest, match="too long"):
        await bot.set_my_short_description("x" * 121)

    owner = await tg.create_user("Owner")
    spammer = await tg.create_user("Spammer")
    group = await tg.create_group("Mod", [owner["id"], spammer["id"]])
    with pytest.raises(TelegramBadRequest, match="not enough rights"):
        await bot.ban_chat_member(group["id"], spammer["id"])
    admin_group = await tg.create_group(
        "Mod2", [owner["id"], spammer["id"]], supergroup=True, bot_is_admin=True
    )
    assert await bot.ban_chat_member(admin_group["id"], spammer["id"])
    assert (await bot.get_chat_member(admin_group["id"], spammer["id"])).status == "kicked"
    with pytest.raises(EmulatorError, match="not a member"):
        await tg.send_message(spammer["id"], "let me in", chat_id=admin_group["id"])
    assert await bot.unban_chat_member(admin_group["id"], spammer["id"], only_if_banned=True)
    assert (await bot.get_chat_member(admin_group["id"], spammer["id"])).status == "left"
    with pytest.raises(TelegramBadRequest, match="can't remove chat owner"):
        await bot.ban_chat_member(admin_group["id"], owner["id"])
    photos = await bot.get_user_profile_photos(owner["id"])
    assert photos.total_count == 0
