"""Control API: `POST /control/{token}/{action}` with a JSON object of arguments.

Answers `{"ok": true, "result": ...}`; failures `{"ok": false, "description": ...}`
with 400 (bad call), 404 (unknown user/chat/action) or 408 (a wait timed out).
"""

from __future__ import annotations

import asyncio
import base64
import inspect
import time
from collections.abc import Callable
from typing import Any

from . import faults, users
from .errors import ControlError
from .faults import FailRule
from .state import CallbackRecord, World

Action = Callable[..., Any]
ACTIONS: dict[str, Action] = {}


def action(name: str | None = None) -> Callable[[Action], Action]:
    def register(fn: Action) -> Action:
        ACTIONS[name or fn.__name__] = fn
        return fn

    return register


def _bytes(data: str | None) -> bytes | None:
    return None if data is None else base64.b64decode(data)


for _name in (
    "create_user",
    "create_group",
    "set_language",
    "add_member",
    "remove_member",
    "kick_bot",
    "delete_group",
    "migrate_to_supergroup",
    "block_bot",
    "unblock_bot",
    "send_message",
    "send_album",
    "edit_message",
    "press_button",
    "transcript",
    "chats",
):
    ACTIONS[_name] = getattr(users, _name)


def _media_action(kind: str) -> Action:
    def send(world: World, user_id: int, data: str | None = None, **kwargs: Any) -> dict[str, Any]:
        return users.send_media(world, user_id, kind, data=_bytes(data), **kwargs)

    return send


for _kind in ("photo", "document", "voice", "audio", "video", "video_note", "animation", "sticker"):
    ACTIONS[f"send_{_kind}"] = _media_action(_kind)


@action()
def send_location(
    world: World, user_id: int, latitude: float, longitude: float, chat_id: int | None = None
) -> dict[str, Any]:
    location = {"latitude": float(latitude), "longitude": float(longitude)}
    return users.send_content(world, user_id, {"location": location}, chat_id)


@action()
def send_contact(
    world: World,
    user_id: int,
    phone_number: str,
    first_name: str,
    last_name: str | None = None,
    contact_user_id: int | None = None,
    chat_id: int | None = None,
) -> dict[str, Any]:
    contact: dict[str, Any] = {"phone_number": phone_number, "first_name": first_name}
    if last_name:
        contact["last_name"] = last_name
    if contact_user_id is not None:
        contact["user_id"] = int(contact_user_id)
    return users.send_content(world, user_id, {"contact": contact}, chat_id)


@action()
def send_dice(
    world: World, user_id: int, emoji: str = "🎲", value: int = 6, chat_id: int | None = None
) -> dict[str, Any]:
    return users.send_content(
        world, user_id, {"dice": {"emoji": emoji, "value": int(value)}}, chat_id
    )


@action()
def send_poll(
    world: World, user_id: int, question: str, options: list[str], chat_id: int | None = None
) -> dict[str, Any]:
    poll = {
        "id": str(time.time_ns()),
        "question": question,
        "options": [
            {"persistent_id": str(i), "text": text, "voter_count": 0}
            for i, text in enumerate(options)
        ],
        "total_voter_count": 0,
        "is_closed": False,
        "is_anonymous": False,
        "type": "regular",
        "allows_multiple_answers": False,
        "allows_revoting": True,
        "members_only": False,
    }
    return users.send_content(world, user_id, {"poll": poll}, chat_id)


@action()
async def get_callback_answer(
    world: World,
    callback_query_id: str,
    timeout: float = 5.0,  # noqa: ASYNC109 - the client's wait, honoured here
) -> dict[str, Any]:
    query = world.callbacks.get(str(callback_query_id))
    if query is None:
        raise ControlError(f"unknown callback query {callback_query_id}", 404)
    try:
        answer = await world.signal.wait_for(lambda: query.answer or world.closed, timeout)
    except TimeoutError:
        raise ControlError(
            f"the bot did not answer callback query {callback_query_id} within {timeout}s", 408
        ) from None
    if answer is True:
        raise ControlError("the emulator is shutting down", 408)
    return answer


def _describe(entry: dict[str, Any]) -> str:
    who = "bot" if entry["from_bot"] else f"user {entry.get('from', {}).get('id')}"
    body = entry.get("text") or entry.get("caption") or f"<{entry['kind']}>"
    return f"#{entry['message_id']} {who}: {body[:120]!r}"


@action()
async def wait_for_message(
    world: World,
    chat_id: int,
    contains: str | None = None,
    from_bot: bool | None = True,
    after_message_id: int = 0,
    timeout: float = 5.0,  # noqa: ASYNC109 - the client's wait, honoured here
) -> dict[str, Any]:
    chat_id, after = int(chat_id), int(after_message_id)

    def find() -> dict[str, Any] | bool | None:
        if world.closed:
            return True
        chat = world.chats.get(chat_id)
        for record in chat.live_messages() if chat else ():
            if record.message_id <= after:
                continue
            if from_bot is not None and record.from_bot != from_bot:
                continue
            if contains is not None and contains not in record.body:
                continue
            return record.transcript_entry()
        return None

    try:
        found = await world.signal.wait_for(find, timeout)
    except TimeoutError:
        chat = world.chats.get(chat_id)
        last = [
            _describe(m.transcript_entry()) for m in (chat.live_messages()[-5:] if chat else [])
        ]
        wanted = f" containing {contains!r}" if contains is not None else ""
        sender = {True: "from the bot", False: "from a user", None: ""}[from_bot]
        raise ControlError(
            f"no message {sender}{wanted} after #{after} in chat {chat_id} within {timeout}s; "
            f"last messages: {last or 'none'}",
            408,
        ) from None
    if found is True:
        raise ControlError("the emulator is shutting down", 408)
    return found


