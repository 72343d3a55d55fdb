"""What the page shows: every chat of the sandbox as JSON, messages with edits applied."""

from __future__ import annotations

from typing import Any

from bot.sandbox.session import OPEN_CHATS, Sandbox
from bot.stories import REPORTERS


def render_message(message: dict[str, Any], names: dict[int, str]) -> dict[str, Any]:
    sender = message.get("from") or {}
    reply = message.get("reply_to_message") or {}
    buttons = [
        [
            {"text": b.get("text", ""), "data": b.get("callback_data"), "url": b.get("url")}
            for b in row
        ]
        for row in (message.get("reply_markup") or {}).get("inline_keyboard", [])
    ]
    location = message.get("location")
    document = message.get("document") or {}
    return {
        "id": message["message_id"],
        "from_bot": bool(message.get("from_bot")),
        "from_id": sender.get("id"),
        "from": "bot"
        if message.get("from_bot")
        else names.get(sender.get("id"), sender.get("first_name", "?")),
        "date": message.get("date"),
        "text": message.get("text") or message.get("caption") or "",
        "kind": message.get("media_kind") or "text",
        "file_id": message.get("file_id"),
        "file_name": document.get("file_name"),
        "location": [location["latitude"], location["longitude"]] if location else None,
        "edited": bool(message.get("edited")),
        "reply_to": (reply.get("text") or reply.get("caption") or "")[:80] if reply else None,
        "buttons": buttons,
    }


async def snapshot(sandbox: Sandbox) -> dict[str, Any]:
    h = sandbox.harness()
    cast = sandbox.cast
    assert cast is not None
    config = h.app.config
    names = dict(cast.names)
    for person in config.people:
        names[person.telegram_user_id] = person.name
    people = [
        {
            "key": person.id,
            "user_id": person.telegram_user_id,
            "name": person.name,
            "role": person.role,
            "organisation": person.organisation,
            "language": person.language,
        }
        for person in config.people
    ]
    for key, (name, language, role) in REPORTERS.items():
        people.append(
            {
                "key": key,
                "user_id": cast.users[key],
                "name": name,
                "role": role,
                "organisation": None,
                "language": language,
            }
        )
    languages = await sandbox.language_by_user()
    emulator_chats = {c["id"]: c for c in await h.tg.chats()}
    chats = []
    for person in people:
        chats.append(
            {
                "key": person["key"],
                "id": person["user_id"],
                "type": "private",
                "title": person["name"],
                "subtitle": person["role"]
                + (f", {person['organisation']}" if person["organisation"] else ""),
                "members": [person["user_id"]],
                "language": languages.get(person["user_id"], person["language"]),
                "messages": [
                    render_message(m, names) for m in await h.tg.transcript(person["user_id"])
                ],
            }
        )
    for organisation, chat_id in h.groups.items():
        members = [p["user_id"] for p in people if p["organisation"] == organisation]
        chats.append(
            {
                "key": organisation,
                "id": chat_id,
                "type": "group",
                "title": emulator_chats.get(chat_id, {}).get("title") or organisation,
                "subtitle": f"responder group, {len(members)} members",
                "members": members,
                "language": None,
                "messages": [render_message(m, names) for m in await h.tg.transcript(chat_id)],
            }
        )
    return {
        "version": sandbox.version,
        "now": h.clock.now().isoformat(),
        "chats": chats,
        "names": {str(uid): name for uid, name in names.items()},
        "open": list(OPEN_CHATS),
        "languages": sandbox.languages(),
        "events": [
            {"at": event.at.isoformat(), "text": event.text} for event in sandbox.events[-60:]
        ],
        "guide": await sandbox.guide.state(),
    }
