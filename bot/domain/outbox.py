"""Writing messages to the outbox, in the same transaction as the change that causes them."""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.util import identity_key

from bot.domain.context import Domain
from bot.domain.notices import Notice
from bot.i18n import N_, tr
from bot.text_limits import CAPTION_LIMIT, TEXT_LIMIT, fits, split_message, split_parts
from models import Case, Organisation, OutboxMessage, Person, ResponderGroup

DRILL_MARK = N_("🧪 DRILL: a practice case, not a real person.")
# A toast (a callback answer) holds 200 characters: the short form.
DRILL_TAG = N_("🧪 DRILL")

log = logging.getLogger(__name__)
# Methods whose text is a caption (1,024 characters) rather than a message (4,096).
CAPTIONED = ("copyMessage", "sendPhoto", "sendDocument", "sendVoice", "sendVideo", "sendAudio")


def _drill_language(session: AsyncSession, case_id: int | None) -> str | None:
    """The language of the case a message is about, if that case is a drill. Whoever
    queues a message about a case has just loaded it, so this never reads the database."""
    if case_id is None:
        return None
    case = session.sync_session.identity_map.get(identity_key(Case, case_id))
    return case.language if case is not None and case.drill else None


def reader_language(session: AsyncSession, chat_id: int | None, fallback: str) -> str:
    """The language of whoever reads ``chat_id``: a staff member's own, a group's
    organisation's. Taken from what the transaction has loaded (whoever writes to a person
    or a group has them at hand), so this never reads the database either."""
    if chat_id is None:
        return fallback
    loaded = session.sync_session.identity_map
    for row in list(loaded.values()):
        if chat_id > 0 and isinstance(row, Person) and row.telegram_user_id == chat_id:
            return row.language
        if chat_id < 0 and isinstance(row, ResponderGroup) and row.chat_id == chat_id:
            org = loaded.get(identity_key(Organisation, row.organisation_id))
            if org is not None:
                from bot.domain.routing import group_language

                return group_language(org)
    return fallback


def about_a_drill(session: AsyncSession, text: str) -> bool:
    """Whether an answer the transaction gives is about a drill: it has a drill case in hand
    and no real one, or, holding both (a list of someone's cases), the text names only
    drills. A real person's case is never called a practice one."""
    cases = [
        row for row in list(session.sync_session.identity_map.values()) if isinstance(row, Case)
    ]
    drills = [case for case in cases if case.drill]
    if not drills:
        return False
    real = [case for case in cases if not case.drill]
    if not real:
        return True
    return any(case.code in text for case in drills) and not any(case.code in text for case in real)


def mark_drill(language: str, text: str) -> str:
    """Every message about a drill says so on its first line."""
    return f"{tr(language, DRILL_MARK)}\n{text}"


def queue(
    session: AsyncSession,
    domain: Domain,
    *,
    purpose: str,
    text: str | None = None,
    chat_id: int | None = None,
    reporter_id: int | None = None,
    case_id: int | None = None,
    method: str = "sendMessage",
    keyboard: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
    language: str | None = None,
) -> OutboxMessage:
    """``language`` is the reader's, when the caller knows it (for the drill mark).
    ``keyboard`` is a reply markup the view layer built (``queue_notice`` passes it on)."""
    if (chat_id is None) == (reporter_id is None):
        raise ValueError("an outbox message has exactly one recipient")
    html = (extra or {}).get("parse_mode") == "HTML"
    if method == "sendMessage" and text is not None and not fits(text, TEXT_LIMIT, html=html):
        # A guard: callers that send long texts split them with a header (queue_parts);
        # anything else still goes out whole, in numbered parts, rather than failing for good.
        log.warning("a %s message over Telegram's limit is sent in parts", purpose)
        parts = queue_parts(
            session,
            domain,
            purpose=purpose,
            body=text,
            chat_id=chat_id,
            reporter_id=reporter_id,
            case_id=case_id,
            keyboard=keyboard,
            extra=extra,
        )
        return parts[0]
    caption = (extra or {}).get("caption")
    if method in CAPTIONED and caption and not fits(caption, CAPTION_LIMIT, html=html):
        log.warning("a %s caption over Telegram's limit is sent in parts", purpose)
        first, *rest = split_message(caption, limit=CAPTION_LIMIT, html=html)
        message = queue(
            session,
            domain,
            purpose=purpose,
            chat_id=chat_id,
            reporter_id=reporter_id,
            case_id=case_id,
            method=method,
            keyboard=keyboard,
            extra={**(extra or {}), "caption": first},
        )
        for part in rest:
            _queue_text_part(session, domain, purpose, part, chat_id, reporter_id, case_id, extra)
        return message
    payload: dict[str, Any] = dict(extra or {})
    drill = _drill_language(session, case_id)
    if drill is not None:
        drill = language or reader_language(session, chat_id, drill)
    if text is not None:
        payload["text"] = text if drill is None else mark_drill(drill, text)
    elif drill is not None and "caption" in payload:
        payload["caption"] = mark_drill(drill, payload["caption"] or "")
    if keyboard is not None:
        payload["reply_markup"] = keyboard
    message = OutboxMessage(
        created_at=domain.now(),
        chat_id=chat_id,
        reporter_id=reporter_id,
        method=method,
        payload=payload,
        purpose=purpose,
        case_id=case_id,
        status="pending",
        attempts=0,
        next_attempt_at=domain.now(),
    )
    session.add(message)
    # Delivery takes the messages of a transaction straight after its commit.
    session.info.setdefault("outbox_rows", []).append(message)
    return message