@action()
async def wait_until_idle(
    world: World,
    timeout: float = 5.0,  # noqa: ASYNC109 - the client's wait, honoured here
    quiet: float = 0.05,
) -> bool:
    """Idle: no update waits for the bot, no Bot API call is running and none
    arrived for `quiet` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not world.closed:
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise ControlError(
                f"bot not idle after {timeout}s: {len(world.updates)} update(s) not fetched, "
                f"{world.inflight} request(s) running",
                408,
            )
        wait = remaining
        if not world.is_busy():
            idle_for = time.monotonic() - world.last_activity
            if idle_for >= quiet:
                return True
            wait = min(remaining, quiet - idle_for)
        await world.signal.wait(wait)
    return True


@action()
def fail_next(
    world: World,
    method: str,
    error_code: int = 429,
    description: str | None = None,
    retry_after: int | None = None,
    times: int = 1,
    chat_id: int | str | None = None,
    disconnect: bool = False,
    after: bool = False,
    delay: float = 0.0,
) -> bool:
    world.fail_rules.add(
        FailRule(
            method=method.lower(),
            error_code=int(error_code),
            description=description,
            retry_after=retry_after,
            times=int(times),
            chat_id=chat_id,
            disconnect=bool(disconnect),
            after=bool(after),
            delay=float(delay),
        )
    )
    return True


@action()
def redeliver(world: World, update_id: int | None = None) -> bool:
    return world.redeliver(None if update_id is None else int(update_id))


@action()
def set_chaos(world: World, rate: float, seed: int = 0, slow_seconds: float = 0.0) -> bool:
    world.chaos = faults.Chaos(rate=float(rate), seed=int(seed), slow_seconds=float(slow_seconds))
    return True


@action()
def set_flood_control(world: World, enabled: bool) -> bool:
    world.flood.enabled = bool(enabled)
    world.flood.reset()
    return True


@action()
def advance_clock(world: World, seconds: float) -> int:
    world.clock_offset += float(seconds)
    world.signal.fire()
    return world.now()


@action()
def now(world: World) -> int:
    return world.now()


@action()
def sent_files(world: World) -> list[dict[str, Any]]:
    return [f.describe() for f in world.files.uploaded_by_bot()]


@action()
def stats(world: World) -> dict[str, int]:
    return dict(world.stats)


@action()
def retry_stats(world: World) -> dict[str, int]:
    """Calls refused with 429 (flood control or injected), and calls to a chat made before
    its retry_after ran out."""
    return {"refused_429": world.retries.refused, "early_calls": world.retries.early}


@action()
def reset(world: World) -> bool:
    world.reset()
    return True


@action()
def pending_updates(world: World) -> list[dict[str, Any]]:
    return list(world.updates)


@action()
def inject_update(world: World, update: Any) -> dict[str, Any]:
    """Queues a raw update exactly as given, valid or not (a field missing, an object of a
    newer Bot API, a wrong type …), to test how a bot copes with what it cannot parse.
    Only ``update_id`` is set, to the next one; getUpdates and webhooks deliver it like any
    other, whatever ``allowed_updates`` says. A callback query's id can be answered."""
    if not isinstance(update, dict):
        raise ControlError("update must be a JSON object")
    raw = {**update, "update_id": world.next_update_id}
    world.next_update_id += 1
    query = raw.get("callback_query")
    if isinstance(query, dict) and isinstance(query.get("id"), str):
        # Delivered by "Telegram", so its id can be answered (get_callback_answer works).
        def number(value: Any) -> int:
            return value if isinstance(value, int) and not isinstance(value, bool) else 0

        sender = query.get("from") if isinstance(query.get("from"), dict) else {}
        message = query.get("message") if isinstance(query.get("message"), dict) else {}
        chat = message.get("chat") if isinstance(message.get("chat"), dict) else {}
        world.callbacks[query["id"]] = CallbackRecord(
            id=query["id"],
            user_id=number(sender.get("id")),
            chat_id=number(chat.get("id")),
            message_id=number(message.get("message_id")),
            data=query.get("data") if isinstance(query.get("data"), str) else None,
            created=world.now_float(),
        )
    world.updates.append(raw)
    world.signal.fire()
    return raw


@action()
def set_bot_profile(
    world: World,
    first_name: str | None = None,
    username: str | None = None,
    can_read_all_group_messages: bool | None = None,
) -> dict[str, Any]:
    if first_name:
        world.bot.first_name = first_name
    if username:
        world.bot.username = username
    if can_read_all_group_messages is not None:
        world.bot_flags["can_read_all_group_messages"] = bool(can_read_all_group_messages)
    return world.bot_api_user()


async def run_action(world: World, name: str, args: dict[str, Any]) -> Any:
    fn = ACTIONS.get(name)
    if fn is None:
        raise ControlError(f"unknown control action {name!r}", 404)
    try:
        inspect.signature(fn).bind(world, **args)
    except TypeError as exc:
        raise ControlError(f"{name}: {exc}") from None
    result = fn(world, **args)
    if inspect.isawaitable(result):
        result = await result
    return result
