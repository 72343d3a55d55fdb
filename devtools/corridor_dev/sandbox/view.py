"""What the page shows: every chat of the sandbox as JSON, messages with edits applied."""

from __future__ import annotations

from typing import Any

from bot import labels
from bot.i18n import N_, RTL_LANGUAGES, ntr, tr
from corridor_dev.sandbox.session import OPEN_CHATS, Sandbox
from corridor_dev.stories import REPORTERS

# Every label of the page, in the page's language (the page fills them in by key).
UI = {
    "title": N_("Corridor sandbox"),
    "badge": N_("localhost only · never talks to Telegram"),
    "badge_tip": N_(
        "The server listens on 127.0.0.1 only; the bot talks to the built-in emulator."
    ),
    "page_language": N_("Page language"),
    "clock": N_("Bot clock"),
    "5m": N_("+5 min"),
    "1h": N_("+1 hour"),
    "1d": N_("+1 day"),
    "digest": N_("Next digest"),
    "reset": N_("Reset"),
    "reset_tip": N_("A fresh database and empty chats"),
    "reset_confirm": N_("Start over with a fresh database and empty chats?"),
    "stories": N_("Guided stories"),
    "do_step": N_("Do it for me"),
    "next_step": N_("I did it: next"),
    "next_step_tip": N_("You did this step by hand"),
    "play": N_("Play all"),
    "pause": N_("Pause"),
    "chats": N_("Chats"),
    "events": N_("What happened"),
    "message": N_("Message"),
    "send": N_("Send"),
    "send_photo": N_("Send a sample photo"),
    "send_voice": N_("Send a sample voice note"),
    "send_document": N_("Send a sample document"),
    "send_location": N_("Send a location"),
    "reply": N_("Reply to this message"),
    "cancel_reply": N_("Cancel reply"),
    "replying": N_("Replying to: {text}"),
    "bot": N_("Bot"),
    "photo": N_("photo"),
    "location": N_("📍 location {where}"),
    "voice": N_("🎤 voice note"),
    "document": N_("document"),
    "edited": N_("edited"),
    "as": N_("as {name}"),
    "language_of": N_("Language of {name}"),
    "write_as": N_("Write in {chat} as"),
    "step": N_("{story}: step {n} of {count}"),
    "finished": N_("{story}: finished ({count} steps)"),
    "pick": N_("Pick another story, or Reset to start over."),
    "the_clock": N_("The clock"),
    "failed": N_("something went wrong"),
}
# The stories' reporters by who they are to the worker; staff by their role (bot.labels).
ROLES = {
    "worker": N_("worker"),
    "mother": N_("mother"),
    "wife": N_("wife"),
    **labels.ROLES,
}


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
    page = sandbox.page_language
    org_names = {org.id: org.name for org in config.organisations}
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
                "subtitle": tr(page, ROLES.get(person["role"], person["role"]))
                + (f", {org_names[person['organisation']]}" if person["organisation"] else ""),
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
                "subtitle": ntr(
                    page,
                    "responder group, {n} member",
                    "responder group, {n} members",
                    len(members),
                ),
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
        "page_language": page,
        "dir": "rtl" if page in RTL_LANGUAGES else "ltr",
        "ui": {key: tr(page, text) for key, text in UI.items()},
        "events": [
            {"at": event.at.isoformat(), "text": event.render(page)}
            for event in sandbox.events[-60:]
        ],
        "guide": await sandbox.guide.state(),
    }