def queue_notice(
    session: AsyncSession,
    domain: Domain,
    notice: Notice,
    *,
    language: str,
    purpose: str,
    chat_id: int | None = None,
    reporter_id: int | None = None,
    case_id: int | None = None,
    replacing: int | None = None,
    extra: dict[str, Any] | None = None,
) -> OutboxMessage:
    """``notice`` as its reader sees it, in ``language``: the renderer writes the text and
    the keyboard (and draws the picture, if the notice has one), the caller decides the rest
    (who, how: ``extra``). With ``replacing`` (the outbox id of a message sent earlier), the
    notice takes that message's place instead of coming as a new one (a card's new state)."""
    rendered = domain.views.render(notice, language)
    extra = dict(extra or {})
    if rendered.parse_mode is not None:
        extra["parse_mode"] = rendered.parse_mode
    text: str | None = rendered.text
    method = "sendMessage"
    if replacing is not None:
        method = "editMessageText"
        extra["edit_outbox_id"] = replacing
    elif rendered.photo is not None:
        method = "sendPhoto"
        extra.update(
            file_b64=base64.b64encode(rendered.photo).decode(),
            filename=rendered.photo_name,
            caption=text,
        )
        text = None
    return queue(
        session,
        domain,
        purpose=purpose,
        text=text,
        chat_id=chat_id,
        reporter_id=reporter_id,
        case_id=case_id,
        method=method,
        keyboard=rendered.reply_markup,
        extra=extra,
        language=language,
    )


# How each kind of file a reporter sent is passed on, and under which field.
MEDIA_METHODS = {
    "photo": ("sendPhoto", "photo"),
    "voice": ("sendVoice", "voice"),
    "document": ("sendDocument", "document"),
    "video": ("sendVideo", "video"),
    "audio": ("sendDocument", "document"),
}


def queue_file(
    session: AsyncSession,
    domain: Domain,
    *,
    kind: str,
    file_id: str,
    caption: str,
    purpose: str,
    chat_id: int,
    case_id: int,
    extra: dict[str, Any] | None = None,
) -> OutboxMessage | None:
    """A file Telegram holds (``file_id``), sent again with ``caption``; None for a kind
    that cannot be."""
    if kind not in MEDIA_METHODS:
        return None
    method, field = MEDIA_METHODS[kind]
    return queue(
        session,
        domain,
        purpose=purpose,
        chat_id=chat_id,
        case_id=case_id,
        method=method,
        extra={field: file_id, "caption": caption, **(extra or {})},
    )


def queue_location(
    session: AsyncSession,
    domain: Domain,
    *,
    latitude: float,
    longitude: float,
    purpose: str,
    chat_id: int,
    case_id: int,
    extra: dict[str, Any] | None = None,
) -> OutboxMessage:
    return queue(
        session,
        domain,
        purpose=purpose,
        chat_id=chat_id,
        case_id=case_id,
        method="sendLocation",
        extra={"latitude": latitude, "longitude": longitude, **(extra or {})},
    )


def queue_copy(
    session: AsyncSession,
    domain: Domain,
    *,
    from_chat_id: int,
    message_id: int,
    caption: str,
    purpose: str,
    chat_id: int,
    case_id: int,
    extra: dict[str, Any] | None = None,
) -> OutboxMessage:
    """A message someone sent the bot, passed on as it is (a copy: not shown as forwarded,
    so it does not name its sender), under ``caption``."""
    return queue(
        session,
        domain,
        purpose=purpose,
        chat_id=chat_id,
        case_id=case_id,
        method="copyMessage",
        extra={
            "from_chat_id": from_chat_id,
            "message_id": message_id,
            "caption": caption,
            **(extra or {}),
        },
    )


def rendered_text(domain: Domain, notice: Notice, language: str) -> str:
    """The text of ``notice`` in ``language``, for a heading the caller puts over words it
    relays (``queue_parts``'s ``header``)."""
    return domain.views.render(notice, language).text or ""


def _queue_text_part(
    session: AsyncSession,
    domain: Domain,
    purpose: str,
    text: str,
    chat_id: int | None,
    reporter_id: int | None,
    case_id: int | None,
    extra: dict[str, Any] | None,
) -> OutboxMessage:
    """A follow-up text of a split caption: the caption's options that apply to a text."""
    kept = {k: v for k, v in (extra or {}).items() if k in ("protect_content", "parse_mode")}
    return queue(
        session,
        domain,
        purpose=purpose,
        text=text,
        chat_id=chat_id,
        reporter_id=reporter_id,
        case_id=case_id,
        extra=kept,
    )


def queue_parts(
    session: AsyncSession,
    domain: Domain,
    *,
    purpose: str,
    body: str,
    header: str = "",
    chat_id: int | None = None,
    reporter_id: int | None = None,
    case_id: int | None = None,
    keyboard: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
    per_part: Callable[[str], dict[str, Any]] | None = None,
) -> list[OutboxMessage]:
    """``header`` and ``body`` as one text message, or, when that is over Telegram's limit,
    as several that each carry ``header (i/n)``; in order, all in this transaction (so the
    sender is told "sent" only when every part is queued). A keyboard goes on the last part.
    With ``extra["parse_mode"] == "HTML"`` no part breaks a tag or an entity. ``per_part``
    adds to each part's payload from that part's share of ``body`` (a translation request
    for the words it carries)."""
    html = (extra or {}).get("parse_mode") == "HTML"
    parts = split_parts(body, header=header, limit=TEXT_LIMIT, html=html)
    return [
        queue(
            session,
            domain,
            purpose=purpose,
            text=part,
            chat_id=chat_id,
            reporter_id=reporter_id,
            case_id=case_id,
            keyboard=keyboard if index == len(parts) - 1 else None,
            extra={**(extra or {}), **(per_part(chunk) if per_part else {})},
        )
        for index, (part, chunk) in enumerate(parts)
    ]
