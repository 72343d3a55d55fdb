"""Relay between reporter and owner, hiding each one's account from the other."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import translation
from bot.clock import as_utc
from bot.domain import events
from bot.domain.context import Domain
from bot.domain.notices import ReporterMediaTag, ReporterMessageHeading, ResponderMessageHeading
from bot.domain.outbox import queue, queue_copy, queue_parts, rendered_text
from bot.taxonomy import CaseStatus
from bot.text_limits import CAPTION_LIMIT, split_parts
from models import Attachment, Case, CaseEvent, Organisation, Person, RelayLink, Reporter

MEDIA_KINDS = ("photo", "voice", "document", "video", "audio", "location")


@dataclass(frozen=True)
class Incoming:
    """What a reporter sent, reduced to what the relay needs."""

    kind: str  # text | photo | voice | document | video | audio | location
    text: str | None = None
    file_id: str | None = None
    from_chat_id: int | None = None
    message_id: int | None = None
    album: str | None = None  # Telegram's media group id: photos sent together


ALBUM_GAP = dt.timedelta(seconds=10)


async def continues_album(
    session: AsyncSession, domain: Domain, case: Case, item: Incoming
) -> bool:
    """Whether ``item`` is a later part of photos already added to the case: twenty photos
    sent at once (Telegram splits them into albums of ten) are acknowledged once, not twenty
    times. Parts of one chat are handled one at a time, each after the previous one
    committed, so the last event tells."""
    if item.album is None:
        return False
    last = (
        await session.execute(
            select(CaseEvent.data, CaseEvent.at)
            .where(CaseEvent.case_id == case.id, CaseEvent.kind == "reporter_message")
            .order_by(CaseEvent.id.desc())
            .limit(1)
        )
    ).first()
    if last is None or not last.data or "album" not in last.data:
        return False
    return last.data["album"] == item.album or domain.now() - as_utc(last.at) <= ALBUM_GAP


async def from_reporter(session: AsyncSession, domain: Domain, case: Case, item: Incoming) -> str:
    """Adds it to the case; relays it to the owner when there is one. Returns "relayed" or "attached"."""
    now = domain.now()
    case.reporter_seen_at = now
    case.last_activity_at = now
    session.add(
        Attachment(
            case_id=case.id, kind=item.kind, file_id=item.file_id, text=item.text, created_at=now
        )
    )
    owner = await session.get(Person, case.owner_person_id) if case.owner_person_id else None
    await events.record(
        session,
        domain,
        "reporter_message",
        case_id=case.id,
        actor=f"reporter:{case.reporter_id}",
        data={"kind": item.kind, **({"album": item.album} if item.album else {})},
    )
    if owner is None or owner.unreachable or case.status != CaseStatus.CLAIMED.value:
        return "attached"
    if item.kind == "text":
        # A text as long as Telegram allows no longer fits once tagged: it goes in parts,
        # each tagged and numbered, and a reply to any of them reaches the reporter.
        messages = queue_parts(
            session,
            domain,
            purpose="relay",
            chat_id=owner.telegram_user_id,
            case_id=case.id,
            header=rendered_text(domain, ReporterMessageHeading(case), owner.language),
            body=item.text or "",
            extra={"protect_content": True},
            per_part=lambda words: translation_requests(
                domain, words, reader=owner.language, writer=case.language, style="add"
            ),
        )
    else:
        tag = rendered_text(domain, ReporterMediaTag(case), owner.language)
        # A location has no caption; any other caption too long once tagged goes in parts:
        # the first under the media, the rest as texts right after it.
        if item.kind == "location" or not item.text:
            captions = [(tag + (("\n" + item.text) if item.text else ""), "")]
        else:
            captions = split_parts(item.text, header=tag, limit=CAPTION_LIMIT)

        def translated(words: str) -> dict[str, list[dict[str, object]]]:
            return translation_requests(
                domain, words, reader=owner.language, writer=case.language, style="add"
            )

        messages = [
            queue_copy(
                session,
                domain,
                from_chat_id=item.from_chat_id,
                message_id=item.message_id,
                caption=captions[0][0],
                purpose="relay",
                chat_id=owner.telegram_user_id,
                case_id=case.id,
                extra={
                    "protect_content": True,
                    "kind": item.kind,
                    **translated(captions[0][1]),
                },
            )
        ]
        messages += [
            queue(
                session,
                domain,
                purpose="relay",
                chat_id=owner.telegram_user_id,
                case_id=case.id,
                text=part,
                extra={"protect_content": True, **translated(words)},
            )
            for part, words in captions[1:]
        ]
    await session.flush()
    for message in messages:
        session.add(
            RelayLink(case_id=case.id, outbox_id=message.id, chat_id=owner.telegram_user_id)
        )
    return "relayed"


async def case_for_reply(session: AsyncSession, chat_id: int, message_id: int) -> Case | None:
    link = await session.scalar(
        select(RelayLink).where(RelayLink.chat_id == chat_id, RelayLink.message_id == message_id)
    )
    return await session.get(Case, link.case_id) if link else None


async def from_owner(
    session: AsyncSession,
    domain: Domain,
    case: Case,
    person: Person,
    text: str,
    *,
    reviewed: bool = False,
) -> str:
    """Returns "sent", "not_owner", "closed", "no_reporter" or "unreachable" (the reporter
    blocked the bot: nothing is queued, the owner is told instead). A ``reviewed`` text (a
    saved reply) is already in the reporter's language and is not machine-translated."""
    if case.owner_person_id != person.id:
        return "not_owner"
    if case.status != CaseStatus.CLAIMED.value:
        return "closed"
    if case.drill:
        from bot.domain import drills

        return await drills.reporter_answers(session, domain, case, person)
    if case.reporter_id is None or case.erased:
        return "no_reporter"
    reporter = await session.get(Reporter, case.reporter_id)
    if reporter is None or reporter.blocked_bot:
        return "unreachable"
    org = (
        await session.get(Organisation, person.organisation_id) if person.organisation_id else None
    )
    case.last_activity_at = domain.now()
    queue_parts(
        session,
        domain,
        purpose="relay",
        reporter_id=case.reporter_id,
        case_id=case.id,
        header=rendered_text(
            domain, ResponderMessageHeading(case, org.name if org else "Corridor"), case.language
        ),
        body=text,
        extra={"protect_content": True},
        per_part=lambda words: translation_requests(
            domain,
            None if reviewed else words,
            reader=case.language,
            writer=person.language,
            style="replace",
            tell_chat=person.telegram_user_id,
            code=case.code,
        ),
    )
    await events.record(
        session, domain, "owner_message", case_id=case.id, actor=f"person:{person.id}"
    )
    return "sent"


def translation_requests(
    domain: Domain,
    text: str | None,
    *,
    reader: str,
    writer: str | None,
    style: translation.Style,
    tell_chat: int | None = None,
    code: str = "",
) -> dict[str, list[dict[str, object]]]:
    """The outbox payload entry asking delivery to translate ``text`` for its reader, when a
    translation engine is configured and writer and reader chose different languages. The
    engine is asked after the commit, never inside this transaction."""
    enabled = domain.config.translation.backend != "none"
    if not text or not text.strip() or not translation.wanted(enabled, writer, reader):
        return {}
    wish = translation.request(
        text, reader=reader, writer=writer, style=style, tell_chat=tell_chat, code=code
    )
    return {"translate": [wish]}
