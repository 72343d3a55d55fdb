"""Async client for the emulator's control API: play users, inspect the world.

    async with EmulatorClient(server.base_url, token) as tg:
        user = await tg.create_user("Amina")
        sent = await tg.send_message(user["id"], "/start")
        reply = await tg.wait_for_message(user["id"], after_message_id=sent["message_id"])

Every method is one HTTP call. Chat ids of private chats equal the user id.
"""

from __future__ import annotations

import base64
from types import TracebackType
from typing import Any

import aiohttp


class EmulatorError(Exception):
    """The emulator refused a control call (unknown user, not a member, ...)."""

    def __init__(self, status: int, description: str):
        super().__init__(description)
        self.status = status
        self.description = description


class EmulatorClient:
    def __init__(
        self, base_url: str, token: str, *, session: aiohttp.ClientSession | None = None
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self._session = session
        self._own_session = session is None

    async def __aenter__(self) -> EmulatorClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._own_session and self._session is not None:
            await self._session.close()
        self._session = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
            self._own_session = True
        return self._session

    async def _call(self, action: str, wait: float = 0.0, **args: Any) -> Any:
        url = f"{self.base_url}/control/{self.token}/{action}"
        timeout = aiohttp.ClientTimeout(total=wait + 30.0)
        async with self._http().post(url, json=args, timeout=timeout) as resp:
            body = await resp.json(content_type=None)
        if body.get("ok"):
            return body["result"]
        if resp.status == 408:
            raise TimeoutError(body.get("description"))
        raise EmulatorError(resp.status, body.get("description", ""))

    # -- people and groups -------------------------------------------------------
    async def create_user(
        self,
        first_name: str,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
        user_id: int | None = None,
        *,
        started: bool = False,
    ) -> dict[str, Any]:
        """A Telegram User. started=True opens the private chat without messages."""
        return await self._call(
            "create_user",
            first_name=first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
            user_id=user_id,
            started=started,
        )

    async def set_language(self, user_id: int, language_code: str) -> dict[str, Any]:
        return await self._call("set_language", user_id=user_id, language_code=language_code)

    async def create_group(
        self,
        title: str,
        member_ids: list[int],
        supergroup: bool = False,
        admin_ids: tuple[int, ...] | list[int] = (),
        *,
        add_bot_update: bool = False,
        bot_is_admin: bool = False,
        username: str | None = None,
        creator_id: int | None = None,
    ) -> dict[str, Any]:
        """A Chat the bot is in; member_ids[0] is the creator unless creator_id says."""
        return await self._call(
            "create_group",
            title=title,
            member_ids=list(member_ids),
            supergroup=supergroup,
            admin_ids=list(admin_ids),
            add_bot_update=add_bot_update,
            bot_is_admin=bot_is_admin,
            username=username,
            creator_id=creator_id,
        )

    async def add_member(
        self, chat_id: int, user_id: int, by_user_id: int | None = None
    ) -> dict[str, Any]:
        return await self._call(
            "add_member", chat_id=chat_id, user_id=user_id, by_user_id=by_user_id
        )

    async def remove_member(
        self, chat_id: int, user_id: int, by_user_id: int | None = None
    ) -> dict[str, Any]:
        return await self._call(
            "remove_member", chat_id=chat_id, user_id=user_id, by_user_id=by_user_id
        )

    async def kick_bot(self, chat_id: int, by_user_id: int | None = None) -> bool:
        return await self._call("kick_bot", chat_id=chat_id, by_user_id=by_user_id)

    async def delete_group(self, chat_id: int) -> bool:
        return await self._call("delete_group", chat_id=chat_id)

    async def migrate_to_supergroup(self, chat_id: int, by_user_id: int | None = None) -> int:
        return await self._call("migrate_to_supergroup", chat_id=chat_id, by_user_id=by_user_id)

    async def block_bot(self, user_id: int) -> bool:
        return await self._call("block_bot", user_id=user_id)

    async def unblock_bot(self, user_id: int) -> bool:
        return await self._call("unblock_bot", user_id=user_id)

    # -- what users send -----------------------------------------------------------
    async def send_message(
        self,
        user_id: int,
        text: str,
        chat_id: int | None = None,
        reply_to_message_id: int | None = None,
        forward_from_user_id: int | None = None,
        forward_origin: dict[str, Any] | None = None,
        entities: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """The user's Message. Over 4096 characters the text is split like a
        Telegram client does; the last part is returned, with `parts` listing ids."""
        return await self._call(
            "send_message",
            user_id=user_id,
            text=text,
            chat_id=chat_id,
            reply_to_message_id=reply_to_message_id,
            forward_from_user_id=forward_from_user_id,
            forward_origin=forward_origin,
            entities=entities,
        )

    async def _media(
        self, kind: str, user_id: int, data: bytes | None = None, **kw: Any
    ) -> dict[str, Any]:
        encoded = base64.b64encode(data).decode() if data is not None else None
        return await self._call(f"send_{kind}", user_id=user_id, data=encoded, **kw)

    async def send_photo(
        self,
        user_id: int,
        chat_id: int | None = None,
        caption: str | None = None,
        media_group_id: str | None = None,
        data: bytes | None = None,
    ) -> dict[str, Any]:
        return await self._media(
            "photo", user_id, data, chat_id=chat_id, caption=caption, media_group_id=media_group_id
        )

    async def send_document(
        self,
        user_id: int,
        file_name: str,
        data: bytes,
        chat_id: int | None = None,
        caption: str | None = None,
        mime_type: str | None = None,
    ) -> dict[str, Any]:
        return await self._media(
            "document",
            user_id,
            data,
            file_name=file_name,
            chat_id=chat_id,
            caption=caption,
            mime_type=mime_type,
        )

    async def send_voice(
        self, user_id: int, duration: int, chat_id: int | None = None, data: bytes | None = None
    ) -> dict[str, Any]:
        return await self._media("voice", user_id, data, duration=duration, chat_id=chat_id)

    async def send_audio(
        self,
        user_id: int,
        duration: int = 30,
        chat_id: int | None = None,
        file_name: str | None = "audio.mp3",
        data: bytes | None = None,
    ) -> dict[str, Any]:
        return await self._media(
            "audio", user_id, data, duration=duration, chat_id=chat_id, file_name=file_name
        )

    async def send_video(
        self,
        user_id: int,
        duration: int = 5,
        chat_id: int | None = None,
        caption: str | None = None,
        data: bytes | None = None,
    ) -> dict[str, Any]:
        return await self._media(
            "video", user_id, data, duration=duration, chat_id=chat_id, caption=caption
        )

    async def send_video_note(
        self, user_id: int, duration: int = 5, chat_id: int | None = None
    ) -> dict[str, Any]:
        return await self._media("video_note", user_id, None, duration=duration, chat_id=chat_id)

    async def send_animation(
        self, user_id: int, chat_id: int | None = None, caption: str | None = None
    ) -> dict[str, Any]:
        return await self._media(
            "animation",
            user_id,
            None,
            chat_id=chat_id,
            caption=caption,
            file_name="animation.gif.mp4",
        )

    async def send_sticker(
        self, user_id: int, emoji: str = "👍", chat_id: int | None = None
    ) -> dict[str, Any]:
        return await self._media("sticker", user_id, None, emoji=emoji, chat_id=chat_id)

    async def send_location(
        self, user_id: int, latitude: float, longitude: float, chat_id: int | None = None
    ) -> dict[str, Any]:
        return await self._call(
            "send_location",
            user_id=user_id,
            latitude=latitude,
            longitude=longitude,
            chat_id=chat_id,
        )

    async def send_contact(
        self,
        user_id: int,
        phone_number: str,
        first_name: str,
        last_name: str | None = None,
        contact_user_id: int | None = None,
        chat_id: int | None = None,
    ) -> dict[str, Any]:
        return await self._call(
            "send_contact",
            user_id=user_id,
            phone_number=phone_number,
            first_name=first_name,
            last_name=last_name,
            contact_user_id=contact_user_id,
            chat_id=chat_id,
        )

    async def send_dice(
        self, user_id: int, emoji: str = "🎲", value: int = 6, chat_id: int | None = None
    ) -> dict[str, Any]:
        return await self._call(
            "send_dice", user_id=user_id, emoji=emoji, value=value, chat_id=chat_id
        )

    async def send_poll(
        self, user_id: int, question: str, options: list[str], chat_id: int | None = None
    ) -> dict[str, Any]:
        return await self._call(
            "send_poll", user_id=user_id, question=question, options=list(options), chat_id=chat_id
        )

    async def send_album(
        self, user_id: int, n: int, chat_id: int | None = None, caption: str | None = None
    ) -> list[dict[str, Any]]:
        """n photos; more than 10 arrive as several albums, like Telegram."""
        return await self._call(
            "send_album", user_id=user_id, n=n, chat_id=chat_id, caption=caption
        )

    async def edit_message(
        self, user_id: int, chat_id: int, message_id: int, text: str
    ) -> dict[str, Any]:
        return await self._call(
            "edit_message", user_id=user_id, chat_id=chat_id, message_id=message_id, text=text
        )

    async def press_button(
        self,
        user_id: int,
        chat_id: int,
        message_id: int,
        data: str | None = None,
        button_text: str | None = None,
        strict: bool = True,
    ) -> str:
        """The callback query id. strict=False sends `data` even without such a button."""
        return await self._call(
            "press_button",
            user_id=user_id,
            chat_id=chat_id,
            message_id=message_id,
            data=data,
            button_text=button_text,
            strict=strict,
        )

    async def get_callback_answer(
        self,
        callback_query_id: str,
        timeout: float = 5.0,  # noqa: ASYNC109 - the wait happens server-side
    ) -> dict[str, Any]:
        """Waits for answerCallbackQuery; {text, show_alert, url, cache_time}."""
        return await self._call(
            "get_callback_answer",
            wait=timeout,
            callback_query_id=callback_query_id,
            timeout=timeout,
        )

    # -- observing -------------------------------------------------------------------
    async def transcript(self, chat_id: int, include_deleted: bool = False) -> list[dict[str, Any]]:
        return await self._call("transcript", chat_id=chat_id, include_deleted=include_deleted)

    async def chats(self) -> list[dict[str, Any]]:
        return await self._call("chats")

    async def wait_for_message(
        self,
        chat_id: int,
        contains: str | None = None,
        from_bot: bool | None = True,
        after_message_id: int = 0,
        timeout: float = 5.0,  # noqa: ASYNC109 - the wait happens server-side
    ) -> dict[str, Any]:
        """First matching message with id > after_message_id (waits server-side).
        from_bot=None matches anyone. Raises TimeoutError listing the last messages."""
        return await self._call(
            "wait_for_message",
            wait=timeout,
            chat_id=chat_id,
            contains=contains,
            from_bot=from_bot,
            after_message_id=after_message_id,
            timeout=timeout,
        )

    async def wait_until_idle(
        self,
        timeout: float = 5.0,  # noqa: ASYNC109 - the wait happens server-side
        quiet: float = 0.05,
    ) -> None:
        await self._call("wait_until_idle", wait=timeout, timeout=timeout, quiet=quiet)

    async def pending_updates(self) -> list[dict[str, Any]]:
        return await self._call("pending_updates")

    async def inject_update(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queues a raw update as given (valid or not); returns it with its update_id."""
        return await self._call("inject_update", update=update)

    # -- knobs -----------------------------------------------------------------------
    async def fail_next(
        self,
        method: str,
        error_code: int = 429,
        description: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
        chat_id: int | str | None = None,
        disconnect: bool = False,
        after: bool = False,
        delay: float = 0.0,
    ) -> None:
        """The next ``times`` calls of ``method`` fail. ``after``: the call is carried out and
        only its answer is lost. ``delay``: seconds before the answer (error_code=0 with a
        delay: a slow answer that succeeds, unless the client gives up first)."""
        await self._call(
            "fail_next",
            after=after,
            delay=delay,
            method=method,
            error_code=error_code,
            description=description,
            retry_after=retry_after,
            times=times,
            chat_id=chat_id,
            disconnect=disconnect,
        )

    async def redeliver(self, update_id: int | None = None) -> bool:
        """Offers an already delivered update (by default the newest) again, with its own id."""
        return await self._call("redeliver", update_id=update_id)

    async def retry_stats(self) -> dict[str, int]:
        """{"refused_429": …, "early_calls": …}: 429s answered, and calls to a chat made
        before its retry_after ran out."""
        return await self._call("retry_stats")

    async def set_chaos(self, rate: float, seed: int = 0, slow_seconds: float = 0.0) -> None:
        """A share ``rate`` of chat calls fails at random (429, 500, 502 before or after
        delivery, dropped connections after delivery, answers ``slow_seconds`` late)."""
        await self._call("set_chaos", rate=rate, seed=seed, slow_seconds=slow_seconds)

    async def set_flood_control(self, enabled: bool) -> None:
        await self._call("set_flood_control", enabled=enabled)

    async def advance_clock(self, seconds: float) -> int:
        return await self._call("advance_clock", seconds=seconds)

    async def now(self) -> int:
        return await self._call("now")

    async def set_bot_profile(
        self,
        first_name: str | None = None,
        username: str | None = None,
        can_read_all_group_messages: bool | None = None,
    ) -> dict[str, Any]:
        return await self._call(
            "set_bot_profile",
            first_name=first_name,
            username=username,
            can_read_all_group_messages=can_read_all_group_messages,
        )

    async def get_file_bytes(self, file_id: str) -> bytes:
        url = f"{self.base_url}/control/{self.token}/files/{file_id}"
        async with self._http().get(url) as resp:
            if resp.status != 200:
                body = await resp.json(content_type=None)
                raise EmulatorError(resp.status, body.get("description", ""))
            return await resp.read()

    async def sent_files(self) -> list[dict[str, Any]]:
        """Files the bot uploaded: name, mime, file_id, size, kind."""
        return await self._call("sent_files")

    async def stats(self) -> dict[str, int]:
        """Bot API requests per method, e.g. {"sendMessage": 3, "getUpdates": 7}."""
        return await self._call("stats")

    async def reset(self) -> None:
        await self._call("reset")
